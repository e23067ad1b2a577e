"""The one answering action: every question the NLU should not decide goes to the search.

The NLU decides what it is good at (greetings, yes/no, queue numbers, dossiers, forms,
handoff, ratings, small talk). Every question about a procedure or the law — and every
message the NLU is unsure about (``nlu_fallback``) — comes here, and the search makes one of
three moves (:mod:`retrieval.decision`):

- **answer** — the procedure answer (the aspect asked: documents, fee, time, place, legal
  basis) or the legal citation answer for the one hit;
- **offer** — «Ý ông/bà là thủ tục nào?» with two to four buttons and «Không phải các thủ tục
  trên» (a person). A button's payload is the aspect's own intent with the code as an entity,
  ``/ask_fee{"procedure_code": "1.001193"}``, so a tap is answered by this same action through
  the rules that already exist (Rasa 3.6 reads entities from a ``/intent{json}`` payload);
- **abstain** — says so plainly and offers a staff member and a queue number (never a procedure:
  below the offer threshold the ranking's first procedures are seldom the one meant).

Which search: the procedure search first. The legal search is asked too when the message reads
as a legal question (the NLU said ``ask_legal``, or it speaks of a law, decree, rule or fine), or
when the procedure search abstains (a question nobody matched may still be in the law). The
better move wins (answer > offer > abstain); on the same move a message asking a procedure
aspect (fee, papers, time, place) keeps the procedure, otherwise a legal-reading one goes to
the law. That keeps «quy định làm khai sinh cần giấy tờ gì» on the procedure.

Follow-ups («lệ phí bao nhiêu», «nộp ở đâu») name no procedure: they are answered for the
procedure in context (the ``procedure_code`` slot); with none, the assistant asks which one.
The procedure always comes from the search, the context or a tapped button, never from the
NLU alone. The names and aliases staff keep are the last resort, when the search has no index
or abstains: a name inside a longer story («giấy khai sinh bị cháy») would otherwise answer the
wrong procedure with confidence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import INTENT_ASPECT, KIOSK_SCREEN, AnswerRef, Aspect, answer
from actions.fees import FeeRules
from actions.knowledge import KnowledgeBase, fold
from knowledge_base.messages import render
from knowledge_base.rendering import display_name
from knowledge_base.schema import Procedure
from knowledge_base.text import choice_number
from motcua.centers import DEFAULT_CENTER, center_in
from retrieval.decision import Decision
from retrieval.lexicon import DEFAULT_SYNONYMS
from retrieval.results import PassageHit, ProcedureHit

ANSWER_ACTION = "action_answer"

log = logging.getLogger(__name__)

ASPECT_INTENT = {aspect: intent for intent, aspect in INTENT_ASPECT.items()}
MOVE_RANK = {"answer": 2, "offer": 1, "abstain": 0}
BUTTON_TITLE_LIMIT = 80

OFFER_PROCEDURES = "utter_offer_procedures"
OFFERED_SLOT = "offered_codes"
"""The procedures last offered as choices, with the aspect they were offered for (``AnswerRef`` entities,
``"1.001193|fee|1"``), until one is answered or another question is asked: a follow-up («nộp ở đâu», «what
documents») asked instead of a tap is offered the same choices for that aspect, and a typed «1»…«4» takes that
choice for the aspect it was offered for."""
OFFER_ARTICLES = "utter_offer_articles"
ABSTAIN = "utter_answer_abstain"
ASK_WHICH = "utter_ask_which_procedure"
NOT_THESE_PROCEDURES = "action.answering.not_these_procedures"
NOT_THESE_ARTICLES = "action.answering.not_these_articles"

# Keyword reading of the aspect, on text folded to ASCII (the NLU's aspect intent comes first).
_ASPECT_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (Aspect.LEGAL_BASIS, ("can cu phap ly", "can cu", "theo luat nao", "van ban nao")),
    (Aspect.FEE, ("le phi", "bao nhieu tien", "chi phi", "mat phi", "ton phi", "het bao nhieu", "phi",
                  # «có mất tiền không», «tốn tiền không», «trả tiền không» — not «mặt tiền» (a street front)
                  "mat tien khong", "ton tien", "het tien", "tra tien khong", "dong tien khong",
                  "bn tien", "het bn", "ton bn",  # teen code: «bn» = «bao nhiêu»
                  "how much", "cost", "fee", "fees")),
    (Aspect.TIME, ("bao lau", "may ngay", "bao nhieu ngay", "thoi gian", "thoi han", "khi nao co", "bao gio co",
                   "bn ngay", "bn lau", "how long", "how many days")),
    (Aspect.SUBMISSION, ("nop o dau", "lam o dau", "o dau", "noi nop", "nop online", "nop truc tuyen",
                         "nop qua mang", "nop the nao", "nop nhu the nao", "where", "submit")),
    (Aspect.STEPS, ("cac buoc", "trinh tu thuc hien", "quy trinh", "steps")),
    (Aspect.DOCUMENTS, ("giay to", "ho so gom", "can nhung gi", "can gi", "chuan bi gi", "mang theo gi",
                        "mang gi", "can j", "can nhung j", "chuan bi j", "mang theo j", "mang j",  # «j» = «gì»
                        "thanh phan ho so", "documents", "papers", "what do i need", "bring")),
]
# Words a follow-up is made of besides its aspect words: with nothing else left, it names no procedure.
_FILLER = set(
    "con thi sao the vay a nua cho toi hoi em minh la bao nhieu nhu nao khong co gi phai duoc k ko ak ha nhi "
    "voi di oi thu tuc nay do ay can lam mat tien ngay nop ho so giay to xin vui long roi va de o dau".split()
)
# English («what documents do I need?», «how long does it take?», «where can I do it»): a message with one of
# these aspect words is read with the English filler, and nothing else may be left — one English word more is
# often a whole procedure («… for adoption?»). Kept apart: «an», «that», «it» are folded Vietnamese words too.
_ENGLISH_ASPECT_WORDS = frozenset({"how much", "cost", "fee", "fees", "how long", "how many days", "where", "submit",
                                   "steps", "documents", "papers", "what do i need", "bring"})
_ENGLISH_FILLER = frozenset(
    "what do does i it is are can the a an to for this that need take much long please and then about my".split())
_LEGAL_WORDS = re.compile(
    r"\b(luat|bo luat|nghi dinh|thong tu|quy dinh|phap luat|dieu \d+|khoan \d+|bi phat|xu phat|vi pham|"
    r"co bat buoc|bat buoc phai|co duoc phep|trach nhiem)\b"
)


class Search(Protocol):
    """What the action needs of :class:`retrieval.service.RetrievalService`."""

    def decide_procedures(self, query: str) -> Decision[ProcedureHit]: ...

    def decide_articles(self, query: str, on: date | None = None) -> Decision[PassageHit]: ...

    def rank_passages(self, query: str, depth: int = 10, on: date | None = None,
                      within: list[str] | None = None) -> tuple[list[PassageHit], float]: ...


@dataclass(frozen=True)
class Choice:
    """The search's move for one message: over procedures or legal articles."""

    kind: str  # "procedure" | "legal"
    decision: Decision


