"""Reading a citizen's message inside a form: the NLU's intent first, a few word lists as the fallback.

Plain Python. A :class:`Turn` is one message with the NLU's reading; :func:`says` tells whether it
says yes, no or cancel — the intent decides when the NLU is sure (:data:`NLU_SURE`, or a button's
payload), and only when it is not are the :class:`FallbackWords` read. The other word lists are
cues the intents do not carry: a correction names a field, «không có» declines an optional
question, «cảm ơn» is no name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from knowledge_base.forms import FormField
from knowledge_base.text import fold
from motcua.accents import is_unaccented
from motcua.queue.words import LOOKUP_WORDS, NEW_NUMBER_WORDS
from motcua.validators import is_skip_answer

__all__ = ["NLU_SURE", "QUESTION_SURE", "FallbackWords", "Turn", "confirms", "has_correction_cue",
           "looks_like_card_payload", "same_answer", "says"]

NLU_SURE = 0.7
"""From this confidence the NLU's intent decides whether a message says yes, no or cancel."""
QUESTION_SURE = 0.5
"""From this confidence a question intent on text that is no valid answer is answered as a question."""


@dataclass(frozen=True)
class Turn:
    """One message of the citizen: the text, the NLU's reading and what a kiosk device added."""

    text: str
    intent: str = ""
    confidence: float = 0.0
    entities: tuple[tuple[str, str], ...] = ()
    scanned: bool = False  # a kiosk scanner read an identity card

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", " ".join(str(self.text or "").split()))

    @property
    def payload(self) -> bool:
        """A button's payload (``/affirm``): its intent is exact."""
        return self.text.startswith("/")

    @property
    def nlu_sure(self) -> bool:
        return self.payload or (self.confidence >= NLU_SURE and self.intent != "nlu_fallback")

    def values(self, entity: str) -> list[str]:
        return [value for name, value in self.entities if name == entity and value]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFC", (text or "").casefold()))


def _has_phrase(key: str, phrases: Iterable[str]) -> bool:
    padded = f" {key} "
    return any(f" {p} " in padded for p in phrases)


class FallbackWords:
    """The words read when the NLU is not sure — Rasa's model may miss «u», «ok» or «thôi» — and the
    few cues the form needs beside the intents (a correction names a field; an optional question
    is declined; small talk is no name). Compared without diacritics unless said otherwise."""

    AFFIRM = frozenset({"dong y", "co", "dung", "dung roi", "ok", "oke", "okay", "vang", "da", "u", "uh", "nop",
                        "nop ho so", "nop di", "xac nhan", "dong y nop", "chinh xac", "duoc", "da dung", "dung a",
                        "vang a", "co a"})
    DENY = frozenset({"khong", "ko", "k", "khong dong y", "chua", "chua dung", "sai", "khong phai", "khong a",
                      "ko a"})
    # Cancelling: whole short messages (with diacritics), and phrases that say it anywhere.
    CANCEL_WORDS = frozenset({"hủy", "huỷ", "huy", "thôi", "dừng", "dừng lại", "dung lai", "ngừng", "ngừng lại",
                              "thoát", "thoat", "cancel", "stop", "hủy đi", "huỷ đi", "huy di", "thôi hủy",
                              "thôi huỷ", "thoi huy"})
    CANCEL_PHRASES = ("khong khai nua", "khong dien nua", "khong lam nua", "huy to khai", "thoi khong", "huy bo",
                      "dung khai", "dung dien", "ngung khai", "ngung dien", "khong muon khai", "khong muon dien",
                      "khong muon tiep tuc", "thoi bo", "huy viec", "huy cai")
    # Correcting: words with their diacritics (so «Sài Gòn» is not «sai»), and unaccented phrases.
    CORRECT_WORDS = frozenset({"sửa", "sai", "nhầm", "chỉnh"})
    CORRECT_PHRASES = ("sua lai", "sua ten", "sua ngay", "sua so", "sua dia", "sua noi", "sua gioi", "sua dan",
                       "sua quoc", "sua thong tin", "bi sai", "sai roi", "nham roi", "ghi nham", "khai nham",
                       "khai lai", "nhap lai", "ghi lai", "doi lai", "chinh lai", "khai sai", "ghi sai", "nhap sai")
    QUESTION_PHRASES = ("bao nhieu", "bao lau", "o dau", "the nao", "can gi", "can nhung", "giay to gi", "le phi",
                        "mat bao", "khi nao", "co phai", "duoc khong", "duoc ko", "la gi", "mat phi", "lam sao",
                        "nop o dau", "may ngay", "can mang", "can giay", "thu tuc")
    # Asking for something else mid-form (a queue number): not an answer, though it may pass for a name.
    REQUEST_PHRASES = (*NEW_NUMBER_WORDS, *LOOKUP_WORDS)
    SKIP = frozenset({"khong khai", "khong co a", "de trong"})  # and «Bỏ qua», what its button sends
    # Small talk and «điền tờ khai» again are not a name or an address, though they would pass for one.
    NOT_ANSWER_INTENTS = frozenset({"thank", "greet", "goodbye", "fill_form"})
    NOT_ANSWER_PHRASES = ("cam on", "xin chao", "chao em", "chao ban", "tam biet", "thank", "dien to khai",
                          "to khai", "lam ho so", "khai ho so")
    FREE_TEXT_TYPES = frozenset({"name", "text", "address"})

    @classmethod
    def cancel(cls, text: str) -> bool:
        """«thôi không khai nữa», «hủy», «dừng lại» — but not «đúng» or a name."""
        return " ".join(_words(text)) in cls.CANCEL_WORDS or _has_phrase(fold(text), cls.CANCEL_PHRASES)

    @classmethod
    def affirm(cls, text: str) -> bool:
        return fold(text) in cls.AFFIRM

    @classmethod
    def deny(cls, text: str) -> bool:
        return fold(text) in cls.DENY

    @classmethod
    def correction(cls, text: str) -> bool:
        return bool(cls.CORRECT_WORDS & set(_words(text))) or _has_phrase(fold(text), cls.CORRECT_PHRASES)

    @classmethod
    def question(cls, text: str) -> bool:
        """A question, or a request for something else (a queue number), rather than an answer."""
        key = fold(text)
        return "?" in text or _has_phrase(key, cls.QUESTION_PHRASES) or _has_phrase(key, cls.REQUEST_PHRASES)

    @classmethod
    def skip(cls, text: str) -> bool:
        key = fold(text)
        return is_skip_answer(text) or key.startswith("bo qua") or key in cls.SKIP

    @classmethod
    def not_an_answer(cls, turn: Turn, item: FormField) -> bool:
        return (turn.intent in cls.NOT_ANSWER_INTENTS and item.type in cls.FREE_TEXT_TYPES
                and _has_phrase(fold(turn.text), cls.NOT_ANSWER_PHRASES))


