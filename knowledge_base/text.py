"""Vietnamese text folding, in one place: every package (knowledge base, retrieval, actions, the
app) strips diacritics and folds text for matching with these two functions.

``strip_diacritics`` keeps case and everything else (``Đăng ký`` → ``Dang ky``); ``fold`` is what
matching compares: lower case, no diacritics, words of letters and digits single-spaced
(«Thôi, KHÔNG khai nữa!» → «thoi khong khai nua»).

``clean_text`` is what every store of a citizen's text applies first: control characters out (a word
break where they stood between words), NFC.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=200_000)
def _strip_short(text: str) -> str:
    return _strip(text)


def _strip(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def strip_diacritics(text: str) -> str:
    """Every Vietnamese diacritic removed (``đ`` → ``d``); case and punctuation kept."""
    if text.isascii():
        return text
    return _strip_short(text) if len(text) <= 12 else _strip(text)  # short ones: syllables, cached


_NOT_WORD = {keep: re.compile(rf"[^0-9a-z{re.escape(keep)}]+") for keep in ("", ".", "(")}


def fold(text: str | None, keep: str = "") -> str:
    """Lower case, no diacritics, runs of anything but letters, digits (and ``keep``) as one space."""
    pattern = _NOT_WORD.get(keep) or re.compile(rf"[^0-9a-z{re.escape(keep)}]+")
    return pattern.sub(" ", strip_diacritics(text or "").casefold()).strip()


_NEWLINES_RE = re.compile(r"\r\n?")
_CONTROL_RE = re.compile(r" ?(?:[\x00-\x08\x0b-\x1f\x7f-\x9f]+ ?)+")  # with a space each side
_ESCAPE = "\x1b"  # starts a terminal escape sequence («\x1b[31m»): part of what follows, never a word break
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def _control_run(match: re.Match[str]) -> str:
    """Control characters (and the spaces beside them) between two words are one space: «lay
    so\\x00chung thuc» → «lay so chung thuc», «a \\x00 b» → «a b»; next to a line end or a tab, at
    the start or the end, they are nothing; inside a number (a digit each side, nothing else) they are
    nothing too, so «0011\\x0090012345» is still one CCCD number, found and masked like any other;
    escape characters alone leave only a space beside them."""
    text, start, end = match.string, match.start(), match.end()
    run = match.group()
    if not run.replace(" ", "").strip(_ESCAPE):
        return " " if " " in run else ""
    if start == 0 or end == len(text) or text[start - 1].isspace() or text[end].isspace():
        return ""
    if " " not in run and text[start - 1].isdigit() and text[end].isdigit():
        return ""
    return " "


def clean_text(text: str | None) -> str:
    """``text`` as it may be stored: what a citizen typed, safe for every database.

    Line ends become ``\\n``; NUL and every other C0/C1 control character except ``\\n`` and
    ``\\t`` are taken out (PostgreSQL refuses NUL, and none of them is readable text): a run of
    them between two words becomes one space, so the words stay apart, and elsewhere nothing, so
    no space is doubled (:func:`_control_run`); a lone surrogate (a broken ``\\ud800`` escape in
    JSON, which no database can encode) becomes U+FFFD; the result is in Unicode NFC, so the same
    words are stored the same way.
    """
    if not text:
        return ""
    text = _CONTROL_RE.sub(_control_run, _NEWLINES_RE.sub("\n", text))
    if text.isascii():
        return text
    text = _SURROGATE_RE.sub("\ufffd", text)
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


_CHOICE_NUMBER = re.compile(r"^(?:so|chon|cai|thu tuc|lua chon|muc)?\s*(?:thu|so)?\s*([1-9])\s*[.)]?$")


def choice_number(text: str) -> int | None:
    """1 for a message that is only a choice's number: «1», «số 1», «chọn 1», «cái thứ 1», «1.»; else None (the
    gateway's typed choices, :mod:`bot.typed_choices`, and the answering action's offered ones)."""
    found = _CHOICE_NUMBER.match(fold(text).strip()) if text and len(text) <= 24 else None
    return int(found[1]) if found else None
