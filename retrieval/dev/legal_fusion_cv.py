"""Choose the legal fusion weights (``LEGAL_FUSION_WEIGHTS``, ``ARTICLE_SPREAD``) on the tuning half
of ``tests/data`` only, and say by cross-validation whether a choice carries over to unseen articles.

The same method as :mod:`retrieval.dev.fusion_cv`, for the passages group. Each legal question (as
written and without diacritics) is analysed as the deployment does
(``analyze_legal(text, analyze(text))``), embedded once, and its raw passage signals kept
(:func:`retrieval.fusion.passage_signals`); each signal is scaled once as
:meth:`HybridIndex.fuse` scales it. A weighting is then one matrix product, and the article
aggregation of :func:`retrieval.legal_ranking.rank_articles` (best clause + spread·second +
spread²·third, over the best ``AGGREGATE_POOL`` clauses) is replayed with numpy for every
weighting at once. The replay is checked against ``passage_scores`` + ``rank_articles`` on the
deployment's own weighting and on a sample of the grid (the mismatches are printed and saved).

A weighting is judged by what a citizen can get in one tap: the share of questions whose article
is first (hit@1) plus the share where it is among the three offered (recall@3). Questions with no
gold article (outside the library) are skipped. Four folds **by article**: the best weighting of
three folds is measured on the fourth. Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.legal_fusion_cv \\
        /tmp/evalsets/legal_tune.jsonl --out /tmp/exp/legal_fusion.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from retrieval import fusion, legal_ranking
from retrieval.dev import deployment_service
from retrieval.dev.decision_tune import Ranked, folds_of, read_lines
from retrieval.hybrid import HybridIndex
from retrieval.normalize import strip_diacritics

SEARCHED = (
    "full_accented",
    "full_bare",
    "dense_summary",
    "dense_title",
    "title_coverage",
    "query_coverage",
    "document_mention",
)
GRID = {  # every value the deployment uses today is on the grid
    "full_accented": (1.0, 2.0, 3.0),
    "full_bare": (0.0, 0.5, 1.0),
    "dense_summary": (0.5, 1.0, 2.0),
    "dense_title": (0.0, 0.5, 1.0),
    "title_coverage": (0.0, 0.5, 1.0),
    "query_coverage": (0.5, 1.0, 2.0),
    "document_mention": (0.0, 0.5, 1.0),
}
SPREADS = (0.0, 0.15)
OFFERED = 3  # articles a citizen is offered
MISSING = 99  # rank of a question whose gold article is not among the aggregated ones
CHECKED = 40  # grid weightings replayed the slow way to check the fast one


@dataclass
class Row:
    ranked: Ranked  # group = the article key (decision_tune.collect's), gold = (number, article)
    half: str  # "as_written" / "without_diacritics"
    scaled: np.ndarray  # (len(SEARCHED), n) each signal scaled as HybridIndex.fuse scales it
    fixed: np.ndarray  # (n,) the weighted signals not searched, minus the not-in-force penalty
    signals: dict[str, np.ndarray]  # raw, for the slow check
    gold_articles: np.ndarray  # article ids (group.article_ids values) of the gold articles


def article_key(article: object) -> str:
    return str(article).removeprefix("Điều ").strip()


def collect(index: HybridIndex, lines: list[dict], on: date) -> tuple[list[Row], list[str]]:
    group = index.group("passages")
    n = len(group)
    ids = group.article_ids
    by_key: dict[tuple[str, str], set[int]] = {}
    for position, document in enumerate(group.documents):
        key = (str(document.fields.get("document", "")), article_key(document.fields.get("article", "")))
        by_key.setdefault(key, set()).add(int(ids[position]))
    in_force = legal_ranking.in_force_mask(group.valid_from, group.valid_until, on)
    penalty = np.where(in_force, 0.0, index.not_in_force_penalty).astype(np.float32)
    zeros = np.zeros(n, dtype=np.float32)
    rows, unknown = [], []
    for line in lines:
        gold = frozenset((g["number"], str(g["article"])) for g in line.get("gold") or () if g.get("article"))
        if not gold:
            continue  # outside the library: nothing to rank
        name = "|".join(sorted(f"{a}#{b}" for a, b in gold))
        articles = sorted({i for key in gold for i in by_key.get((key[0], article_key(key[1])), ())})
        if not articles:
            unknown.append(f"{line.get('id')}: {sorted(gold)}")
            continue
        for half, text in (("as_written", line["question"]), ("without_diacritics", strip_diacritics(line["question"]))):
            base = index.analyzer.analyze(text)
            analyzed = index.analyzer.analyze_legal(text, base)
            vector = index.embedder.embed_queries([base.dense_text])[0]
            signals = fusion.passage_signals(group, analyzed, vector)
            # level boost 1 on a zero vector: fuse starts from zeros without needing full_accented
            scaled = np.stack([fusion.fuse({s: signals[s]}, {s: 1.0}, 1.0, zeros) for s in SEARCHED])
            rest = {k: w for k, w in index.legal_weights.items() if k not in SEARCHED and w}
            fixed = fusion.fuse(signals, rest, 0.0, zeros) if rest else zeros.copy()
            rows.append(Row(Ranked(name, gold, [], 0.0), half, scaled, (fixed - penalty).astype(np.float32),
                            signals, np.array(articles, dtype=np.int64)))
    return rows, unknown


class Replay:
    """Article ranks of a row under many weightings at once (numpy form of ``rank_articles``)."""

    def __init__(self, article_ids: np.ndarray, depth: int, pool: int):
        self.order = np.argsort(article_ids, kind="stable")
        sorted_ids = article_ids[self.order]
        self.starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        self.lengths = np.diff(np.r_[self.starts, sorted_ids.size])
        self.articles = sorted_ids[self.starts]  # article id of each segment
        self.depth, self.pool = depth, pool

    def ranks(self, row: Row, weights: np.ndarray, spreads: tuple[float, ...]) -> np.ndarray:
        """(len(spreads), len(weights)) rank of the first gold article (MISSING when not aggregated)."""
        fused = (weights.astype(np.float32) @ row.scaled) + row.fixed  # (K, n)
        n = fused.shape[1]
        count = min(self.pool, n)
        threshold = np.partition(fused, n - count, axis=1)[:, n - count : n - count + 1]
        pooled = np.where(fused >= threshold, fused, -np.inf)[:, self.order]
        levels = []  # best, second, third… clause of each article, (K, A) each
        current = pooled
        for level in range(self.depth):
            best = np.maximum.reduceat(current, self.starts, axis=1)
            levels.append(best)
            if level + 1 < self.depth:
                current = np.where(current == np.repeat(best, self.lengths, axis=1), -np.inf, current)
        gold = np.isin(self.articles, row.gold_articles)
        out = np.empty((len(spreads), fused.shape[0]), dtype=np.int64)
        for s, spread in enumerate(spreads):
            total = levels[0].copy()
            if spread:
                for level in range(1, self.depth):
                    total += (spread**level) * np.maximum(levels[level], 0.0)
            total = np.where(np.isfinite(levels[0]), total, -np.inf)
            best_gold = np.where(gold, total, -np.inf).max(axis=1)
            above = (total > best_gold[:, None]).sum(axis=1)
            out[s] = np.where(np.isfinite(best_gold), np.minimum(above, MISSING), MISSING)
        return out


def slow_rank(index: HybridIndex, row: Row, weights: dict[str, float], spread: float, on: date) -> int:
    """The deployment's own path: passage_scores, rank_articles, one hit an article."""
    group = index.group("passages")
    fused = index.passage_scores(group, row.signals, weights, on)
    ranking = legal_ranking.rank_articles(fused, group.article_ids, spread)
    keys, seen = [], set()
    for position in ranking.best_units[:20]:
        fields = group.documents[int(position)].fields
        key = (str(fields.get("document", "")), article_key(fields.get("article", "")))
        if key not in seen:  # as retrieval.decision.distinct_articles
            seen.add(key)
            keys.append(key)
    gold = {(d, article_key(a)) for d, a in row.ranked.gold}
    return next((i for i, k in enumerate(keys) if k in gold), MISSING)


