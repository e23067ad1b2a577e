"""Validators for what a citizen types into an electronic form, one per kind of answer.

Every validator takes the raw text and returns a :class:`Validation`: the cleaned value, or
``None`` with a polite ``reason`` from the message catalogue (``validate.*``) that the assistant
can say before asking again (the rasa-sdk ``validate_<slot>`` habit, without the framework). Bad input from *code*
(a wrong argument type, an empty choice list) raises ``TypeError``/``ValueError`` instead.

Public functions (verbs): :func:`parse_date_vi`, :func:`validate_date`,
:func:`validate_birth_date`, :func:`validate_birth_date_or_year`, :func:`validate_phone`, :func:`validate_person_name`,
:func:`validate_choice`, :func:`validate_text`, :func:`validate_address`,
:func:`validate_number`, :func:`is_skip_answer`; diacritics are folded by :mod:`knowledge_base.text`.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast

from knowledge_base.messages import render
from knowledge_base.text import strip_diacritics

__all__ = [
    "Validation",
    "is_skip_answer",
    "parse_date_vi",
    "validate_address",
    "validate_birth_date",
    "validate_birth_date_or_year",
    "validate_choice",
    "validate_date",
    "validate_number",
    "validate_person_name",
    "validate_phone",
    "validate_text",
]

MAX_AGE_YEARS = 130


@dataclass(frozen=True)
class Validation:
    """The outcome of checking one answer: a cleaned ``value``, or a ``reason`` to ask again.

    ``value is None and not reason`` means an optional question was skipped.
    """

    value: Any | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason

    @property
    def slot_value(self) -> Any | None:
        """The value in a JSON-friendly form (dates as ISO ``yyyy-mm-dd``) for a dialogue slot."""
        if isinstance(self.value, date):
            return self.value.isoformat()
        return self.value

    @classmethod
    def valid(cls, value: Any) -> Validation:
        return cls(value, "")

    @classmethod
    def invalid(cls, reason: str) -> Validation:
        if not reason:
            raise ValueError("an invalid Validation needs a reason")
        return cls(None, reason)


# --- text helpers -----------------------------------------------------------------------


def _clean(text: str) -> str:
    """NFC, the byte-order mark and control characters dropped, whitespace collapsed."""
    if not isinstance(text, str):
        raise TypeError(f"expected the citizen's answer as str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text.replace("\ufeff", ""))
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())


def _key(text: str) -> str:
    """Comparison key: lowercase, accents removed, whitespace collapsed."""
    return " ".join(strip_diacritics(_clean(text)).casefold().split())


_SKIP_ANSWERS = {"khong", "khong co", "ko", "k", "khong biet", "bo qua", "khong ro", "-", "skip", "none"}


def is_skip_answer(text: str) -> bool:
    """True when the citizen declines an optional question (``không có``, ``bỏ qua``…)."""
    return _key(text).strip(" .!") in _SKIP_ANSWERS


# --- dates ------------------------------------------------------------------------------

_MONTH_WORDS = {
    "mot": 1, "gieng": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6,
    "bay": 7, "tam": 8, "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12, "chap": 12,
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})")
_SPACED_DATE = re.compile(r"(\d{1,2})\s+(\d{1,2})\s+(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_COMPACT_DATE = re.compile(r"(\d{2})(\d{2})(\d{4})")
_WORDED_DATE = re.compile(r"(?:ngay\s+)?(\d{1,2})\s*,?\s*thang\s+(.+?)\s*,?\s*nam\s+(\d{4}|\d{2})")


def _full_year(two_digits: int, today: date, prefer_past: bool) -> int:
    candidates = (1900 + two_digits, 2000 + two_digits, 2100 + two_digits)
    if prefer_past:
        past = [y for y in candidates if y <= today.year]
        return max(past) if past else candidates[0]
    return min(candidates, key=lambda y: abs(y - today.year))


def _build_date(day: int, month: int, year: int) -> Validation:
    if not 1800 <= year <= 2200:
        return Validation.invalid(render("validate.year_invalid", year=year))
    if not 1 <= month <= 12:
        return Validation.invalid(render("validate.month_invalid", month=month))
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return Validation.invalid(render("validate.day_invalid", date=f"{day:02d}/{month:02d}/{year}",
                                         month=month, year=year, last=last))
    return Validation.valid(date(year, month, day))


def parse_date_vi(text: str, today: date | None = None, *, prefer_past: bool = True) -> Validation:
    """Read a date the way Vietnamese citizens write it.

    Accepts ``15/03/2024``, ``15/3/2024``, ``15-03-2024``, ``15.03.2024``, ``15 3 2024``,
    ``15032024``, ``2024-03-15``, ``15 tháng 3 năm 2024``, ``ngày 15 tháng 03 năm 2024``,
    ``15 tháng ba năm 2024`` and the same without diacritics, and ``hôm nay``/``hôm qua``.
    A two-digit year is read as the latest such year not after ``today``
    (``prefer_past=False``: the nearest to ``today``). Impossible dates such as 31/02 are
    refused with a reason that says why.
    """
    today = today or date.today()
    raw = _clean(text)
    if not raw:
        return Validation.invalid(render("validate.date_empty"))
    key = _key(raw).strip(" .")
    if key in {"hom nay", "ngay hom nay"}:
        return Validation.valid(today)
    if key in {"hom qua", "ngay hom qua"}:
        return Validation.valid(date.fromordinal(today.toordinal() - 1))

    if m := _ISO_DATE.fullmatch(key):
        return _build_date(int(m[3]), int(m[2]), int(m[1]))
    for pattern in (_NUMERIC_DATE, _SPACED_DATE, _COMPACT_DATE):
        if m := pattern.fullmatch(key):
            day, month, year_text = int(m[1]), int(m[3] if pattern is _NUMERIC_DATE else m[2]), m.groups()[-1]
            break
    else:
        m = _WORDED_DATE.fullmatch(key)
        if not m:
            if re.fullmatch(r"\d{1,2}\s*[/.\-]\s*\d{1,2}", key) or re.fullmatch(
                r"(ngay\s+)?\d{1,2}\s+thang\s+\S+", key
            ):
                return Validation.invalid(render("validate.date_without_year"))
            return Validation.invalid(render("validate.date_unclear", text=raw))
        day, year_text = int(m[1]), m[3]
        month_text = m[2].strip()
        if month_text.isdigit():
            month = int(month_text)
        elif month_text in _MONTH_WORDS:
            month = _MONTH_WORDS[month_text]
        else:
            return Validation.invalid(render("validate.month_unclear", text=month_text))
    year = int(year_text)
    if len(year_text) == 2:
        year = _full_year(year, today, prefer_past)
    return _build_date(day, month, year)


def _as_date(value: str | date, today: date, prefer_past: bool) -> Validation:
    if isinstance(value, date):
        return Validation.valid(value)
    return parse_date_vi(value, today, prefer_past=prefer_past)


def validate_date(
    text: str | date, today: date | None = None, *, when: Literal["any", "past", "future"] = "any"
) -> Validation:
    """A date; ``when="past"`` refuses dates after today, ``when="future"`` dates before today."""
    if when not in ("any", "past", "future"):
        raise ValueError(f"when must be 'any', 'past' or 'future', got {when!r}")
    today = today or date.today()
    result = _as_date(text, today, prefer_past=when != "future")
    if not result.ok:
        return result
    day = cast(date, result.value)
    if when == "past" and day > today:
        return Validation.invalid(render("validate.date_not_yet", date=f"{day:%d/%m/%Y}", today=f"{today:%d/%m/%Y}"))
    if when == "future" and day < today:
        return Validation.invalid(render("validate.date_gone", date=f"{day:%d/%m/%Y}", today=f"{today:%d/%m/%Y}"))
    return result


def validate_birth_date(text: str | date, today: date | None = None) -> Validation:
    """A birth date: not in the future, and not more than 130 years ago."""
    today = today or date.today()
    result = _as_date(text, today, prefer_past=True)
    if not result.ok:
        return result
    born = cast(date, result.value)
    if born > today:
        return Validation.invalid(render("validate.birth_date_not_yet", date=f"{born:%d/%m/%Y}",
                                         today=f"{today:%d/%m/%Y}"))
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age > MAX_AGE_YEARS:
        return Validation.invalid(render("validate.birth_date_too_old", date=f"{born:%d/%m/%Y}", age=age,
                                         max_age=MAX_AGE_YEARS))
    return result


_YEAR_ONLY = re.compile(r"(?:(?:sinh\s+)?nam\s+)?(\d{4})")


def validate_birth_date_or_year(text: str | date | int, today: date | None = None) -> Validation:
    """A full birth date, or the year of birth alone («1945», «năm 1945»).

    For records that ask only for the year (the deceased's «năm sinh» in a death
    registration): a year alone gives the year as an ``int``; anything else is read as a
    full birth date by :func:`validate_birth_date`, with the same limits.
    """
    today = today or date.today()
    if isinstance(text, bool):
        raise TypeError("expected the citizen's answer as str, date or int, got bool")
    if isinstance(text, int):
        text = str(text)
    if isinstance(text, date):
        return validate_birth_date(text, today)
    match = _YEAR_ONLY.fullmatch(_key(text).strip(" ."))
    if not match:
        return validate_birth_date(text, today)
    year = int(match[1])
    if year > today.year:
        return Validation.invalid(render("validate.birth_year_not_yet", year=year, this_year=today.year))
    if today.year - year > MAX_AGE_YEARS:
        return Validation.invalid(render("validate.birth_year_too_old", year=year, max_age=MAX_AGE_YEARS))
    return Validation.valid(year)


# --- phone numbers ----------------------------------------------------------------------

_MOBILE_PREFIXES = ("03", "05", "07", "08", "09")


def validate_phone(text: str) -> Validation:
    """A Vietnamese phone number, returned as national digits starting with 0.

    Mobile numbers have 10 digits (03x, 05x, 07x, 08x, 09x); fixed lines have 11 digits
    with a 02x area code (since the 2017 renumbering). ``+84``, ``84`` and ``0084`` are
    turned into ``0``; spaces, dots, dashes and brackets are ignored.
    """
    raw = _clean(text)
    if not raw:
        return Validation.invalid(render("validate.phone_empty"))
    compact = re.sub(r"[\s.\-()/]", "", unicodedata.normalize("NFKC", raw))
    if compact.startswith("+"):
        compact = compact[1:]
        if not compact.startswith("84"):
            return Validation.invalid(render("validate.phone_not_vietnamese"))
    if not compact.isascii() or not compact.isdigit():
        return Validation.invalid(render("validate.phone_characters", text=raw))
    if compact.startswith("0084"):
        compact = "0" + compact[4:]
    elif compact.startswith("84") and len(compact) in (11, 12):
        compact = "0" + compact[2:]
    if not compact.startswith("0"):
        return Validation.invalid(render("validate.phone_no_zero"))
    if compact.startswith(_MOBILE_PREFIXES):
        if len(compact) != 10:
            return Validation.invalid(render("validate.phone_mobile_length", count=len(compact)))
        return Validation.valid(compact)
    if compact.startswith("02"):
        if len(compact) != 11:
            return Validation.invalid(render("validate.phone_landline_length", count=len(compact)))
        return Validation.valid(compact)
    return Validation.invalid(render("validate.phone_invalid", text=raw))


# --- names ------------------------------------------------------------------------------

_VIETNAMESE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b"}
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "‐": "-", "–": "-"})
_LETTER_D_RE = re.compile("[đĐ]")
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")


def _is_vietnamese_letter(ch: str) -> bool:
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if not _LETTER_D_RE.fullmatch(base) and not ("a" <= base.lower() <= "z"):
        return False
    return all(mark in _VIETNAMESE_MARKS for mark in marks)


def _capitalise_word(word: str) -> str:
    return re.sub(r"[^'\-]+", lambda m: m[0][:1].upper() + m[0][1:].lower(), word)


def validate_person_name(
    text: str, *, min_words: int = 2, max_words: int = 7, max_length: int = 100
) -> Validation:
    """A person's full name (họ, chữ đệm, tên): letters of the Vietnamese alphabet and spaces.

    Returned in NFC with each word capitalised: ``nguyễn văn  an`` → ``Nguyễn Văn An``.
    An apostrophe or hyphen inside a word is kept, for names of the Central Highlands
    peoples such as ``H'Hen Niê`` or ``Y-Moan``.
    """
    if min_words < 1 or max_words < min_words:
        raise ValueError(f"need 1 <= min_words <= max_words, got {min_words}, {max_words}")
    raw = _clean(text).translate(_APOSTROPHES)
    if not raw:
        return Validation.invalid(render("validate.name_empty"))
    if any(ch.isdigit() for ch in raw):
        return Validation.invalid(render("validate.name_digits"))
    words = raw.split(" ")
    bad = sorted({ch for ch in raw if ch not in " '-" and not _is_vietnamese_letter(ch)})
    if bad or not all(_NAME_WORD.fullmatch(w) for w in words):
        shown = " ".join(bad) if bad else "' -"
        return Validation.invalid(render("validate.name_characters", characters=shown))
    if len(raw) > max_length:
        return Validation.invalid(render("validate.name_too_long", max_length=max_length))
    if len(words) < min_words:
        return Validation.invalid(render("validate.name_too_short"))
    if len(words) > max_words:
        return Validation.invalid(render("validate.name_too_many_words", count=len(words)))
    return Validation.valid(" ".join(_capitalise_word(w) for w in words))


# --- choices, free text, numbers --------------------------------------------------------


def validate_choice(text: str, choices: Sequence[str]) -> Validation:
    """One of ``choices``, returned exactly as written there.

    Matches ignoring case and diacritics (``nu`` → ``Nữ``), by position (``2``), or by a
    word group contained in exactly one choice.
    """
    if isinstance(choices, str) or not choices:
        raise ValueError("validate_choice needs a non-empty sequence of choices")
    raw = _clean(text)
    listed = ", ".join(choices)
    if not raw:
        return Validation.invalid(render("validate.choice", choices=listed))
    lowered = raw.casefold()
    for choice in choices:
        if _clean(choice).casefold() == lowered:
            return Validation.valid(choice)
    key = _key(raw).strip(" .")
    same = [c for c in choices if _key(c) == key]
    if len(same) == 1:
        return Validation.valid(same[0])
    number = re.fullmatch(r"(?:so\s*)?(\d{1,2})", key)
    if number and 1 <= int(number[1]) <= len(choices):
        return Validation.valid(choices[int(number[1]) - 1])
    if len(key) >= 2 and not same:
        containing = [c for c in choices if re.search(rf"(?<!\w){re.escape(key)}(?!\w)", _key(c))]
        if len(containing) == 1:
            return Validation.valid(containing[0])
    return Validation.invalid(render("validate.choice", choices=listed))


def validate_text(text: str, *, max_length: int = 200, min_length: int = 1) -> Validation:
    """Free text: not empty, at most ``max_length`` characters, whitespace tidied, NFC."""
    if max_length < 1 or min_length < 1:
        raise ValueError("max_length and min_length must be positive")
    cleaned = _clean(text)
    if len(cleaned) < min_length:
        return Validation.invalid(render("validate.text_empty"))
    if len(cleaned) > max_length:
        return Validation.invalid(render("validate.text_too_long", max_length=max_length, length=len(cleaned)))
    return Validation.valid(cleaned)


def validate_address(text: str, *, max_length: int = 300) -> Validation:
    """An address or place (nơi cư trú, nơi sinh): at least two words with letters in them."""
    result = validate_text(text, max_length=max_length)
    if not result.ok:
        return result
    value = cast(str, result.value)
    if len(value.split()) < 2 or not any(ch.isalpha() for ch in value):
        return Validation.invalid(render("validate.address"))
    return result


_NUMBER_WORDS = {
    "mot": 1, "nhat": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5,
    "sau": 6, "bay": 7, "tam": 8, "chin": 9, "muoi": 10,
}  # fmt: skip


def _amount(token: str) -> int | None:
    return int(token) if token.isdigit() else _NUMBER_WORDS.get(token)


def _months(key: str) -> int | None:
    """«2 năm» → 24, «1 năm 6 tháng» → 18, «một năm rưỡi» → 18, «hai nam» → 24; None without «năm»."""
    tokens = key.split()
    months, years_seen = 0, False
    for index in range(len(tokens) - 1):
        amount, unit = _amount(tokens[index]), tokens[index + 1]
        if amount is None or unit not in ("nam", "thang"):
            continue
        if unit == "nam" and (index == 0 or _amount(tokens[index - 1]) is None or tokens[index - 1] == "nam"):
            years_seen = True
            months += 12 * amount + (6 if tokens[index + 2:index + 3] == ["ruoi"] else 0)
        elif unit == "thang":
            months += amount
    return months if years_seen else None


def validate_number(text: str, *, min_value: int | None = None, max_value: int | None = None,
                    unit: str | None = None) -> Validation:
    """A whole number, in digits or as a word from một to mười (``lần thứ hai`` → 2). A field counted in
    months (``unit="month"``) also takes years: «2 năm» is 24, never 2."""
    raw = _clean(text)
    key = _key(raw)
    found = re.findall(r"\d+", key)
    if unit == "month" and (months := _months(key)) is not None:
        value = months
    elif len(found) == 1:
        value = int(found[0])
    elif (
        not found
        and (words := [_NUMBER_WORDS[w] for w in key.split() if w in _NUMBER_WORDS])
        and len(words) == 1
    ):
        value = words[0]
    else:
        return Validation.invalid(render("validate.number"))
    if min_value is not None and value < min_value:
        return Validation.invalid(render("validate.number_too_small", min_value=min_value))
    if max_value is not None and value > max_value:
        return Validation.invalid(render("validate.number_too_large", max_value=max_value))
    return Validation.valid(value)
