"""Vietnamese legal documents as an addressable tree of chapters, sections, articles, clauses, points.

A :class:`LegalDocument`'s units can be cited in Vietnamese (``"Điểm a khoản 1 Điều 16
Nghị định 123/2015/NĐ-CP"``) and looked up by a machine key (``"123/2015/NĐ-CP#d16.k1.a"``).
:func:`status_on` and :func:`preferred` answer "which text applies on this day" when one
law replaces another. A document is read from its text by
:func:`knowledge_base.legal_parser.parse_legal_text`, from a .md/.txt, .pdf, .docx or
.html file by :func:`knowledge_base.legal_files.read_legal_file`.

Plain Python: no framework, nothing heavy at import.

Citation format (one rule everywhere): the units from smallest to largest, then the
document's short label. Following Vietnamese drafting practice ``Điều``/``Chương``/``Mục``
keep their capital and ``khoản``/``điểm`` are lower case, except that the citation itself
starts with a capital letter. The short label is ``<title> <year>`` for a Luật / Bộ luật /
Pháp lệnh with a short title, as people name laws (``Luật Hộ tịch 2014``: ``"Khoản 1 Điều
15 Luật Hộ tịch 2014"``), and ``<type> <number>`` otherwise (``Nghị định 123/2015/NĐ-CP``).

Key format: ``<number>#`` then ``c<chapter>`` / ``c<chapter>.m<section>`` for chapters and
sections, ``d<article>[.k<clause>][.<point>]`` for articles, clauses and points
(``60/2014/QH13#d15.k1``, ``123/2015/NĐ-CP#d16.k1.a``, ``60/2014/QH13#cII.m1``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import cached_property

DOCUMENT_TYPES = (
    "Thông tư liên tịch",
    "Bộ luật",
    "Luật",
    "Pháp lệnh",
    "Nghị quyết",
    "Nghị định",
    "Quyết định",
    "Thông tư",
    "Chỉ thị",
)
"""Kinds of legal document, a longer name before any it starts with (``Thông tư liên tịch``)."""

SHORT_TITLE_TYPES = ("Bộ luật", "Luật", "Pháp lệnh")
"""Kinds people name by title and year (``Luật Hộ tịch 2014``) rather than by number."""


class UnitKind(StrEnum):
    CHAPTER = "chapter"
    SECTION = "section"
    ARTICLE = "article"
    CLAUSE = "clause"
    POINT = "point"

    @property
    def label(self) -> str:
        """The Vietnamese word used in citations (lower case as inside a sentence)."""
        return {
            UnitKind.CHAPTER: "Chương",
            UnitKind.SECTION: "Mục",
            UnitKind.ARTICLE: "Điều",
            UnitKind.CLAUSE: "khoản",
            UnitKind.POINT: "điểm",
        }[self]


class LegalStatus(StrEnum):
    IN_FORCE = "in_force"
    AMENDED = "amended"
    """In force; the text held is a consolidated one that includes amendments."""
    EXPIRED = "expired"
    NOT_YET_EFFECTIVE = "not_yet_effective"

    @property
    def in_force(self) -> bool:
        return self in (LegalStatus.IN_FORCE, LegalStatus.AMENDED)

    @property
    def label(self) -> str:
        return {
            LegalStatus.IN_FORCE: "Còn hiệu lực",
            LegalStatus.AMENDED: "Còn hiệu lực (đã được sửa đổi, bổ sung)",
            LegalStatus.EXPIRED: "Hết hiệu lực",
            LegalStatus.NOT_YET_EFFECTIVE: "Chưa có hiệu lực",
        }[self]


@dataclass(frozen=True)
class LegalUnit:
    """One chapter, section, article, clause or point.

    ``chapter``/``section``/``article``/``clause`` give the unit's address, its own level
    included: an article has ``article == number``; a clause has ``article`` (its parent)
    and ``clause == number``; a point directly under an article has ``clause is None``.
    ``text`` is the body without the unit's own marker and heading: an article's text is
    the whole article (clauses and points with their markers), a clause's text includes
    its points. Chapters and sections hold only loose text of their own (usually empty).
    """

    kind: UnitKind
    number: str
    title: str = ""
    text: str = ""
    chapter: str | None = None
    section: str | None = None
    article: str | None = None
    clause: str | None = None
    doc_number: str = ""
    doc_label: str = ""

    @property
    def key(self) -> str:
        """Machine key, e.g. ``"60/2014/QH13#d15.k1.a"``."""
        if self.kind is UnitKind.CHAPTER:
            fragment = f"c{self.number}"
        elif self.kind is UnitKind.SECTION:
            fragment = f"c{self.chapter}.m{self.number}" if self.chapter else f"m{self.number}"
        else:
            parts = [f"d{self.article}"]
            if self.clause is not None:
                parts.append(f"k{self.clause}")
            if self.kind is UnitKind.POINT:
                parts.append(self.number)
            fragment = ".".join(parts)
        return f"{self.doc_number}#{fragment}"

    @property
    def heading(self) -> str:
        """How the unit is headed in the text: ``"Điều 15. Title"``, ``"Khoản 1"``, ``"Điểm a"``."""
        if self.kind in (UnitKind.CHAPTER, UnitKind.SECTION, UnitKind.ARTICLE):
            base = f"{self.kind.label} {self.number}"
            return f"{base}. {self.title}" if self.title else base
        return capitalise(f"{self.kind.label} {self.number}")

    def citation(self) -> str:
        """Vietnamese citation, e.g. ``"Điểm a khoản 1 Điều 16 Nghị định 123/2015/NĐ-CP"``."""
        if self.kind is UnitKind.CHAPTER:
            parts = [f"Chương {self.number}"]
        elif self.kind is UnitKind.SECTION:
            parts = [f"Mục {self.number}"] + ([f"Chương {self.chapter}"] if self.chapter else [])
        else:
            parts = []
            if self.kind is UnitKind.POINT:
                parts.append(f"điểm {self.number}")
            if self.clause is not None:
                parts.append(f"khoản {self.clause}")
            parts.append(f"Điều {self.article}")
        if self.doc_label:
            parts.append(self.doc_label)
        return capitalise(" ".join(parts))


@dataclass(frozen=True)
class LegalDocument:
    """A parsed legal document. ``units`` are in document order."""

    number: str
    doc_type: str = ""
    title: str = ""
    issuer: str = ""
    issued: date | None = None
    effective: date | None = None
    text_version: str = ""
    consolidated: bool = False
    status_note: str = ""
    replaced_by: str | None = None
    replaced_from: date | None = None
    expired_on: date | None = None
    replaces: tuple[str, ...] = ()
    preamble: str = ""
    appendix: str = ""
    units: tuple[LegalUnit, ...] = ()
    header: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Every ``key: value`` of the source's ``---`` header block, raw."""

    @property
    def label(self) -> str:
        """Short name used in citations: ``"Luật Hộ tịch 2014"``, ``"Nghị định 123/2015/NĐ-CP"``."""
        return document_label(self.doc_type, self.title, self.number)

    @property
    def articles(self) -> list[LegalUnit]:
        return [unit for unit in self.units if unit.kind is UnitKind.ARTICLE]

    @property
    def ends_on(self) -> date | None:
        """First day the document is no longer in force, when known."""
        days = [day for day in (self.replaced_from, self.expired_on) if day is not None]
        return min(days) if days else None

    def get_unit(self, key: str) -> LegalUnit:
        """The unit with this key (full ``"60/2014/QH13#d15.k1"`` or just ``"d15.k1"``)."""
        number, sep, fragment = key.rpartition("#")
        if sep and number != self.number:
            raise KeyError(f"key {key!r} belongs to another document than {self.number!r}")
        try:
            return self._units_by_fragment[fragment]
        except KeyError:
            raise KeyError(f"no unit {fragment!r} in {self.number or self.title!r}") from None

    @cached_property
    def _units_by_fragment(self) -> dict[str, LegalUnit]:
        index: dict[str, LegalUnit] = {}
        for unit in self.units:
            index.setdefault(unit.key.rpartition("#")[2], unit)
        return index

    def find_unit(
        self, article: str, clause: str | None = None, point: str | None = None
    ) -> LegalUnit | None:
        """The article, clause or point with these numbers, or ``None``."""
        kind = UnitKind.POINT if point else UnitKind.CLAUSE if clause else UnitKind.ARTICLE
        for unit in self.units:
            if (
                unit.kind is kind
                and unit.article == str(article)
                and (clause is None or unit.clause == str(clause))
                and (point is None or unit.number == point)
            ):
                return unit
        return None

    def list_children(self, unit: LegalUnit) -> list[LegalUnit]:
        """Units directly inside ``unit`` (articles of a chapter/section, clauses, points)."""
        return [u for u in self.units if _parent_key(u) == unit.key]

    def status_on(self, day: date) -> LegalStatus:
        return status_on(self, day)