def has_correction_cue(text: str) -> bool:
    """«sửa lại tên cháu», «ngày sinh sai rồi», «ghi nhầm số căn cước» (the words alone, no NLU)."""
    return text.strip().startswith("/correct_field") or FallbackWords.correction(text)


ACTS = frozenset({"affirm", "deny", "cancel"})


def says(turn: Turn, act: str) -> bool:
    """Whether ``turn`` says ``act`` (affirm, deny, cancel): the NLU's word when it is sure that the message
    is one of these three, else the words (a confident «thank» for «ok» still reads as yes)."""
    if turn.nlu_sure and turn.intent in ACTS:
        return turn.intent == act
    fallback = {"affirm": FallbackWords.affirm, "deny": FallbackWords.deny, "cancel": FallbackWords.cancel}[act]
    return fallback(turn.text)


def confirms(turn: Turn, act: str) -> bool:
    """At a confirmation (a card's values, an accented reading, the summary): whether ``turn`` says ``act``
    (affirm or deny) — :func:`says`, and also the yes/no words typed without diacritics («dung», «dung roi»,
    «khong», «sai»), which the NLU may read surely as a name or some other answer; unless it is sure the
    message says one of yes, no or cancel."""
    if says(turn, act):
        return True
    if turn.payload or not is_unaccented(turn.text) or (turn.nlu_sure and turn.intent in ACTS):
        return False
    return {"affirm": FallbackWords.affirm, "deny": FallbackWords.deny}[act](turn.text)


SAME_ANSWER = 0.8
"""From this likeness (of the letters, without marks) a message is the answer typed again, not another one."""


def same_answer(text: str, typed: str) -> bool:
    """Whether ``text`` is ``typed`` again — with or without its diacritics, or with a letter or two changed
    («Trần Minh Khanh» for «tran minh khang») — rather than another answer («15/03/2024»)."""
    mine, theirs = fold(text), fold(typed)
    if not mine or not theirs:
        return False
    if mine == theirs:
        return True
    return len(mine.split()) == len(theirs.split()) and SequenceMatcher(None, mine, theirs).ratio() >= SAME_ANSWER


def looks_like_card_payload(text: str) -> bool:
    """The text of a CCCD QR code: ``id|old id|name|ddmmyyyy|sex|address|issued`` (6 or 7 fields)."""
    return text.count("|") >= 4
