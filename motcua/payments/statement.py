"""Reading a bank statement (sao kê) exported as CSV: one incoming transfer a line. Plain Python.

Columns: date, amount, note — in that order, or named by a header row (``date``/``ngày``,
``amount``/``số tiền``, ``note``/``nội dung``, optionally ``ref``/``mã giao dịch``). Commas or
semicolons; UTF-8 with or without BOM. Amounts as banks write them: ``8000``, ``8.000``,
``8,000``, ``8.000 đ``, ``8000.00``. Dates ``2026-03-10``, ``10/03/2026``, with an optional time.

A line that cannot be read is kept with its problem (:attr:`StatementLine.problem`), never
dropped. Each line has a :attr:`~StatementLine.key`: the bank's reference when the file has
one, else the date, amount, note and how many identical lines came before it in the file — so
importing the same file twice finds the same keys, while two genuine identical transfers differ.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from knowledge_base.text import strip_diacritics
from motcua.workdays import VIETNAM_TZ

__all__ = ["StatementLine", "parse_amount", "parse_booked_at", "read_statement"]

_COLUMNS = {
    "date": {"date", "ngay", "ngay giao dich", "thoi gian", "booking date", "transaction date"},
    "amount": {"amount", "so tien", "credit", "so tien ghi co", "ghi co"},
    "note": {"note", "noi dung", "description", "dien giai", "noi dung chuyen khoan"},
    "ref": {"ref", "reference", "ma giao dich", "so tham chieu", "transaction id"},
}
_GROUPED = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_DECIMAL = re.compile(r"(\d+)[.,](\d{1,2})")
_DATE_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


@dataclass(frozen=True)
class StatementLine:
    line_number: int  # in the file, counting the header
    booked_at: datetime | None
    amount: int | None
    note: str
    ref: str = ""
    problem: str = ""  # why the line could not be read (staff-facing); "" when it could
    key: str = ""


def _plain(text: str) -> str:
    """Lower case, no diacritics, single spaces: how a header is compared."""
    return " ".join(strip_diacritics(text).lower().split())


def parse_amount(text: str) -> int | None:
    """Whole đồng in what a bank wrote, or None (a negative amount — money out — is None too)."""
    cleaned = re.sub(r"(?i)\s|vnd|vnđ|đồng|đ|\+", "", text or "")
    if not cleaned or cleaned.startswith("-"):
        return None
    if cleaned.isdigit():
        return int(cleaned)
    if _GROUPED.fullmatch(cleaned):
        return int(re.sub(r"[.,]", "", cleaned))
    decimal = _DECIMAL.fullmatch(cleaned)
    if decimal and int(decimal[2]) == 0:
        return int(decimal[1])
    return None


def parse_booked_at(text: str) -> datetime | None:
    """The moment of a transfer (Vietnam time when the bank gives none), or None."""
    text = (text or "").strip()
    match = _DATE_DMY.fullmatch(text)
    try:
        if match:
            day, month, year, hour, minute, second = match.groups()
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                            tzinfo=VIETNAM_TZ)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_TZ)
    return moment


def _positions(header: list[str]) -> dict[str, int] | None:
    names = [_plain(cell) for cell in header]
    found = {column: names.index(name) for column, choices in _COLUMNS.items()
             for name in names if name in choices}
    return found if {"date", "amount", "note"} <= set(found) else None


def _key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def read_statement(text: str) -> list[StatementLine]:
    """Every non-empty line of the CSV ``text``, read or with its problem."""
    text = text.lstrip("\ufeff")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    positions = {"date": 0, "amount": 1, "note": 2}
    start = 0
    if rows:
        header = _positions(rows[0])
        if header is not None:
            positions, start = header, 1
    lines: list[StatementLine] = []
    seen: Counter[tuple[str, str, str]] = Counter()
    for number, row in enumerate(rows[start:], start + 1):
        if not any(cell.strip() for cell in row):
            continue

        def cell(column: str, row: list[str] = row) -> str:
            index = positions.get(column)
            return " ".join(row[index].split()) if index is not None and index < len(row) else ""

        raw_date, raw_amount, note, ref = cell("date"), cell("amount"), cell("note"), cell("ref")
        booked_at, amount = parse_booked_at(raw_date), parse_amount(raw_amount)
        problem = ""
        if booked_at is None:
            problem = f"ngày «{raw_date}» không đọc được"  # staff-facing
        elif amount is None:
            problem = f"số tiền «{raw_amount}» không đọc được (hoặc là tiền chuyển đi)"  # staff-facing
        identity = (raw_date, raw_amount, note)
        seen[identity] += 1
        key = _key("ref", ref) if ref else _key("line", *identity, seen[identity])
        lines.append(StatementLine(number, booked_at, amount, note, ref, problem, key))
    return lines