def _parent_key(unit: LegalUnit) -> str | None:
    n = unit.doc_number
    if unit.kind is UnitKind.POINT:
        return f"{n}#d{unit.article}.k{unit.clause}" if unit.clause is not None else f"{n}#d{unit.article}"
    if unit.kind is UnitKind.CLAUSE:
        return f"{n}#d{unit.article}"
    if unit.kind is UnitKind.ARTICLE:
        if unit.section is not None:
            return f"{n}#c{unit.chapter}.m{unit.section}" if unit.chapter else f"{n}#m{unit.section}"
        return f"{n}#c{unit.chapter}" if unit.chapter else None
    if unit.kind is UnitKind.SECTION and unit.chapter:
        return f"{n}#c{unit.chapter}"
    return None


# --------------------------------------------------------------------------- labels


def document_label(doc_type: str, title: str, number: str) -> str:
    """The short name citations end with: ``"Luật Hộ tịch 2014"``, ``"Nghị định 123/2015/NĐ-CP"``."""
    short = re.sub(r"\s*\(\d{4}\)\s*$", "", title).strip()
    if doc_type in SHORT_TITLE_TYPES and short.startswith(doc_type) and len(short) <= 60:
        year = re.search(r"/(\d{4})/", number)
        return f"{short} {year.group(1) if year else number}".strip()
    if doc_type and number:
        return f"{doc_type} {number}"
    return number or short or doc_type


