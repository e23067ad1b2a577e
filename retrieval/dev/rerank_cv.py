"""Learn the procedure reranker (:mod:`retrieval.rerank`) on the tuning half of ``tests/data`` only, and
say by four folds **by procedure** whether it carries over to procedures it never saw.

Each question (as written and without diacritics) is searched once with today's fused ranking; the
first :data:`~retrieval.rerank.RERANK_DEPTH` candidates and their features are kept, with what the
confidence model reads about each of them, so any reranker, confidence model and policy is replayed
with numpy. For each fold the reranker is learned on the other three, the confidence model
(:mod:`retrieval.dev.confidence_fit`) refitted and the policy (answer model and thresholds) chosen on
those three reranked by it, and all of it measured on the fourth; the pooled figures estimate what
unseen procedures get. The same is done for today's ranking (no reranker), so the two compare
like for like. Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.rerank_cv \\
        /tmp/evalsets/proc_tune.jsonl [--write]

The chosen model, confidence weights and policy are printed and saved in ``--out``; ``--write`` also
saves the model to ``retrieval/rerank_model.json``, which **switches the reranker on** in the live
search — then the confidence weights and the policy must be pasted into ``retrieval/abstention.py`` and
``retrieval/decision.py`` too (they were fitted on its ranking). The held-out half is never read here.
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from retrieval import fusion, rerank
from retrieval.abstention import AGREEMENT_SIGNALS, FIELD_DEPTH, log_rank
from retrieval.decision import DecisionPolicy
from retrieval.dev import deployment_service
from retrieval.dev.confidence_fit import Row, fit, grid, with_confidence
from retrieval.dev.decision_tune import (
    TARGETS,
    Ranked,
    choose,
    figures,
    fit_answer_model,
    folds_of,
    pooled_figures,
    read_lines,
)
from retrieval.normalize import strip_diacritics

CONFIDENCE_SETS: dict[str, tuple[str, ...]] = {
    "today's five": ("title_coverage_idf", "field_agreement", "disagreement", "query_terms", "top_score"),
    "+ reranker's first and lead": (
        "title_coverage_idf",
        "field_agreement",
        "disagreement",
        "query_terms",
        "top_score",
        "rerank_top",
        "rerank_lead",
    ),
}
CONTRAST = (
    "name_coverage",
    "distinct_covered",
    "distinct_missing",
    "rival_words",
    "sibling_similarity",
    "sibling_extra_said",
    "sibling_extra_unsaid",
    "sibling_lack_said",
    "twin_preferred",
    "twin_other",
)
OFFER_CEILINGS = (0.22, 0.20)  # tried when the folds offer more choices than today's search
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "signals only": tuple(f for f in rerank.FEATURES if f not in CONTRAST),
    "signals + title contrast": rerank.FEATURES,
}


@dataclass
class Candidates:
    """One question (one spelling) as today's search saw it."""

    half: str
    group: str  # its procedure ("" for a question no procedure answers)
    gold: frozenset[str]
    codes: list[tuple[str, ...]]  # the procedure codes each candidate stands for
    features: np.ndarray  # candidates × rerank.FEATURES
    fused: np.ndarray  # each candidate's fused score / the sum of the weights
    title_coverage_idf: np.ndarray
    query_coverage: np.ndarray
    disagreement: np.ndarray
    domains: list[str]
    query_terms: float

    @property
    def labels(self) -> np.ndarray:
        return np.array([bool(self.gold & set(c)) for c in self.codes], dtype=np.float64)


def collect(index, lines: Sequence[dict]) -> list[Candidates]:
    group = index.group("procedures")
    allowed = np.isin(group.kinds, ["procedure", "faq"])
    out = []
    for line in lines:
        gold = frozenset(line["expected"])
        name = line.get("procedure") or ",".join(sorted(gold))
        for half, text in (
            ("as_written", line["question"]),
            ("without_diacritics", strip_diacritics(line["question"])),
        ):
            analyzed = index.analyzer.analyze(text)
            vector = index.embedder.embed_queries([analyzed.dense_text])[0]
            signals = fusion.signals(group, analyzed, vector)
            fused = np.where(
                allowed, fusion.fuse(signals, index.weights, index.level_boost, group.preferred), -np.inf
            )
            order = np.argsort(-fused, kind="stable")[: int(allowed.sum())]
            positions, features = rerank.candidate_features(
                group, analyzed, signals, fused, order, index.total_weight
            )
            codes = []
            for p in positions:
                document = group.documents[int(p)]
                if document.kind == "procedure":
                    codes.append((str(document.fields.get("code") or document.id),))
                else:
                    codes.append(tuple(str(c) for c in document.fields.get("procedures") or ()))
            out.append(
                Candidates(
                    half=half,
                    group=name if gold else "",
                    gold=gold,
                    codes=codes,
                    features=features,
                    fused=fused[positions].astype(np.float64) / index.total_weight,
                    title_coverage_idf=signals["title_coverage_idf"][positions],
                    query_coverage=signals["query_coverage"][positions],
                    disagreement=np.array(
                        [max(log_rank(signals[s], int(p)) for s in AGREEMENT_SIGNALS) for p in positions]
                    ),
                    domains=[group.domains[int(p)] for p in positions],
                    query_terms=float(np.log1p(len(analyzed.content_bare))),
                )
            )
    return out


