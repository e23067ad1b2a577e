"""Amounts in Vietnamese words, as a receipt (biên lai) writes them: ``8000`` → «Tám nghìn đồng».

The rules of reading numbers aloud in Vietnamese:

- groups of three digits, named «nghìn», «triệu», «tỷ» (and «nghìn tỷ», «triệu tỷ» beyond); a group of
  zeros is skipped; a group after the first is read with its hundreds even when they are 0
  («một triệu không trăm năm mươi nghìn»);
- tens: «mười» for 1, «<n> mươi» otherwise; no tens after hundreds → «linh» (or «lẻ»): «một trăm linh năm»;
- units: 1 after «mươi» is «mốt» (21 «hai mươi mốt», but 11 «mười một»); 5 after any ten is «lăm»
  (15 «mười lăm», 25 «hai mươi lăm», but 105 «một trăm linh năm»); 4 after «mươi» is «tư» (24 «hai mươi tư»,
  14 «mười bốn»).

Plain Python; the words are data (the names end in ``_WORDS``), the same in every locale.
"""

from __future__ import annotations

__all__ = ["amount_in_words", "number_in_words"]

DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
GROUP_WORDS = ("", "nghìn", "triệu")
BILLION_WORDS = "tỷ"
HUNDRED_WORDS = "trăm"
TEN_WORDS = "mười"
TENS_WORDS = "mươi"
ODD_WORDS = {"linh": "linh", "lẻ": "lẻ"}
ONE_AFTER_TENS_WORDS = "mốt"
FIVE_AFTER_TEN_WORDS = "lăm"
FOUR_AFTER_TENS_WORDS = "tư"
DONG_WORDS = "đồng"


def _group(n: int, *, full: bool, odd: str) -> list[str]:
    """Words of 0 < ``n`` < 1000; ``full``: read the hundreds even when 0 (a group after the first)."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGIT_WORDS[hundreds], HUNDRED_WORDS]
    if tens == 0:
        if units:
            if words:
                words.append(odd)
            words.append(DIGIT_WORDS[units])
        return words
    words += [TEN_WORDS] if tens == 1 else [DIGIT_WORDS[tens], TENS_WORDS]
    if units == 1 and tens > 1:
        words.append(ONE_AFTER_TENS_WORDS)
    elif units == 5:
        words.append(FIVE_AFTER_TEN_WORDS)
    elif units == 4 and tens > 1:
        words.append(FOUR_AFTER_TENS_WORDS)
    elif units:
        words.append(DIGIT_WORDS[units])
    return words


def _below_billion(n: int, *, full: bool, odd: str) -> list[str]:
    """Words of 0 < ``n`` < 10⁹; ``full``: something is read before it (a higher «tỷ» group)."""
    words: list[str] = []
    for power in (2, 1, 0):
        group = n // 1000 ** power % 1000
        if group:
            words += _group(group, full=full or bool(words), odd=odd)
            if GROUP_WORDS[power]:
                words.append(GROUP_WORDS[power])
    return words


def _words(n: int, *, full: bool, odd: str) -> list[str]:
    billions, rest = divmod(n, 1_000_000_000)
    words: list[str] = []
    if billions:
        words += _words(billions, full=full, odd=odd) + [BILLION_WORDS]
    if rest:
        words += _below_billion(rest, full=full or bool(billions), odd=odd)
    return words


def number_in_words(n: int, *, odd: str = "linh") -> str:
    """``n`` (a whole number ≥ 0) in lower-case words: ``105`` → «một trăm linh năm»; ``odd="lẻ"`` for the
    southern «một trăm lẻ năm»."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"a negative amount has no reading: {n}")
    if odd not in ODD_WORDS:
        raise ValueError(f"odd must be «linh» or «lẻ», got {odd!r}")
    if n == 0:
        return DIGIT_WORDS[0]
    return " ".join(_words(n, full=False, odd=ODD_WORDS[odd]))


def amount_in_words(amount: int, *, odd: str = "linh") -> str:
    """A sum of đồng as a receipt writes it, capitalised: ``1250000`` → «Một triệu hai trăm năm mươi nghìn đồng»."""
    text = f"{number_in_words(amount, odd=odd)} {DONG_WORDS}"
    return text[0].upper() + text[1:]
