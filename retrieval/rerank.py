"""A learned reranker over the first candidates of the fused procedure ranking.

The fusion (:mod:`retrieval.fusion`) blends every signal with one set of weights for all
documents. What it cannot see is how a candidate differs from its neighbours in the list: the
right procedure and its siblings («đăng ký kết hôn», «đăng ký lại kết hôn», «… có yếu tố nước
ngoài», the same name at province level) score alike on every signal, and what tells them apart is
whether the question says the words in which their names differ. So the reranker reads, for each
of the first :data:`RERANK_DEPTH` documents, the signals the fusion reads (scaled the same way),
their ranks, the level, and **contrast features computed from the candidates' own titles**: which
syllables of a title its rivals in the list lack (each rival weighted by how alike the names are),
whether the question says them, and whether the question says words that rivals' titles have and
this one lacks. No word list is written by hand.

A model is a JSON of coefficients (:class:`Reranker`), learned on the tuning half of ``tests/data``
only by ``python -m retrieval.dev.rerank_cv``; the search uses it when the file :data:`RERANKER_PATH`
exists (:func:`load_default`), or when a :class:`~retrieval.hybrid.HybridIndex` is given one. None is
shipped: measured once on the held-out half (2026-12-06) it resolved more questions and answered
fewer wrongly, but offered choices more often, so it was not kept (README, «retrieval figures»; the
learned model, its confidence and policy are in ``bench/results/rerank_cv.json``). Decided again on the
fresh set ``tests/data/fresh_procedures.jsonl`` by a rule fixed before measuring
(``python -m retrieval.dev.rerank_fresh``, ``bench/results/fresh_decision.json``): with its confidence
weights and policy it cut wrong answers but resolved fell by just over the rule's 0.01, and the model alone
cut too few wrong answers, so it stays off. Switching it on would mean shipping all three, not the model alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from retrieval.analysis import AnalyzedQuery
from retrieval.fusion import scale_bm25, scale_dense
from retrieval.groups import DocumentGroup
from retrieval.normalize import has_diacritics, strip_diacritics, tokenize_syllables

RERANK_DEPTH = 30  # candidates reordered; the rest keep the fused order behind them
RIVAL_DEPTH = 10  # the titles a candidate is contrasted with
RANK_CAP = 200
RERANKER_PATH = Path(__file__).with_name("rerank_model.json")

SIGNAL_FEATURES = (
    "full_accented",
    "full_bare",
    "title_accented",
    "dense_title",
    "dense_summary",
    "title_coverage",
    "title_coverage_idf",
    "query_coverage",
)
RANKED_SIGNALS = ("full_accented", "title_accented", "dense_title", "dense_summary")
FEATURES: tuple[str, ...] = (
    "fused",  # the fused score / the sum of the weights
    "fused_gap",  # how far behind the first candidate
    "fused_rank",  # log(1 + position in the fused list)
    *SIGNAL_FEATURES,
    *(f"rank_{name}" for name in RANKED_SIGNALS),  # log(1 + rank among all documents)
    "preferred",  # at the centre's level (a commune centre: «Cấp xã»)
    "level_province",
    "level_ministry",
    "faq",  # an FAQ entry standing for its procedures
    "name_coverage",  # best share of the title's or an everyday name's syllables the question says
    "distinct_covered",  # share of the title's distinctive syllables (rivals lack them) the question says
    "distinct_missing",  # weight of distinctive syllables the question does not say
    "rival_words",  # weight of the question's syllables that rivals' titles have and this one lacks
    "sibling_similarity",  # overlap with the closest rival title (Jaccard)
    "sibling_extra_said",  # syllables this title has beyond each rival, said in the question (weighted by
    "sibling_extra_unsaid",  # … not said                                          how alike the names are)
    "sibling_lack_said",  # syllables a rival has beyond this title, said in the question
    "twin_preferred",  # another candidate has the same name, and this one is at the centre's level
    "twin_other",  # another candidate has the same name, and this one is not
)


@lru_cache(maxsize=32768)
def syllables_of(text: str) -> frozenset[str]:
    """The syllables of a name, lower-case with their diacritics (every word, function words included)."""
    return frozenset(tokenize_syllables(text))


def said_syllables(query: AnalyzedQuery, names: Iterable[frozenset[str]]) -> frozenset[str]:
    """Which of the names' syllables the question says: as written with diacritics (an unaccented question
    is read with them restored, so «tờ» is not «tố»), or, for a word the reader left without any, by
    its letters alone."""
    accented = set(query.tokens)
    loose = {t for t in query.tokens if not has_diacritics(t)}
    return frozenset(t for name in names for t in name if t in accented or strip_diacritics(t) in loose)


def _name_of(group: DocumentGroup, position: int) -> str:
    document = group.documents[position]
    if document.kind == "procedure":
        return document.title
    codes = [str(c) for c in document.fields.get("procedures") or ()]
    return next((group.procedure_names[c] for c in codes if c in group.procedure_names), document.title)


def _ranks(scores: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """log(1 + rank) of each position among all scores (ties share the best rank)."""
    ordered = np.sort(scores)
    above = ordered.size - np.searchsorted(ordered, scores[positions], side="right")
    return np.log1p(np.minimum(above, RANK_CAP)).astype(np.float64)


def _contrast(title: frozenset[str], rivals: Sequence[frozenset[str]], said: frozenset[str]) -> list[float]:
    """The title-contrast features of one candidate against its rivals' titles."""
    n = max(len(rivals), 1)
    share = {t: sum(t in r for r in rivals) / n for t in title}
    weights = {t: 1.0 - s for t, s in share.items()}
    total = sum(weights.values())
    covered = sum(w for t, w in weights.items() if t in said)
    rival_words = 0.0
    for t in said - title:
        present = sum(t in r for r in rivals)
        if present:
            rival_words += 1.0 - present / n
    # against each rival, weighted by how alike the two names are (Jaccard): the words this name has
    # beyond it, said or not, and the words it has beyond this one that the question says
    similarity = extra_said = extra_unsaid = lack_said = 0.0
    for rival in rivals:
        union = len(title | rival)
        alike = len(title & rival) / union if union else 0.0
        similarity = max(similarity, alike)
        extra, lack = title - rival, rival - title
        extra_said += alike * len(extra & said)
        extra_unsaid += alike * len(extra - said)
        lack_said += alike * len(lack & said)
    return [
        covered / total if total > 0 else 1.0,
        total - covered,
        rival_words,
        similarity,
        extra_said,
        extra_unsaid,
        lack_said,
    ]


