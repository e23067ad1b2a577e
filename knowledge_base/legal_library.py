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

from knowledge_base.store import LegalDocumentRow, LegalUnitRow


def document_slug(number: str) -> str:
    """``"123/2015/NĐ-CP"`` → ``"123-2015-ND-CP"``."""
    return re.sub(r"[^0-9A-Za-z-]+", "-", number.replace("/", "-").replace("Đ", "D").replace("đ", "d")).strip(
        "-"
    )


def article_path(number: str, article: str, clause: str = "") -> str:
    """``/phap-luat/60-2014-QH13/15`` (``#khoan-1`` for a clause)."""
    article = str(article).removeprefix("Điều").strip()
    return f"/phap-luat/{document_slug(number)}/{article}" + (f"#khoan-{clause}" if clause else "")


def _day(iso: str) -> date | None:
    try:
        return date.fromisoformat(iso) if iso else None
    except ValueError:
        return None


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
        """Vietnamese note when the text is not in force on ``day`` ("" when it is)."""
        effective, ends = _day(self.effective), _day(self.replaced_from)
        if effective and day < effective:
            note = f"Lưu ý: {self.label} có hiệu lực từ ngày {effective:%d/%m/%Y}, chưa áp dụng vào thời điểm này"
            return note + (f" (thay thế {', '.join(self.replaces)})." if self.replaces else ".")
        if ends and day >= ends:
            by = f" bởi {self.replaced_by}" if self.replaced_by else ""
            return f"Lưu ý: {self.label} đã được thay thế{by} từ ngày {ends:%d/%m/%Y}; quy định dưới đây là của văn bản cũ."
        return ""

    def status_label(self, day: date) -> str:
        """``Còn hiệu lực`` / ``Chưa có hiệu lực`` / ``Hết hiệu lực`` (``… đã được sửa đổi, bổ sung``)."""
        effective, ends = _day(self.effective), _day(self.replaced_from)
        if effective and day < effective:
            return f"Chưa có hiệu lực (từ {effective:%d/%m/%Y})"
        if ends and day >= ends:
            return f"Hết hiệu lực từ {ends:%d/%m/%Y}" + (
                f", thay thế bởi {self.replaced_by}" if self.replaced_by else ""
            )
        return "Còn hiệu lực" + (" (văn bản hợp nhất, đã được sửa đổi, bổ sung)" if self.consolidated else "")

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
        return f"Điều {self.number}. {self.title}" if self.title else f"Điều {self.number}"

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
    article = str(article).removeprefix("Điều").strip().lower()
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
