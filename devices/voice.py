"""The call-out voice: «Mời số A012 đến quầy số 3» spoken offline by espeak-ng.

:func:`spoken_call` turns a number and a counter into words a Vietnamese voice
reads well (letters by their Vietnamese names, numbers in words), in the sentence
``speak.call`` of the message catalogue (the letter and number words below are
speller data, kept in code);
:class:`EspeakVoice` synthesises WAV bytes with ``espeak-ng -v vi --stdout`` and
keeps them in memory and on disk, so a number called twice is synthesised once. Both
caches are bounded (least recently used out): the disk never fills with call-outs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from knowledge_base.messages import render

LETTER_WORDS = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "E": "e", "F": "ép", "G": "giê", "H": "hát", "I": "i",
    "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "P": "pê", "Q": "quy",
    "R": "e rờ", "S": "ét xì", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích xì", "Y": "i dài",
    "Z": "dét",
}
"""Each Latin letter of a ticket label by its Vietnamese name."""
DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
"""The digits 0–9 in words."""
# The other words of a number: «một trăm lẻ năm», «hai mươi mốt», «hai mươi tư», «mười lăm».
NUMBER_WORDS = {
    "hundred": "trăm", "thousand": "nghìn", "zero_tens": "lẻ", "ten": "mười", "tens": "mươi",
    "one_after_tens": "mốt", "four_after_tens": "tư", "five_after_tens": "lăm",
}


class VoiceError(Exception):
    """The voice could not be produced (espeak-ng missing or failing)."""


class Voice(Protocol):
    def say(self, text: str) -> bytes:
        """WAV bytes of ``text`` spoken in Vietnamese."""


def _below_thousand(n: int, full: bool) -> str:
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if full or hundreds:
        words += [DIGIT_WORDS[hundreds], NUMBER_WORDS["hundred"]]
        if rest and tens == 0:
            words.append(NUMBER_WORDS["zero_tens"])
    if tens == 1:
        words.append(NUMBER_WORDS["ten"])
    elif tens > 1:
        words += [DIGIT_WORDS[tens], NUMBER_WORDS["tens"]]
    if units:
        if units == 1 and tens > 1:
            words.append(NUMBER_WORDS["one_after_tens"])
        elif units == 5 and tens > 0:
            words.append(NUMBER_WORDS["five_after_tens"])
        elif units == 4 and tens > 1:
            words.append(NUMBER_WORDS["four_after_tens"])
        else:
            words.append(DIGIT_WORDS[units])
    return " ".join(words)


def number_words(n: int) -> str:
    """A whole number 0–999 999 in Vietnamese words: 12 → «mười hai», 105 → «một trăm lẻ năm»."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"number_words handles 0–999999, not {n}")
    if n == 0:
        return DIGIT_WORDS[0]
    thousands, rest = divmod(n, 1000)
    if not thousands:
        return _below_thousand(rest, full=False)
    words = f"{_below_thousand(thousands, full=False)} {NUMBER_WORDS['thousand']}"
    if rest:
        words += " " + _below_thousand(rest, full=True)
    return words


def spoken_label(label: str) -> str:
    """«A012» → «a mười hai»: letters by name, the digits as one number."""
    match = re.fullmatch(r"([A-Za-z]*)(\d+)", label.strip())
    if not match:
        raise ValueError(f"not a ticket label: {label!r}")
    letters = " ".join(LETTER_WORDS.get(ch.upper(), ch) for ch in match.group(1))
    return f"{letters} {number_words(int(match.group(2)))}".strip()


def spoken_call(label: str, counter_number: int) -> str:
    """What the hall hears (``speak.call``): «Xin mời số a mười hai, đến quầy số ba»."""
    return render("speak.call", label=spoken_label(label), counter=number_words(counter_number))


class EspeakVoice:
    """espeak-ng, voice ``vi``, WAV to stdout; results cached in memory and in ``cache_dir``.

    At most ``disk_items`` files stay in ``cache_dir``: a file read is touched, and after each
    write the least recently used files beyond the bound are deleted.
    """

    def __init__(self, cache_dir: Path | None = None, voice: str = "vi", speed: int = 140,
                 executable: str = "espeak-ng", memory_items: int = 64, disk_items: int = 200):
        if speed <= 0:
            raise ValueError("speed must be positive (words per minute)")
        if memory_items < 1 or disk_items < 1:
            raise ValueError("memory_items and disk_items must be at least 1")
        self.cache_dir = cache_dir
        self.voice = voice
        self.speed = speed
        self.executable = executable
        self.memory_items = memory_items
        self.disk_items = disk_items
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.synthesised = 0  # how many times espeak-ng actually ran

    def say(self, text: str) -> bytes:
        key = hashlib.sha256(f"{self.voice}|{self.speed}|{text}".encode()).hexdigest()[:32]
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        path = self.cache_dir / f"{key}.wav" if self.cache_dir else None
        if path is not None and path.is_file():
            audio = path.read_bytes()
            _touch(path)
        else:
            audio = self._synthesise(text)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
                tmp.write_bytes(audio)
                tmp.replace(path)
                self._prune()
        with self._lock:
            self._memory[key] = audio
            while len(self._memory) > self.memory_items:
                self._memory.popitem(last=False)
        return audio

    def _prune(self) -> None:
        """Delete the least recently used WAV files beyond ``disk_items``."""
        if self.cache_dir is None:
            return
        files = []
        for path in self.cache_dir.glob("*.wav"):
            try:
                files.append((path.stat().st_mtime_ns, path))
            except FileNotFoundError:  # another thread pruned it
                continue
        files.sort(reverse=True)
        for _, path in files[self.disk_items:]:
            path.unlink(missing_ok=True)

    def _synthesise(self, text: str) -> bytes:
        executable = shutil.which(self.executable)
        if executable is None:
            raise VoiceError(f"{self.executable} not installed (apt-get install espeak-ng)")
        try:
            result = subprocess.run([executable, "-v", self.voice, "-s", str(self.speed), "--stdout", text],
                                    capture_output=True, timeout=15, check=True)
        except (subprocess.SubprocessError, OSError) as exc:
            raise VoiceError(f"espeak-ng failed: {exc}") from exc
        if not result.stdout.startswith(b"RIFF"):
            raise VoiceError("espeak-ng gave no WAV audio")
        self.synthesised += 1
        return result.stdout


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:  # pruned meanwhile: it was read already
        pass