# -- models ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    kind: str  # listwise / pointwise
    names: tuple[str, ...]
    l2: float
    depth: int

    @property
    def label(self) -> str:
        which = next(k for k, v in FEATURE_SETS.items() if v == self.names)
        return f"{self.kind} / {which} / L2 {self.l2:g} / depth {self.depth}"


def _mask(names: Sequence[str]) -> np.ndarray:
    return np.array([n in names for n in rerank.FEATURES])


def train(spec: Spec, rows: Sequence[Candidates]) -> rerank.Reranker:
    """Standardise on the training rows, then a listwise softmax (the gold among the candidates) or a
    pointwise logistic regression, L2-penalised; features outside ``spec.names`` get weight 0."""
    lists = [(r.features[: spec.depth], r.labels[: spec.depth]) for r in rows if r.gold]
    x_all = np.vstack([x for x, _ in lists])
    mean = x_all.mean(axis=0)
    scale = x_all.std(axis=0)
    scale[scale < 1e-6] = 1.0
    mask = _mask(spec.names)
    standard = [((x - mean) / scale)[:, mask] for x, _ in lists]
    labels = [y for _, y in lists]
    k = int(mask.sum())

    if spec.kind == "listwise":
        usable = [(x, y) for x, y in zip(standard, labels, strict=True) if y.any()]

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            total, grad = 0.5 * spec.l2 * w @ w, spec.l2 * w
            for x, y in usable:
                z = x @ w
                z = z - z.max()
                e = np.exp(z)
                p = e / e.sum()
                g = p * y
                hit = g.sum()
                total -= np.log(max(hit, 1e-300))
                grad = grad + x.T @ (p - g / max(hit, 1e-300))
            return float(total), grad

        w = minimize(loss, np.zeros(k), jac=True, method="L-BFGS-B").x
        bias = 0.0
    else:
        x = np.vstack(standard)
        y = np.concatenate(labels)
        x1 = np.hstack([np.ones((x.shape[0], 1)), x])

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            z = x1 @ w
            p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
            eps = 1e-12
            total = (
                -(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)).sum() + 0.5 * spec.l2 * w[1:] @ w[1:]
            )
            grad = x1.T @ (p - y) + spec.l2 * np.r_[0.0, w[1:]]
            return float(total), grad

        solution = minimize(loss, np.zeros(k + 1), jac=True, method="L-BFGS-B").x
        bias, w = float(solution[0]), solution[1:]
    weights = np.zeros(len(rerank.FEATURES))
    weights[mask] = w
    return rerank.Reranker(
        weights=tuple(float(v) for v in weights),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        bias=bias,
        kind=spec.kind,
        depth=spec.depth,
    )


def replay(row: Candidates, model: rerank.Reranker | None) -> Row:
    """The question's hits and confidence features as the live search computes them with ``model``."""
    n = len(row.codes)
    if model is None or n == 0:
        order = np.arange(n)
        scores = np.maximum(row.fused, 0.0)
    else:
        depth = min(model.depth, n)
        p = model.probabilities(row.features[:depth])
        head = np.argsort(-p, kind="stable")
        order = np.concatenate([head, np.arange(depth, n)])
        scores = np.zeros(n)
        scores[head] = p[head]
        if depth < n:
            scores[depth:] = np.minimum(np.maximum(row.fused[depth:], 0.0), p.min())
    hits: dict[str, float] = {}
    for i in order:
        for code in row.codes[i]:
            hits.setdefault(code, float(scores[i]))
        if len(hits) >= 10:
            break
    top = int(order[0]) if n else 0
    domains = [row.domains[int(i)] for i in order[:FIELD_DEPTH]]
    features = {
        "title_coverage_idf": float(row.title_coverage_idf[top]) if n else 0.0,
        "field_agreement": sum(d == domains[0] for d in domains) / FIELD_DEPTH if n else 0.0,
        "disagreement": float(row.disagreement[top]) if n else 0.0,
        "query_terms": row.query_terms,
        "top_score": float(row.fused[top]) if n else 0.0,
        "rerank_top": float(scores[top]) if n else 0.0,
        "rerank_lead": float(scores[top] - scores[int(order[1])]) if n > 1 else 0.0,
    }
    ranked = Ranked(row.group, row.gold, list(hits.items())[:10], 0.0)
    return Row(ranked, features)


