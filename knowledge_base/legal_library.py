"""Reading the stored legal library: an article by its address, a document's status on a day.

Plain functions over the database session (no web framework), used by the gateway's
``/phap-luat/…`` pages and API and by the actions that cite the law.

Addresses: a document's slug is its number with ``/`` → ``-`` and ``Đ`` → ``D``
(``123/2015/NĐ-CP`` → ``123-2015-ND-CP``, as the shared files are named); an article is
its number (``15``, ``28a``). ``/phap-luat/60-2014-QH13/15`` is Điều 15 Luật Hộ tịch 2014.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.messages import render
from knowledge_base.store import LegalDocumentRow, LegalUnitRow

# «Điều» before an article's number («Điều 15» → «15»): a word read, not said.
_ARTICLE_WORD_RE = re.compile(r"^Điều")


def document_slug(number: str) -> str:
    """``"123/2015/NĐ-CP"`` → ``"123-2015-ND-CP"``."""
    ascii_d = re.sub("đ", "d", re.sub("Đ", "D", number.replace("/", "-")))
    return re.sub(r"[^0-9A-Za-z-]+", "-", ascii_d).strip("-")


def article_path(number: str, article: str, clause: str = "") -> str:
    """``/phap-luat/60-2014-QH13/15`` (``#khoan-1`` for a clause)."""
    article = _ARTICLE_WORD_RE.sub("", str(article), count=1).strip()
    return f"/phap-luat/{document_slug(number)}/{article}" + (f"#khoan-{clause}" if clause else "")


def _day(iso: str) -> date | None:
    try:
        return date.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def _shown(day: date) -> str:
    """A date as citizens read it: ``01/03/2027``."""
    return f"{day:%d/%m/%Y}"


@dataclass(frozen=True)
class DocumentInfo:
    number: str
    label: str  # "Luật Hộ tịch 2014"
    title: str
    doc_type: str
    issuer: str
    issued: str
    effective: str
    replaced_by: str
    replaced_from: str
    consolidated: bool
    text_version: str

    @property
    def slug(self) -> str:
        return document_slug(self.number)

    def in_force_on(self, day: date) -> bool:
        effective, ends = _day(self.effective), _day(self.replaced_from)
        return (effective is None or effective <= day) and (ends is None or day < ends)

    def status_note(self, day: date) -> str:
        """The catalogue's ``legal.note_*`` when the text is not in force on ``day`` ("" when it is)."""
        effective, ends = _day(self.effective), _day(self.replaced_from)
        if effective and day < effective:
            if self.replaces:
                return render("legal.note_not_yet_replacing", label=self.label, effective=_shown(effective),
                              replaces=", ".join(self.replaces))
            return render("legal.note_not_yet", label=self.label, effective=_shown(effective))
        if ends and day >= ends:
            if self.replaced_by:
                return render("legal.note_replaced_by", label=self.label, by=self.replaced_by, ends=_shown(ends))
            return render("legal.note_replaced", label=self.label, ends=_shown(ends))
        return ""

    def status_label(self, day: date) -> str:
        """``Còn hiệu lực`` / ``Chưa có hiệu lực`` / ``Hết hiệu lực`` (the catalogue's ``legal.status_*``)."""
        effective, ends = _day(self.effective), _day(self.replaced_from)
        if effective and day < effective:
            return render("legal.status_not_yet", effective=_shown(effective))
        if ends and day >= ends:
            if self.replaced_by:
                return render("legal.status_expired_by", ends=_shown(ends), by=self.replaced_by)
            return render("legal.status_expired", ends=_shown(ends))
        return render("legal.status_in_force_consolidated" if self.consolidated else "legal.status_in_force")

    replaces: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ClauseView:
    number: str
    text: str
    citation: str


@dataclass(frozen=True)
class ArticleView:
    document: DocumentInfo
    number: str
    title: str
    text: str
    citation: str
    chapter: str = ""
    chapter_title: str = ""
    section: str = ""
    section_title: str = ""
    clauses: tuple[ClauseView, ...] = ()

    @property
    def heading(self) -> str:
        if self.title:
            return render("legal.article_heading", article=self.number, title=self.title)
        return render("legal.article_heading_untitled", article=self.number)

    @property
    def path(self) -> str:
        return article_path(self.document.number, self.number)


def document_info(row: LegalDocumentRow) -> DocumentInfo:
    meta = row.meta or {}
    return DocumentInfo(
        number=row.number,
        label=str(meta.get("label") or row.number),
        title=row.title or "",
        doc_type=row.doc_type or "",
        issuer=row.issuer or "",
        issued=row.issued or "",
        effective=row.effective or "",
        replaced_by=row.replaced_by or "",
        replaced_from=row.replaced_from or "",
        consolidated=bool(meta.get("consolidated")),
        text_version=str(meta.get("text_version") or ""),
        replaces=tuple(meta.get("replaces") or ()),
    )


def list_documents(session: Session) -> list[DocumentInfo]:
    return [
        document_info(row)
        for row in session.scalars(select(LegalDocumentRow).order_by(LegalDocumentRow.number))
    ]


def find_document(session: Session, number_or_slug: str) -> LegalDocumentRow | None:
    """The stored document with this number (``60/2014/QH13``) or slug (``60-2014-QH13``)."""
    row = session.scalar(select(LegalDocumentRow).where(LegalDocumentRow.number == number_or_slug))
    if row is not None:
        return row
    wanted = document_slug(number_or_slug).upper()
    for candidate in session.scalars(select(LegalDocumentRow)):
        if document_slug(candidate.number).upper() == wanted:
            return candidate
    return None


def find_article(session: Session, number_or_slug: str, article: str) -> ArticleView | None:
    """Điều ``article`` of the document, with its clauses and its chapter/section headings."""
    row = find_document(session, number_or_slug)
    if row is None:
        return None
    article = _ARTICLE_WORD_RE.sub("", str(article), count=1).strip().lower()
    units = session.scalars(
        select(LegalUnitRow)
        .where(LegalUnitRow.document_id == row.id)
        .where(LegalUnitRow.article == article)
        .order_by(LegalUnitRow.position)
    ).all()
    head = next((u for u in units if u.kind == "article"), None)
    if head is None:
        return None
    headings = {
        (u.kind, u.chapter, u.section): u.title
        for u in session.scalars(
            select(LegalUnitRow)
            .where(LegalUnitRow.document_id == row.id)
            .where(LegalUnitRow.kind.in_(("chapter", "section")))
        )
    }
    return ArticleView(
        document=document_info(row),
        number=head.article,
        title=head.title,
        text=head.text,
        citation=head.citation,
        chapter=head.chapter,
        chapter_title=headings.get(("chapter", head.chapter, ""), "") if head.chapter else "",
        section=head.section,
        section_title=headings.get(("section", head.chapter, head.section), "") if head.section else "",
        clauses=tuple(ClauseView(u.clause, u.text, u.citation) for u in units if u.kind == "clause"),
    )
