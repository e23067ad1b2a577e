"""Choose the procedure fusion weights (``FUSION_WEIGHTS``, ``LEVEL_BOOST``) on the tuning half of
``tests/data`` only, and say by cross-validation whether a choice carries over to unseen procedures.

Each question (as written and without diacritics) is analysed and embedded once and its raw signals
kept; any weighting is then a few numpy sums. A weighting is judged by what a citizen can get in one
tap: the share of answerable questions whose procedure is first (hit@1) plus the share where it is
among the four offered (recall@4). Four folds **by procedure**: the best weighting of three folds is
measured on the fourth. Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.fusion_cv /tmp/evalsets/proc_tune.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from retrieval import fusion
from retrieval.dev import deployment_service
from retrieval.dev.decision_tune import Ranked, folds_of, read_lines
from retrieval.fusion import GroupResult
from retrieval.hybrid import FUSION_WEIGHTS, LEVEL_BOOST, HybridIndex, procedure_hits
from retrieval.normalize import strip_diacritics

SEARCHED = ("full_accented", "full_bare", "dense_title", "dense_summary", "title_coverage", "query_coverage")
GRID = {
    "full_accented": (1.0, 2.0, 3.0),
    "full_bare": (0.0, 1.0, 2.0),
    "dense_title": (0.0, 0.5, 1.0, 2.0),
    "dense_summary": (0.5, 1.0, 2.0, 3.0),
    "title_coverage": (1.0, 2.0, 3.0),
    "query_coverage": (0.0, 1.0, 2.0),
}
LEVELS = (0.2, 0.4, 0.8)


def collect(index: HybridIndex, lines: list[dict]) -> list[tuple[Ranked, dict[str, np.ndarray]]]:
    group = index.group("procedures")
    rows = []
    for line in lines:
        gold = frozenset(line["expected"])
        if not gold:
            continue
        name = line.get("procedure") or ",".join(sorted(gold))
        for text in (line["question"], strip_diacritics(line["question"])):
            analyzed = index.analyzer.analyze(text)
            vector = index.embedder.embed_queries([analyzed.dense_text])[0]
            rows.append((Ranked(name, gold, [], 0.0), fusion.signals(group, analyzed, vector)))
    return rows


def ranks(index: HybridIndex, rows, weights: dict[str, float], level: float) -> np.ndarray:
    """The rank of the first gold procedure for each row (99 when not in the first 20)."""
    group = index.group("procedures")
    allowed = np.isin(group.kinds, ["procedure", "faq"])
    out = []
    for ranked, signals in rows:
        fused = np.where(allowed, fusion.fuse(signals, weights, level, group.preferred), -np.inf)
        top = np.argpartition(-fused, 60)[:60]
        order = top[np.argsort(-fused[top], kind="stable")]
        hits = procedure_hits(group, GroupResult(order, fused, 1.0, {}), 20, 1.0)
        codes = [h.code for h in hits]
        out.append(next((i for i, c in enumerate(codes) if c in ranked.gold), 99))
    return np.array(out)


def merit(r: np.ndarray) -> float:
    return float((r == 0).mean() + (r < 4).mean())


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procedures", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench/results/fusion_cv.json"))
    args = parser.parse_args()
    service = deployment_service()
    index = service.index
    rows = collect(index, read_lines(args.procedures))
    candidates = [dict(zip(SEARCHED, values, strict=True)) for values in itertools.product(*GRID.values())]
    candidates = [(c, level) for c in candidates for level in LEVELS]
    print(f"{len(rows)} rows, {len(candidates)} weightings", flush=True)
    table = np.stack([ranks(index, rows, {**FUSION_WEIGHTS, **c}, level) for c, level in candidates])
    today = ranks(index, rows, FUSION_WEIGHTS, LEVEL_BOOST)
    fold = np.array(folds_of([r for r, _ in rows], 4))
    pooled_best, pooled_today, chosen = [], [], []
    for f in range(4):
        train, test = fold != f, fold == f
        best = int(np.argmax([merit(t[train]) for t in table]))
        chosen.append(candidates[best])
        pooled_best.append(table[best][test])
        pooled_today.append(today[test])
    cv, base = np.concatenate(pooled_best), np.concatenate(pooled_today)
    best = int(np.argmax([merit(t) for t in table]))
    result = {
        "today": {"hit@1": float((today == 0).mean()), "recall@4": float((today < 4).mean())},
        "today_cv": {"hit@1": float((base == 0).mean()), "recall@4": float((base < 4).mean())},
        "chosen_cv": {"hit@1": float((cv == 0).mean()), "recall@4": float((cv < 4).mean())},
        "fold_choices": chosen,
        "best_on_all": {"weights": candidates[best][0], "level_boost": candidates[best][1],
                        "hit@1": float((table[best] == 0).mean()), "recall@4": float((table[best] < 4).mean())},
    }
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
