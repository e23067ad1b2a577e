"""Vietnamese legal documents as an addressable tree of chapters, sections, articles, clauses, points.

A legal text (Luật, Nghị định, Thông tư, ...) is written one structure element per line:
``Chương II`` (+ a title line), ``Mục 1``, ``Điều 15. Title``, khoản ``1.``, điểm ``a)``.
:func:`parse_legal_text` turns such text into a :class:`LegalDocument` whose units can be
cited in Vietnamese (``"Điểm a khoản 1 Điều 16 Nghị định 123/2015/NĐ-CP"``) and looked up
by a machine key (``"123/2015/NĐ-CP#d16.k1.a"``). :func:`read_legal_file` reads the text
from .md/.txt, .pdf, .docx and .html files first. :func:`status_on` and :func:`preferred`
answer "which text applies on this day" when one law replaces another.

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
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import cached_property
from pathlib import Path

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Default size limit of :func:`read_legal_file` (20 MB)."""

SUPPORTED_SUFFIXES = (".md", ".txt", ".pdf", ".docx", ".html", ".htm")


class LegalFileError(ValueError):
    """A legal document file cannot be read. The message is Vietnamese, fit to show staff."""


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
        return _capitalise(f"{self.kind.label} {self.number}")

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
        return _capitalise(" ".join(parts))


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
        return _document_label(self.doc_type, self.title, self.number)

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


# --------------------------------------------------------------------------- patterns

