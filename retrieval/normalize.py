"""Vietnamese text normalisation for search: one canonical form for what citizens type.

The same word reaches the index in many spellings: NFC or NFD Unicode, ``hoà`` or ``hòa``
(old and new tone-mark placement), with or without diacritics, as kiosk short-hand
(``ko``, ``dc``, ``j``), or as a folk name (``sổ đỏ``). Everything here is plain Python
and cheap enough to run on every query.

Public functions (verbs):

- :func:`normalize_text` — NFC, lowercase, canonical tone-mark placement.
- :func:`strip_diacritics` — remove every diacritic, ``đ`` → ``d``.
- :func:`tokenize_syllables` — syllables (``\\w`` runs) of normalised text.
- :func:`expand_shorthand` — kiosk teen-code and typos → full words (token level).
- :func:`expand_synonyms` — append the canonical wording after a folk phrase.
- :func:`remove_stopwords` — drop politeness and question words from a token list.
- :func:`drop_cost_verb` (and ``_text``) — «mất» that means *takes* or *costs* (``mất bao lâu``), not *lost*.
- :func:`could_be_vietnamese` — whether an unmarked word is spelled like a Vietnamese syllable.
- :func:`segment_words` — optional underthesea word segmentation (not used by default).

:class:`DiacriticRestorer` puts the marks back on an unaccented query, with a syllable
bigram model counted on the indexed documents themselves.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from knowledge_base.schema import Synonym
from knowledge_base.text import strip_diacritics
from retrieval.lexicon import SHORTHAND, STOPWORDS

# --- tone marks -----------------------------------------------------------------------

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng
_VOWELS = set("aăâeêioôơuưy")
_SHAPED = set("ăâêôơư")  # vowels carrying a shape mark; the tone goes on them
_WORD = re.compile(r"[^\W_]+")


def _split_tone(syllable: str) -> tuple[str, str]:
    """Return (syllable without tone mark, tone mark or '')."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tone = ""
    kept = []
    for ch in decomposed:
        if ch in _TONE_MARKS:
            tone = ch
        else:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)), tone


def _tone_position(bare: str) -> int | None:
    """Index of the vowel that carries the tone in ``bare`` (lowercase, toneless).

    Classic placement, the majority in the national catalogue: ``hóa``, ``thủy``,
    ``khỏe``; two vowels before a final consonant take it on the second (``hoàng``).
    """
    start = 0
    if bare.startswith("qu") and len(bare) > 2 and bare[2] in _VOWELS:
        start = 2
    elif bare.startswith("gi") and len(bare) > 2 and bare[2] in _VOWELS:
        start = 2
    first = next((i for i in range(start, len(bare)) if bare[i] in _VOWELS), None)
    if first is None:
        return None
    last = first
    while last + 1 < len(bare) and bare[last + 1] in _VOWELS:
        last += 1
    nucleus = range(first, last + 1)
    shaped = [i for i in nucleus if bare[i] in _SHAPED]
    if shaped:
        return shaped[-1]
    size = last - first + 1
    if size == 1:
        return first
    if size >= 3:
        return first + 1
    has_final = last + 1 < len(bare)
    return last if has_final else first


def _place_tone(word: str) -> str:
    bare, tone = _split_tone(word)
    if not tone:
        return bare
    position = _tone_position(bare)
    if position is None:
        return unicodedata.normalize("NFC", word)
    return unicodedata.normalize("NFC", bare[: position + 1] + tone + bare[position + 1 :])


@lru_cache(maxsize=200_000)
def _canonical_syllable(word: str) -> str:
    return word if word.isascii() else _place_tone(word)


def _canonical_word(match: re.Match[str]) -> str:
    return _canonical_syllable(match.group(0))