def candidate_features(
    group: DocumentGroup,
    query: AnalyzedQuery,
    signals: dict[str, np.ndarray],
    fused: np.ndarray,
    order: np.ndarray,
    total_weight: float,
    depth: int = RERANK_DEPTH,
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``depth`` positions of ``order`` and their features (rows in :data:`FEATURES` order)."""
    positions = np.asarray(order[:depth], dtype=np.int64)
    if positions.size == 0:
        return positions, np.zeros((0, len(FEATURES)))
    total = total_weight or 1.0
    top = float(fused[positions[0]])
    scaled = {}
    for name in SIGNAL_FEATURES:
        raw = signals[name]
        if name.startswith("dense"):
            scaled[name] = scale_dense(raw)[positions]
        elif name.endswith("coverage") or name.endswith("coverage_idf"):
            scaled[name] = raw[positions]
        else:
            scaled[name] = scale_bm25(raw)[positions]
    ranks = {name: _ranks(signals[name], positions) for name in RANKED_SIGNALS}
    titles = [syllables_of(_name_of(group, int(p))) for p in positions]
    aliases = [
        [syllables_of(str(a)) for a in group.documents[int(p)].fields.get("aliases") or ()] for p in positions
    ]
    # the rivals are the first RIVAL_DEPTH documents whatever the depth reordered
    rivals_all = [
        syllables_of(_name_of(group, int(p))) for p in np.asarray(order[:RIVAL_DEPTH], dtype=np.int64)
    ]
    said = said_syllables(query, titles + rivals_all + [a for names in aliases for a in names])
    rows = []
    for i, position in enumerate(positions):
        document = group.documents[int(position)]
        levels = " ".join(str(level) for level in document.fields.get("levels") or ())
        title = titles[i]
        rivals = [r for j, r in enumerate(rivals_all) if j != i]
        names = [title, *aliases[i]]
        coverage = max((len(n & said) / len(n) for n in names if n), default=0.0)
        twin = any(r == title for r in rivals)
        preferred = float(group.preferred[int(position)])
        rows.append(
            [
                float(fused[position]) / total,
                (top - float(fused[position])) / total,
                math.log1p(i),
                *(float(scaled[name][i]) for name in SIGNAL_FEATURES),
                *(float(ranks[name][i]) for name in RANKED_SIGNALS),
                preferred,
                float("Cấp tỉnh" in levels),
                float("Cấp bộ" in levels),
                float(document.kind == "faq"),
                coverage,
                *_contrast(title, rivals, said),
                float(twin and preferred > 0),
                float(twin and preferred == 0),
            ]
        )
    return positions, np.array(rows, dtype=np.float64)


@dataclass(frozen=True)
class Reranker:
    """A linear model over standardised :data:`FEATURES`; ``kind`` says how logits become scores:
    ``listwise`` (a softmax over the candidates: the chance each is the one) or ``pointwise`` (a
    sigmoid: the chance each is right)."""

    weights: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    bias: float = 0.0
    kind: str = "listwise"
    depth: int = RERANK_DEPTH
    features: tuple[str, ...] = FEATURES

    def __post_init__(self) -> None:
        if self.features != FEATURES:
            raise ValueError(f"reranker features differ from the code's: {list(self.features)}")
        if not len(self.weights) == len(self.mean) == len(self.scale) == len(FEATURES):
            raise ValueError(f"need {len(FEATURES)} weights, means and scales")
        if self.kind not in ("listwise", "pointwise"):
            raise ValueError("kind must be 'listwise' or 'pointwise'")
        if self.depth < 2:
            raise ValueError("depth must be at least 2")
        if any(s <= 0 for s in self.scale):
            raise ValueError("scales must be positive")

    def logits(self, features: np.ndarray) -> np.ndarray:
        x = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return x @ np.asarray(self.weights) + self.bias

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """0–1 scores of the candidates (same order as the rows of ``features``)."""
        z = self.logits(features)
        if z.size == 0:
            return z
        if self.kind == "pointwise":
            return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        e = np.exp(z - z.max())
        return e / e.sum()

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "depth": self.depth,
            "bias": round(self.bias, 6),
            "features": {
                n: {"weight": round(w, 6), "mean": round(m, 6), "scale": round(s, 6)}
                for n, w, m, s in zip(FEATURES, self.weights, self.mean, self.scale, strict=True)
            },
        }

    @classmethod
    def from_json(cls, data: dict) -> Reranker:
        table = data["features"]
        names = tuple(table)
        return cls(
            weights=tuple(float(table[n]["weight"]) for n in names),
            mean=tuple(float(table[n]["mean"]) for n in names),
            scale=tuple(float(table[n]["scale"]) for n in names),
            bias=float(data.get("bias", 0.0)),
            kind=str(data.get("kind", "listwise")),
            depth=int(data.get("depth", RERANK_DEPTH)),
            features=names,
        )


def load_default(path: Path = RERANKER_PATH) -> Reranker | None:
    """The reranker shipped with the code, or ``None`` when there is none (the fused order is kept)."""
    if not path.exists():
        return None
    return Reranker.from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Reranked:
    """The new order (all positions, best first) and a 0–1 score per position of the group."""

    order: np.ndarray
    scores: np.ndarray


def rerank(
    reranker: Reranker,
    group: DocumentGroup,
    query: AnalyzedQuery,
    signals: dict[str, np.ndarray],
    fused: np.ndarray,
    order: np.ndarray,
    total_weight: float,
) -> Reranked:
    """Reorder the first ``reranker.depth`` positions of ``order`` by the model; the rest follow
    unchanged, scored just below the last reordered one."""
    positions, features = candidate_features(
        group, query, signals, fused, order, total_weight, reranker.depth
    )
    scores = np.zeros(len(group), dtype=np.float64)
    if positions.size == 0:
        return Reranked(np.asarray(order), scores)
    probabilities = reranker.probabilities(features)
    best = np.argsort(-probabilities, kind="stable")
    head = positions[best]
    scores[head] = probabilities[best]
    tail = np.asarray(order[positions.size :], dtype=np.int64)
    if tail.size:
        floor = float(probabilities.min())
        total = total_weight or 1.0
        scores[tail] = np.minimum(np.maximum(fused[tail].astype(np.float64) / total, 0.0), floor)
    return Reranked(np.concatenate([head, tail]), scores)
