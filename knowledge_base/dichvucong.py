"""Read the national public service portal's procedure records (dichvucong.gov.vn).

The portal publishes each thủ tục hành chính as a web page whose tables arrive
flattened into text, cells run together. This module turns one such record (a
JSON object with keys such as ``ma_thu_tuc``, ``cach_thuc_thuc_hien``,
``thanh_phan_ho_so``) into a :class:`~knowledge_base.schema.Procedure`, and
reads whole catalogue files (``.json``, ``.jsonl``, ``.jsonl.gz``, ``.json.gz``)
without aborting on one bad line.

Plain Python, no framework: the importer, the CLI and the tests all call it.

Public functions:

- :func:`parse_channels` — ``cach_thuc_thuc_hien`` → submission channels (time, fee);
- :func:`parse_documents` — ``thanh_phan_ho_so`` → required documents;
- :func:`parse_legal_basis` — ``can_cu_phap_ly`` → legal references;
- :func:`parse_record` — one raw record → :class:`ParsedRecord`;
- :func:`read_records` — a catalogue file → ``(line number, record or RecordError)``;
- :func:`summarize` — how many parsed records got time, fee, documents, legal basis.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge_base.schema import (
    ChannelKind,
    Fee,
    LegalReference,
    Procedure,
    ProcessingTime,
    RequiredDocument,
    SubmissionChannel,
    TimeUnit,
)

SOURCE = "dichvucong"
NO_INFO = "Không có thông tin"


class RecordError(ValueError):
    """One catalogue record cannot be used (not an object, no code or name, bad JSON line)."""


class CatalogueFileError(ValueError):
    """A whole catalogue file cannot be read: missing, empty, truncated or corrupt."""


@dataclass
class ParsedRecord:
    """A procedure built from one portal record, with what went wrong on the way.

    ``parsed`` names what was recovered from the source: Procedure field names
    (``"steps"``, ``"documents"``, ``"legal_basis"``…) plus ``"time"`` and ``"fee"``
    when at least one channel carries a processing time or a known fee.
    """

    procedure: Procedure
    warnings: list[str] = field(default_factory=list)
    parsed: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- text


# Tabs and odd spaces become plain spaces; zero-width marks and BOMs disappear.
_ODD_SPACE = re.compile(r"[\t\u00a0\u2002\u2003\u2009]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
_SPACES = re.compile(r"  +")
_BLANK_LINES = re.compile(r"\n{2,}")


def tidy_text(value: Any) -> str:
    """NFC-normalise, tidy whitespace and turn the portal's "Không có thông tin" into ""."""
    if value is None:
        return ""
    text = str(value)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = _ODD_SPACE.sub(" ", _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
    text = "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    text = _BLANK_LINES.sub("\n", text).strip()
    return "" if text == NO_INFO else text


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", _ODD_SPACE.sub(" ", text.replace("\n", " "))).strip()


def _strip_outer_brackets(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _closing_bracket(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing_bracket(text: str, start: int) -> int:
    """Index of the bracket closing ``text[start] == "("``, or -1 when it never closes."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


# ------------------------------------------------------------------------ channels

CHANNEL_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"

_KINDS = {
    "Trực tiếp": ChannelKind.IN_PERSON,
    "Trực tuyến": ChannelKind.ONLINE,
    "Dịch vụ bưu chính": ChannelKind.POST,
}
_UNITS = {
    "Ngày làm việc": TimeUnit.WORKING_DAY,
    "Ngày": TimeUnit.DAY,
    "Giờ": TimeUnit.HOUR,
    "Tháng": TimeUnit.MONTH,
}
_CURRENCY = r"VNĐ|Việt Nam Đồng|Đồng|USD"

# One channel row: kind, then the time cell, then the fee cell (cells run together).
# The time cell is "<N> <unit>", "Không có thông tin", a bare "<N>" before the fee,
# or missing from view because a bare N ran into the amount ("Trực tuyến1100 VNĐ").
_CHANNEL_ROW = re.compile(
    r"(?P<kind>Trực tiếp|Trực tuyến|Dịch vụ bưu chính)"
    r"(?:(?P<value>\d+(?:[.,]\d+)?) ?(?P<unit>Ngày làm việc|Ngày|Giờ|Tháng)"
    r"|(?P<no_time>Không có thông tin)"
    rf"|(?P<time_text>Không[^\d()]{{0,60}}?)(?=Miễn phí|Không có thông tin|\d[\d.,]* ?(?:{_CURRENCY}))"
    r"|(?P<bare>\d+(?:[.,]\d+)?)(?=Miễn phí|Không có thông tin)"
    rf"|(?=\d[\d.,]* ?(?:{_CURRENCY})))"
    rf"(?P<fee>Miễn phí|Không có thông tin|(?P<amount>\d[\d.,]*) ?(?P<currency>{_CURRENCY}))?"
)
# A money figure inside fee details: "20.000 đồng", "145 USD/thẻ", "8.000.000/lần".
_FIGURE = re.compile(
    r"(?<![\d/.,])(?P<number>\d{1,3}(?:[.,]\d{3})+|\d+)\s*"
    r"(?P<unit>đồng|Đồng|[đĐ](?![^\W\d_])|VNĐ|vnđ|VND|USD|/\s*[^\W\d_])"
)
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
_EXEMPT = re.compile(r"miễn", re.IGNORECASE)
_TRIVIAL_NOTES = {"không", "không có", "không quy định", "chưa quy định", "không có.", "không."}


def parse_channels(text: str) -> list[SubmissionChannel]:
    """Submission channels from ``cach_thuc_thuc_hien``; see :func:`parse_channels_with_warnings`."""
    return parse_channels_with_warnings(text)[0]


def parse_channels_with_warnings(text: str) -> tuple[list[SubmissionChannel], list[str]]:
    """Submission channels (time, fee, description) and what had to be guessed.

    ``text`` is the portal's flattened table: the header
    ``Hình thức nộpThời gianPhí, lệ phíMô tả`` then per channel
    ``<Trực tiếp|Trực tuyến|Dịch vụ bưu chính><N> <unit><fee>(details)<description>``.
    An unknown fee ("Không có thông tin") gives ``fee=None``; an unknown time gives
    ``time=None``. Exact duplicate rows are kept once.
    """
    text = tidy_text(text)
    if text.startswith(CHANNEL_HEADER):
        text = text[len(CHANNEL_HEADER) :]
    rows = list(_CHANNEL_ROW.finditer(text))
    warnings: list[str] = []
    channels: list[SubmissionChannel] = []
    if not rows:
        if text:
            warnings.append("không đọc được hình thức nộp nào trong mục Cách thức thực hiện")
        return channels, warnings
    known_times = [row["value"] or row["bare"] for row in rows if row["value"] or row["bare"]]
    for i, row in enumerate(rows):
        end = rows[i + 1].start() if i + 1 < len(rows) else len(text)
        rest = text[row.end() : end]
        details, description = _split_details(rest)
        kind = _KINDS[row["kind"]]
        time = _time_of(row)
        fee: Fee | None = None
        if row["fee"] == "Miễn phí":
            fee, note = _free_fee(details)
            if note:
                warnings.append(f"{kind.label}: {note}")
        elif row["amount"]:
            digits = row["amount"]
            if time is None and not row["no_time"] and not row["time_text"]:
                value, digits, note = _split_time_from_amount(digits, details, known_times)
                time = None if value is None else ProcessingTime(value=value, unit=TimeUnit.UNSPECIFIED)
                warnings.append(f"{kind.label}: {note}")
            fee, note = _paid_fee(digits, row["currency"], details)
            if note:
                warnings.append(f"{kind.label}: {note}")
        elif details and row["fee"] is None:
            description = f"({details}) {description}".strip()
        if row["time_text"]:  # "Không quy định", "Không phải trả kết quả cho người nộp thuế"
            description = f"Thời hạn: {row['time_text']}. {description}"
        channel = SubmissionChannel(kind=kind, time=time, fee=fee, description=_one_line(description))
        if channel not in channels:
            channels.append(channel)
    return channels, warnings


def _time_of(row: re.Match[str]) -> ProcessingTime | None:
    if row["value"]:
        return ProcessingTime(value=_number(row["value"]), unit=_UNITS[row["unit"]])
    if row["bare"]:
        return ProcessingTime(value=_number(row["bare"]), unit=TimeUnit.UNSPECIFIED)
    return None


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _split_details(rest: str) -> tuple[str, str]:
    """``(fee details, description)`` from what follows the fee cell."""
    rest = rest.strip()
    if not rest.startswith("("):
        return "", rest
    close = _closing_bracket(rest, 0)
    if close < 0:  # unbalanced: the details run to the end of the row
        return _one_line(_strip_outer_brackets(rest[1:])), ""
    return _one_line(_strip_outer_brackets(rest[1:close])), rest[close + 1 :].strip()


def _figures(details: str) -> list[tuple[int, str]]:
    """Money figures named in fee details, as ``(amount, currency)``."""
    found = []
    for match in _FIGURE.finditer(details):
        amount = int(re.sub(r"[.,]", "", match["number"]))
        currency = "USD" if match["unit"] == "USD" else "VND"
        if amount > 0:
            found.append((amount, currency))
    return found


def _note_of(details: str) -> str:
    return "" if details.strip().lower().rstrip(".") in _TRIVIAL_NOTES else details


def _free_fee(details: str) -> tuple[Fee, str]:
    """A "Miễn phí" cell, unless its details name a fee and no exemption (the label is then wrong)."""
    figures = _figures(details)
    if figures and not _EXEMPT.search(details):
        amount, currency = figures[0]
        warning = f"Cổng ghi 'Miễn phí' nhưng ghi chú nêu mức thu; lấy {_money(amount)} {currency}"
        return Fee(amount=amount, currency=currency, note=details), warning
    return Fee(free=True, note=_note_of(details)), ""


def _paid_fee(digits: str, currency_label: str, details: str) -> tuple[Fee, str]:
    """An amount cell: "2,000,000 Việt Nam Đồng", "50 VNĐ" (thousands), "145 USD"."""
    currency = "USD" if currency_label == "USD" else "VND"
    plain = re.sub(r"[.,]", "", digits) if _GROUPED.fullmatch(digits) or digits.isdigit() else ""
    if not plain:
        return Fee(note=_note_of(details)), f"không hiểu số tiền '{digits}'"
    amount = int(plain)
    figures = _figures(details)
    note = ""
    if currency == "VND" and (amount, "USD") in figures and (amount, "VND") not in figures:
        currency = "USD"
        note = f"số tiền {amount} ghi là VNĐ nhưng ghi chú nêu {amount} USD; lấy USD"
    if amount <= 1:  # a placeholder, not a fee
        if _EXEMPT.search(details):
            return Fee(
                free=True, note=_note_of(details)
            ), f"số tiền {amount} kèm ghi chú miễn lệ phí; coi là miễn phí"
        return Fee(note=_note_of(details)), f"số tiền {amount} {currency_label} không hợp lý; bỏ"
    if currency == "VND" and amount < 1000:  # no fee is under 1.000 đồng: the cell is in thousands
        note = f"số tiền {amount} VNĐ không hợp lý, hiểu là nghìn đồng ({_money(amount * 1000)} đồng)"
        amount *= 1000
    return Fee(amount=amount, currency=currency, note=_note_of(details)), note


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _split_time_from_amount(
    digits: str, details: str, known_times: list[str]
) -> tuple[float | None, str, str]:
    """Split "1100" (a bare time run into the amount) into time 1 and amount "100".

    Candidates keep 1–3 leading digits as the time and need a plausible amount
    (no leading zero, well-formed thousands groups). The figure named in the fee
    details decides first, then a time another channel of the record uses, then
    the shortest time.
    """
    candidates: list[tuple[int, str]] = []
    for k in range(1, min(3, len(digits) - 1) + 1):
        time_part, amount_part = digits[:k], digits[k:]
        if not time_part.isdigit() or int(time_part) == 0 or amount_part[0] in "0.,":
            continue
        if not (amount_part.isdigit() or _GROUPED.fullmatch(amount_part)):
            continue
        candidates.append((int(time_part), amount_part))
    if not candidates:
        return None, digits, f"số tiền '{digits}' không có thời gian đi kèm"
    figures = {amount for amount, _ in _figures(details)}

    def score(candidate: tuple[int, str]) -> tuple[int, int, int]:
        time_value, amount_part = candidate
        amount = int(re.sub(r"[.,]", "", amount_part))
        named = amount in figures or amount * 1000 in figures
        shared = str(time_value) in known_times
        return (0 if named else 1, 0 if shared else 1, len(str(time_value)))

    time_value, amount_part = min(candidates, key=score)
    note = f"thời gian không có đơn vị dính liền số tiền '{digits}'; tách thành {time_value} và {amount_part}"
    return float(time_value), amount_part, note


# ----------------------------------------------------------------------- documents

DOCUMENT_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"

# The quantity cell: one digit then "bản chính" (",N bản sao"), glued to the next
# row (or to "." and the next row); in prose ("01 bản chính hoặc…", "…: 01 bản
# chính.") the words are followed by space, punctuation or the end of a sentence.
_QUANTITY = re.compile(
    r"(?P<original>\d) bản chính(?:,(?P<copies>\d) bản sao)?(?![\s;:)/]|[.,](?:[\d\s]|$))"
    r"|(?<!\d)(?P<only_copies>\d) bản sao(?![\s;:)/]|[.,](?:[\d\s]|$))"
)
_TEMPLATE_EXT = re.compile(r"\.(?:docx|doc|pdf|xlsx|xls|rtf|odt|zip|rar|DOCX|DOC|PDF|XLSX|XLS)(?![a-z])")
_BULLET = re.compile(r"^(?:[-+*•\uf0fc\uf0d8\uf0b7–]+\s*)+")
_MAX_TEMPLATE_CHARS = 150


def parse_documents(text: str) -> list[RequiredDocument]:
    """Required documents from ``thanh_phan_ho_so``; see :func:`parse_documents_with_warnings`."""
    return parse_documents_with_warnings(text)[0]


def parse_documents_with_warnings(text: str) -> tuple[list[RequiredDocument], list[str]]:
    """Required documents and what could not be read.

    ``text`` holds one or more groups ``<group title>Tên giấy tờMẫu đơn, tờ khaiSố lượng``
    followed by rows ``<name>[<template file>]<N bản chính[,M bản sao]>``. The group
    title ("Giấy tờ phải nộp", "Trường hợp ủy quyền…") goes into each document's
    ``note``. A row "0 bản chính" (an explanatory line, nothing to hand in) gets
    ``copies=0``.
    """
    text = tidy_text(text)
    warnings: list[str] = []
    documents: list[RequiredDocument] = []
    if not text:
        return documents, warnings
    parts = text.split(DOCUMENT_HEADER)
    if len(parts) == 1:
        parts = ["", parts[0]]
    title = _group_title(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        last = index == len(parts) - 1
        position = 0
        for match in _QUANTITY.finditer(part):
            row = part[position : match.start()]
            position = match.end()
            document = _document_of(row, match, title)
            if document is not None:
                documents.append(document)
        tail = part[position:].strip()
        if last:
            if tail.strip(" -+*:;.\n"):
                warnings.append(
                    f"thành phần hồ sơ: bỏ qua đoạn cuối không có số lượng: '{_one_line(tail)[:80]}'"
                )
        else:
            title = _group_title(tail)
    if not documents and text.strip(" -"):
        warnings.append("không đọc được giấy tờ nào trong mục Thành phần hồ sơ")
    return documents, warnings


def _group_title(text: str) -> str:
    title = _one_line(text).strip(" -*:")
    return "" if not title or set(title) <= set("-") else title


def _document_of(row: str, quantity: re.Match[str], title: str) -> RequiredDocument | None:
    name, template = _split_template(_one_line(row))
    name = _BULLET.sub("", name.lstrip(" .,;")).strip(" ;")
    if not name and not template:
        return None
    if quantity["only_copies"] is not None:
        copies, original, extra = int(quantity["only_copies"]), False, 0
    else:
        originals = int(quantity["original"])
        extra = int(quantity["copies"] or 0)
        if originals > 0:
            copies, original = originals, True
        elif extra > 0:
            copies, original, extra = extra, False, 0
        else:
            copies, original = 0, None
    note_parts = [title] if title else []
    if extra:
        note_parts.append(f"kèm {extra} bản sao")
    return RequiredDocument(
        name=name or template,
        copies=copies,
        original=original,
        form=template,
        note="; ".join(note_parts),
    )


def _split_template(row: str) -> tuple[str, str]:
    """``(document name, template file names)`` from "…theo mẫuMẫu TP-LS-02.docx"."""
    first = _TEMPLATE_EXT.search(row)
    if first is None:
        return row, ""
    last_end = [m.end() for m in _TEMPLATE_EXT.finditer(row)][-1]
    start = next(
        (i for i in _template_starts(row, first.start()) if first.end() - i <= _MAX_TEMPLATE_CHARS),
        None,
    )
    if start is None:  # no visible join ("…thức ăn chăn nuôibáo cáo.pdf"): keep the name whole
        return (row[: first.start()] + " " + row[last_end:]).strip(), ""
    name = (row[:start] + " " + row[last_end:]).strip()
    files, cursor = [], start
    for extension in _TEMPLATE_EXT.finditer(row, start, last_end):
        files.append(row[cursor : extension.end()].strip(" ;"))
        cursor = extension.end()
    return name, "; ".join(f for f in files if f)


def _template_starts(row: str, end: int) -> Iterator[int]:
    """Positions before ``end`` where a template file name may start, glued to the name."""
    for i in range(1, end):
        before, here = row[i - 1], row[i]
        if here.isspace():
            continue
        if before in ";)" and here.isalnum():  # "…theo mẫu;Mẫu số 10.docx", "…(bản sao)Phụ lục 12.4.docx"
            yield i
        elif before == "." and here.isalnum() and not (here.isdigit() and row[i - 2 : i - 1].isdigit()):
            yield i  # "…NĐ-CP.Mau01.docx", "…đường sắt.2.3. Tong hop.docx"
        elif here.isupper() and (before.islower() or before.isdigit()):
            yield i  # "…khoáng sảnMau 09.docx", "…25/01/2026Mau don.docx"
        elif here.isdigit() and before.islower() and row[i - 2 : i - 1].islower():
            yield i  # "…đối với cá nhân7-Mẫu NA6.doc", "…theo mẫu1.000312.docx"
        elif here.isalnum() and before == "," and not row[i - 2 : i - 1].isdigit():
            yield i  # "…NƠI ĐĂNG KÝ THƯỜNG TRÚ,33-Mẫu số 02.doc"
        elif (
            here.isupper()
            and before.isupper()
            and row[i + 1 : i + 3].isalpha()
            and row[i + 1 : i + 3].islower()
        ):
            yield i  # "…NĐ-CPMau51.docx"


# --------------------------------------------------------------------- legal basis

LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"

# A document number: 60/2014/QH13, 123/2015/NĐ-CP, 163/QĐ-BTP, 01/2022/TTLT-BTC-BTP,
# 53/2010/QĐ-TTg. Only "…QH" takes digits, so "QH1354/2014/QH13" splits in two.
_SEGMENT = r"(?:TTg|[A-ZĐ]*QH\d{2}|[A-ZĐ]+)"
_SEGMENT_LETTER = re.compile(r"[A-ZĐ]")
_DOC_NUMBER = re.compile(rf"(?<!/)\d{{1,4}}(?:\.\d+)?/(?:\d{{4}}/)?{_SEGMENT}(?:-{_SEGMENT})*")
_VOWELS = "aăâeêioôơuưyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
# The start of a Vietnamese syllable (lower case): an optional onset, then vowels.
_SYLLABLE_START = re.compile(rf"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnrstvx])?[{_VOWELS}]+")
_DOC_TYPES = (
    "Luật|Bộ luật|Nghị định|Nghị quyết|Thông tư liên tịch|Thông tư|Quyết định|Pháp lệnh"
    "|Văn bản hợp nhất|Chỉ thị|Lệnh|Công văn|Văn bản"
)
_NEXT_TITLE = re.compile(rf"\s+(?:{_DOC_TYPES})\b")
# The number cell sometimes repeats the type: "…Chính phủNghị định số 92/2018/NĐ-CP".
_CELL_PREFIX = re.compile(rf"(?<=\S)(?:(?:{_DOC_TYPES})(?: số)?|[Ss]ố)\s*$")


def parse_legal_basis(text: str) -> list[LegalReference]:
    """Legal references from ``can_cu_phap_ly``, one per document number, in order.

    ``text`` is ``Tên văn bản pháp lýMã văn bản`` then title and number cells run
    together (``…Luật Hộ tịch123/2015/NĐ-CPThông tư số 08/2025/TT-BTP…``). A number
    closes a pair when the next title is glued to it (or follows as "Nghị định …",
    "Thông tư …"), or the text ends; numbers inside a title are followed by " ngày",
    ",", ")" and stay in the title.
    """
    text = _one_line(tidy_text(text))
    if text.startswith(LEGAL_HEADER):
        text = text[len(LEGAL_HEADER) :]
    numbers = [_trim_number(text, m) for m in _DOC_NUMBER.finditer(text)]
    references: dict[str, LegalReference] = {}
    position = 0
    for i, (start, end) in enumerate(numbers):
        after = text[end:]
        glued_duplicate = (
            i + 1 < len(numbers)
            and numbers[i + 1][0] == end
            and text[numbers[i + 1][0] : numbers[i + 1][1]] == text[start:end]
        )
        closes = not after or (not after[0].isspace() and after[0] not in ",.;:)") or _NEXT_TITLE.match(after)
        if glued_duplicate or not closes:
            continue
        number = text[start:end]
        title = _CELL_PREFIX.sub("", text[position:start]).strip(" -–;,.\t")
        position = end
        known = references.get(number)
        if known is None:
            references[number] = LegalReference(number=number, title=title)
        elif len(title) > len(known.title):
            references[number] = LegalReference(number=number, title=title)
    return list(references.values())


def _trim_number(text: str, match: re.Match[str]) -> tuple[int, int]:
    """Fix the edges of a number glued to its neighbours.

    Gives back a capital swallowed from the next title ("NĐ-CPNghị", "TT-BCASỬA ĐỔI"
    → "NĐ-CP", "TT-BCA") and drops a year glued in front ("Luật Cư trú 202068/2020/QH14"
    → "68/2020/QH14").
    """
    start, end = match.span()
    following = text[end : end + 4]
    if following[:1].isalpha() and not _SEGMENT_LETTER.match(following):
        # A Title-case word ("Hướng") lent one capital; an upper-case one ("NGHỊ") maybe more.
        for taken in (1,) if following[0].islower() else (3, 2, 1):
            tail = text[end - taken : end]
            if not (tail.isupper() and tail.isalpha()) or text[end - taken - 1] in "/-":
                continue
            syllable = _SYLLABLE_START.match((tail + following).lower())
            if syllable and syllable.end() > taken:
                end -= taken
                break
    run_start = start
    while run_start > 0 and text[run_start - 1].isdigit():
        run_start -= 1
    digits = text[run_start : text.index("/", start)]
    if len(digits) > 4 and re.match(r"(?:19|20)\d\d", digits) and len(digits) <= 8:
        start = run_start + 4
    return start, end


# ------------------------------------------------------------------------- records

_RESULT_JUNK = re.compile(r"Từ khóa|Chọn cơ quan thực hiện|Hệ thống chỉ hiển thị")
_RESULT_CODE = re.compile(r"Mã:\s*KQ\.[A-Z]\d+(?:\.\d+)*")
_PROCEDURE_CODE = re.compile(r"(?<![\d.])\d{1,2}\.\d{6}(?![\d])")
_STEP_SPLIT = re.compile(r"(?<![-+])\s+(?=(?:[-+]\s*)?Bước\s*\d+\s*[:.)])")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")

# Sections of ``raw_text`` (the whole page), in page order.
_RAW_LABELS = {
    "trinh_tu_thuc_hien": "Trình Tự Thực Hiện",
    "cach_thuc_thuc_hien": "Cách Thức Thực Hiện",
    "thanh_phan_ho_so": "Thành phần hồ sơ",
    "can_cu_phap_ly": "Căn cứ pháp lý",
    "co_quan_thuc_hien": "Cơ quan thực hiện",
}


def parse_record(raw: dict[str, Any]) -> ParsedRecord:
    """Build a :class:`Procedure` from one portal record.

    Raises :class:`RecordError` (a ``ValueError``) when ``raw`` is not a mapping or
    lacks ``ma_thu_tuc`` / ``ten_thu_tuc``. Anything else that cannot be read becomes
    a warning, never an exception.
    """
    if not isinstance(raw, dict):
        raise RecordError(f"bản ghi phải là một đối tượng JSON, nhận được {type(raw).__name__}")
    code = tidy_text(raw.get("ma_thu_tuc"))
    name = _one_line(tidy_text(raw.get("ten_thu_tuc")))
    if not code:
        raise RecordError("bản ghi thiếu mã thủ tục (ma_thu_tuc)")
    if not name:
        raise RecordError(f"thủ tục {code} thiếu tên thủ tục (ten_thu_tuc)")

    warnings: list[str] = []
    parsed: set[str] = set()
    text = _fields_of(raw, warnings)
    _repair_from_raw_text(text, raw.get("raw_text"), warnings)

    levels = [level for level in (_one_line(x) for x in text["cap_thuc_hien"].split(",")) if level]
    steps = _steps_of(text["trinh_tu_thuc_hien"])
    channels, channel_warnings = parse_channels_with_warnings(text["cach_thuc_thuc_hien"])
    documents, document_warnings = parse_documents_with_warnings(text["thanh_phan_ho_so"])
    legal_basis = parse_legal_basis(text["can_cu_phap_ly"])
    warnings += channel_warnings + document_warnings
    if text["can_cu_phap_ly"] and not legal_basis:
        warnings.append("không đọc được số hiệu văn bản nào trong mục Căn cứ pháp lý")
    if not channels:
        warnings.append("thiếu hình thức nộp, thời hạn và lệ phí")

    procedure = Procedure(
        code=code,
        name=name,
        levels=levels,
        field=_one_line(text["linh_vuc"]),
        applicants=_one_line(text["doi_tuong_thuc_hien"]),
        competent_agency=_one_line(text["co_quan_co_tham_quyen"] or text["co_quan_thuc_hien"]),
        receiving_agency=_one_line(text["dia_chi_tiep_nhan"] or text["co_quan_thuc_hien"]),
        steps=steps,
        channels=channels,
        documents=documents,
        conditions=text["yeu_cau_dieu_kien"],
        result=_result_of(text["ket_qua_xu_ly"]),
        legal_basis=legal_basis,
        related=sorted(set(_PROCEDURE_CODE.findall(text["thu_tuc_lien_quan"])) - {code}),
        source=SOURCE,
        updated=_updated_of(raw),
    )
    for name_, value in (
        ("levels", procedure.levels),
        ("field", procedure.field),
        ("applicants", procedure.applicants),
        ("competent_agency", procedure.competent_agency),
        ("receiving_agency", procedure.receiving_agency),
        ("steps", procedure.steps),
        ("channels", procedure.channels),
        ("documents", procedure.documents),
        ("conditions", procedure.conditions),
        ("result", procedure.result),
        ("legal_basis", procedure.legal_basis),
        ("related", procedure.related),
        ("updated", procedure.updated),
    ):
        if value:
            parsed.add(name_)
    if any(channel.time is not None for channel in channels):
        parsed.add("time")
    if any(
        channel.fee is not None and (channel.fee.free or channel.fee.amount is not None)
        for channel in channels
    ):
        parsed.add("fee")
    return ParsedRecord(procedure=procedure, warnings=warnings, parsed=parsed)


_TEXT_KEYS = (
    "cap_thuc_hien",
    "linh_vuc",
    "doi_tuong_thuc_hien",
    "co_quan_co_tham_quyen",
    "dia_chi_tiep_nhan",
    "co_quan_thuc_hien",
    "thu_tuc_lien_quan",
    "trinh_tu_thuc_hien",
    "cach_thuc_thuc_hien",
    "thanh_phan_ho_so",
    "can_cu_phap_ly",
    "yeu_cau_dieu_kien",
    "ket_qua_xu_ly",
)


def _fields_of(raw: dict[str, Any], warnings: list[str]) -> dict[str, str]:
    text = {}
    for key in _TEXT_KEYS:
        value = raw.get(key)
        if isinstance(value, (dict, list)):
            warnings.append(f"trường {key} không phải văn bản; bỏ qua")
            value = None
        text[key] = tidy_text(value)
    return text


def _squash(text: str) -> str:
    return "".join(text.split())


def _repair_from_raw_text(text: dict[str, str], raw_text: Any, warnings: list[str]) -> None:
    """Re-cut sections the portal scrape split at the wrong place.

    The scrape cut the page at the first occurrence of each section label, so a
    label quoted inside a section ("…theo quy định tại mục 5.3 (Thành phần hồ
    sơ)…", "(Căn cứ pháp lý: Thông tư 269/2016…)") truncated one field and filled
    the next with the wrong text. Cut again from ``raw_text`` at the labels that
    actually start each section.
    """
    if not isinstance(raw_text, str) or not raw_text:
        return
    sections = _sections_of(tidy_text(raw_text))
    for key, section in sections.items():
        if section is None or _squash(section) == _squash(text[key]):
            continue
        text[key] = section
        warnings.append(f"trường {key} bị cắt lệch khi thu thập; đã lấy lại từ raw_text")


def _sections_of(page: str) -> dict[str, str | None]:
    labels = _RAW_LABELS
    steps_at = page.find(labels["trinh_tu_thuc_hien"])
    how_at = page.find(labels["cach_thuc_thuc_hien"], max(steps_at, 0))
    if steps_at < 0 or how_at < 0:
        return {}
    after_how = how_at + len(labels["cach_thuc_thuc_hien"])
    # The documents label is the first one after the last channel row: a channel's
    # description may quote "Thành phần hồ sơ:" and the documents may repeat it.
    header_at = page.find(DOCUMENT_HEADER, after_how)
    last_row_end = after_how
    for row in _CHANNEL_ROW.finditer(page, after_how, header_at if header_at >= 0 else len(page)):
        last_row_end = row.end()
    docs_at = page.find(labels["thanh_phan_ho_so"], last_row_end)
    if docs_at < 0:
        return {}
    after_docs = docs_at + len(labels["thanh_phan_ho_so"])
    legal_at = -1
    for marker in (labels["can_cu_phap_ly"] + LEGAL_HEADER, labels["can_cu_phap_ly"] + NO_INFO):
        found = page.find(marker, after_docs)
        if found >= 0 and (legal_at < 0 or found < legal_at):
            legal_at = found
    if legal_at < 0:
        return {}
    after_legal = legal_at + len(labels["can_cu_phap_ly"])
    agency_at = page.find(labels["co_quan_thuc_hien"], after_legal)
    return {
        "trinh_tu_thuc_hien": tidy_text(page[steps_at + len(labels["trinh_tu_thuc_hien"]) : how_at]),
        "cach_thuc_thuc_hien": tidy_text(page[after_how:docs_at]),
        "thanh_phan_ho_so": tidy_text(page[after_docs:legal_at]),
        "can_cu_phap_ly": tidy_text(page[after_legal:agency_at]) if agency_at >= 0 else None,
    }


def _steps_of(text: str) -> list[str]:
    steps = []
    for line in text.split("\n"):
        steps.extend(part.strip() for part in _STEP_SPLIT.split(line))
    return [step for step in steps if step and step.strip("-+*. ")]


def _result_of(text: str) -> str:
    """The result documents, without the portal's widgets ("Mã: KQ…", "Từ khóa", "Chọn cơ quan…")."""
    junk = _RESULT_JUNK.search(text)
    if junk:
        text = text[: junk.start()]
    names = [_one_line(part).strip(" ;,") for part in _RESULT_CODE.split(text)]
    return "; ".join(name for name in names if name)


def _updated_of(raw: dict[str, Any]) -> str:
    for key in ("updated", "ngay_cap_nhat", "ngay_hieu_luc"):
        value = tidy_text(raw.get(key))
        if not value:
            continue
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value[:10]):
            return value[:10]
        date = _DATE.search(value)
        if date:
            day, month, year = (int(x) for x in date.groups())
            return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


# --------------------------------------------------------------------------- files

_SUFFIXES = (".jsonl.gz", ".json.gz", ".jsonl", ".json")


def read_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    """Records of a catalogue file, as ``(line number, record or RecordError)``.

    Accepts ``.json`` (a list of objects or one object; the "line number" is then the
    1-based position in the list), ``.jsonl``, ``.jsonl.gz`` and ``.json.gz``. A bad
    line (not JSON, not an object, not UTF-8) is yielded as a :class:`RecordError`
    and reading goes on. Raises :class:`CatalogueFileError` *before anything is
    yielded* — at the call, since the whole file is checked first — when the file is
    missing or unreadable, empty, or a truncated/corrupt gzip, so an importer never
    writes half a catalogue.
    """
    path = Path(path)
    kind = next((suffix for suffix in _SUFFIXES if path.name.lower().endswith(suffix)), None)
    if kind is None:
        raise CatalogueFileError(
            f"không nhận dạng được định dạng tệp {path.name}: cần .json, .jsonl, .jsonl.gz hoặc .json.gz"
        )
    data = _read_bytes(path, gzipped=kind.endswith(".gz"))
    if not data.strip():
        raise CatalogueFileError(f"tệp danh mục {path.name} rỗng, không có thủ tục nào")
    if kind.startswith(".jsonl"):
        return _jsonl_records(data)
    return _json_records(_json_document(data, path.name))


def _read_bytes(path: Path, gzipped: bool) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as error:
        raise CatalogueFileError(f"không tìm thấy tệp danh mục {path}") from error
    except OSError as error:  # a directory, no permission, I/O error
        raise CatalogueFileError(f"không đọc được tệp danh mục {path}: {error.strerror or error}") from error
    if not gzipped:
        return raw
    if not raw:
        raise CatalogueFileError(f"tệp nén {path.name} rỗng, không có thủ tục nào")
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as error:
        raise CatalogueFileError(
            f"tệp nén {path.name} bị cắt cụt hoặc hỏng ({error}); hãy tải lại tệp, chưa nhập thủ tục nào"
        ) from error


def _jsonl_records(data: bytes) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.strip():
            continue
        yield number, _record_of(line, f"dòng {number}")


def _json_document(data: bytes, name: str) -> list[Any]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise CatalogueFileError(f"tệp {name} không phải văn bản UTF-8 ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise CatalogueFileError(
            f"tệp {name} không phải JSON hợp lệ (dòng {error.lineno}, cột {error.colno}: {error.msg})"
        ) from error
    items = document if isinstance(document, list) else [document]
    if not items:
        raise CatalogueFileError(f"tệp danh mục {name} là danh sách rỗng, không có thủ tục nào")
    return items


def _json_records(items: list[Any]) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield number, item
        else:
            yield (
                number,
                RecordError(
                    f"mục {number}: bản ghi phải là một đối tượng JSON, nhận được {_json_type(item)}"
                ),
            )


def _record_of(line: bytes, where: str) -> dict[str, Any] | RecordError:
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return RecordError(f"{where}: không phải văn bản UTF-8")
    except json.JSONDecodeError as error:
        return RecordError(f"{where}: không phải JSON hợp lệ ({error.msg}, cột {error.colno})")
    if not isinstance(value, dict):
        return RecordError(f"{where}: bản ghi phải là một đối tượng JSON, nhận được {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    return {list: "mảng", str: "chuỗi", int: "số", float: "số", bool: "true/false", type(None): "null"}.get(
        type(value), type(value).__name__
    )


# ------------------------------------------------------------------------ coverage


def summarize(parsed_records: Iterable[ParsedRecord]) -> dict[str, int]:
    """Counts for an import report: ``records``, and how many got ``time``, ``fee``
    (free or an amount), ``documents``, ``legal_basis``, ``steps``, and ``with_warnings``."""
    counts = {
        "records": 0,
        "time": 0,
        "fee": 0,
        "documents": 0,
        "legal_basis": 0,
        "steps": 0,
        "with_warnings": 0,
    }
    for record in parsed_records:
        counts["records"] += 1
        for key in ("time", "fee", "documents", "legal_basis", "steps"):
            if key in record.parsed:
                counts[key] += 1
        if record.warnings:
            counts["with_warnings"] += 1
    return counts
