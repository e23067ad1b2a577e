"""Dossier codes (mã số hồ sơ) in the national format. Plain Python.

A dossier received at a one-stop office gets one code, printed on the Giấy tiếp nhận hồ sơ
và hẹn trả kết quả (Nghị định 118/2025/NĐ-CP, Điều 18 khoản 3):

    <agency code>-<yymmdd>-<4-digit daily sequence>     e.g. 000.00.04.H51-200221-0001

The agency code is the receiving agency's electronic identifier (mã định danh điện tử):
groups of 2–3 letters or digits separated by dots. Making the sequence unique under
concurrent receipt is the database's job, not this module's.

Public API: :data:`DOSSIER_CODE_PATTERN` (shared with the NLU's regex feature),
:func:`format_dossier_code`, :func:`parse_dossier_code`, :func:`find_dossier_codes`,
:class:`DossierCode`, :class:`DossierCodeError`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from knowledge_base.messages import render

__all__ = [
    "AGENCY_CODE_PATTERN",
    "DOSSIER_CODE_PATTERN",
    "DossierCode",
    "DossierCodeError",
    "find_dossier_codes",
    "format_dossier_code",
    "parse_dossier_code",
]

AGENCY_CODE_PATTERN = r"[0-9A-Za-z]{2,3}(?:\.[0-9A-Za-z]{2,3}){0,4}"
"""An agency's electronic identifier, e.g. ``000.00.04.H51`` or ``H51.22``."""

DOSSIER_CODE_PATTERN = rf"(?<![\w.]){AGENCY_CODE_PATTERN}-\d{{6}}-\d{{4}}(?![\w-])"
"""A dossier code anywhere in a sentence; no groups, no anchors (usable in Rasa ``regex:``)."""

_FULL = re.compile(rf"(?P<agency>{AGENCY_CODE_PATTERN})-(?P<day>\d{{6}})-(?P<seq>\d{{4}})")
_AGENCY = re.compile(AGENCY_CODE_PATTERN)
_SEARCH = re.compile(DOSSIER_CODE_PATTERN)
_EXAMPLE = "000.00.04.H51-200221-0001"
MAX_SEQUENCE = 9999


class DossierCodeError(ValueError):
    """Text that is not a dossier code; the message is for the citizen (catalogue ``print.code.*``)."""


@dataclass(frozen=True)
class DossierCode:
    agency: str
    day: date
    seq: int

    def __str__(self) -> str:
        return format_dossier_code(self.agency, self.day, self.seq)


def format_dossier_code(agency: str, day: date, seq: int) -> str:
    """``format_dossier_code("000.00.04.H51", date(2020, 2, 21), 1)`` → ``000.00.04.H51-200221-0001``."""
    if not isinstance(agency, str) or not _AGENCY.fullmatch(agency):
        raise ValueError(
            f"agency code {agency!r} is not an electronic agency identifier "
            "(dot-separated groups of 2–3 letters or digits, e.g. '000.00.04.H51')"
        )
    if not isinstance(day, date):
        raise TypeError(f"day must be a date, got {type(day).__name__}")
    if not 2000 <= day.year <= 2099:
        raise ValueError(f"dossier codes carry a two-digit year; {day.year} is outside 2000–2099")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQUENCE:
        raise ValueError(f"daily sequence must be an int from 1 to {MAX_SEQUENCE}, got {seq!r}")
    return f"{agency.upper()}-{day:%y%m%d}-{seq:04d}"


def _format_error(text: str) -> DossierCodeError:
    shown = text if len(text) <= 60 else text[:57] + "…"
    return DossierCodeError(render("print.code.invalid", text=shown, example=_EXAMPLE))


def parse_dossier_code(text: str) -> DossierCode:
    """Read a dossier code typed by a citizen (case and spaces around the dashes tolerated)."""
    if not isinstance(text, str):
        raise TypeError(f"dossier code must be a str, got {type(text).__name__}")
    cleaned = unicodedata.normalize("NFKC", text).strip().strip(".,;")
    cleaned = re.sub(r"\s*[-–—]\s*", "-", cleaned)
    match = _FULL.fullmatch(cleaned)
    if not match:
        raise _format_error(text.strip())
    digits = match["day"]
    try:
        day = date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    except ValueError:
        raise DossierCodeError(render("print.code.bad_date", text=text.strip(), digits=digits)) from None
    seq = int(match["seq"])
    if seq == 0:
        raise DossierCodeError(render("print.code.zero_sequence", text=text.strip()))
    return DossierCode(agency=match["agency"].upper(), day=day, seq=seq)


def find_dossier_codes(text: str) -> list[DossierCode]:
    """Every well-formed dossier code in a sentence, in order (invalid dates skipped)."""
    found = []
    for match in _SEARCH.finditer(unicodedata.normalize("NFKC", text)):
        try:
            found.append(parse_dossier_code(match[0]))
        except DossierCodeError:
            continue
    return found
