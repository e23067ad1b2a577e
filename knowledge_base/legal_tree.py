"""Cutting the lines of a legal text into chapters, sections, articles, clauses and points.

The text is written one structure element per line: ``Chương II`` (+ a title line),
``Mục 1``, ``Điều 15. Title``, khoản ``1.``, điểm ``a)``. :func:`split_header` takes off the
``---`` metadata block, :func:`split_body` the footnotes and the appendix, and
:func:`cut_into_units` walks the body once and returns a :class:`Draft` per unit, in
document order, with the lines before the first chapter or article (the preamble).
Quoted lines (an amendment's wording) are text, never structure.

Plain Python: no framework, nothing heavy at import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from knowledge_base.legal import DOCUMENT_TYPES, LegalUnit, UnitKind

_FOOTNOTE_REF_RE = re.compile(r"\[\^[^\]\s]+\]")
_FOOTNOTES_START_RE = re.compile(r"^(?:#{1,6}\s*Chú thích|\[\^[^\]\s]+\]:)", re.IGNORECASE)
_BODY_END_RE = re.compile(r"^(?:Nơi nhận\s*:|(?:Phụ lục|PHỤ LỤC)(?:\s+[IVXLCDM\d]+)?\s*$|PHỤ LỤC\b)")
_CHAPTER_RE = re.compile(r"^(?i:chương)(?:\s+([IVXLCDM]+|\d+)\b)?(.*)$")
_SECTION_RE = re.compile(r"^(?i:mục)\s+(\d+|[IVXLCDM]+)\b(.*)$")
_ARTICLE_RE = re.compile(r"^(?i:điều)\s+(\d+[a-zđ]?)\s*[.:]\s*(.*)$")
_CLAUSE_RE = re.compile(r"^(\d+[a-zđ]?)\.(?:\s+(.*)|$)")
_POINT_RE = re.compile(r"^([a-zđ])\)(?:\s*(.*))$")
_POINT_ORDER = "abcdđeghiklmnopqrstuvxy"
_TYPES_PATTERN = "|".join(DOCUMENT_TYPES)


def split_header(lines: list[str]) -> tuple[dict[str, str], list[str]]:
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


def split_body(lines: list[str]) -> tuple[list[str], list[str], bool]:
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
class Draft:
    """A unit being read: its address so far and its lines; :meth:`freeze` makes the :class:`LegalUnit`."""

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
        self.drafts: list[Draft] = []
        self.preamble: list[str] = []
        self.chapter: Draft | None = None
        self.section: Draft | None = None
        self.article: Draft | None = None
        self.clause: Draft | None = None
        self.point: Draft | None = None
        self.awaiting_title: Draft | None = None
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
            if not rest or rest[0] in ".:-–" or is_upper(rest):
                number = m.group(1) or _next_roman(self.chapter.number if self.chapter else None)
                self._open_chapter(number, rest.lstrip(".:-– ").strip())
                return True
        if m := _SECTION_RE.match(line):
            rest = m.group(2).strip()
            if not rest or rest[0] in ".:-–" or is_upper(rest):
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
        self.chapter = Draft(UnitKind.CHAPTER, number, title, chapter=number)
        self.section = self.article = self.clause = self.point = None
        self.drafts.append(self.chapter)
        self.awaiting_title = None if title else self.chapter

    def _open_section(self, number: str, title: str) -> None:
        chapter = self.chapter.number if self.chapter else None
        self.section = Draft(UnitKind.SECTION, number, title, chapter=chapter, section=number)
        self.article = self.clause = self.point = None
        self.drafts.append(self.section)
        self.awaiting_title = None if title else self.section

    def _open_article(self, number: str, title: str) -> None:
        self.article = Draft(
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
            elif is_upper(line) and not container.lines:
                container.title = f"{container.title} {line}".strip()  # a title over two lines
            else:
                container.lines.append(line)
            return
        for draft in (self.article, self.clause, self.point):
            if draft is not None:
                draft.lines.append(line)


def cut_into_units(lines: Iterable[str]) -> tuple[list[Draft], list[str]]:
    """The units of these body lines in document order, and the preamble lines above them."""
    builder = _TreeBuilder()
    for line in lines:
        builder.feed(line)
    return builder.drafts, builder.preamble


def _split_article_heading(heading: str) -> tuple[str, str]:
    """Split ``"Phạm vi điều chỉnh Nghị định này quy định..."`` (title and text run together in OCR)."""
    m = re.match(rf"^(.{{3,}}?)\s+((?:{_TYPES_PATTERN}) này\b.*|1\.\s*\S.*)$", heading)
    if m:
        return m.group(1), m.group(2)
    return heading, ""


def _clause_order(number: str) -> tuple[int, str]:
    m = re.match(r"(\d+)(.*)", number)
    return (int(m.group(1)), m.group(2)) if m else (0, number)


def is_upper(text: str) -> bool:
    """Whether every letter is a capital (``"CHƯƠNG II"``, a heading line); ``False`` without letters."""
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