_DOC_NUMBER = r"\d{1,4}/\d{4}/[A-ZĐ]{1,10}\d{0,3}(?:-[A-ZĐ0-9]+)*"
_DOC_NUMBER_RE = re.compile(rf"(?<![\d/]){_DOC_NUMBER}")
_FOOTNOTE_REF_RE = re.compile(r"\[\^[^\]\s]+\]")
_FOOTNOTES_START_RE = re.compile(r"^(?:#{1,6}\s*Chú thích|\[\^[^\]\s]+\]:)", re.IGNORECASE)
_BODY_END_RE = re.compile(r"^(?:Nơi nhận\s*:|(?:Phụ lục|PHỤ LỤC)(?:\s+[IVXLCDM\d]+)?\s*$|PHỤ LỤC\b)")
_CHAPTER_RE = re.compile(r"^(?i:chương)(?:\s+([IVXLCDM]+|\d+)\b)?(.*)$")
_SECTION_RE = re.compile(r"^(?i:mục)\s+(\d+|[IVXLCDM]+)\b(.*)$")
_ARTICLE_RE = re.compile(r"^(?i:điều)\s+(\d+[a-zđ]?)\s*[.:]\s*(.*)$")
_CLAUSE_RE = re.compile(r"^(\d+[a-zđ]?)\.(?:\s+(.*)|$)")
_POINT_RE = re.compile(r"^([a-zđ])\)(?:\s*(.*))$")
_POINT_ORDER = "abcdđeghiklmnopqrstuvxy"
_TYPES = (
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
_TYPES_PATTERN = "|".join(_TYPES)
_SHORT_TITLE_TYPES = ("Bộ luật", "Luật", "Pháp lệnh")
_NUMBER_SUFFIX_TYPES = (
    (re.compile(r"/NĐ-"), "Nghị định"),
    (re.compile(r"/TTLT-"), "Thông tư liên tịch"),
    (re.compile(r"/TT-"), "Thông tư"),
    (re.compile(r"/QĐ-"), "Quyết định"),
    (re.compile(r"/NQ-"), "Nghị quyết"),
    (re.compile(r"/CT-"), "Chỉ thị"),
    (re.compile(r"/QH\d*$"), "Luật"),
)
_ISSUERS = ("Quốc hội", "Ủy ban Thường vụ Quốc hội", "Chính phủ", "Thủ tướng Chính phủ", "Chủ tịch nước")
_EFFECTIVE_IN_BODY_RE = re.compile(
    rf"(?:{_TYPES_PATTERN}) này có hiệu lực(?: thi hành)?(?: kể)? từ (ngày ký|ngày \d{{1,2}} tháng \d{{1,2}} năm \d{{4}})"
)
_REPEAL_RE = re.compile(
    rf"hết hiệu lực(?:\s+thi hành)?\s+(?:kể\s+)?từ\s+ngày\s+(?:{_TYPES_PATTERN})\s+này\s+có\s+hiệu\s+lực"
)
_REPLACE_IN_BODY_RE = re.compile(r"này có hiệu lực[^.]*?\bthay thế\b([^.]*)")


# --------------------------------------------------------------------------- parsing


def parse_legal_text(text: str, metadata: Mapping[str, str] | None = None) -> LegalDocument:
    """Parse a legal text into a :class:`LegalDocument`.

    ``metadata`` uses the same keys as the ``---`` header block (``number``, ``title``,
    ``type``, ``issuer``, ``issued``, ``effective``, ``status_note``, ``text_version``, ...);
    it wins over the header, which wins over what is read from the heading lines.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    if not text.strip():
        raise ValueError("text is empty: nothing to parse")
    lines = text.split("\n")
    header, lines = _split_header(lines)
    given = {k: unicodedata.normalize("NFC", str(v)) for k, v in (metadata or {}).items() if v is not None}
    fields = {**header, **given}

    body_lines, appendix_lines, has_footnotes = _split_body(lines)
    builder = _TreeBuilder()
    for line in body_lines:
        builder.feed(line)
    drafts = builder.finish()
    preamble_lines = builder.preamble

    found = _metadata_from_text(preamble_lines, drafts)
    number = fields.get("number") or found.number
    doc_type = fields.get("type") or found.doc_type or _type_from_number(number)
    title = fields.get("title") or found.title
    issued = _first_date(fields.get("issued", "")) or found.issued
    effective = _first_date(fields.get("effective", "")) or found.effective
    if effective is None and found.effective_on_signing:
        effective = issued
    text_version = fields.get("text_version", "")
    consolidated = (
        bool(re.search(r"hợp nhất|VBHN", text_version, re.IGNORECASE))
        if text_version
        else has_footnotes or bool(re.search(r"được sửa đổi, bổ sung bởi", "\n".join(preamble_lines)))
    )

    notes = [fields.get(key, "") for key in ("status_note", "effective", "notes")]
    facts = _replacement_facts(notes)
    replaces = list(
        dict.fromkeys([*facts.replaces, *found.replaces, *_split_numbers(fields.get("replaces", ""))])
    )
    replaced_by = fields.get("replaced_by") or facts.replaced_by
    replaced_from = _first_date(fields.get("replaced_from", "")) or facts.replaced_from

    label = _document_label(doc_type, title, number)
    units = tuple(draft.freeze(number, label) for draft in drafts)
    return LegalDocument(
        number=number,
        doc_type=doc_type,
        title=title,
        issuer=fields.get("issuer") or found.issuer,
        issued=issued,
        effective=effective,
        text_version=text_version,
        consolidated=consolidated,
        status_note=fields.get("status_note", ""),
        replaced_by=replaced_by,
        replaced_from=replaced_from,
        expired_on=_first_date(fields.get("expired_on", "")) or facts.expired_on,
        replaces=tuple(n for n in replaces if n != number),
        preamble="\n".join(preamble_lines),
        appendix="\n".join(appendix_lines),
        units=units,
        header=dict(header),
    )


def _split_header(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """The ``---`` metadata block at the top, if any, and the remaining lines."""
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].strip() != "---":
        return {}, lines
    for end in range(start + 1, len(lines)):
        if lines[end].strip() == "---":
            header: dict[str, str] = {}
            for line in lines[start + 1 : end]:
                key, sep, value = line.partition(":")
                if sep and key.strip():
                    header[key.strip()] = value.strip()
            return header, lines[end + 1 :]
    return {}, lines


def _split_body(lines: list[str]) -> tuple[list[str], list[str], bool]:
    """Body lines (footnote refs removed), appendix lines, and whether footnotes were present."""
    body: list[str] = []
    appendix: list[str] = []
    target = body
    has_footnotes = False
    for raw in lines:
        stripped = raw.strip()
        if _FOOTNOTES_START_RE.match(stripped):
            has_footnotes = True
            break
        if _FOOTNOTE_REF_RE.search(stripped):
            has_footnotes = True
        line = _clean_line(stripped)
        if target is body and _BODY_END_RE.match(line) and any(_ARTICLE_RE.match(b) for b in body):
            target = appendix
        target.append(line)
    return body, [line for line in appendix if line], has_footnotes


def _clean_line(line: str) -> str:
    line = _FOOTNOTE_REF_RE.sub("", line)
    line = re.sub(r"^#{1,6}\s+", "", line).replace("**", "")
    return re.sub(r"[ \t]+", " ", line).strip()


@dataclass
class _Draft:
    kind: UnitKind
    number: str
    title: str = ""
    chapter: str | None = None
    section: str | None = None
    article: str | None = None
    clause: str | None = None
    lines: list[str] = field(default_factory=list)

    def freeze(self, doc_number: str, doc_label: str) -> LegalUnit:
        return LegalUnit(
            kind=self.kind,
            number=self.number,
            title=self.title.strip(),
            text="\n".join(self.lines).strip(),
            chapter=self.chapter,
            section=self.section,
            article=self.article,
            clause=self.clause,
            doc_number=doc_number,
            doc_label=doc_label,
        )


class _TreeBuilder:
    """Walks body lines once, opening and closing units."""

    def __init__(self) -> None:
        self.drafts: list[_Draft] = []
        self.preamble: list[str] = []
        self.chapter: _Draft | None = None
        self.section: _Draft | None = None
        self.article: _Draft | None = None
        self.clause: _Draft | None = None
        self.point: _Draft | None = None
        self.awaiting_title: _Draft | None = None
        self.quote_depth = 0

    def feed(self, line: str) -> None:
        if not line:
            self.quote_depth = 0
            return
        if self.quote_depth > 0 or line[0] in '“"':
            # Quoted text (an amendment's wording): never structure.
            self.quote_depth = max(0, self.quote_depth + line.count("“") - line.count("”"))
            self._add_text(line)
            return
        if self._try_structure(line):
            return
        if self.awaiting_title is not None:
            self.awaiting_title.title = line
            self.awaiting_title = None
            return
        self._add_text(line)

    def _try_structure(self, line: str) -> bool:
        if m := _CHAPTER_RE.match(line):
            rest = m.group(2).strip()
            if not rest or rest[0] in ".:-–" or _is_upper(rest):
                number = m.group(1) or _next_roman(self.chapter.number if self.chapter else None)
                self._open_chapter(number, rest.lstrip(".:-– ").strip())
                return True
        if m := _SECTION_RE.match(line):
            rest = m.group(2).strip()
            if not rest or rest[0] in ".:-–" or _is_upper(rest):
                self._open_section(m.group(1), rest.lstrip(".:-– ").strip())
                return True
        if m := _ARTICLE_RE.match(line):
            title, lead = _split_article_heading(m.group(2).strip())
            self._open_article(m.group(1), title)
            if lead:
                self.feed(lead)
            return True
        if self.article is None:
            return False
        if m := _CLAUSE_RE.match(line):
            number = m.group(1)
            previous = self.clause.number if self.clause else None
            if previous is None or _clause_order(number) > _clause_order(previous):
                self._open_clause(number, line, m.group(2) or "")
                return True
            return False
        if m := _POINT_RE.match(line):
            letter = m.group(1)
            previous = self.point.number if self.point else None
            if previous is None or _POINT_ORDER.index(letter) > _POINT_ORDER.index(previous):
                self._open_point(letter, line, m.group(2) or "")
                return True
        return False

    def _open_chapter(self, number: str, title: str) -> None:
        self.chapter = _Draft(UnitKind.CHAPTER, number, title, chapter=number)
        self.section = self.article = self.clause = self.point = None
        self.drafts.append(self.chapter)
        self.awaiting_title = None if title else self.chapter

    def _open_section(self, number: str, title: str) -> None:
        chapter = self.chapter.number if self.chapter else None
        self.section = _Draft(UnitKind.SECTION, number, title, chapter=chapter, section=number)
        self.article = self.clause = self.point = None
        self.drafts.append(self.section)
        self.awaiting_title = None if title else self.section

    def _open_article(self, number: str, title: str) -> None:
        self.article = _Draft(
            UnitKind.ARTICLE,
            number,
            title,
            chapter=self.chapter.number if self.chapter else None,
            section=self.section.number if self.section else None,
            article=number,
        )
        self.clause = self.point = None
        self.awaiting_title = None
        self.drafts.append(self.article)

    def _open_clause(self, number: str, line: str, content: str) -> None:
        assert self.article is not None
        self.article.lines.append(line)
        self.clause = replace(
            self.article, kind=UnitKind.CLAUSE, number=number, title="", clause=number, lines=[content]
        )
        self.point = None
        self.drafts.append(self.clause)

    def _open_point(self, letter: str, line: str, content: str) -> None:
        assert self.article is not None
        self.article.lines.append(line)
        parent = self.clause or self.article
        if self.clause is not None:
            self.clause.lines.append(line)
        self.point = replace(parent, kind=UnitKind.POINT, number=letter, title="", lines=[content])
        self.drafts.append(self.point)

    def _add_text(self, line: str) -> None:
        self.awaiting_title = None
        if self.article is None:
            container = self.section or self.chapter
            if container is None:
                self.preamble.append(line)
            elif _is_upper(line) and not container.lines:
                container.title = f"{container.title} {line}".strip()  # a title over two lines
            else:
                container.lines.append(line)
            return
        for draft in (self.article, self.clause, self.point):
            if draft is not None:
                draft.lines.append(line)

    def finish(self) -> list[_Draft]:
        return self.drafts


def _split_article_heading(heading: str) -> tuple[str, str]:
    """Split ``"Phạm vi điều chỉnh Nghị định này quy định..."`` (title and text run together in OCR)."""
    m = re.match(rf"^(.{{3,}}?)\s+((?:{_TYPES_PATTERN}) này\b.*|1\.\s*\S.*)$", heading)
    if m:
        return m.group(1), m.group(2)
    return heading, ""


def _clause_order(number: str) -> tuple[int, str]:
    m = re.match(r"(\d+)(.*)", number)
    return (int(m.group(1)), m.group(2)) if m else (0, number)


def _is_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


_ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]  # fmt: skip


def _roman_to_int(roman: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for i, char in enumerate(roman):
        value = values[char]
        total += -value if i + 1 < len(roman) and values[roman[i + 1]] > value else value
    return total


def _next_roman(previous: str | None) -> str:
    """Number for a ``Chương`` line whose numeral was lost (OCR): the one after the previous."""
    if previous is None:
        return "I"
    n = int(previous) + 1 if previous.isdigit() else _roman_to_int(previous) + 1
    out = ""
    for value, symbol in _ROMAN:
        while n >= value:
            out += symbol
            n -= value
    return out


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


# --------------------------------------------------------------------------- metadata


def _document_label(doc_type: str, title: str, number: str) -> str:
    short = re.sub(r"\s*\(\d{4}\)\s*$", "", title).strip()
    if doc_type in _SHORT_TITLE_TYPES and short.startswith(doc_type) and len(short) <= 60:
        year = re.search(r"/(\d{4})/", number)
        return f"{short} {year.group(1) if year else number}".strip()
    if doc_type and number:
        return f"{doc_type} {number}"
    return number or short or doc_type


def _type_from_number(number: str) -> str:
    for pattern, doc_type in _NUMBER_SUFFIX_TYPES:
        if pattern.search(number):
            return doc_type
    return ""


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _first_date(text: str) -> date | None:
    """The first date written as ``2027-03-01``, ``01/03/2027`` or ``ngày 01 tháng 3 năm 2027``."""
    patterns = (
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", (1, 2, 3)),
        (r"(\d{1,2})/(\d{1,2})/(\d{4})", (3, 2, 1)),
        (r"(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", (3, 2, 1)),
    )
    best: tuple[int, date] | None = None
    for pattern, (y, m, d) in patterns:
        for match in re.finditer(pattern, text):
            try:
                found = date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError:
                continue
            if best is None or match.start() < best[0]:
                best = (match.start(), found)
            break
    return best[1] if best else None


def _split_numbers(text: str) -> list[str]:
    return _DOC_NUMBER_RE.findall(text)


@dataclass(frozen=True)
class _ReplacementFacts:
    replaced_by: str | None = None
    replaced_from: date | None = None
    expired_on: date | None = None
    replaces: tuple[str, ...] = ()


def _replacement_facts(notes: Iterable[str]) -> _ReplacementFacts:
    """Read replacement facts from free-text notes, clause by clause (split on ``;``).

    ``"Sẽ hết hiệu lực từ 2027-03-01 khi Luật Hộ tịch số 03/2026/QH16 có hiệu lực"`` and
    ``"Đã bị thay thế bởi Nghị định 154/2024/NĐ-CP từ 2025-01-10"`` say this document is
    replaced; ``"thay thế Luật 60/2014/QH13"`` says it replaces another.
    """
    replaced_by: str | None = None
    replaced_from: date | None = None
    expired_on: date | None = None
    replaces: list[str] = []
    for note in notes:
        for part in re.split(r"[;\n]", note):
            low = part.lower()
            numbers = _split_numbers(part)
            day = _first_date(part)
            if any(word in low for word in ("hết hiệu lực", "bị thay thế", "thay thế bởi", "được thay thế")):
                if numbers and replaced_by is None:
                    replaced_by, replaced_from = numbers[0], day
                elif not numbers and day and expired_on is None:
                    expired_on = day
            elif "thay thế" in low:
                replaces.extend(numbers)
    return _ReplacementFacts(replaced_by, replaced_from, expired_on, tuple(replaces))


@dataclass
class _FoundMetadata:
    """What the heading lines and the article on entry into force say."""

    number: str = ""
    doc_type: str = ""
    title: str = ""
    issuer: str = ""
    issued: date | None = None
    effective: date | None = None
    effective_on_signing: bool = False
    replaces: list[str] = field(default_factory=list)


def _metadata_from_text(preamble: list[str], drafts: list[_Draft]) -> _FoundMetadata:
    """Metadata read from the heading lines and the article on entry into force."""
    found = _FoundMetadata()
    for line in preamble:
        if line.startswith("Căn cứ"):
            break  # the number sits above the legal bases; numbers below are other documents
        m = re.search(rf"[Ss]ố\s*:?\s*({_DOC_NUMBER})", line)
        if m:
            found.number = m.group(1)
            after = line[m.end() :]
            found.issued = _first_date(after[:40])
            issuer = re.search(rf"của ({'|'.join(sorted(_ISSUERS, key=len, reverse=True))})", after)
            if issuer:
                found.issuer = issuer.group(1)
            effective = re.search(r"có hiệu lực(?: thi hành)?(?: kể)?(?: từ)? ngày ([^,;]+)", after)
            if effective:
                found.effective = _first_date(effective.group(0))
            break
    if found.issued is None:
        for line in preamble:
            if re.match(r"^[^\d,;]{2,30}[,;]\s*ngày\s+\d", line):  # "Hà Nội, ngày 26 tháng 11 năm 2024"
                found.issued = _first_date(line)
                break

    enacting = None
    for line in preamble:
        m = re.search(rf"(?:^|[;.]\s*)([^;.]*?)\s*ban hành\s+((?:{_TYPES_PATTERN})\b[^.;\[]*)", line)
        if m:
            enacting = m
    if enacting:
        issuer_text, title = enacting.group(1).strip(), enacting.group(2).strip()
        if len(title.split()) > 1:
            found.title = title
        found.doc_type = next((t for t in _TYPES if title.startswith(t)), "")
        found.issuer = found.issuer or next(
            (i for i in sorted(_ISSUERS, key=len, reverse=True) if issuer_text.endswith(i)), ""
        )

    heading = _title_from_heading(preamble)
    if heading:
        found.doc_type = found.doc_type or heading[0]
        found.title = found.title or heading[1]
    if not found.issuer:
        found.issuer = next((i for line in preamble[:5] for i in _ISSUERS if line.strip() == i.upper()), "")

    articles = [d for d in drafts if d.kind is UnitKind.ARTICLE]
    in_force_articles = [d for d in articles if "hiệu lực" in d.title.lower()] + articles
    if found.effective is None:
        for draft in in_force_articles:
            m = _EFFECTIVE_IN_BODY_RE.search(" ".join(draft.lines))
            if m:
                if m.group(1) == "ngày ký":
                    found.effective_on_signing = True
                else:
                    found.effective = _first_date(m.group(1))
                break
    found.replaces = _replaced_in_body(articles)
    return found


def _title_from_heading(preamble: list[str]) -> tuple[str, str] | None:
    """``("Luật", "Luật Hộ tịch")`` from heading lines such as ``LUẬT`` / ``HỘ TỊCH``."""
    for i, line in enumerate(preamble[:12]):
        if "CỘNG HÒA" in line or not _is_upper(line):
            continue
        for doc_type in _TYPES:
            if line == doc_type.upper() or line.startswith(doc_type.upper() + " "):
                rest = line[len(doc_type) :].strip()
                words = [rest] if rest else []
                for following in preamble[i + 1 : i + 4]:
                    if following.startswith("Căn cứ") or _DOC_NUMBER_RE.search(following):
                        break
                    words.append(following)
                    if not _is_upper(following):
                        break
                    if rest:
                        break
                name = " ".join(words).strip()
                if not name:
                    return doc_type, ""
                name = name.lower() if _is_upper(name) else name[:1].lower() + name[1:]
                if doc_type in _SHORT_TITLE_TYPES:
                    name = _capitalise(name)
                return doc_type, f"{doc_type} {name}"
    return None


def _replaced_in_body(articles: list[_Draft]) -> list[str]:
    """Numbers of documents this one repeals (``"... số N hết hiệu lực kể từ ngày Luật này có hiệu lực"``)."""
    numbers: list[str] = []
    for draft in articles:
        for line in draft.lines:
            for m in _REPEAL_RE.finditer(line):
                sentence = _sentence_before(line, m.start())
                for segment in sentence.split(";"):
                    first = _DOC_NUMBER_RE.search(segment)
                    if first:
                        numbers.append(first.group(0))
            for m in _REPLACE_IN_BODY_RE.finditer(line):
                for segment in m.group(1).split(";"):
                    first = _DOC_NUMBER_RE.search(segment)
                    if first:
                        numbers.append(first.group(0))
    return list(dict.fromkeys(numbers))


def _sentence_before(line: str, end: int) -> str:
    start = 0
    for m in re.finditer(r"\.\s+", line[:end]):
        following = line[m.end() : m.end() + 1]
        if following.isupper():
            start = m.end()
    return line[start:end]


# --------------------------------------------------------------------------- files


def read_legal_file(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> LegalDocument:
    """Read and parse a legal document from .md/.txt, .pdf, .docx or .html/.htm.

    Raises :class:`LegalFileError` (Vietnamese message) for a missing, empty, too large,
    unsupported or unreadable file, a scanned PDF without a text layer, or a text with no
    ``Điều``. The size is checked before anything is read.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LegalFileError(
            f"Không hỗ trợ định dạng tệp “{path.name}”. Chỉ nhận: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    if not path.is_file():
        raise LegalFileError(f"Không tìm thấy tệp “{path}”.")
    size = path.stat().st_size
    if size > max_bytes:
        raise LegalFileError(
            f"Tệp “{path.name}” quá lớn ({_format_mb(size)}); giới hạn là {_format_mb(max_bytes)}. "
            "Vui lòng tách văn bản thành các tệp nhỏ hơn."
        )
    if size == 0:
        raise LegalFileError(f"Tệp “{path.name}” trống, không có nội dung.")

    if suffix == ".pdf":
        text = _read_pdf(path)
    elif suffix == ".docx":
        text = _read_docx(path)
    elif suffix in (".html", ".htm"):
        text = _html_to_text(_decode(path.read_bytes(), path))
    else:
        text = _decode(path.read_bytes(), path)
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise LegalFileError(f"Tệp “{path.name}” trống, không có nội dung văn bản.")
    fallback = _number_from_filename(path.stem)
    document = parse_legal_text(text)
    if not document.number and fallback:
        document = parse_legal_text(text, {"number": fallback})
    if not document.articles:
        raise LegalFileError(
            f"Không tìm thấy Điều nào trong tệp “{path.name}”: đây có phải là văn bản quy phạm pháp luật không?"
        )
    return document


def _format_mb(size: int) -> str:
    """``52428800`` → ``"50 MB"``; below 1 MB in KB (``"12,3 KB"``), Vietnamese decimal comma."""
    value, unit = (size / (1024 * 1024), "MB") if size >= 1024 * 1024 else (size / 1024, "KB")
    return f"{value:.1f}".removesuffix(".0").replace(".", ",") + f" {unit}"


def _decode(data: bytes, path: Path) -> str:
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise LegalFileError(
            f"Tệp “{path.name}” không phải văn bản mã UTF-8; vui lòng lưu lại với mã UTF-8 rồi tải lên."
        ) from error


def _number_from_filename(stem: str) -> str:
    """``"123-2015-ND-CP"`` → ``"123/2015/NĐ-CP"``."""
    m = re.fullmatch(r"(\d{1,4})-(\d{4})-([A-Z]{1,10}\d{0,3}(?:-[A-Z0-9]+)*)", stem.strip())
    if not m:
        return ""
    suffix = re.sub(r"^ND\b", "NĐ", m.group(3).replace("QD-", "QĐ-"))
    return f"{m.group(1)}/{m.group(2)}/{suffix}"


_STRUCTURE_START_RE = re.compile(
    r"^(?:(?i:chương|mục|điều)\s+[0-9IVXLCDM]|\d+[a-zđ]?\.(?:\s|$)|[a-zđ]\)\s|[“\"])"
)
_BARE_HEADING_RE = re.compile(r"^(?:(?i:chương)(?:\s+[IVXLCDM\d]+)?|(?i:mục)\s+[IVXLCDM\d]+)$")
_PAGE_NUMBER_RE = re.compile(r"^(?:(?i:trang)\s*)?\d{1,4}(?:\s*/\s*\d{1,4})?$")


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LegalFileError(f"Tệp PDF “{path.name}” có mật khẩu; vui lòng gỡ mật khẩu rồi tải lên lại.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LegalFileError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as error:
        raise LegalFileError(
            f"Không đọc được tệp PDF “{path.name}” (tệp hỏng hoặc không phải PDF): {error}"
        ) from error
    text = _join_layout_lines([unicodedata.normalize("NFC", page) for page in pages])
    if not text.strip():
        raise LegalFileError(
            f"Tệp PDF “{path.name}” là bản quét (scan, ảnh chụp) không có lớp chữ, nên không đọc được nội dung. "
            "Vui lòng dùng bản PDF có chữ (bản điện tử) hoặc nhận dạng chữ (OCR) trước khi tải lên."
        )
    return text


def _join_layout_lines(pages: list[str]) -> str:
    """Re-join lines a PDF wrapped because they reached the right margin, also across pages.

    A line is joined to the one before when it does not start a structure element, and
    the one before is nearly as long as the longest line on its page (it filled the width)
    and is not a bare ``Chương``/``Mục`` heading. Lone page numbers are dropped.
    """
    out: list[str] = []
    previous = ""  # the last physical line read
    previous_full = 0  # the longest line on its page
    for page_text in pages:
        lines = [line.strip() for line in page_text.split("\n")]
        lines = [line for line in lines if line and not _PAGE_NUMBER_RE.match(line)]
        full = max((len(line) for line in lines), default=0)
        for line in lines:
            if (
                out
                and previous_full >= 40
                and len(previous) >= 0.7 * previous_full
                and not _STRUCTURE_START_RE.match(line)
                and not _BARE_HEADING_RE.match(out[-1])
            ):
                out[-1] = f"{out[-1]} {line}"
            else:
                out.append(line)
            previous, previous_full = line, full
    return "\n".join(out)


def _read_docx(path: Path) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as error:
        raise LegalFileError(
            f"Không đọc được tệp Word “{path.name}” (tệp hỏng hoặc không phải .docx)."
        ) from error
    except Exception as error:  # zipfile.BadZipFile and lxml errors vary by version
        raise LegalFileError(f"Không đọc được tệp Word “{path.name}”: {error}") from error
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "blockquote", "pre", "header", "footer", "dd", "dt", "td", "th",
)  # fmt: skip
_BREAK = "\u2029"


def _html_to_text(html: str) -> str:
    """Visible text with one line per block element; inline tags (``<b>Điều 1.</b>``) stay in line."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(_BREAK)
        tag.insert_after(_BREAK)
    text = soup.get_text()
    return "\n".join(" ".join(part.split()) for part in text.split(_BREAK))


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
