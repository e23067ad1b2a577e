"""What citizens type about the queue, compared without diacritics: one list for the queue
action (:mod:`actions.queue`, which shows a held number instead of issuing one) and the form
dialogue (:mod:`knowledge_base.form_turns`, which must not take such words for an answer).
"""

from __future__ import annotations

from knowledge_base.text import strip_diacritics

__all__ = ["LOOKUP_WORDS", "NEW_NUMBER_WORDS", "looks_up"]

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
