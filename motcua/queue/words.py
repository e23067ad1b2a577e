"""What citizens type about the queue, compared without diacritics: one list for the queue
action (:mod:`actions.queue`, which shows a held number instead of issuing one) and the form
dialogue (:mod:`knowledge_base.form_turns`, which must not take such words for an answer).
"""

from __future__ import annotations

from collections.abc import Iterable

from knowledge_base.text import fold, strip_diacritics

__all__ = ["LOOKUP_WORDS", "NEW_NUMBER_WORDS", "QUEUE_CUES", "looks_up", "names_a_paper_not_a_number", "paper_cues"]

NEW_NUMBER_WORDS = ("lay so", "so thu tu", "boc so", "lay stt")
"""Words of a citizen asking for a number (diacritics folded)."""

LOOKUP_WORDS = ("xem lai so", "coi lai so", "so cua toi", "so cua em", "so cua minh", "con bao nhieu nguoi",
                "con may nguoi", "may nguoi nua", "toi luot", "den luot", "bao lau nua", "goi toi so")
"""Words of a citizen asking about the number they hold (diacritics folded): such a message shows that
number or says there is none — it never issues one (at a kiosk a new number is a button away)."""


def looks_up(text: str) -> bool:
    """Whether ``text`` asks about a number already held rather than for a new one."""
    folded = " ".join(strip_diacritics(text.lower()).split())
    return any(words in folded for words in LOOKUP_WORDS)


QUEUE_CUES = frozenset({"so", "phieu", "stt", "luot"})
"""The syllables (folded) a request for a number turns on: «số», «phiếu», «lượt». Papers and procedures
have them in their names too: «Phiếu lý lịch tư pháp», «số nhà», «biển số xe»."""


def names_a_paper_not_a_number(text: str, names: Iterable[str]) -> bool:
    """Whether every «số», «phiếu»… of ``text`` belongs to one of ``names`` as the text writes it, and the
    text has no words of a number request besides: «xin phiếu lý lịch tư pháp» asks for the certificate,
    «xin cấp số nhà» for a house number; «cho tôi lấy số làm phiếu lý lịch tư pháp» asks for a number.

    A cue belongs to a name when it and the word beside it in the text are two neighbouring words of the
    name (diacritics folded)."""
    cues = paper_cues(text)
    if not cues:
        return False
    words = fold(text).split()
    pairs = {pair for name in names for pair in _pairs(fold(name).split())}
    return all((i > 0 and (words[i - 1], words[i]) in pairs) or (words[i], *words[i + 1 : i + 2]) in pairs
               for i in cues)


def paper_cues(text: str) -> list[int]:
    """The positions (in ``fold(text).split()``) of the «số», «phiếu»… a paper's name might explain; [] when there
    are none, or when the text asks for a number in so many words («lấy số», «số thứ tự»): no name is looked up."""
    folded = fold(text)
    if any(f" {phrase} " in f" {folded} " for phrase in NEW_NUMBER_WORDS):
        return []
    return [i for i, word in enumerate(folded.split()) if word in QUEUE_CUES]


def _pairs(words: list[str]) -> set[tuple[str, ...]]:
    return set(zip(words, words[1:], strict=False))
