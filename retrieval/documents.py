"""What the index searches: ``SearchDocument``, and converters from the knowledge base.

Three kinds of document share one shape:

- ``procedure``: one administrative procedure; ``fields["code"]`` is its catalogue code.
- ``faq``: a question and answer; ``fields["procedures"]`` lists the codes it points at,
  so a FAQ hit surfaces those procedures.
- ``passage``: an article or clause of a legal text; ``fields`` carry ``document``
  (number, e.g. ``123/2015/NĐ-CP``), ``article``, ``clause`` and ``citation``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from knowledge_base.schema import FaqEntry, Procedure

DocumentKind = Literal["procedure", "faq", "passage"]
KINDS: tuple[DocumentKind, ...] = ("procedure", "faq", "passage")

# How much of each procedure section goes into the searchable text. The name carries most
# of the signal; long step lists and legal boilerplate mostly add noise to BM25.
_MAX_DOCUMENT_NAMES = 12
_MAX_DOCUMENT_NAME_CHARS = 160
_MAX_CONDITIONS_CHARS = 400


# ``text`` may start with a short summary ended by a blank line: the dense embedding
# reads the summary, keyword search reads everything.
SUMMARY_BREAK = "\n\n"
_MAX_SUMMARY_CHARS = 600


@dataclass(frozen=True)
class SearchDocument:
    """One searchable unit. ``title`` is matched with extra weight; ``text`` is the body."""

    id: str
    kind: DocumentKind
    title: str
    text: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("SearchDocument cần id (id must not be empty)")
        if self.kind not in KINDS:
            raise ValueError(f"kind phải là một trong {KINDS}, không phải {self.kind!r}")
        if not (self.title or self.text).strip():
            raise ValueError(f"tài liệu {self.id} rỗng (title and text are both empty)")

    @property
    def summary(self) -> str:
        """Title plus the start of the text, what dense embeddings read (≤ 600 chars)."""
        head = self.text.split(SUMMARY_BREAK, 1)[0]
        if not head.startswith(self.title):
            head = f"{self.title}\n{head}" if head else self.title
        return head[:_MAX_SUMMARY_CHARS]

    @property
    def fingerprint(self) -> str:
        """sha256 of what is indexed: an unchanged fingerprint needs no re-indexing."""
        payload = "\x1f".join([self.kind, self.title, self.text, repr(sorted(self.fields.items()))])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchDocument:
        return cls(
            id=str(data["id"]),
            kind=data["kind"],
            title=str(data.get("title", "")),
            text=str(data.get("text", "")),
            fields=dict(data.get("fields") or {}),
        )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]


def procedure_to_document(procedure: Procedure) -> SearchDocument:
    """A procedure as a document: name, aliases, field, applicants, result, papers."""
    parts = [procedure.name]
    if procedure.aliases:
        parts.append("Tên gọi khác: " + "; ".join(procedure.aliases))
    if procedure.field:
        parts.append("Lĩnh vực: " + procedure.field)
    if procedure.applicants:
        parts.append("Đối tượng: " + procedure.applicants)
    if procedure.result:
        parts.append("Kết quả: " + _clip(procedure.result, 300))
    names = [_clip(d.name, _MAX_DOCUMENT_NAME_CHARS) for d in procedure.documents[:_MAX_DOCUMENT_NAMES]]
    if names:
        parts.append("Hồ sơ: " + "; ".join(n for n in names if n))
    if procedure.conditions:
        parts.append("Điều kiện: " + _clip(procedure.conditions, _MAX_CONDITIONS_CHARS))
    summary = "\n".join(parts)
    details = [d.name for d in procedure.documents] + [procedure.conditions] + list(procedure.steps)
    details_text = "\n".join(" ".join(x.split()) for x in details if x and x.strip())
    return SearchDocument(
        id=f"procedure:{procedure.code}",
        kind="procedure",
        title=procedure.name,
        text=summary + (SUMMARY_BREAK + details_text if details_text else ""),
        fields={
            "code": procedure.code,
            "name": procedure.name,
            "field": procedure.field,
            "levels": list(procedure.levels),
            "aliases": list(procedure.aliases),
        },
    )


def faq_to_document(entry: FaqEntry, id: str | None = None) -> SearchDocument:
    """A FAQ entry; its hits are reported as the procedures it points at."""
    digest = hashlib.sha256(entry.question.encode("utf-8")).hexdigest()[:16]
    return SearchDocument(
        id=id or f"faq:{digest}",
        kind="faq",
        title=entry.question,
        text=f"{entry.question}\n{entry.answer}",
        fields={"procedures": list(entry.procedures), "answer": entry.answer},
    )


def passage_to_document(
    document: str,
    article: str,
    text: str,
    clause: str = "",
    title: str = "",
    citation: str = "",
    id: str | None = None,
) -> SearchDocument:
    """A legal article or clause. ``citation`` defaults to ``khoản 2 Điều 15 123/2015/NĐ-CP``."""
    citation = citation or " ".join(x for x in [f"khoản {clause}" if clause else "", article, document] if x)
    key = "|".join([document, article, clause])
    return SearchDocument(
        id=id or "passage:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20],
        kind="passage",
        title=title or article,
        text=text,
        fields={"document": document, "article": article, "clause": clause, "citation": citation},
    )


def legal_unit_to_document(unit: Any, article_title: str = "") -> SearchDocument:
    """A ``knowledge_base.legal.LegalUnit`` (article or clause) as a passage.

    ``article_title`` is the title of the clause's article (a clause does not carry it);
    the passage is titled ``Điều 15. Trách nhiệm đăng ký khai sinh`` either way.
    """
    article = f"Điều {unit.article}"
    title = article_title or getattr(unit, "title", "")
    return passage_to_document(
        document=unit.doc_number,
        article=article,
        clause=unit.clause or "",
        title=f"{article}. {title}" if title else article,
        text=unit.text,
        citation=unit.citation(),
        id=f"passage:{unit.key}",
    )


def legal_passage(
    *,
    document: str,
    article: str,
    article_title: str,
    text: str,
    citation: str,
    key: str,
    clause: str = "",
    unit: str = "clause",
    context: tuple[str, ...] = (),
    label: str = "",
    effective: str = "",
    ends: str = "",
) -> SearchDocument:
    """One article or clause of the legal library as a passage, with its context.

    ``article`` is the bare number (``"15"``); the passage is titled ``Điều 15. <title>``
    (what the title embedding reads). The body is the unit's own text (what an answer
    quotes, and the summary embedding reads), then, after :data:`SUMMARY_BREAK`, its
    context: the document's name, the chapter and section headings (``Chương II. ĐĂNG
    KÝ HỘ TỊCH…``, ``Mục 1. ĐĂNG KÝ KHAI SINH``). Keyword search reads all of it, so a
    clause that never repeats its article's or section's subject is still found by it.
    ``effective``/``ends`` (ISO dates, may be empty) let the ranking prefer the text in
    force on the question's date. ``key`` is the unit's machine key
    (``60/2014/QH13#d15.k1``), which also makes the id.
    """
    heading = f"Điều {article}"
    context_line = " · ".join(c for c in context if c)
    body = text.strip()
    if context_line:
        body = f"{body}{SUMMARY_BREAK}{context_line}" if body else context_line
    return SearchDocument(
        id=f"passage:{key}",
        kind="passage",
        title=f"{heading}. {article_title}" if article_title else heading,
        text=body,
        fields={
            "document": document,
            "article": heading,
            "clause": clause,
            "citation": citation,
            "key": key,
            "unit": unit,
            "article_title": article_title,
            "label": label,
            "effective": effective,
            "ends": ends,
        },
    )


def passage_quote(document: SearchDocument) -> str:
    """The unit's own text of a passage, without the context :func:`legal_passage` appends."""
    return document.text.split(SUMMARY_BREAK, 1)[0]


CONTEXT_PARTS = ("document", "chapter", "section")
"""What :func:`library_passages` puts in a passage's context (chosen on the legal questions)."""


def library_passages(
    document: Any, *, ends: str = "", context_parts: tuple[str, ...] = CONTEXT_PARTS
) -> list[SearchDocument]:
    """Passages of a parsed ``knowledge_base.legal.LegalDocument``: clauses, and articles without clauses.

    ``ends`` is the first day the document is no longer in force (ISO), when known from
    outside the text (``document.ends_on`` otherwise).
    """
    units = list(document.units)
    chapters = {u.number: u.title for u in units if str(u.kind) == "chapter"}
    sections = {(u.chapter, u.number): u.title for u in units if str(u.kind) == "section"}
    articles = {u.article: u for u in units if str(u.kind) == "article"}
    with_clauses = {u.article for u in units if str(u.kind) == "clause"}
    effective = document.effective.isoformat() if document.effective else ""
    ends = ends or (document.ends_on.isoformat() if document.ends_on else "")
    passages = []
    for unit in units:
        kind = str(unit.kind)
        if kind not in ("article", "clause") or (kind == "article" and unit.article in with_clauses):
            continue
        parent = articles.get(unit.article)
        passages.append(
            legal_passage(
                document=document.number,
                article=str(unit.article),
                article_title=parent.title if parent else "",
                text=unit.text,
                citation=unit.citation(),
                key=unit.key,
                clause=unit.clause or "",
                unit=kind,
                context=passage_context(
                    document.title,
                    unit.chapter,
                    chapters.get(unit.chapter or "", ""),
                    unit.section,
                    sections.get((unit.chapter, unit.section), "") if unit.section else "",
                    context_parts,
                ),
                label=document.label,
                effective=effective,
                ends=ends,
            )
        )
    return passages


def passage_context(
    document_title: str,
    chapter: str | None,
    chapter_title: str,
    section: str | None,
    section_title: str,
    parts: tuple[str, ...] = CONTEXT_PARTS,
) -> tuple[str, ...]:
    """``("Luật Hộ tịch", "Chương II. ĐĂNG KÝ HỘ TỊCH…", "Mục 1. ĐĂNG KÝ KHAI SINH")``."""
    out = []
    if "document" in parts and document_title:
        out.append(document_title)
    if "chapter" in parts and chapter:
        out.append(f"Chương {chapter}. {chapter_title}".strip(" .") if chapter_title else "")
    if "section" in parts and section:
        out.append(f"Mục {section}. {section_title}".strip(" .") if section_title else "")
    return tuple(x for x in out if x)
