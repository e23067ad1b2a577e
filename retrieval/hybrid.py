"""Hybrid search over ``SearchDocument``s: BM25 (accented and unaccented) + dense vectors.

How a query is answered — each step has its module:

1. :mod:`retrieval.analysis` reads the message once (English → Vietnamese, short-hand, folk
   names, diacritics restored) into an :class:`~retrieval.analysis.AnalyzedQuery`.
2. Documents live in two groups (:mod:`retrieval.groups`): *procedures* (procedures and FAQ
   entries) and *passages* (legal articles and clauses), each with its BM25 fields
   (:mod:`retrieval.lexical`) and vector stores (:mod:`retrieval.stores`).
3. :mod:`retrieval.fusion` scores every document of a group on each signal and blends them;
   FAQ hits are reported as the procedures they point at; passages are ranked by article
   (:mod:`retrieval.legal_ranking`).
4. :mod:`retrieval.abstention` says how sure the best hit is; the dialogue's decision
   (``retrieval.decision``) answers, offers choices or abstains on it, and
   :meth:`HybridIndex.search` returns nothing below the abstain threshold.
5. :mod:`retrieval.persistence` saves and opens the index.

Updates are incremental: :meth:`HybridIndex.upsert` embeds only the edited document and
rebuilds the BM25 matrices of its group from per-document term counts with numpy
(≈ 0.3 s for one procedure with the full catalogue and 5,600 passages indexed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge_base.schema import Synonym
from retrieval import abstention, fusion, legal_ranking, rerank
from retrieval.abstention import ABSTAIN_THRESHOLD, CALIBRATED_FOR, CONFIDENCE_BIAS, CONFIDENCE_WEIGHTS
from retrieval.analysis import AnalyzedQuery, QueryAnalyzer
from retrieval.decision import distinct_articles
from retrieval.documents import KINDS, SearchDocument, passage_quote
from retrieval.embedders import Embedder, query_token_counter
from retrieval.fusion import DEFAULT_PREFERRED_LEVELS, FUSION_WEIGHTS, LEVEL_BOOST, GroupResult
from retrieval.groups import GROUP_OF, GROUPS, DocumentGroup, alias_ids, other_names
from retrieval.lexical import terms_of
from retrieval.lexicon import COLLOQUIAL_PHRASES, DEFAULT_SYNONYMS
from retrieval.normalize import DiacriticRestorer, SynonymTable
from retrieval.persistence import load_index, save_index
from retrieval.results import PassageHit, ProcedureHit, SearchResponse
from retrieval.stores import create_store

log = logging.getLogger(__name__)

RESTORER_PHRASE_WEIGHT = 30  # colloquial phrases count this many times when fitting the restorer


class HybridIndex:
    """BM25 (accented + unaccented) and dense search over documents, with abstention."""

    def __init__(
        self,
        embedder: Embedder,
        store: str = "faiss",
        synonyms: Sequence[Synonym] = DEFAULT_SYNONYMS,
        preferred_levels: Sequence[str] = DEFAULT_PREFERRED_LEVELS,
        weights: dict[str, float] | None = None,
        level_boost: float = LEVEL_BOOST,
        abstain_threshold: float = ABSTAIN_THRESHOLD,
        confidence_weights: dict[str, float] | None = None,
        confidence_bias: float = CONFIDENCE_BIAS,
        dense_query_tokens: int | None = None,
        reranker: rerank.Reranker | None | Literal["default"] = "default",
    ):
        if not 0.0 <= abstain_threshold <= 1.0:
            raise ValueError("abstain_threshold phải nằm trong [0, 1]")
        unknown = set(weights or {}) - set(FUSION_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown fusion weights: {sorted(unknown)}")
        self.embedder = embedder
        self.store_kind = store
        self.synonyms = tuple(synonyms)
        self.preferred_levels = tuple(preferred_levels)
        self.weights = {**FUSION_WEIGHTS, **(weights or {})}
        self.level_boost = level_boost
        self.abstain_threshold = abstain_threshold
        self.confidence_weights = dict(confidence_weights or CONFIDENCE_WEIGHTS)
        if set(self.confidence_weights) != set(CONFIDENCE_WEIGHTS):
            raise ValueError(f"confidence_weights must have exactly the keys {sorted(CONFIDENCE_WEIGHTS)}")
        self.confidence_bias = confidence_bias
        # The learned reranker of the first procedure candidates (retrieval.rerank): "default" is the
        # model shipped beside the code (none: the fused order); like the legal settings below it is
        # code, not saved with the index.
        self.reranker: rerank.Reranker | None = rerank.load_default() if reranker == "default" else reranker
        # The passages group ranks articles with its own settings (retrieval.legal_ranking);
        # they are code constants, not saved with the index, so a re-tune needs no rebuild.
        self.legal_weights = dict(legal_ranking.LEGAL_FUSION_WEIGHTS)
        self.article_spread = legal_ranking.ARTICLE_SPREAD
        self.not_in_force_penalty = legal_ranking.NOT_IN_FORCE_PENALTY
        self.legal_confidence_weights = dict(legal_ranking.LEGAL_CONFIDENCE_WEIGHTS)
        self.legal_confidence_bias = legal_ranking.LEGAL_CONFIDENCE_BIAS
        self.legal_abstain_threshold = legal_ranking.LEGAL_ABSTAIN_THRESHOLD
        self.analyzer = QueryAnalyzer(
            self.synonyms, count_tokens=query_token_counter(embedder), dense_tokens=dense_query_tokens
        )
        if confidence_weights is None and embedder.name not in CALIBRATED_FOR:
            log.warning(
                "fusion and abstention were tuned with %s, not %s: consider re-running "
                "bench/bench_retrieval.py --tune and passing confidence_weights/confidence_bias",
                " / ".join(sorted(CALIBRATED_FOR)),
                embedder.name,
            )
        self._groups: dict[str, DocumentGroup] = {}
        self._reset()

    # -- building --------------------------------------------------------------------------

    def _reset(self) -> None:
        self._groups = {
            name: DocumentGroup(
                name=name,
                title_store=create_store(self.store_kind, self.embedder.dim),
                summary_store=create_store(self.store_kind, self.embedder.dim),
                names_store=create_store(self.store_kind, self.embedder.dim),
            )
            for name in GROUPS
        }
        self.analyzer.restorer = DiacriticRestorer()

    def group(self, name: str) -> DocumentGroup:
        """The ``procedures`` or ``passages`` group (for evaluation and tuning scripts)."""
        return self._groups[name]

    def _fit_restorer(self) -> None:
        restorer = DiacriticRestorer()
        for group in self._groups.values():
            for document in group.documents:
                restorer.add(document.title)
                restorer.add(document.text)
        for synonym in self.synonyms:
            restorer.add(synonym.phrase)
            restorer.add(synonym.canonical)
        for _ in range(RESTORER_PHRASE_WEIGHT):
            for phrase in COLLOQUIAL_PHRASES:
                restorer.add(phrase)
        restorer.reindex()
        self.analyzer.restorer = restorer

    def set_synonyms(self, synonyms: Sequence[Synonym]) -> bool:
        """Read queries with ``synonyms`` from now on; False when they are already these.

        Synonyms only expand the query (and teach the diacritic restorer their phrases), so
        nothing is re-embedded.
        """
        wanted = tuple(synonyms)
        if wanted == tuple(self.synonyms):
            return False
        self.synonyms = wanted
        self.analyzer.synonyms = SynonymTable(wanted)
        for synonym in wanted:
            self.analyzer.restorer.add(synonym.phrase)
            self.analyzer.restorer.add(synonym.canonical)
        self.analyzer.restorer.reindex()
        return True

    def build(
        self,
        documents: Iterable[SearchDocument],
        batch_size: int = 256,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Index ``documents`` from scratch (ids must be unique); ``progress(n)`` after each n embedded."""
        documents = list(documents)
        ids = [d.id for d in documents]
        if len(set(ids)) != len(ids):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise ValueError(f"trùng id tài liệu (duplicate document ids): {duplicates}")
        self.embedder.warm_up()
        self._reset()
        for document in documents:
            self._groups[GROUP_OF[document.kind]].put(document, terms_of(document))
        for group in self._groups.values():
            for start in range(0, len(group.documents), batch_size):
                chunk = group.documents[start : start + batch_size]
                self._embed_into(group, chunk)
                if progress:
                    progress(len(chunk))
            group.refresh(self.preferred_levels)
        self._fit_restorer()

    def finish_loading(self) -> None:
        """After documents were put into the groups with their stored vectors: embed what is
        missing, build the BM25 matrices, fit the diacritic restorer."""
        for group in self._groups.values():
            missing = [
                d for d in group.documents
                if d.id not in group.title_store or d.id not in group.summary_store
                or any(a not in group.names_store for a in alias_ids(d))
            ]
            self._embed_into(group, missing)
            group.refresh(self.preferred_levels)
        self._fit_restorer()

    def _embed_into(self, group: DocumentGroup, documents: Sequence[SearchDocument]) -> None:
        if not documents:
            return
        ids = [d.id for d in documents]
        group.title_store.upsert(ids, self.embedder.embed_documents([d.title or d.summary for d in documents]))
        group.summary_store.upsert(ids, self.embedder.embed_documents([d.summary for d in documents]))
        names = [(a, n) for d in documents for a, n in zip(alias_ids(d), other_names(d), strict=True)]
        if names:
            group.names_store.upsert([a for a, _ in names], self.embedder.embed_documents([n for _, n in names]))

    def upsert(self, document: SearchDocument) -> bool:
        """Add or replace one document without a full rebuild. False if nothing changed."""
        return self.upsert_many([document]) > 0

    def upsert_many(self, documents: Iterable[SearchDocument]) -> int:
        changed: dict[str, list[SearchDocument]] = {}
        for document in documents:
            group_name = GROUP_OF[document.kind]
            current = self.get(document.id)
            if current is not None and current.fingerprint == document.fingerprint:
                continue
            if current is not None and GROUP_OF[current.kind] != group_name:
                self.remove(current.id)
            elif current is not None:  # names it no longer has leave the names store
                self._groups[group_name].names_store.remove(alias_ids(current))
            changed.setdefault(group_name, []).append(document)
        for group_name, batch in changed.items():
            group = self._groups[group_name]
            self._embed_into(group, batch)
            for document in batch:
                group.put(document, terms_of(document))
                self.analyzer.restorer.add(document.title)
                self.analyzer.restorer.add(document.text)
            group.refresh(self.preferred_levels)
        if changed:
            self.analyzer.restorer.reindex()
        return sum(len(b) for b in changed.values())

    def remove(self, id: str) -> bool:
        for group in self._groups.values():
            position = group.positions.get(id)
            names = alias_ids(group.documents[position]) if position is not None else []
            if group.drop(id):
                group.title_store.remove([id])
                group.summary_store.remove([id])
                group.names_store.remove(names)
                group.refresh(self.preferred_levels)
                return True
        return False

    def get(self, id: str) -> SearchDocument | None:
        for group in self._groups.values():
            position = group.positions.get(id)
            if position is not None:
                return group.documents[position]
        return None

    def __len__(self) -> int:
        return sum(len(g) for g in self._groups.values())

    def documents(self) -> list[SearchDocument]:
        return [d for g in self._groups.values() for d in g.documents]

    # -- searching ----------------------------------------------------------------------------

    @property
    def total_weight(self) -> float:
        """What a procedure's fused score is divided by (the weights and the level boost): 0–1 scores."""
        return sum(self.weights.values()) + self.level_boost or 1.0

    def confidence_of(self, features: dict[str, float]) -> float:
        """Calibrated probability that a right procedure is among the first hits."""
        return abstention.confidence(features, self.confidence_weights, self.confidence_bias)

    def search_procedures(
        self, group: DocumentGroup, query: AnalyzedQuery, vector: np.ndarray, kinds: set[str]
    ) -> GroupResult | None:
        """Procedures and FAQ entries of ``kinds``, best first, with the confidence."""
        if len(group) == 0:
            return None
        allowed = np.isin(group.kinds, list(kinds))
        if not allowed.any():
            return None
        signals = fusion.signals(group, query, vector)
        fused = fusion.fuse(signals, self.weights, self.level_boost, group.preferred)
        fused = np.where(allowed, fused, -np.inf)
        order = np.argsort(-fused, kind="stable")[: int(allowed.sum())]
        scores = None
        if self.reranker is not None:
            reranked = rerank.rerank(self.reranker, group, query, signals, fused, order, self.total_weight)
            order, scores = reranked.order, reranked.scores
        features = abstention.confidence_features(group, query, signals, order)
        features["top_score"] = float(fused[int(order[0])]) / self.total_weight
        if scores is not None:
            first = float(scores[int(order[0])])
            features["rerank_top"] = first
            features["rerank_lead"] = first - float(scores[int(order[1])]) if order.size > 1 else 0.0
        contrast = {name: fusion.scaled_signal(name, signals[name]) for name in fusion.LEAD_SIGNALS}
        return GroupResult(order=order, fused=fused, confidence=self.confidence_of(features), features=features,
                           scores=scores, contrast=contrast)

    def search_passages(
        self, group: DocumentGroup, query: AnalyzedQuery, vector: np.ndarray, on: date | None = None,
        within: Sequence[str] | None = None,
    ) -> GroupResult | None:
        """Articles best first (each as its best clause), with the legal abstention model.

        ``within``: only passages of these documents (numbers).
        """
        if len(group) == 0:
            return None
        signals = fusion.passage_signals(group, query, vector)
        fused = self.passage_scores(group, signals, self.legal_weights, on)
        if within is not None:
            wanted = set(within)
            keep = np.array([str(d.fields.get("document", "")) in wanted for d in group.documents])
            fused = np.where(keep, fused, -np.inf).astype(np.float32)
        ranking = legal_ranking.rank_articles(fused, group.article_ids, self.article_spread)
        if ranking.best_units.size == 0:
            return None
        features = abstention.legal_features(group, query, signals, ranking, sum(self.legal_weights.values()))
        confidence = legal_ranking.legal_confidence(
            features, self.legal_confidence_weights, self.legal_confidence_bias
        )
        scores = fused.copy()
        scores[ranking.best_units] = ranking.scores
        contrast = {name: fusion.scaled_signal(name, signals[name]) for name in legal_ranking.LEGAL_LEAD_SIGNALS}
        return GroupResult(order=ranking.best_units, fused=scores, confidence=confidence, features=features,
                           contrast=contrast)

    def passage_scores(
        self, group: DocumentGroup, signals: dict[str, np.ndarray], weights: dict[str, float], on: date | None,
        penalty: float | None = None,
    ) -> np.ndarray:
        """Fused clause scores; passages not in force on ``on`` (default today) lose the penalty."""
        return fusion.passage_scores(
            group, signals, weights, on, self.not_in_force_penalty if penalty is None else penalty
        )

    def search(
        self, query: str, top_k: int = 5, kinds: Sequence[str] | None = None, on: date | None = None
    ) -> SearchResponse:
        """Best ``top_k`` procedures and passages for ``query``; abstains when unsure.

        Passages come one per article, best clause first; ``on`` (default today) is the day
        the question is about: texts not in force on it rank lower.
        """
        if top_k <= 0:
            raise ValueError("top_k phải > 0 (top_k must be positive)")
        wanted = set(kinds or KINDS)
        unknown = wanted - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}; choose from {KINDS}")
        if not query or not query.strip():
            return SearchResponse(query=query, abstained=True)
        analyzed = self.analyzer.analyze(query)
        vector = self.embedder.embed_queries([analyzed.dense_text])[0]
        response = SearchResponse(query=query, abstained=True)
        procedure_kinds = wanted & set(GROUPS["procedures"])
        if procedure_kinds:
            group = self._groups["procedures"]
            result = self.search_procedures(group, analyzed, vector, procedure_kinds)
            if self._note(response, "procedures", result, self.abstain_threshold):
                assert result is not None
                response.procedures = procedure_hits(group, result, top_k, self.total_weight)
        if wanted & set(GROUPS["passages"]):
            group = self._groups["passages"]
            result = self.search_passages(group, self.analyzer.analyze_legal(query, analyzed), vector, on)
            if self._note(response, "passages", result, self.legal_abstain_threshold):
                assert result is not None
                response.passages = passage_hits(group, result, top_k, sum(self.legal_weights.values()))
        response.abstained = not (response.procedures or response.passages)
        return response

    @staticmethod
    def _note(response: SearchResponse, name: str, result: GroupResult | None, threshold: float) -> bool:
        """Record a group's features and confidence; True when it is sure enough to report hits."""
        if result is None:
            return False
        response.features[name] = {**result.features, "confidence": result.confidence}
        response.confidence = max(response.confidence, result.confidence)
        return result.confidence >= threshold

    def rank(
        self, query: str, kinds: Sequence[str] = ("procedure", "faq"), depth: int = 50
    ) -> tuple[list[ProcedureHit], float]:
        """Ranked procedures and the confidence, never abstaining (for evaluation)."""
        analyzed = self.analyzer.analyze(query)
        vector = self.embedder.embed_queries([analyzed.dense_text])[0]
        group = self._groups["procedures"]
        result = self.search_procedures(group, analyzed, vector, set(kinds))
        if result is None:
            return [], 0.0
        return procedure_hits(group, result, depth, self.total_weight), result.confidence

    def rank_passages(
        self, query: str, depth: int = 10, on: date | None = None, within: Sequence[str] | None = None
    ) -> tuple[list[PassageHit], float]:
        """Ranked legal articles (each as its best clause) and the confidence, never abstaining.

        ``within``: only articles of these documents (numbers), e.g. a procedure's legal basis.
        """
        analyzed = self.analyzer.analyze(query)
        vector = self.embedder.embed_queries([analyzed.dense_text])[0]
        group = self._groups["passages"]
        result = self.search_passages(group, self.analyzer.analyze_legal(query, analyzed), vector, on, within)
        if result is None:
            return [], 0.0
        return passage_hits(group, result, depth, sum(self.legal_weights.values())), result.confidence

    # -- persistence ------------------------------------------------------------------------------

    def save(self, directory: str | Path) -> None:
        """Write documents, vectors and settings (:func:`retrieval.persistence.save_index`)."""
        save_index(self, directory)

    @classmethod
    def load(cls, directory: str | Path, embedder: Embedder) -> HybridIndex:
        """Open an index written by :meth:`save`; ``embedder`` must be the same model."""
        return load_index(cls, directory, embedder)