def aspect_of(intent: str, text: str) -> str:
    """The aspect asked: the NLU's aspect intent if it gave one, else the words of the message."""
    aspect = INTENT_ASPECT.get(intent, Aspect.OVERVIEW)
    if aspect != Aspect.OVERVIEW:
        return aspect
    return keyword_aspect(text) or Aspect.OVERVIEW


def keyword_aspect(text: str) -> str | None:
    folded = f" {fold(text)} "
    for aspect, phrases in _ASPECT_WORDS:
        if any(f" {phrase} " in folded for phrase in phrases):
            return aspect
    return None


def is_follow_up(text: str, intent: str = "") -> bool:
    """True when the message asks an aspect — in its words, or as the NLU read it (``intent``) — and names
    nothing else («còn lệ phí thì sao?»)."""
    if keyword_aspect(text) is None and INTENT_ASPECT.get(intent, Aspect.OVERVIEW) == Aspect.OVERVIEW:
        return False
    folded = f" {fold(text)} "
    if any(f" {phrase} " in folded for phrase in _PAPER_NAMES):  # «làm sổ đỏ hết bao nhiêu tiền» names one
        return False
    english = any(f" {phrase} " in folded for phrase in _ENGLISH_ASPECT_WORDS)
    for _, phrases in _ASPECT_WORDS:
        for phrase in phrases:
            folded = folded.replace(f" {phrase} ", " ")
    if english:
        return not [word for word in folded.split() if word not in _ENGLISH_FILLER]
    rest = [word for word in folded.split() if word not in _FILLER]
    return len(rest) <= 1


_PAPER_NAMES = frozenset(
    fold(synonym.phrase) for synonym in DEFAULT_SYNONYMS
    if len(fold(synonym.phrase).split()) >= 2 and fold(synonym.phrase) not in ("lam lai", "ghi sai", "muc 2")
)
"""Everyday names of papers and procedures (the search's folk phrases: «sổ đỏ», «hộ khẩu», «giấy độc thân»):
folded, their words may all be filler («số đó»), so a message with one is a new question, not a follow-up
(«làm lại», «ghi sai», «mức 2» say what is done, not to what)."""

