"""Keyword side of the search: each document's tokens, and BM25 fields scored with numpy.

A document is read three ways (title only, full text, full text without diacritics), each as
syllables plus syllable bigrams; :class:`Bm25Field` keeps every document's term counts so a
one-document update rebuilds a field's matrix in a few vectorised steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.documents import SearchDocument
from retrieval.lexicon import ACRONYMS
from retrieval.normalize import expand_shorthand, is_stopword, strip_diacritics, tokenize_syllables

BM25_FULL = {"k1": 1.2, "b": 0.75}
BM25_TITLE = {"k1": 1.2, "b": 0.3}  # titles are short; weak length normalisation


def bigrams(tokens: Sequence[str], keep: Sequence[bool] | None = None) -> list[str]:
    """``a_b`` for each neighbouring pair; with ``keep``, only pairs of kept tokens."""
    if keep is None:
        return [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    return [f"{a}_{b}" for a, b, ka, kb in zip(tokens, tokens[1:], keep, keep[1:], strict=False) if ka and kb]


@dataclass(frozen=True)
class DocumentTerms:
    """Tokens of one document: the three BM25 fields, and small title sets kept for features."""

    title_accented: list[str]
    full_accented: list[str]
    full_bare: list[str]
    title_content: frozenset[str]  # bare content syllables of the title
    title_content_terms: frozenset[str]  # bare content syllables + bigrams between them


def terms_of(document: SearchDocument) -> DocumentTerms:
    title = expand_shorthand(tokenize_syllables(document.title), ACRONYMS)
    body = expand_shorthand(tokenize_syllables(document.text), ACRONYMS)
    full = title + body if not document.text.startswith(document.title) else body
    title_bare = [strip_diacritics(t) for t in title]
    full_bare = [strip_diacritics(t) for t in full]
    title_keep = [not is_stopword(t) for t in title]
    title_content = [b for b, k in zip(title_bare, title_keep, strict=True) if k]
    return DocumentTerms(
        title_accented=title + bigrams(title),
        full_accented=full + bigrams(full),
        full_bare=full_bare + bigrams(full_bare),
        title_content=frozenset(title_content),
        title_content_terms=frozenset(title_content + bigrams(title_bare, title_keep)),
    )


@dataclass(frozen=True)
class TitleTerms:
    """What a group keeps per document after indexing (token lists are dropped)."""

    content: frozenset[str]
    content_terms: frozenset[str]


@dataclass(frozen=True)
class TermCounts:
    tokens: np.ndarray  # int32 token ids, unique, sorted
    counts: np.ndarray  # how often each occurs
    length: int  # all tokens, repeats included


class Bm25Field:
    """One BM25 field (Lucene's variant, as bm25s computes it), as a term-major sparse matrix.

    Each document's term counts are kept, so the whole matrix is rebuilt with numpy in about
    30 ms for the catalogue (a Python loop over documents takes about 0.4 s per field): that
    is what makes a one-procedure update cheap. A query's score is the sum of its terms'
    columns (a term typed twice counts twice). The tests check the scores against
    ``bm25s.BM25.index``.
    """

    def __init__(self, k1: float, b: float):
        self.k1, self.b = k1, b
        self.vocab: dict[str, int] = {}
        self.rows: list[TermCounts] = []
        self.df = np.zeros(0, dtype=np.int64)
        self._data = np.zeros(0, dtype=np.float32)  # term-major: each term's (document, weight) pairs
        self._documents = np.zeros(0, dtype=np.int32)
        self._starts = np.zeros(1, dtype=np.int64)
        self._n = 0

    def encode(self, tokens: Sequence[str]) -> TermCounts:
        vocab = self.vocab
        ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens if t), dtype=np.int32)
        unique, counts = np.unique(ids, return_counts=True)
        return TermCounts(unique.astype(np.int32), counts.astype(np.int32), int(ids.size))

    def rebuild(self) -> None:
        n = len(self.rows)
        size = len(self.vocab)
        self._n = n
        if n == 0:
            self.df = np.zeros(size, dtype=np.int64)
            self._data, self._documents = np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int32)
            self._starts = np.zeros(size + 1, dtype=np.int64)
            return
        tokens = np.concatenate([r.tokens for r in self.rows])
        tf = np.concatenate([r.counts for r in self.rows]).astype(np.float32)
        per_doc = np.fromiter((r.tokens.size for r in self.rows), dtype=np.int64, count=n)
        lengths = np.fromiter((r.length for r in self.rows), dtype=np.float32, count=n)
        docs = np.repeat(np.arange(n, dtype=np.int32), per_doc)
        df = np.bincount(tokens, minlength=size)
        idf = np.where(df > 0, np.log1p((n - df + 0.5) / (df + 0.5)), 0.0).astype(np.float32)
        average = max(float(lengths.mean()), 1e-9)
        tfc = tf / (self.k1 * ((1 - self.b) + self.b * lengths[docs] / average) + tf)
        order = np.argsort(tokens, kind="stable")
        starts = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(df, out=starts[1:])
        self._data = (idf[tokens] * tfc)[order].astype(np.float32)
        self._documents = docs[order]
        self._starts, self.df = starts, df

    def scores(self, terms: Sequence[str], n: int) -> np.ndarray:
        ids = [self.vocab[t] for t in terms if t in self.vocab]
        ids = [i for i in ids if i + 1 < self._starts.size]  # terms of documents encoded but not yet rebuilt
        if self._n == 0 or not ids:
            return np.zeros(n, dtype=np.float32)
        spans = [np.arange(self._starts[i], self._starts[i + 1]) for i in ids]
        picked = np.concatenate(spans)
        return np.bincount(
            self._documents[picked], weights=self._data[picked], minlength=self._n
        ).astype(np.float32)

    def frequency(self, term: str) -> int:
        token = self.vocab.get(term)
        return int(self.df[token]) if token is not None and token < self.df.size else 0