def merit(r: np.ndarray) -> float:
    return float((r == 0).mean() + (r < OFFERED).mean())


def figures(r: np.ndarray) -> dict[str, float]:
    return {"hit@1": round(float((r == 0).mean()), 4), f"recall@{OFFERED}": round(float((r < OFFERED).mean()), 4),
            "questions": int(r.size)}


def by_half(r: np.ndarray, halves: np.ndarray) -> dict[str, dict[str, float]]:
    return {"all": figures(r), **{h: figures(r[halves == h]) for h in ("as_written", "without_diacritics")}}


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path, help="legal tune half (jsonl with gold articles)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/legal_fusion_cv.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    service = deployment_service()
    index = service.index
    group = index.group("passages")
    on = date.today()  # what rank_passages(on=None) uses
    built = time.perf_counter()
    rows, unknown = collect(index, read_lines(args.questions), on)
    collected = time.perf_counter()
    today_weights, today_spread = dict(index.legal_weights), index.article_spread
    print(f"index built in {built - started:.0f} s; {len(group)} passages, {len(set(group.article_ids))} articles; "
          f"{len(rows)} rows collected in {collected - built:.0f} s; gold not in the library: {unknown}", flush=True)

    candidates = [dict(zip(SEARCHED, values, strict=True)) for values in itertools.product(*GRID.values())]
    matrix = np.array([[c[s] for s in SEARCHED] for c in candidates], dtype=np.float32)
    settings_list = [(c, spread) for spread in SPREADS for c in candidates]  # table row = s * K + k
    replay = Replay(group.article_ids, legal_ranking.ARTICLE_DEPTH, legal_ranking.AGGREGATE_POOL)
    t0 = time.perf_counter()
    replay.ranks(rows[0], matrix[:1], SPREADS)
    one = time.perf_counter() - t0
    print(f"{len(settings_list)} weightings; one weighting on one row: {one * 1e3:.1f} ms", flush=True)
    table = np.empty((len(settings_list), len(rows)), dtype=np.int64)
    t0 = time.perf_counter()
    for j, row in enumerate(rows):
        table[:, j] = replay.ranks(row, matrix, SPREADS).reshape(-1)
    grid_seconds = time.perf_counter() - t0
    print(f"grid replayed in {grid_seconds:.0f} s", flush=True)

    # today's figures, the deployment's own path
    today = np.array([slow_rank(index, row, today_weights, today_spread, on) for row in rows])
    # the fast replay checked against the slow path: today's weighting and a sample of the grid
    today_vector = np.array([[today_weights.get(s, 0.0) for s in SEARCHED]], dtype=np.float32)
    fast_today = np.stack([replay.ranks(row, today_vector, (today_spread,))[0, 0] for row in rows])
    sample = random.Random(7).sample(range(len(settings_list)), CHECKED)
    mismatches = int(((np.minimum(fast_today, OFFERED) != np.minimum(today, OFFERED))).sum())
    for i in sample:
        c, spread = settings_list[i]
        slow = np.array([slow_rank(index, row, {**today_weights, **c}, spread, on) for row in rows])
        mismatches += int((np.minimum(slow, OFFERED) != np.minimum(table[i], OFFERED)).sum())
    checked = (CHECKED + 1) * len(rows)
    print(f"replay check: {mismatches} of {checked} ranks differ (capped at {OFFERED})", flush=True)

    halves = np.array([r.half for r in rows])
    fold = np.array(folds_of([r.ranked for r in rows], 4))
    merits = np.array([[merit(t[fold != f]) for t in table] for f in range(4)])
    pooled_best, pooled_today, pooled_halves, chosen = [], [], [], []
    for f in range(4):
        test = fold == f
        best = int(np.argmax(merits[f]))
        c, spread = settings_list[best]
        chosen.append({"weights": c, "spread": spread, "train_merit": round(float(merits[f][best]), 4),
                       "test": figures(table[best][test])})
        pooled_best.append(table[best][test])
        pooled_today.append(today[test])
        pooled_halves.append(halves[test])
    cv, base, cv_halves = np.concatenate(pooled_best), np.concatenate(pooled_today), np.concatenate(pooled_halves)
    all_merits = np.array([merit(t) for t in table])
    best = int(np.argmax(all_merits))
    ties = int((all_merits >= all_merits[best] - 1e-12).sum())
    today_index = next((i for i, (c, s) in enumerate(settings_list)
                        if s == today_spread and all(c[k] == today_weights.get(k, 0.0) for k in SEARCHED)), None)
    result = {
        "questions": {"rows": len(rows), "articles": len({r.ranked.group for r in rows}),
                      "folds": [int((fold == f).sum()) for f in range(4)], "gold_not_in_library": unknown},
        "day": on.isoformat(),
        "today": {"weights": today_weights, "spread": today_spread, **by_half(today, halves)},
        "today_cv": figures(base),
        "chosen_cv": by_half(cv, cv_halves),
        "fold_choices": chosen,
        "best_on_all": {"weights": settings_list[best][0], "spread": settings_list[best][1],
                        "merit": round(float(all_merits[best]), 4), "tied_weightings": ties,
                        **by_half(table[best], halves)},
        "today_on_grid_merit": None if today_index is None else round(float(all_merits[today_index]), 4),
        "grid": {"values": GRID, "spreads": SPREADS, "weightings": len(settings_list)},
        "replay_check": {"ranks_checked": checked, "differ_capped": mismatches},
        "seconds": {"index": round(built - started), "collect": round(collected - built),
                    "grid": round(grid_seconds), "total": round(time.perf_counter() - started)},
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
