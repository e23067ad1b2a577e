"""Legal questions answered from the law itself: the clause, quoted briefly, with its citation.

The answer is built from the library only:

- the best article for the question (:meth:`HybridIndex.search`, passages: one per
  article, best clause first, the text in force on the day preferred), cited as
  ``Khoản 1 Điều 15 Luật Hộ tịch 2014``;
- a lead sentence when the clause is long: the clause's own sentence that shares most
  with the question (never a paraphrase that could change the rule);
- the quote, cut at a word; a note when the document is not in force on the day
  (replaced, or not yet effective);
- a link to read the whole article (``/phap-luat/<document>/<article>``), a button for
  the procedure that acts on it when the catalogue has one, and one for a staff member.

When the search abstains, the answer says so ("không tìm thấy quy định") and offers a
staff member: it never makes a rule up.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import KnowledgeBase
from actions.legal_links import (
    DocumentLink,
    article_number,
    link_legal_basis,
    number_key,
    procedure_button,
    procedures_acting_on,
)
from actions.procedures import intent_button, staff_buttons
from knowledge_base.legal_library import (
    DocumentInfo,
    article_path,
    document_info,
    find_document,
    list_documents,
)
from knowledge_base.messages import render
from knowledge_base.schema import Procedure
from knowledge_base.store import LegalDocumentRow, LegalUnitRow
from retrieval.normalize import is_stopword, strip_diacritics, tokenize_syllables
from retrieval.results import PassageHit

QUOTE_LIMIT = 420
LEAD_MIN_CHARS = 300  # a clause longer than this gets a lead sentence
LEAD_LIMIT = 220
NOT_FOUND = "action.legal.not_found"
"""The catalogue id of the reply when the library has nothing for the question."""


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The clause, cut at a word boundary when long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def _content(text: str) -> set[str]:
    """Content syllables and all syllable bigrams, without diacritics ("không có giấy" keeps ``khong_co``)."""
    tokens = [strip_diacritics(t) for t in tokenize_syllables(text)]
    words = {t for t, raw in zip(tokens, tokenize_syllables(text), strict=True) if not is_stopword(raw)}
    return words | {f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)}


def lead_sentence(question: str, text: str, min_chars: int = LEAD_MIN_CHARS, limit: int = LEAD_LIMIT) -> str:
    """For a long clause, its sentence (or point) sharing most words with the question; "" for a short one.

    Extractive on purpose: the lead is the law's own words, so it cannot state a rule the
    text does not. Ties go to the earlier sentence.
    """
    flat = " ".join(text.split())
    if len(flat) <= min_chars:
        return ""
    asked = _content(question)
    pieces = [p.strip(" ;:") for p in re.split(r"(?<=[.;:])\s+|\n", text) if len(p.strip()) > 20]
    if not pieces or not asked:
        return ""
    best = max(pieces, key=lambda p: (len(asked & _content(p)), -pieces.index(p)))
    if not asked & _content(best):
        return ""
    best = " ".join(best.split())
    best = best[:1].upper() + best[1:]
    return quote(best, limit).rstrip(" ,;:") + ("" if best.endswith((".", "…")) else ".")


def status_label(row: LegalDocumentRow | None, today: date) -> str:
    """Why an answer from this document needs care: replaced, or not yet in force ("" otherwise)."""
    return document_info(row).status_note(today) if row is not None else ""


def _base_url(knowledge: KnowledgeBase) -> str:
    settings = getattr(knowledge, "settings", None)
    if settings is None:
        return ""
    return (settings.public_url or f"http://{settings.host}:{settings.gateway_port}").rstrip("/")


def _library(knowledge: KnowledgeBase) -> tuple[dict[str, DocumentInfo], dict[str, int]]:
    from sqlalchemy import func, select

    with knowledge.database.session() as session:
        documents = list_documents(session)
        counts = dict(
            session.execute(
                select(LegalDocumentRow.number, func.count(LegalUnitRow.id))
                .join(LegalUnitRow, LegalUnitRow.document_id == LegalDocumentRow.id)
                .where(LegalUnitRow.kind == "article")
                .group_by(LegalDocumentRow.number)
            ).all()
        )
    return {number_key(d.number): d for d in documents}, counts


def legal_basis_links(knowledge: KnowledgeBase, procedure: Procedure) -> list[DocumentLink]:
    """The procedure's legal basis linked to the library's articles (empty when no library)."""
    if not procedure.legal_basis:
        return []
    library, counts = _library(knowledge)
    if not library:
        return []
    search = knowledge.search

    def rank(query: str, within):
        return search.rank_passages(query, depth=5, within=within)[0] if search is not None else []

    return link_legal_basis(
        procedure, library, rank if search is not None else None, counts, _base_url(knowledge)
    )


class ActionAnswerLegal(Action):
    def __init__(self, knowledge: KnowledgeBase, today=date.today):
        self.knowledge = knowledge
        self.today = today

    def name(self) -> str:
        return "action_answer_legal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        question = tracker.latest_message.get("text") or ""
        if question.startswith("/"):
            question = ""
        search = self.knowledge.search
        day = self.today()
        # one search (one query embedding) for both the law and the procedures acting on it
        response = (
            search.search(question, top_k=3, on=day) if search is not None and question.strip() else None
        )
        if response is None or not response.passages:
            dispatcher.utter_message(
                text=render(NOT_FOUND), buttons=staff_buttons(), json_message={"fallback": True, "legal": None}
            )
            return [SlotSet("fallback_count", 0.0)]
        ranked = [hit.code for hit in response.procedures]
        return await self.answer_hit(dispatcher, question, response.passages[0], ranked)

    async def answer_hit(self, dispatcher: CollectingDispatcher, question: str, best: PassageHit,
                         ranked: list[str] | None = None) -> list[dict[str, Any]]:
        """The citation answer for one article (the search's best, or the one a citizen tapped);
        ``ranked``: procedure codes the search found, to pick the procedure acting on it."""
        day = self.today()
        with self.knowledge.database.session() as session:
            row = find_document(session, best.document)
            info = document_info(row) if row is not None else None
        note = info.status_note(day) if info is not None else ""
        citation = best.citation or f"{best.article} {best.document}"
        article = article_number(best.article)
        url = _base_url(self.knowledge) + article_path(best.document, article)
        lines = [render("action.legal.according_to", citation=citation)]
        lead = lead_sentence(question, best.text)
        if lead and not " ".join(best.text.split()).startswith(lead.rstrip(".…")):  # not the quote's own start
            lines.append(render("action.legal.lead", lead=lead))
        lines.append(render("action.legal.quote", quote=quote(best.text)))
        if note:
            lines.append(note)
        lines.append(render("action.legal.read_all", article=best.article, url=url))
        lines.append(render("action.legal.disclaimer"))
        buttons = [procedure_button(p) for p in self._acting_procedures(question, best.document, list(ranked or []))]
        buttons.append(intent_button("request_human"))
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=buttons,
            json_message={
                "legal": {
                    "document": best.document,
                    "article": best.article,
                    "citation": citation,
                    "key": best.key,
                    "url": url,
                    "in_force": info.in_force_on(day) if info else None,
                }
            },
        )
        return [SlotSet("fallback_count", 0.0)]

    def _acting_procedures(self, question: str, number: str, ranked: list[str]) -> list[Procedure]:
        """Procedures whose legal basis cites the document, most similar to the question first.

        Similar: ranked by the search when it found procedures, else sharing the most words
        of their name with the question (none when no word is shared).
        """
        procedures = (
            self.knowledge.procedures_citing(number) if hasattr(self.knowledge, "procedures_citing") else []
        )
        if not procedures:
            return []
        if not any(p.code in ranked for p in procedures):
            asked = _content(question)
            overlap = {p.code: len(asked & _content(p.name)) for p in procedures}
            ranked = [code for code, n in sorted(overlap.items(), key=lambda kv: -kv[1]) if n > 0]
            if not ranked:
                return []
        return procedures_acting_on([number], procedures, ranked, limit=1)