_Choice = TypeVar("_Choice")


def picked_choice(text: str, offered: Sequence[_Choice]) -> _Choice | None:
    """The offered choice a message that is only a choice's number picks («2», «số 2», «chọn 3»)."""
    number = choice_number(text) if offered else None
    return offered[number - 1] if number is not None and number <= len(offered) else None


def offered_entries(codes: list[str], aspect: str) -> list[str]:
    """What :data:`OFFERED_SLOT` keeps of procedures offered for ``aspect``."""
    return [AnswerRef(code, aspect).entity() for code in codes]


def reads_legal(intent: str, text: str) -> bool:
    return intent == "ask_legal" or bool(_LEGAL_WORDS.search(fold(text)))


def choose(procedure: Decision | None, legal: Decision | None, prefer_legal: bool) -> Choice | None:
    """The better move of the two searches; on the same move, ``prefer_legal`` decides."""
    if procedure is None or legal is None:
        if procedure is not None:
            return Choice("procedure", procedure)
        return Choice("legal", legal) if legal is not None else None
    p, lg = MOVE_RANK[procedure.move], MOVE_RANK[legal.move]
    if p != lg:
        return Choice("procedure", procedure) if p > lg else Choice("legal", legal)
    return Choice("legal", legal) if prefer_legal else Choice("procedure", procedure)


def _short(title: str, limit: int = BUTTON_TITLE_LIMIT) -> str:
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


def procedure_payload(code: str, aspect: str) -> str:
    if aspect not in ASPECT_INTENT:  # an aspect no intent asks (the steps): said in the reference
        return AnswerRef(code, aspect).payload()
    return f'/{ASPECT_INTENT[aspect]}{{"procedure_code": "{code}"}}'


def not_these(key: str) -> dict[str, str]:
    """The last button under offered choices (:data:`NOT_THESE_PROCEDURES`, :data:`NOT_THESE_ARTICLES`): a person."""
    return {"title": render(key), "payload": "/request_human"}


def procedure_button(procedure: ProcedureHit | Procedure, aspect: str) -> dict[str, str]:
    """An offered procedure (a search hit, or a procedure offered again) as a button asking ``aspect`` of it."""
    return {"title": _short(display_name(procedure.name)), "payload": procedure_payload(procedure.code, aspect)}


def article_payload(hit: PassageHit) -> str:
    return f'/ask_legal{{"legal_article": "{hit.document}|{hit.article}"}}'


def article_title(hit: PassageHit) -> str:
    citation = f"{hit.article} {hit.document}"
    return _short(f"{citation}: {hit.article_title}" if hit.article_title else citation)


def _text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text.strip()


def text_limit(tracker: Tracker) -> int:
    """Characters one message may hold on the citizen's channel (its ``Capabilities.max_text``),
    a kiosk screen where the channel sets no limit."""
    metadata = tracker.latest_message.get("metadata") or {}
    sender = str(tracker.sender_id or "")
    channel = str(metadata.get("channel") or (sender.split(":", 1)[0] if ":" in sender else ""))
    if not channel:
        return KIOSK_SCREEN.max_text
    from channels.registry import kinds

    capabilities = getattr(kinds().get(channel), "capabilities", None)
    return getattr(capabilities, "max_text", 0) or KIOSK_SCREEN.max_text


