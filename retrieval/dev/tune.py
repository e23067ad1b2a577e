"""Re-tune the fusion weights and the abstention model on labelled questions.

Used by ``bench/bench_retrieval.py --tune``; prints the grid's best settings and a
leave-one-question-out estimate of the abstention figures, to paste into the constants
of :mod:`retrieval.hybrid`. Signals are computed once per question, so a grid of tens of
thousands of settings runs in a couple of minutes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval import abstention, fusion
from retrieval.evaluate import Question
from retrieval.hybrid import HybridIndex
from retrieval.normalize import strip_diacritics

DEFAULT_GRID: dict[str, list[float]] = {
    "full_accented": [1, 2],
    "full_bare": [0.5, 1],
    "title_accented": [0, 0.5],
    "dense_title": [0, 0.5, 1],
    "dense_summary": [0.5, 1, 2],
    "title_coverage": [0, 1, 2],
    "title_coverage_idf": [0, 1, 2],
    "query_coverage": [0, 1, 2],
    "level_boost": [0.2, 0.4, 0.6],
}
DEV_TARGETS = {"dev": (0.85, 0.95), "dev-bare": (0.80, 0.95)}  # (hit@1, hit@5) floors of the first retrieval targets
ABSTAIN_TARGETS = (0.80, 0.10)  # abstain on ≥ 80 % of [] dev questions, on < 10 % of answerable ones
DEPLOYMENT = "dep-"  # prefix of the sets measured on a deployment's index (see ``collect``)


def targets_for(set_names: Sequence[str]) -> dict[str, tuple[float, float]]:
    """The dev floors, on every index the samples come from (``dev``, ``dep-dev``, …)."""
    prefixes = {name[: -len("dev")] for name in set_names if name.endswith("dev")}
    return {f"{p}{name}": floors for p in prefixes for name, floors in DEV_TARGETS.items()}


@dataclass
class Sample:
    set_name: str
    question: Question
    signals: dict[str, np.ndarray]
    preferred: np.ndarray
    allowed: np.ndarray
    expected: np.ndarray  # bool mask of documents whose code is expected
    query: object  # AnalyzedQuery
    group: object  # the index's procedures group the signals were computed on


def collect(
    index: HybridIndex, sets: dict[str, Sequence[Question]], strip_too: bool = True, prefix: str = ""
) -> list[Sample]:
    """Signals of every question (and of its unaccented copy as set ``<name>-bare``).

    ``prefix`` names the index (e.g. :data:`DEPLOYMENT`), so that samples of several
    indexes — the bare catalogue and a deployment with its FAQ and default procedures — can
    be tuned together: one setting has to meet the targets on each.
    """
    group = index.group("procedures")
    codes = np.array([str(d.fields.get("code", "")) for d in group.documents], dtype=object)
    faq_codes = [tuple(d.fields.get("procedures") or ()) for d in group.documents]
    allowed = np.isin(group.kinds, ["procedure", "faq"])
    samples = []
    variants = [(f"{prefix}{name}", qs, False) for name, qs in sets.items()]
    if strip_too:
        variants += [(f"{prefix}{name}-bare", qs, True) for name, qs in sets.items()]
    for name, questions, strip in variants:
        for question in questions:
            text = strip_diacritics(question.question) if strip else question.question
            query = index.analyzer.analyze(text)
            vector = index.embedder.embed_queries([query.dense_text])[0]
            signals = fusion.signals(group, query, vector)
            wanted = set(question.expected)
            expected = np.array(
                [c in wanted or bool(wanted.intersection(f)) for c, f in zip(codes, faq_codes, strict=True)]
            )
            samples.append(Sample(name, question, signals, group.preferred, allowed, expected, query, group))
    return samples


def rank_of_expected(
    index: HybridIndex, sample: Sample, weights: dict[str, float]
) -> tuple[int | None, np.ndarray]:
    """Rank of the first expected document and the ten best positions."""
    fused = fusion.fuse(sample.signals, weights, weights.get("level_boost", 0.0), sample.preferred)
    fused = np.where(sample.allowed, fused, -np.inf)
    depth = min(10, len(fused) - 1)
    top = np.argpartition(-fused, depth)[: depth + 1] if depth > 0 else np.array([0])
    top = top[np.argsort(-fused[top], kind="stable")]
    if not sample.expected.any():
        return None, top
    best = fused[sample.expected].max()
    return int((fused > best).sum()) + 1, top


def settings_of(grid: dict[str, list[float]] | None = None) -> list[dict[str, float]]:
    """Every setting of ``grid`` that weighs at least one score (not only coverage or level)."""
    grid = grid or DEFAULT_GRID
    settings = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    return [w for w in settings if any(v for k, v in w.items() if k != "level_boost" and "coverage" not in k)]


MISSING = 1_000_000  # the rank of an expected procedure the index does not hold


def rank_matrix(index: HybridIndex, samples: Sequence[Sample], settings: Sequence[dict[str, float]]) -> np.ndarray:
    """Rank of the first expected document, one row a setting, one column a sample (answerable ones).

    Each signal is scaled once per sample (``fusion.fuse`` with that signal alone), so every
    setting's fused scores are one matrix product.
    """
    names = sorted({k for w in settings for k in w if k != "level_boost"})
    weights = np.array([[w.get(k, 0.0) for k in names] for w in settings], dtype=np.float32)
    boosts = np.array([w.get("level_boost", 0.0) for w in settings], dtype=np.float32)
    ranks = np.full((len(settings), len(samples)), MISSING, dtype=np.int32)
    for j, sample in enumerate(samples):
        if not sample.expected.any():  # the expected procedure is not in this index
            continue
        zero = np.zeros(len(sample.allowed), dtype=np.float32)
        scaled = np.stack(
            [fusion.fuse(sample.signals, {k: 1.0}, 0.0, sample.preferred) if k in sample.signals else zero for k in names]
        )
        fused = weights @ scaled + boosts[:, None] * sample.preferred.astype(np.float32)[None, :]
        fused[:, ~sample.allowed] = -np.inf
        best = fused[:, sample.expected].max(1)
        ranks[:, j] = (fused > best[:, None]).sum(1) + 1
    return ranks


def figures_of(ranks: np.ndarray, set_names: Sequence[str]) -> list[dict[str, tuple[float, float, float]]]:
    """(hit@1, hit@5, MRR) per set for every row of a :func:`rank_matrix` (or of its columns)."""
    names = np.array(set_names, dtype=object)
    per_set = {}
    for name in sorted(set(set_names)):
        r = ranks[:, names == name].astype(float)
        per_set[name] = ((r == 1).mean(1), (r <= 5).mean(1), np.where(r >= MISSING, 0.0, 1 / r).mean(1))
    return [
        {name: (float(h1[i]), float(h5[i]), float(mrr[i])) for name, (h1, h5, mrr) in per_set.items()}
        for i in range(len(ranks))
    ]


@dataclass
class MeasuredGrid:
    """Every setting of a grid ranked on every answerable sample, measured once."""

    settings: list[dict[str, float]]
    samples: list[Sample]  # the answerable ones
    ranks: np.ndarray  # :func:`rank_matrix` of the two

    def results(self, columns: np.ndarray | None = None) -> list:
        """``(objective, weights, {set: (hit@1, hit@5, MRR)})`` best first, on the samples
        picked by the bool mask ``columns`` (default all)."""
        columns = np.ones(len(self.samples), dtype=bool) if columns is None else columns
        names = [s.set_name for s, c in zip(self.samples, columns, strict=True) if c]
        figures = figures_of(self.ranks[:, columns], names)
        ranked = [
            (sum(h1 + 0.5 * h5 + 0.5 * mrr for h1, h5, mrr in f.values()), w, f)
            for w, f in zip(self.settings, figures, strict=True)
        ]
        return sorted(ranked, key=lambda r: -r[0])


def measure(index: HybridIndex, samples: list[Sample], grid: dict[str, list[float]] | None = None) -> MeasuredGrid:
    settings = settings_of(grid)
    answerable = [s for s in samples if s.question.expected]
    return MeasuredGrid(settings, answerable, rank_matrix(index, answerable, settings))


def grid_search(
    index: HybridIndex, samples: list[Sample], grid: dict[str, list[float]] | None = None, keep: int | None = 10
):
    """Settings ranked by Σ over sets of hit@1 + ½·hit@5 + ½·MRR (answerable questions only).

    Returns ``keep`` results ``(objective, weights, {set: (hit@1, hit@5, MRR)})``; pass
    ``keep=None`` for all of them (then see :func:`choose`).
    """
    results = measure(index, samples, grid).results()
    return results if keep is None else results[:keep]


def cross_validate(measured: MeasuredGrid, folds: int = 4) -> dict[str, tuple[float, float, float]]:
    """How the weight selection does on dev questions it did not see.

    The answerable dev questions are split into ``folds`` parts by id (the same question on
    every index and unaccented stays in one part); for each part :func:`choose` picks among
    the grid's settings without it, and the chosen setting is measured on it. Returns
    (hit@1, hit@5, MRR) per set over all the held-out parts. Other sets (kiosk) stay in
    every selection, as they do in the real one.
    """
    samples = measured.samples
    dev_ids = sorted({s.question.id for s in samples if s.set_name.removesuffix("-bare").endswith("dev")})
    order = np.random.default_rng(0).permutation(len(dev_ids))
    part = {dev_ids[k]: i % folds for i, k in enumerate(order)}
    row = {id(w): i for i, w in enumerate(measured.settings)}
    held = np.full(len(samples), MISSING, dtype=np.int32)
    for fold in range(folds):
        out = np.array([part.get(s.question.id) == fold for s in samples])
        results = measured.results(~out)
        chosen = (choose(results, keep=1) or results[:1])[0][1]
        held[out] = measured.ranks[row[id(chosen)], out]
    dev = np.array([s.question.id in part for s in samples])
    return figures_of(held[None, dev], [s.set_name for s, d in zip(samples, dev, strict=True) if d])[0]


def choose(results: list, targets: dict[str, tuple[float, float]] | None = None, keep: int = 10) -> list:
    """Among settings meeting ``targets`` (default: :func:`targets_for` the sets present) on
    their sets, the best by kiosk hit@1 + ½·MRR (as written and unaccented) + ½·dev MRR,
    summed over the indexes: how the constants in ``retrieval.hybrid`` were picked."""
    if targets is None:
        targets = targets_for(list(results[0][2]) if results else [])

    def meets(figures: dict) -> bool:
        return all(figures[name][0] >= h1 and figures[name][1] >= h5 for name, (h1, h5) in targets.items())

    def merit(figures: dict) -> float:
        kiosk = sum(figures[s][0] + 0.5 * figures[s][2] for s in figures if s.removesuffix("-bare").endswith("kiosk"))
        return kiosk + 0.5 * sum(figures[s][2] for s in figures if s.removesuffix("-bare").endswith("dev"))

    passing = [r for r in results if meets(r[2])]
    return sorted(passing, key=lambda r: -merit(r[2]))[:keep]


def _fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float, sample_weight: np.ndarray, iterations: int = 500
) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by gradient descent on standardised features;
    returns weights and bias for the raw features."""
    mean, std = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / std
    w, b = np.zeros(z.shape[1]), 0.0
    total = float(sample_weight.sum())
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = (p - y) * sample_weight
        w -= 0.5 * (z.T @ g / total + l2 * w / len(y))
        b -= 0.5 * float(g.sum()) / total
    return w / std, b - float((w / std) @ mean)


