"""Vietnamese text folding, in one place: every package (knowledge base, retrieval, actions, the
app) strips diacritics and folds text for matching with these two functions.

``strip_diacritics`` keeps case and everything else (``Đăng ký`` → ``Dang ky``); ``fold`` is what
matching compares: lower case, no diacritics, words of letters and digits single-spaced
(«Thôi, KHÔNG khai nữa!» → «thoi khong khai nua»).
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


_NOT_WORD = {keep: re.compile(rf"[^0-9a-z{re.escape(keep)}]+") for keep in ("", ".")}


def fold(text: str | None, keep: str = "") -> str:
    """Lower case, no diacritics, runs of anything but letters, digits (and ``keep``) as one space."""
    pattern = _NOT_WORD.get(keep) or re.compile(rf"[^0-9a-z{re.escape(keep)}]+")
    return pattern.sub(" ", strip_diacritics(text or "").casefold()).strip()