def _entities(tracker: Tracker, entity: str) -> list[str]:
    return [str(e.get("value")) for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


class ActionAnswer(Action):
    """Answer, offer choices, or abstain — for procedures and the law alike (see the module)."""

    def __init__(self, knowledge: KnowledgeBase, legal=None, today=date.today, *, fees: FeeRules | None = None,
                 places: Callable[[str], str] | None = None, has_form: Callable[[str], bool] | None = None):
        """``legal``: the legal answer writer (:class:`actions.legal.ActionAnswerLegal`). ``fees``: the
        centre's fee table in force (:class:`actions.fees.FeeTableInForce`), said with the fee; None:
        the catalogue's fee only. ``places``: a centre's code → where it is in one line
        (:class:`actions.center.CenterPlaces`), said with where to submit a commune procedure. ``has_form``: whether
        a procedure has an electronic form («Điền tờ khai» only then); None: offered with every answer."""
        if legal is None:
            from actions.legal import ActionAnswerLegal

            legal = ActionAnswerLegal(knowledge, today=today)
        self.knowledge = knowledge
        self.legal = legal
        self.today = today
        self.fees = fees
        self.places = places
        self.has_form = has_form

    def name(self) -> str:
        return ANSWER_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        text = _text(tracker)
        aspect = aspect_of(intent, text)
        limit = text_limit(tracker)
        where = center_in(tracker.latest_message.get("metadata"))  # the citizen's centre
        chosen_code = next(iter(_entities(tracker, "procedure_code")), None)
        if chosen_code:  # a tap on an offered procedure, a «Xem thêm» or the portal's detail
            return self._answer_code(dispatcher, AnswerRef.parse(chosen_code), aspect, limit, where)
        chosen_article = next(iter(_entities(tracker, "legal_article")), None)
        if chosen_article:  # a tap on an offered article
            return await self._answer_article(dispatcher, chosen_article)
        named = _entities(tracker, "procedure")
        context = tracker.get_slot("procedure_code")
        offered = [AnswerRef.parse(entry) for entry in tracker.get_slot(OFFERED_SLOT) or [] if isinstance(entry, str)]
        picked = picked_choice(text, offered)
        if picked:  # «2» typed under the choices instead of a tap: that choice, for what they were offered for
            return self._answer_code(dispatcher, picked, aspect, limit, where)
        if context and not named and (not text or is_follow_up(text, intent)):
            procedure = self.knowledge.get(context)
            if procedure is not None:
                return self._answer_procedure(dispatcher, procedure, aspect, limit, where=where)
        if not text and named:  # a button naming a procedure in staff words
            procedure = self._named(named)
            return self._answer_procedure(dispatcher, procedure, aspect, limit, where=where) if procedure \
                else self._abstain(dispatcher)
        if not text or is_follow_up(text, intent):
            again = [p for p in (self.knowledge.get(ref.code) for ref in offered) if p is not None]
            if len(again) >= 2:  # the choices still stand: the same ones, for what is asked now
                return self._offer_again(dispatcher, again, aspect)
            dispatcher.utter_message(response=ASK_WHICH)
            return [SlotSet("fallback_count", 0.0)]
        choice = self._search(intent, text, aspect)
        stale = [SlotSet(OFFERED_SLOT, None)] if offered else []  # a new question: the old choices are gone
        if choice is None or choice.decision.move == "abstain":
            # Nothing the search trusts: a name staff keep, said in the message, still counts.
            procedure = self._named([text, *named])
            if procedure is not None:
                return self._answer_procedure(dispatcher, procedure, aspect, limit, where=where)
            return self._abstain(dispatcher, choice) + stale
        if choice.decision.move == "offer":
            return self._offer(dispatcher, choice, aspect) + (stale if choice.kind == "legal" else [])
        hit = choice.decision.hits[0]
        if choice.kind == "legal":
            return list(await self.legal.answer_hit(dispatcher, text, hit)) + stale
        found = self.knowledge.get(hit.code)
        return self._answer_procedure(dispatcher, found, aspect, limit, where=where) if found \
            else self._abstain(dispatcher, choice)

    # -- finding ---------------------------------------------------------------------------

    def _named(self, queries: list[str]) -> Procedure | None:
        """A procedure named by the words staff keep (names and aliases), first query first."""
        for query in queries:
            found = self.knowledge.find_named(query, top_k=1) if query else None
            if found is not None and not found.abstained:
                return self.knowledge.get(found.matches[0].code)
        return None

    def _search(self, intent: str, text: str, aspect: str) -> Choice | None:
        search: Search | None = getattr(self.knowledge, "search", None)
        if search is None:  # no index in this process: only the staff-kept names, which found nothing
            return None
        legal_reading = reads_legal(intent, text)
        procedure = search.decide_procedures(text)
        legal = None
        if legal_reading or procedure.move == "abstain":
            legal = search.decide_articles(text, on=self.today())
        asks_procedure_aspect = aspect not in (Aspect.OVERVIEW, Aspect.LEGAL_BASIS)
        return choose(procedure, legal, prefer_legal=legal_reading and not asks_procedure_aspect)

    # -- the three moves -------------------------------------------------------------------

    def _answer_code(self, dispatcher: CollectingDispatcher, ref: AnswerRef, aspect: str,
                     limit: int, where: str = DEFAULT_CENTER) -> list[dict[str, Any]]:
        procedure = self.knowledge.get(ref.code)
        if procedure is None:
            return self._abstain(dispatcher, None)
        return self._answer_procedure(dispatcher, procedure, ref.aspect or aspect, limit, ref, where=where)

    def _answer_procedure(self, dispatcher: CollectingDispatcher, procedure: Procedure,
                          aspect: str, limit: int = KIOSK_SCREEN.max_text,
                          ref: AnswerRef | None = None, *, where: str = DEFAULT_CENTER) -> list[dict[str, Any]]:
        catalogue = self._catalogue(procedure.code)
        portal = bool(ref and ref.portal and catalogue is not None)
        shown = catalogue if portal and catalogue is not None else procedure
        links = None
        if aspect == Aspect.LEGAL_BASIS:  # the legal basis, linked to the library's articles
            from actions.legal import legal_basis_links

            links = legal_basis_links(self.knowledge, shown)
        rules = []
        if self.fees is not None and aspect in (Aspect.FEE, Aspect.OVERVIEW) and not portal:
            rules = self.fees.rules_for(shown.code)  # the table the dossier will be charged from
        local = self.places(where) if self.places is not None and aspect == Aspect.SUBMISSION and not portal else ""
        reply = answer(shown, aspect, links, limit=limit, part=ref.part if ref else 1, catalogue=catalogue,
                       portal=portal, fee_rules=rules, local=local,
                       has_form=self.has_form(shown.code) if self.has_form is not None else True)
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        return [SlotSet("procedure_code", procedure.code), SlotSet("procedure", procedure.name),
                SlotSet("fallback_count", 0.0), SlotSet(OFFERED_SLOT, None)]

    def _catalogue(self, code: str) -> Procedure | None:
        """The national catalogue's own record of ``code``, when the knowledge base keeps one."""
        records = getattr(self.knowledge, "catalogue", None)
        return records(code) if callable(records) else None

    async def _answer_article(self, dispatcher: CollectingDispatcher, chosen: str):
        """The article a citizen tapped (``"<document>|<article>"``), found again in its document."""
        document, _, article = chosen.partition("|")
        search: Search | None = getattr(self.knowledge, "search", None)
        hits = search.rank_passages(article, depth=50, on=self.today(), within=[document])[0] if search else []
        hit = next((h for h in hits if h.article == article and h.document == document), None)
        if hit is None:
            return self._abstain(dispatcher, None)
        return await self.legal.answer_hit(dispatcher, "", hit)

    def _offer(self, dispatcher: CollectingDispatcher, choice: Choice, aspect: str) -> list[dict[str, Any]]:
        hits = choice.decision.hits
        if choice.kind == "legal":
            buttons = [{"title": article_title(h), "payload": article_payload(h)} for h in hits]
            buttons.append(not_these(NOT_THESE_ARTICLES))
            response = OFFER_ARTICLES
        else:
            buttons = [procedure_button(h, aspect) for h in hits]
            buttons.append(not_these(NOT_THESE_PROCEDURES))
            response = OFFER_PROCEDURES
        dispatcher.utter_message(response=response, buttons=buttons, json_message=self._move(choice))
        if choice.kind == "legal":
            return [SlotSet("fallback_count", 0.0)]
        # a new question: the procedure talked about before is no longer what a follow-up means
        return [SlotSet("fallback_count", 0.0), SlotSet(OFFERED_SLOT, offered_entries([h.code for h in hits], aspect)),
                SlotSet("procedure_code", None), SlotSet("procedure", None)]

    def _offer_again(self, dispatcher: CollectingDispatcher, procedures: list[Procedure],
                     aspect: str) -> list[dict[str, Any]]:
        buttons = [procedure_button(p, aspect) for p in procedures]
        dispatcher.utter_message(response=OFFER_PROCEDURES, buttons=[*buttons, not_these(NOT_THESE_PROCEDURES)],
                                 json_message={"move": "offer", "kind": "procedure", "again": True})
        return [SlotSet("fallback_count", 0.0), SlotSet(OFFERED_SLOT, offered_entries([p.code for p in procedures],
                                                                                       aspect))]

    def _abstain(self, dispatcher: CollectingDispatcher, choice: Choice | None = None) -> list[dict[str, Any]]:
        """Says nothing fits and offers a staff member and a queue number (``utter_answer_abstain``)."""
        custom = {"fallback": True, **self._move(choice)} if choice else {"fallback": True, "move": "abstain"}
        dispatcher.utter_message(response=ABSTAIN, json_message=custom)
        return [SlotSet("fallback_count", 0.0)]

    @staticmethod
    def _move(choice: Choice | None) -> dict[str, Any]:
        if choice is None:
            return {}
        return {"move": choice.decision.move, "kind": choice.kind,
                "confidence": round(float(choice.decision.confidence), 3)}