def capitalise(text: str) -> str:
    """``"khoản 1 Điều 15"`` → ``"Khoản 1 Điều 15"``: the first letter only, the rest kept."""
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- status


def status_on(doc: LegalDocument, day: date) -> LegalStatus:
    """Whether ``doc`` is in force on ``day`` (``AMENDED`` = in force, consolidated text).

    A document without a known effective date counts as effective. It stops being in
    force on ``replaced_from``/``expired_on`` (the day the replacing text takes effect).
    """
    if not isinstance(day, date):
        raise TypeError(f"day must be a datetime.date, not {type(day).__name__}")
    if doc.effective is not None and day < doc.effective:
        return LegalStatus.NOT_YET_EFFECTIVE
    ends = doc.ends_on
    if ends is not None and day >= ends:
        return LegalStatus.EXPIRED
    return LegalStatus.AMENDED if doc.consolidated else LegalStatus.IN_FORCE


def link_replacements(docs: Iterable[LegalDocument]) -> list[LegalDocument]:
    """Copies of ``docs`` where each side of a replacement knows about the other.

    If B ``replaces`` A, A gets ``replaced_by = B`` and, when unknown, ``replaced_from =
    B.effective``; if A is ``replaced_by`` B, B lists A in ``replaces``.
    """
    docs = list(docs)
    by_number = {d.number: d for d in docs if d.number}
    out: list[LegalDocument] = []
    for doc in docs:
        replaced_by, replaced_from = doc.replaced_by, doc.replaced_from
        if replaced_by is None:
            newer = next((d for d in docs if doc.number and doc.number in d.replaces), None)
            if newer is not None:
                replaced_by = newer.number
        if replaced_by is not None and replaced_from is None and replaced_by in by_number:
            replaced_from = by_number[replaced_by].effective
        replaces = list(doc.replaces)
        for older in docs:
            if older.replaced_by == doc.number and older.number and older.number not in replaces:
                replaces.append(older.number)
        out.append(
            replace(doc, replaced_by=replaced_by, replaced_from=replaced_from, replaces=tuple(replaces))
        )
    return out


def filter_in_force(docs: Iterable[LegalDocument], day: date) -> list[LegalDocument]:
    """The documents in force on ``day``, replacement facts shared between them first."""
    return [d for d in link_replacements(docs) if status_on(d, day).in_force]


def preferred(docs: Iterable[LegalDocument], day: date) -> LegalDocument | None:
    """Among documents that replace each other, the one in force on ``day`` (``None`` if none is).

    Replacement facts are shared between the given documents first, so it is enough that
    either the old text says who replaces it or the new one says what it replaces. If
    several are in force, the most recently effective wins.
    """
    docs = list(docs)
    if not docs:
        raise ValueError("preferred() needs at least one document")
    in_force = filter_in_force(docs, day)
    if not in_force:
        return None
    numbers = {d.number for d in in_force}
    current = [d for d in in_force if d.replaced_by not in numbers] or in_force
    best = max(current, key=lambda d: (d.effective or date.min, d.issued or date.min))
    return next(d for d in docs if d.number == best.number) if best.number else best
