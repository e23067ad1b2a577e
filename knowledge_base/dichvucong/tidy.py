"""Text as the portal scrape gives it, tidied: Unicode, spaces, brackets."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

NO_INFO = "Không có thông tin"


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


def one_line(text: str) -> str:
    return _SPACES.sub(" ", _ODD_SPACE.sub(" ", text.replace("\n", " "))).strip()


def strip_outer_brackets(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and closing_bracket(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def closing_bracket(text: str, start: int) -> int:
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