def normalize_text(text: str) -> str:
    """NFC, lowercase, one tone-mark placement (``hoà``/``hòa`` → ``hòa``), single spaces."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _WORD.sub(_canonical_word, text)
    return " ".join(text.split())


def has_diacritics(token: str) -> bool:
    return not token.isascii() and token != strip_diacritics(token)


def tokenize_syllables(text: str) -> list[str]:
    """Syllables of ``normalize_text(text)``; punctuation and underscores split."""
    text = unicodedata.normalize("NFC", text).lower()
    return [_canonical_syllable(w) for w in _WORD.findall(text)]


# --- short-hand, synonyms, stop-words -----------------------------------------------------


def expand_shorthand(tokens: Sequence[str], table: dict[str, str] | None = None) -> list[str]:
    """Replace kiosk short-hand tokens (``ko``, ``dc``, ``j``, ``bhyt``) with full syllables."""
    table = SHORTHAND if table is None else table
    out: list[str] = []
    for token in tokens:
        replacement = table.get(token)
        if replacement is None:
            out.append(token)
        else:
            out.extend(replacement.split())
    return out


def _same_or_unaccented(typed: str, spelled: str) -> bool:
    """``typed`` is ``spelled``, or ``spelled`` with its diacritics left off."""
    return typed == spelled or (not has_diacritics(typed) and typed == strip_diacritics(spelled))


@dataclass
class SynonymTable:
    """Folk phrases matched as typed or without diacritics: ``so do`` finds ``sổ đỏ``, ``sơ đồ`` does not."""

    synonyms: Sequence[Synonym] = ()
    _by_first: dict[str, list[tuple[tuple[str, ...], list[str]]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        for synonym in self.synonyms:
            phrase = tokenize_syllables(synonym.phrase)
            key = tuple(strip_diacritics(t) for t in phrase)
            canonical = tokenize_syllables(synonym.canonical)
            if not key or not canonical:
                raise ValueError(f"từ đồng nghĩa rỗng (empty synonym): {synonym!r}")
            self._by_first.setdefault(key[0], []).append((tuple(phrase), phrase + canonical))
        for entries in self._by_first.values():
            entries.sort(key=lambda entry: -len(entry[0]))  # longest phrase first

    def expand(self, tokens: Sequence[str]) -> list[str]:
        """Tokens with each folk phrase (re-spelled with diacritics) followed by its canonical wording."""
        bare = [strip_diacritics(t) for t in tokens]
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for phrase, replacement in self._by_first.get(bare[i], ()):
                typed = tokens[i : i + len(phrase)]
                if len(typed) == len(phrase) and all(map(_same_or_unaccented, typed, phrase)):
                    out.extend(replacement)  # the phrase as spelled in the table, then canonical
                    i += len(phrase)
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out


def expand_synonyms(tokens: Sequence[str], synonyms: Sequence[Synonym]) -> list[str]:
    """Convenience wrapper: ``SynonymTable(synonyms).expand(tokens)``."""
    return SynonymTable(synonyms).expand(tokens)


_STOP_BARE = {strip_diacritics(w) for w in STOPWORDS}


def is_stopword(token: str) -> bool:
    """Accented tokens are looked up as typed; unaccented ones (``a``, ``gi``) bare."""
    if has_diacritics(token):
        return token in STOPWORDS
    return token in STOPWORDS or token in _STOP_BARE


# «mất» is *to lose* («mất giấy khai sinh», «xé mất mấy trang») and *to take, to cost* («mất bao lâu», «mất
# mấy ngày», «mất phí không»); the second is said of time or money, which no procedure's name means. Left in,
# it pulls a question about an ordinary procedure toward the «lost paper» one («đăng ký kết hôn mất bao lâu»
# → «đăng ký lại kết hôn (mất giấy kết hôn)»). «mất» is read as *costs* when money or time follows it at
# once («mất phí», «mất tiền», «mất thời gian») or after a word of quantity («mất bao lâu», «mất mấy ngày»,
# «mất khoảng 3 tuần»); «mất mấy trang», «mất hết giấy tờ», «mất năm ngoái» stay losses, «mất 3 tháng rồi» a death.
COST_NOUNS: frozenset[str] = frozenset("phí lệ tiền thời".split())
COST_QUANTITIES: frozenset[str] = frozenset("bao mấy khoảng tầm chừng cỡ độ hơn gần vài".split())
COST_UNITS: frozenset[str] = frozenset(
    "lâu nhiêu ngày tuần tháng tiếng giờ hôm buổi phút tiền đồng nghìn ngàn triệu trăm".split()
)


_AGO = frozenset("rồi trước nay qua".split())


def _is_cost_verb(tokens: Sequence[str], i: int) -> bool:
    if tokens[i] != "mất" or i + 1 >= len(tokens):
        return False
    following = tokens[i + 1]
    if following in COST_NOUNS:
        return True
    if following in COST_QUANTITIES or following.isdigit():
        after = tokens[i + 2 : i + 5]  # «bà mất 3 tháng rồi» died three months ago
        return any(t in COST_UNITS for t in after[:2]) and not any(t in _AGO for t in after)
    return False


def drop_cost_verb(tokens: Sequence[str]) -> list[str]:
    """``tokens`` without a «mất» that means *takes* / *costs* (see :data:`COST_UNITS`).

    Accented tokens only: an unaccented ``mat`` is read once the marks are restored (``mat tien`` may be
    «mặt tiền», a house's street front)."""
    return [t for i, t in enumerate(tokens) if not _is_cost_verb(tokens, i)]


def drop_cost_verb_text(text: str) -> str:
    """:func:`drop_cost_verb` on running text, the rest of it as written (for the embedder)."""
    words = text.split()
    syllables = [(expand_shorthand(tokenize_syllables(w)) or [""])[0] for w in words]  # «mất bn ngày»
    return " ".join(w for i, w in enumerate(words) if not _is_cost_verb(syllables, i))


# Vietnamese spelling without marks: an onset, one to three vowels, a final consonant or glide. An English
# word outside it («birth», «register», «baby», «fee») is English; one inside («do», «my», «can») may not be.
_SYLLABLE = re.compile(
    r"(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt]|[iouy])?"
)


def could_be_vietnamese(word: str) -> bool:
    """Whether ``word`` (lowercase) spells a Vietnamese syllable once its marks are left off."""
    bare = strip_diacritics(word)
    return bool(_SYLLABLE.fullmatch(bare))


def remove_stopwords(tokens: Sequence[str]) -> list[str]:
    """Drop politeness and question words (``ạ``, ``em``, ``hỏi``, ``thủ tục``…).

    Falls back to the input when everything would be removed.
    """
    kept = [t for t in tokens if not is_stopword(t)]
    return kept or list(tokens)


def segment_words(text: str) -> list[str]:
    """Underthesea word segmentation, multi-syllable words joined by ``_``.

    Measured with the full catalogue (BM25 on the full text alone): underthesea words gave
    hit@1 0.58 (dev) / 0.40 (kiosk) against 0.71 / 0.50 for syllables plus syllable
    bigrams, and segmenting the catalogue took 70 s, so the index does not use it.
    """
    from underthesea import word_tokenize  # imported lazily: heavy

    return [w.replace(" ", "_") for w in word_tokenize(normalize_text(text))]


# --- diacritic restoration -------------------------------------------------------------------


@dataclass
class DiacriticRestorer:
    """Put diacritics back on unaccented syllables using corpus bigram counts.

    Fitted on the indexed documents (plus the lexicon), so it learns the vocabulary of
    procedures and law: ``lam giay khai sinh`` → ``làm giấy khai sinh``. Syllables that
    already carry a mark are kept as typed and serve as context.
    """

    max_candidates: int = 6
    unigrams: Counter[str] = field(default_factory=Counter)
    bigrams: Counter[tuple[str, str]] = field(default_factory=Counter)
    _candidates: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)
    _total: int = field(default=1, init=False, repr=False)  # unigram count (1 while nothing is fitted)

    def fit(self, texts: Iterable[str]) -> DiacriticRestorer:
        for text in texts:
            self.add(text)
        self.reindex()
        return self

    def add(self, text: str) -> None:
        tokens = tokenize_syllables(text)
        self.unigrams.update(tokens)
        self.bigrams.update(zip(tokens, tokens[1:], strict=False))

    def reindex(self) -> None:
        grouped: dict[str, list[str]] = defaultdict(list)
        for token in self.unigrams:
            grouped[strip_diacritics(token)].append(token)
        self._candidates = {
            bare: sorted(forms, key=lambda f: -self.unigrams[f])[: self.max_candidates]
            for bare, forms in grouped.items()
        }
        self._total = sum(self.unigrams.values()) or 1

    def _unigram_logp(self, token: str) -> float:
        return math.log((self.unigrams.get(token, 0) + 0.1) / self._total)

    def _transition(self, prev: str, token: str) -> float:
        pair = self.bigrams.get((prev, token), 0)
        if pair:
            return math.log(pair / (self.unigrams.get(prev, 0) + 1))
        return math.log(0.05) + self._unigram_logp(token)  # stupid back-off

    def restore(self, tokens: Sequence[str]) -> list[str]:
        """Best accented form for each unaccented syllable (Viterbi over bigrams)."""
        if not self._candidates and self.unigrams:
            self.reindex()
        lattice: list[list[str]] = []
        for token in tokens:
            if has_diacritics(token) or not token.isalpha():
                lattice.append([token])
            else:
                lattice.append(self._candidates.get(token) or [token])
        if not lattice:
            return []
        scores = [self._unigram_logp(c) for c in lattice[0]]
        back: list[list[int]] = []
        for column_prev, column in zip(lattice, lattice[1:], strict=False):
            new_scores, pointers = [], []
            for token in column:
                gains = [scores[j] + self._transition(previous, token) for j, previous in enumerate(column_prev)]
                best = max(range(len(gains)), key=gains.__getitem__)
                new_scores.append(scores[best] + self._transition(column_prev[best], token))
                pointers.append(best)
            scores, back = new_scores, back + [pointers]
        i = max(range(len(scores)), key=scores.__getitem__)
        path = [i]
        for pointers in reversed(back):
            i = pointers[i]
            path.append(i)
        path.reverse()
        return [lattice[k][j] for k, j in enumerate(path)]

    def to_dict(self) -> dict[str, object]:
        return {
            "max_candidates": self.max_candidates,
            "unigrams": dict(self.unigrams),
            "bigrams": [[a, b, n] for (a, b), n in self.bigrams.items()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiacriticRestorer:
        restorer = cls(max_candidates=int(data.get("max_candidates", 6)))
        restorer.unigrams = Counter({str(k): int(v) for k, v in data["unigrams"].items()})
        restorer.bigrams = Counter({(str(a), str(b)): int(n) for a, b, n in data["bigrams"]})
        restorer.reindex()
        return restorer