def fit_confidence(
    index: HybridIndex,
    samples: list[Sample],
    weights: dict[str, float],
    l2: float = 5.0,
    off_topic_weight: float = 0.5,
):
    """Logistic model of "answerable" on the best hit's features; LOO by question id.

    Samples of sets named ``off…`` (see :data:`OFF_TOPIC_QUESTIONS`) count ``off_topic_weight``.
    """
    names = list(index.confidence_weights)
    rows, labels, ids, sets = [], [], [], []
    for sample in samples:
        _, order = rank_of_expected(index, sample, weights)
        features = abstention.confidence_features(sample.group, sample.query, sample.signals, order)  # type: ignore[arg-type]
        rows.append([features[k] for k in names])
        labels.append(1.0 if sample.question.expected else 0.0)
        ids.append(sample.question.id)
        sets.append(sample.set_name)
    x, y = np.array(rows), np.array(labels)
    sample_weight = np.array(
        [off_topic_weight if name.removeprefix(DEPLOYMENT).startswith("off") else 1.0 for name in sets]
    )
    w, b = _fit_logistic(x, y, l2, sample_weight)
    held_out = np.zeros(len(y))
    for qid in set(ids):
        mask = np.array([i != qid for i in ids])
        w2, b2 = _fit_logistic(x[mask], y[mask], l2, sample_weight[mask])
        held_out[~mask] = 1 / (1 + np.exp(-(x[~mask] @ w2 + b2)))
    report = {}
    for threshold in (0.3, 0.4, 0.5, 0.6):
        for set_name in sorted(set(sets)):
            m = np.array([s == set_name for s in sets])
            abstained = held_out < threshold
            report[(threshold, set_name)] = (
                float(abstained[m & (y == 0)].mean()) if (m & (y == 0)).any() else math.nan,
                float(abstained[m & (y == 1)].mean()) if (m & (y == 1)).any() else math.nan,
            )
    return dict(zip(names, map(float, w), strict=True)), float(b), report