def procedure_hits(group: DocumentGroup, result: GroupResult, top_k: int, total_weight: float) -> list[ProcedureHit]:
    """The first ``top_k`` distinct procedures of a ranking; an FAQ entry stands for the procedures it names."""
    hits: dict[str, ProcedureHit] = {}
    names = group.procedure_names
    for position in result.order:
        document = group.documents[int(position)]
        if result.scores is not None:  # the reranker's 0–1 scores
            score = float(result.scores[int(position)])
        else:
            score = max(float(result.fused[int(position)]) / total_weight, 0.0)
        if document.kind == "procedure":
            codes = [str(document.fields.get("code") or document.id)]
        else:
            codes = [str(c) for c in document.fields.get("procedures") or ()]
        for code in codes:
            if code not in hits:
                name = names.get(code) or (document.title if document.kind == "procedure" else code)
                hits[code] = ProcedureHit(code=code, name=name, score=score, document_id=document.id)
        if len(hits) >= top_k:
            break
    ranked = list(hits.values())[:top_k]
    if result.contrast is not None and len(ranked) >= 2:  # the first's lead over the second, for the answer model
        first, second = (group.positions[h.document_id] for h in ranked[:2])
        ranked[0] = replace(ranked[0], lead=fusion.lead_of(result.contrast, first, second))
    return ranked


def passage_hits(group: DocumentGroup, result: GroupResult, top_k: int, total_weight: float) -> list[PassageHit]:
    """The first ``top_k`` articles of a ranking, each quoted by its best clause; the first carries its lead
    over the second distinct article (as :func:`retrieval.decision.distinct_articles` tells them apart)."""
    hits = []
    for position in result.order[:top_k]:
        document = group.documents[int(position)]
        fields = document.fields
        hits.append(
            PassageHit(
                document=str(fields.get("document", "")),
                article=str(fields.get("article", document.title)),
                text=passage_quote(document),
                score=max(float(result.fused[int(position)]) / (total_weight or 1.0), 0.0),
                citation=str(fields.get("citation", "")),
                document_id=document.id,
                key=str(fields.get("key", "")),
                article_title=str(fields.get("article_title", "")),
            )
        )
    articles = distinct_articles(hits)
    if result.contrast is not None and len(articles) >= 2:  # the first's lead over the second, for the answer model
        first, second = (group.positions[h.document_id] for h in articles[:2])
        hits[0] = replace(hits[0], lead=fusion.lead_of(result.contrast, first, second))
    return hits
