"""A group of documents searched together, with its indexes.

Procedures and FAQ entries form one group, legal passages (articles and clauses) another;
each keeps its documents, their BM25 fields, three vector stores (title, summary, and each other
name of a procedure — its everyday name and aliases — on its own), the title and name matrices the
coverage signals read, and what the rankings need per document (kind, level,
field, article, dates in force).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from retrieval import legal_ranking
from retrieval.documents import DocumentKind, SearchDocument
from retrieval.lexical import BM25_FULL, BM25_TITLE, Bm25Field, DocumentTerms, TitleTerms
from retrieval.lexicon import ACRONYMS
from retrieval.normalize import expand_shorthand, is_stopword, strip_diacritics, tokenize_syllables
from retrieval.stores import VectorStore

GROUPS: dict[str, tuple[DocumentKind, ...]] = {"procedures": ("procedure", "faq"), "passages": ("passage",)}
GROUP_OF: dict[str, str] = {kind: group for group, kinds in GROUPS.items() for kind in kinds}


ALIAS_MARK = "#name"


def other_names(document: SearchDocument) -> list[str]:
    """A procedure's names besides its title (everyday name and aliases), each once."""
    if document.kind != "procedure":
        return []
    title = " ".join(document.title.split()).casefold()
    seen, names = {title}, []
    for alias in document.fields.get("aliases") or ():
        text = " ".join(str(alias).split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            names.append(text)
    return names


def names_of(document: SearchDocument) -> list[str]:
    """The title and the other names."""
    return [document.title, *other_names(document)] if document.title else other_names(document)


def alias_ids(document: SearchDocument) -> list[str]:
    """The names store's ids of a document's other names."""
    return [f"{document.id}{ALIAS_MARK}{k}" for k in range(len(other_names(document)))]


def name_content(name: str) -> frozenset[str]:
    """A name's content syllables without diacritics (as the title coverage reads a title)."""
    syllables = expand_shorthand(tokenize_syllables(name), ACRONYMS)
    return frozenset(strip_diacritics(s) for s in syllables if not is_stopword(s))


@dataclass
class DocumentGroup:
    """The indexes of one group of kinds (procedures+faq, or passages)."""

    name: str
    title_store: VectorStore
    summary_store: VectorStore
    names_store: VectorStore  # a procedure's other names, one vector each (ids: alias_ids)
    documents: list[SearchDocument] = field(default_factory=list)
    terms: list[TitleTerms] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    fields: dict[str, Bm25Field] = field(default_factory=dict)
    title_matrix: sp.csr_matrix = field(default_factory=lambda: sp.csr_matrix((0, 1), dtype=np.float32))
    title_vocab: dict[str, int] = field(default_factory=dict)
    title_lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    term_matrix: sp.csr_matrix = field(default_factory=lambda: sp.csr_matrix((0, 1), dtype=np.float32))  # titles × (syllables + bigrams), IDF weights
    term_vocab: dict[str, int] = field(default_factory=dict)
    term_totals: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    preferred: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    article_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # passages: which article each one belongs to
    valid_from: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # passages: first day in force (ordinal)
    valid_until: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # passages: first day no longer in force (ordinal)
    name_choices: list[str] = field(default_factory=list)  # passages: how questions name a document, each once
    name_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # passages: index into name_choices of each passage's document
    procedure_names: dict[str, str] = field(default_factory=dict)
    name_matrix: sp.csr_matrix = field(default_factory=lambda: sp.csr_matrix((0, 1), dtype=np.float32))  # names × content syllables
    name_vocab: dict[str, int] = field(default_factory=dict)
    name_lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    name_owners: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # the position each name belongs to
    domains: list[str] = field(default_factory=list)  # field (lĩnh vực) or legal document number

    def __post_init__(self) -> None:
        self.fields = {
            "title_accented": Bm25Field(**BM25_TITLE),
            "full_accented": Bm25Field(**BM25_FULL),
            "full_bare": Bm25Field(**BM25_FULL),
        }

    def __len__(self) -> int:
        return len(self.documents)

    def put(self, document: SearchDocument, terms: DocumentTerms) -> None:
        """Insert or replace one document (token ids only; call :meth:`refresh` after)."""
        rows = {
            "title_accented": self.fields["title_accented"].encode(terms.title_accented),
            "full_accented": self.fields["full_accented"].encode(terms.full_accented),
            "full_bare": self.fields["full_bare"].encode(terms.full_bare),
        }
        kept = TitleTerms(terms.title_content, terms.title_content_terms)
        position = self.positions.get(document.id)
        if position is None:
            self.positions[document.id] = len(self.documents)
            self.documents.append(document)
            self.terms.append(kept)
            for name, row in rows.items():
                self.fields[name].rows.append(row)
        else:
            self.documents[position] = document
            self.terms[position] = kept
            for name, row in rows.items():
                self.fields[name].rows[position] = row

    def drop(self, id: str) -> bool:
        position = self.positions.pop(id, None)
        if position is None:
            return False
        last = len(self.documents) - 1
        if position != last:
            moved = self.documents[last]
            self.documents[position] = moved
            self.terms[position] = self.terms[last]
            for bm in self.fields.values():
                bm.rows[position] = bm.rows[last]
            self.positions[moved.id] = position
        self.documents.pop()
        self.terms.pop()
        for bm in self.fields.values():
            bm.rows.pop()
        return True

    def refresh(self, preferred_levels: Sequence[str]) -> None:
        """Rebuild the BM25 matrices and the title-coverage matrix from cached tokens."""
        for bm in self.fields.values():
            bm.rebuild()
        rows, cols = [], []
        vocab: dict[str, int] = {}
        for row, terms in enumerate(self.terms):
            for term in terms.content:
                rows.append(row)
                cols.append(vocab.setdefault(term, len(vocab)))
        self.title_vocab = vocab
        self.title_matrix = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(self.terms), max(len(vocab), 1))
        )
        self.title_lengths = np.asarray(self.title_matrix.sum(axis=1), dtype=np.float32).ravel() + 1e-6
        owners: list[int] = []
        rows, cols = [], []
        vocab = {}
        for position, document in enumerate(self.documents):
            for name in names_of(document) if document.kind == "procedure" else ():
                row = len(owners)
                owners.append(position)
                for term in name_content(name):
                    rows.append(row)
                    cols.append(vocab.setdefault(term, len(vocab)))
        self.name_vocab = vocab
        self.name_owners = np.asarray(owners, dtype=np.int64)
        self.name_matrix = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(owners), max(len(vocab), 1))
        )
        self.name_lengths = np.asarray(self.name_matrix.sum(axis=1), dtype=np.float32).ravel() + 1e-6
        rows, cols, values = [], [], []
        term_vocab: dict[str, int] = {}
        for row, terms in enumerate(self.terms):
            for term in terms.content_terms:
                rows.append(row)
                cols.append(term_vocab.setdefault(term, len(term_vocab)))
                values.append(self.idf(term))
        self.term_vocab = term_vocab
        self.term_matrix = sp.csr_matrix(
            (np.asarray(values, dtype=np.float32), (rows, cols)),
            shape=(len(self.terms), max(len(term_vocab), 1)),
        )
        self.term_totals = np.asarray(self.term_matrix.sum(axis=1), dtype=np.float32).ravel() + 1e-6
        self.kinds = np.array([d.kind for d in self.documents], dtype=object)
        self.domains = [
            str(d.fields.get("field") or d.fields.get("document") or d.kind) for d in self.documents
        ]
        self.procedure_names = {
            str(d.fields.get("code")): d.title for d in self.documents if d.kind == "procedure"
        }
        self.article_ids = legal_ranking.article_keys(self.documents)
        names = [legal_ranking.document_name(str(d.fields.get("label") or "")) for d in self.documents]
        choices, self.name_of = np.unique(np.array(names, dtype=object), return_inverse=True)
        self.name_choices = [str(c) for c in choices]
        self.valid_from = np.array(
            [legal_ranking.day_ordinal(str(d.fields.get("effective") or ""), 0) for d in self.documents],
            dtype=np.int64,
        )
        self.valid_until = np.array(
            [
                legal_ranking.day_ordinal(str(d.fields.get("ends") or ""), legal_ranking.FAR_FUTURE)
                for d in self.documents
            ],
            dtype=np.int64,
        )
        preferred = set(preferred_levels)
        self.preferred = np.array(
            [
                d.kind == "procedure" and bool(preferred & set(d.fields.get("levels") or ()))
                for d in self.documents
            ],
            dtype=np.float32,
        )

    def title_coverage(self, content_bare: Iterable[str]) -> np.ndarray:
        vector = np.zeros(self.title_matrix.shape[1], dtype=np.float32)
        for term in content_bare:
            column = self.title_vocab.get(term)
            if column is not None:
                vector[column] = 1.0
        return np.asarray(self.title_matrix @ vector, dtype=np.float32) / self.title_lengths

    def names_coverage(self, content_bare: Iterable[str]) -> np.ndarray:
        """The best share of one name's content syllables (title, everyday name or an alias) found in the query."""
        best = np.zeros(len(self.documents), dtype=np.float32)
        if not self.name_owners.size:
            return best
        vector = np.zeros(self.name_matrix.shape[1], dtype=np.float32)
        for term in content_bare:
            column = self.name_vocab.get(term)
            if column is not None:
                vector[column] = 1.0
        shares = np.asarray(self.name_matrix @ vector, dtype=np.float32) / self.name_lengths
        np.maximum.at(best, self.name_owners, shares)
        return best

    def names_cosine(self, vector: np.ndarray, title_cosines: np.ndarray, depth: int) -> np.ndarray:
        """The best cosine between the query and any one name of each document: its title
        (``title_cosines``) or one of its other names (the ``depth`` nearest of the names store)."""
        best = title_cosines.copy()
        if not len(self.names_store):
            return best
        for id, score in self.names_store.search(vector, min(depth, len(self.names_store))):
            position = self.positions.get(id.rsplit(ALIAS_MARK, 1)[0])
            if position is not None and score > best[position]:
                best[position] = score
        return best

    def term_coverages(self, terms: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """IDF-weighted overlap of query terms and each title: (share of the title, share of the query)."""
        present = np.zeros(self.term_matrix.shape[1], dtype=np.float32)
        query_total = 0.0
        for term in set(terms):
            query_total += self.idf(term)
            column = self.term_vocab.get(term)
            if column is not None:
                present[column] = 1.0
        overlap = np.asarray(self.term_matrix @ present, dtype=np.float32)
        return overlap / self.term_totals, overlap / (query_total or 1.0)

    def idf(self, term: str) -> float:
        n = len(self.documents)
        df = self.fields["full_bare"].frequency(term)
        return math.log((n + 1) / (df + 0.5)) if df > 0 else math.log(n + 1)