def halves(rows: Sequence[Row], source: Sequence[Candidates]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {"as_written": [], "without_diacritics": []}
    for row, candidates in zip(rows, source, strict=True):
        out[candidates.half].append(row)
    return out


def rank_of(row: Row) -> int:
    return next((i for i, (code, _) in enumerate(row.ranked.hits) if code in row.ranked.gold), 99)


def ranking_figures(rows: Sequence[Row]) -> dict[str, float]:
    ranks = np.array([rank_of(r) for r in rows if r.ranked.gold])
    return {
        "hit@1": round(float((ranks == 0).mean()), 3),
        "recall@4": round(float((ranks < 4).mean()), 3),
        "hit@5": round(float((ranks < 5).mean()), 3),
    }


def merit(figs: dict[str, dict[str, float]]) -> float:
    """What confidence_fit chooses by: resolved − wrong, less any shortfall on offers and recall."""
    return sum(
        f["resolved"]
        - f["wrong_answer"]
        - max(0, f["offered"] - 0.25)
        - max(0, 0.85 - f["abstention_recall"])
        for f in figs.values()
    )


def choose_policy(sets: dict[str, list[Ranked]], offered: float) -> DecisionPolicy:
    """The answer model fitted, then the thresholds chosen as confidence_fit does, with ``offered`` as the
    ceiling on choices offered."""
    model = fit_answer_model([r for rows in sets.values() for r in rows])
    return choose(sets, grid(model), {**TARGETS, "offered": offered})


def cross_validate(
    rows: Sequence[Candidates],
    spec: Spec | None,
    confidence_sets: Sequence[str],
    offered: float = TARGETS["offered"],
    k: int = 4,
) -> dict:
    """Per fold: reranker, confidence and policy fitted on the other folds, all measured on this one."""
    fold = np.array(folds_of([Ranked(r.group, r.gold, [], 0.0) for r in rows], k))
    out = {}
    ranking: dict[str, list[Row]] = {"as_written": [], "without_diacritics": []}
    pooled = {name: {"as_written": [], "without_diacritics": []} for name in confidence_sets}
    chosen = {name: [] for name in confidence_sets}
    for f in range(k):
        train_rows = [r for r, x in zip(rows, fold, strict=True) if x != f]
        test_rows = [r for r, x in zip(rows, fold, strict=True) if x == f]
        model = train(spec, train_rows) if spec else None
        fitted = halves([replay(r, model) for r in train_rows], train_rows)
        tested = halves([replay(r, model) for r in test_rows], test_rows)
        for h, items in tested.items():
            ranking[h] += items
        for name in confidence_sets:
            weights, bias = fit([r for h in fitted.values() for r in h], CONFIDENCE_SETS[name], 1.0)
            policy = choose_policy(with_confidence(fitted, weights, bias), offered)
            chosen[name].append((policy.answer_at, policy.offer_at))
            for h, items in with_confidence(tested, weights, bias).items():
                pooled[name][h] += [(r, policy) for r in items]
    out["ranking"] = {h: ranking_figures(items) for h, items in ranking.items()}
    for name in confidence_sets:
        figs = pooled_figures(pooled[name])
        out[name] = {"figures": figs, "policies": chosen[name], "merit": round(merit(figs), 4)}
    return out


def ranking_cv(rows: Sequence[Candidates], spec: Spec, k: int = 4) -> dict[str, float]:
    """Only the ranking: the reranker learned on three folds, hit@1 / recall@4 on the fourth."""
    fold = np.array(folds_of([Ranked(r.group, r.gold, [], 0.0) for r in rows], k))
    tested = []
    for f in range(k):
        model = train(spec, [r for r, x in zip(rows, fold, strict=True) if x != f])
        tested += [replay(r, model) for r, x in zip(rows, fold, strict=True) if x == f]
    return ranking_figures(tested)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "procedures", type=Path, help="the tuning half (questions and no-procedure questions)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/rerank_cv.json"))
    parser.add_argument(
        "--rows",
        type=Path,
        help="keep the searched questions in this file (a scratch path) and "
        "read them from it on the next run",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="save the chosen model to retrieval/rerank_model.json (the live search then uses it)",
    )
    args = parser.parse_args()
    if args.rows and args.rows.exists():
        rows = pickle.loads(args.rows.read_bytes())
    else:
        index = deployment_service().index
        index.reranker = None  # today's fused ranking is what the reranker learns to reorder
        rows = collect(index, read_lines(args.procedures))
        if args.rows:
            args.rows.write_bytes(pickle.dumps(rows))
    print(f"{len(rows)} rows", flush=True)
    results: dict[str, object] = {}
    today = {
        h: ranking_figures([replay(r, None) for r in rows if r.half == h])
        for h in ("as_written", "without_diacritics")
    }
    results["today_ranking"] = today
    specs = [
        Spec(kind, names, l2, depth)
        for kind in ("listwise", "pointwise")
        for names in FEATURE_SETS.values()
        for l2 in (1.0, 10.0, 100.0)
        for depth in (20, 30)
    ]
    screen = {}
    for spec in specs:
        screen[spec.label] = ranking_cv(rows, spec)
        print(f"{spec.label:70} {screen[spec.label]}", flush=True)
    results["ranking_cv"] = screen
    # the full pipeline for today and for the best rankers of each feature set and kind
    best_specs = []
    for kind in ("listwise", "pointwise"):
        for names in FEATURE_SETS.values():
            candidates = [s for s in specs if s.kind == kind and s.names == names]
            best_specs.append(
                max(candidates, key=lambda s: screen[s.label]["hit@1"] + screen[s.label]["recall@4"])
            )
    pipeline = {"today (no reranker)": cross_validate(rows, None, list(CONFIDENCE_SETS))}
    print("today", json.dumps(pipeline["today (no reranker)"]), flush=True)
    for spec in best_specs:
        pipeline[spec.label] = cross_validate(rows, spec, list(CONFIDENCE_SETS))
        print(spec.label, json.dumps(pipeline[spec.label]), flush=True)
    results["pipeline_cv"] = pipeline
    best_label, best_conf = max(
        (
            (label, name)
            for label in pipeline
            if label in {s.label for s in best_specs}
            for name in CONFIDENCE_SETS
        ),
        key=lambda lc: pipeline[lc[0]][lc[1]]["merit"],
    )
    spec = next(s for s in best_specs if s.label == best_label)

    # The reranker must not buy its answers with more choices: the highest ceiling on offers at which
    # the folds offer no more than today's search does (with the ceiling, 0.25).
    def offers(cv: dict) -> float:
        return sum(f["offered"] for f in cv[best_conf]["figures"].values()) / 2

    today_offers = offers(pipeline["today (no reranker)"])
    ceilings = {TARGETS["offered"]: pipeline[best_label]}
    for ceiling in OFFER_CEILINGS:
        ceilings[ceiling] = cross_validate(rows, spec, [best_conf], offered=ceiling)
        print(f"offers ≤ {ceiling}", json.dumps(ceilings[ceiling][best_conf]), flush=True)
    results["offer_ceilings"] = {str(c): cv[best_conf] for c, cv in ceilings.items()}
    ceiling = max((c for c, cv in ceilings.items() if offers(cv) <= today_offers), default=min(ceilings))
    model = train(spec, rows)
    final = halves([replay(r, model) for r in rows], rows)
    weights, bias = fit([r for h in final.values() for r in h], CONFIDENCE_SETS[best_conf], 1.0)
    policy = choose_policy(with_confidence(final, weights, bias), ceiling)
    chosen = {
        "reranker": spec.label,
        "confidence_set": best_conf,
        "offer_ceiling": ceiling,
        "folds": ceilings[ceiling][best_conf],
        "folds_today": pipeline["today (no reranker)"][best_conf],
        "confidence_weights": weights,
        "confidence_bias": bias,
        "policy": {
            "answer_at": policy.answer_at,
            "offer_at": policy.offer_at,
            "answer_model": policy.answer_model,
        },
        "tune_ranking": {h: ranking_figures(v) for h, v in final.items()},
        "tune_figures": {h: figures(v, policy) for h, v in with_confidence(final, weights, bias).items()},
        "model": model.to_json(),
    }
    results["chosen"] = chosen
    print(json.dumps({k: v for k, v in chosen.items() if k != "model"}, indent=1, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(results, indent=1, ensure_ascii=False, default=lambda x: round(x, 4)) + "\n"
    )
    if args.write:
        rerank.RERANKER_PATH.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {rerank.RERANKER_PATH}")


if __name__ == "__main__":
    main()
