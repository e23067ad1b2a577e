"""Reading a legal text into a :class:`~knowledge_base.legal.LegalDocument`.

:func:`parse_legal_text` cuts the text into units (:mod:`knowledge_base.legal_tree`) and
reads the document's facts: its number, type, title, issuer and dates from the ``---``
header block or the heading lines, when it takes effect from the article on entry into
force, and which texts it replaces or is replaced by from that article and the notes.

Plain Python: no framework, nothing heavy at import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from knowledge_base.legal import (
    DOCUMENT_TYPES,
    SHORT_TITLE_TYPES,
    LegalDocument,
    UnitKind,
    capitalise,
    document_label,
)
from knowledge_base.legal_tree import Draft, cut_into_units, is_upper, split_body, split_header

_DOC_NUMBER = r"\d{1,4}/\d{4}/[A-ZĐ]{1,10}\d{0,3}(?:-[A-ZĐ0-9]+)*"
_DOC_NUMBER_RE = re.compile(rf"(?<![\d/]){_DOC_NUMBER}")
_TYPES_PATTERN = "|".join(DOCUMENT_TYPES)
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
    header, lines = split_header(lines)
    given = {k: unicodedata.normalize("NFC", str(v)) for k, v in (metadata or {}).items() if v is not None}
    fields = {**header, **given}

    body_lines, appendix_lines, has_footnotes = split_body(lines)
    drafts, preamble_lines = cut_into_units(body_lines)

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

    label = document_label(doc_type, title, number)
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


def _type_from_number(number: str) -> str:
    for pattern, doc_type in _NUMBER_SUFFIX_TYPES:
        if pattern.search(number):
            return doc_type
    return ""


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


def _metadata_from_text(preamble: list[str], drafts: list[Draft]) -> _FoundMetadata:
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
        found.doc_type = next((t for t in DOCUMENT_TYPES if title.startswith(t)), "")
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
        if "CỘNG HÒA" in line or not is_upper(line):
            continue
        for doc_type in DOCUMENT_TYPES:
            if line == doc_type.upper() or line.startswith(doc_type.upper() + " "):
                rest = line[len(doc_type) :].strip()
                words = [rest] if rest else []
                for following in preamble[i + 1 : i + 4]:
                    if following.startswith("Căn cứ") or _DOC_NUMBER_RE.search(following):
                        break
                    words.append(following)
                    if not is_upper(following):
                        break
                    if rest:
                        break
                name = " ".join(words).strip()
                if not name:
                    return doc_type, ""
                name = name.lower() if is_upper(name) else name[:1].lower() + name[1:]
                if doc_type in SHORT_TITLE_TYPES:
                    name = capitalise(name)
                return doc_type, f"{doc_type} {name}"
    return None


def _replaced_in_body(articles: list[Draft]) -> list[str]:
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