def abstention_meets(held_out: dict, threshold: float) -> bool:
    """Whether the held-out abstention (:func:`fit_confidence`'s report) meets
    :data:`ABSTAIN_TARGETS` at ``threshold`` on every dev set, as written and unaccented."""
    recall_floor, answerable_ceiling = ABSTAIN_TARGETS
    figures = [v for (t, name), v in held_out.items() if t == threshold and name.removesuffix("-bare").endswith("dev")]
    return bool(figures) and all(none >= recall_floor and answerable < answerable_ceiling for none, answerable in figures)


# Off-topic messages a commune kiosk gets (chit-chat, prices, weather, health, typos):
# no catalogue procedure answers any of them. The dev sets hold few such messages, so
# the abstention fit sees these too; they are generic, not taken from the dev sets.
# fmt: off
OFF_TOPIC_QUESTIONS: tuple[str, ...] = (
    "chào bạn", "xin chào ad ơi", "hello", "bạn có khỏe không", "cảm ơn nhiều nhé", "ok cảm ơn ad",
    "bạn là ai vậy", "kể chuyện cười đi", "tạm biệt nhé", "alo alo có ai không", "hihi", "test thử thôi",
    "asdfgh", "123456", "???", "ahihi đồ ngốc", "bot ngu quá", "em buồn quá",
    "giá xăng hôm nay bao nhiêu", "tỷ giá đô la hôm nay", "kết quả xổ số miền bắc", "trận bóng đá tối nay mấy giờ",
    "dự báo thời tiết hà nội ngày mai", "quán phở nào ngon gần đây", "cách nấu canh chua cá lóc",
    "mua điện thoại trả góp ở đâu rẻ", "lịch chiếu phim cuối tuần", "cách giảm cân nhanh nhất",
    "bị cảm cúm nên uống thuốc gì", "học tiếng anh ở đâu tốt", "mật khẩu wifi ở đây là gì",
    "cách tải ứng dụng zalo về máy", "điện thoại bị vỡ màn hình sửa ở đâu", "cách trồng rau sạch trên sân thượng",
    "nuôi chó con cho ăn gì", "mua quà sinh nhật cho bạn gái", "hôm nay là thứ mấy", "mấy giờ rồi",
    "gia vang hom nay bao nhieu", "thoi tiet mai co mua khong", "an com chua ban", "ban ten gi the",
    "tối nay ăn gì ngon", "cách làm bánh flan", "xem bói tình duyên", "chó nhà tôi bị ốm",
    "wifi chậm quá", "máy lạnh không mát phải làm sao", "đặt taxi giúp tôi", "ngân hàng nào lãi suất cao nhất",
)
# fmt: on
