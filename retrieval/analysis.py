"""What a query means to the search: the analysis done once per message.

A message in English becomes the Vietnamese of its words (:func:`english_to_vietnamese`);
then syllables, kiosk short-hand expanded (``ko`` → ``không``), folk names followed by the
official wording (``sổ đỏ`` → ``giấy chứng nhận quyền sử dụng đất``), and, when it was typed
without diacritics, the marks restored from corpus bigrams (``lam giay khai sinh`` → ``làm
giấy khai sinh``). The result feeds both the keyword fields and the embedder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from knowledge_base.schema import Synonym
from retrieval import legal_ranking
from retrieval.lexical import bigrams
from retrieval.lexicon import DEFAULT_SYNONYMS, ENGLISH_FUNCTION_WORDS, ENGLISH_TERMS
from retrieval.normalize import (
    DiacriticRestorer,
    SynonymTable,
    could_be_vietnamese,
    drop_cost_verb,
    drop_cost_verb_text,
    expand_shorthand,
    has_diacritics,
    is_stopword,
    strip_diacritics,
    tokenize_syllables,
)

DENSE_QUERY_WORDS = 64  # the embedder reads the first 64 words (cost grows with length);
# BM25 reads the whole message. No dev question lost quality at 64; 48 cost one.
# ``dense_query_tokens`` (off by default) instead keeps the END of a long message within a
# token budget, the ask that follows the context ("Công ty tôi … phải nộp hồ sơ cho cơ quan
# nào?"). bench/bench_retrieval.py measures both in one run; at 36 tokens the default
# embedder's p95 falls from 14.4 to 8.4 ms and the catalogue's dev hit@1 loses one question
# (0.875 → 0.833) with the tuned fusion weights, so it stays off.
UNACCENTED_SHARE = 0.3  # below this share of marked syllables a query is "unaccented"


@dataclass(frozen=True)
class AnalyzedQuery:
    text: str  # as typed
    tokens: list[str]  # expanded, restored syllables
    dense_text: str  # what the embedder reads
    accented_terms: list[str]  # content syllables + bigrams
    bare_terms: list[str]  # the same without diacritics
    content_bare: frozenset[str]  # content syllables without diacritics
    unaccented: bool


_ENGLISH_ONLY_WORDS: frozenset[str] = ENGLISH_FUNCTION_WORDS | frozenset(
    word for phrase, _ in ENGLISH_TERMS for word in phrase.split() if not could_be_vietnamese(word)
)
"""Words that make a message English: the function words, and the words of :data:`ENGLISH_TERMS` that no
Vietnamese syllable spells («register», «birth», «baby»; not «do», «can», «buy»). A message is English when
two or more of them outnumber its Vietnamese-looking words that are no English word (:data:`_ENGLISH_WORDS`):
«cho em xin copy house registration» stays Vietnamese."""
_ENGLISH_WORDS: frozenset[str] = _ENGLISH_ONLY_WORDS | frozenset(
    word for phrase, _ in ENGLISH_TERMS for word in phrase.split()
) | frozenset("a an the i my me we us you he she it its to do can in on at be so no or and if as by up am "
              "go need".split())


def _english_table() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """English phrases by their first word, longest first."""
    table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for phrase, vietnamese in ENGLISH_TERMS:
        words = tuple(phrase.split())
        table.setdefault(words[0], []).append((words, vietnamese))
    for entries in table.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return table


_ENGLISH_BY_FIRST = _english_table()


def english_to_vietnamese(text: str) -> str:
    """For a message in English, the Vietnamese of its known words (longest phrase first), in order;
    ``""`` when the message is not English or none of its words is known."""
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    english = sum(w in _ENGLISH_ONLY_WORDS for w in words) if text.isascii() else 0
    if english < 2 or english <= sum(could_be_vietnamese(w) and w not in _ENGLISH_WORDS for w in words):
        return ""  # «name tren passport bi sai»: Vietnamese
    out: list[str] = []
    i = 0
    while i < len(words):
        for phrase, vietnamese in _ENGLISH_BY_FIRST.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                if vietnamese not in out:
                    out.append(vietnamese)
                i += len(phrase)
                break
        else:
            i += 1
    return " ".join(out)


class QueryAnalyzer:
    """Short-hand, synonyms, diacritic restoration, stop-words: query text → terms."""

    def __init__(
        self,
        synonyms: Sequence[Synonym] = DEFAULT_SYNONYMS,
        restorer: DiacriticRestorer | None = None,
        count_tokens: Callable[[str], int] | None = None,
        dense_tokens: int | None = None,
    ):
        self.synonyms = SynonymTable(synonyms)
        self.restorer = restorer or DiacriticRestorer()
        self.count_tokens = count_tokens
        self.dense_tokens = dense_tokens
        self._token_counts: dict[str, int] = {}  # word → its model tokens
        self._token_overhead: int | None = None  # what any text costs besides its words (prefix, specials)

    def dense_text_of(self, text: str) -> str:
        """What the embedder reads of ``text``: its first words, or its end within ``dense_tokens``."""
        words = text.split()
        if self.dense_tokens is None or self.count_tokens is None or not words:
            return " ".join(words[:DENSE_QUERY_WORDS])
        return self.dense_tail(words)

    def dense_tail(self, words: Sequence[str]) -> str:
        """The last whole words that fit in ``dense_tokens`` model tokens (at least one word).

        The model's tokenizer never joins two words into one piece, so a text costs its
        words' tokens plus a fixed overhead (prefix, specials); each word is counted once.
        """
        assert self.dense_tokens is not None and self.count_tokens is not None
        if self._token_overhead is None:  # a word costs t, two cost 2t: the rest is the overhead
            self._token_overhead = 2 * self.count_tokens("a") - self.count_tokens("a a")
        budget = self.dense_tokens - self._token_overhead
        start = len(words)
        while start > 0:
            budget -= self._word_tokens(words[start - 1])
            if budget < 0:
                break
            start -= 1
        return " ".join(words[min(start, len(words) - 1):])

    def _word_tokens(self, word: str) -> int:
        cached = self._token_counts.get(word)
        if cached is None:
            assert self.count_tokens is not None and self._token_overhead is not None
            if len(self._token_counts) >= 100_000:
                self._token_counts.clear()
            cached = self._token_counts[word] = self.count_tokens(word) - self._token_overhead
        return cached

    def analyze(self, text: str) -> AnalyzedQuery:
        english = english_to_vietnamese(text)
        if english:  # searched by the Vietnamese of its words; the citizen's English is not in the catalogue
            return self.analyze(english)
        typed = tokenize_syllables(text)
        letters = [t for t in typed if t.isalpha()]
        unaccented = sum(map(has_diacritics, letters)) < UNACCENTED_SHARE * max(len(letters), 1)
        tokens = self.synonyms.expand(expand_shorthand(typed))
        if unaccented:
            tokens = self.restorer.restore(tokens)
        if "mất" in tokens:
            tokens = drop_cost_verb(tokens)
        keep = [not is_stopword(t) for t in tokens]
        content = [t for t, k in zip(tokens, keep, strict=True) if k] or tokens
        bare_tokens = [strip_diacritics(t) for t in tokens]
        if unaccented:
            dense_text = " ".join(tokens)
        else:  # keep the citizen's own casing and punctuation; add what expansion brought
            typed_set = set(typed)
            extra = [t for t in tokens if t not in typed_set]
            written = drop_cost_verb_text(text.strip()) if "mất" in typed else text.strip()
            dense_text = " ".join([written, *extra])
        return AnalyzedQuery(
            text=text,
            tokens=tokens,
            dense_text=self.dense_text_of(dense_text or text),
            accented_terms=content + bigrams(tokens, keep),
            bare_terms=[strip_diacritics(t) for t in content] + bigrams(bare_tokens, keep),
            content_bare=frozenset(strip_diacritics(t) for t in content),
            unaccented=unaccented,
        )

    def analyze_legal(self, text: str, analyzed: AnalyzedQuery | None = None) -> AnalyzedQuery:
        """A legal question: exam-style wording dropped, the concept it asks for added.

        The added words (``thời hạn``, ``thẩm quyền``…) go to keyword search only; the dense
        text stays the citizen's own (one embedding serves both groups). ``analyzed``: this
        analyzer's :meth:`analyze` of ``text``, reused when cleaning changes nothing.
        """
        cleaned = legal_ranking.clean_legal_question(text)
        base = analyzed if analyzed is not None and cleaned == text else self.analyze(cleaned)
        concepts = legal_ranking.legal_concepts([strip_diacritics(t) for t in base.tokens])
        if not concepts:
            return base
        extra = self.analyze(" ".join(concepts))
        return AnalyzedQuery(
            text=base.text,
            tokens=base.tokens + extra.tokens,
            dense_text=base.dense_text,
            accented_terms=base.accented_terms + extra.accented_terms,
            bare_terms=base.bare_terms + extra.bare_terms,
            content_bare=base.content_bare | extra.content_bare,
            unaccented=base.unaccented,
        )
