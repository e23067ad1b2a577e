"""Would searching a procedure's every name help? Measured on the tuning half by folds by procedure.

A procedure has an official title and, for the commune procedures, an everyday name and aliases
(``knowledge_base/everyday_names/``). Two signals read each name on its own (``retrieval.fusion``):

- ``dense_names``: the best cosine between the question and any one name (title or alias);
- ``names_coverage``: the best share of one name's content syllables found in the question.

Each question (as written and without diacritics) is embedded once (``fusion_cv.collect``); a weighting
is a few numpy sums, judged like ``fusion_cv`` (hit@1 + recall@4), chosen on three folds by procedure and
measured on the fourth. Nothing is written into the code: this says whether a searched weighting carries
over (it did not: ``bench/results/names_cv.json``; the signals took the title signals' weights). Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.names_cv /tmp/proc_tune.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from retrieval.dev import deployment_service
from retrieval.dev.decision_tune import folds_of, read_lines
from retrieval.dev.fusion_cv import collect, merit, ranks
from retrieval.hybrid import FUSION_WEIGHTS, LEVEL_BOOST

GRID = {
    "dense_names": (0.0, 0.5, 1.0, 2.0),
    "names_coverage": (0.0, 1.0, 2.0, 3.0, 4.0),
    "dense_title": (0.0, 0.5),
    "title_coverage": (0.0, 0.5, 1.0),
    "dense_summary": (2.0, 3.0),
    "full_accented": (2.0, 3.0),
}


def summary(r: np.ndarray) -> dict[str, float]:
    return {"hit@1": round(float((r == 0).mean()), 4), "recall@4": round(float((r < 4).mean()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procedures", type=Path)
    parser.add_argument("--measure", type=Path, help="a second file measured once with each fold's choice and the all-tune choice")
    parser.add_argument("--out", type=Path, default=Path("/tmp/names_cv.json"))
    args = parser.parse_args()
    index = deployment_service().index
    rows = collect(index, read_lines(args.procedures))
    candidates = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    print(f"{len(rows)} rows, {len(candidates)} weightings", flush=True)
    table = np.stack([ranks(index, rows, {**FUSION_WEIGHTS, **c}, LEVEL_BOOST) for c in candidates])
    today = ranks(index, rows, FUSION_WEIGHTS, LEVEL_BOOST)
    without = [i for i, c in enumerate(candidates) if not c["dense_names"] and not c["names_coverage"]]
    fold = np.array(folds_of([r for r, _ in rows], 4))
    pooled = {"today": [], "chosen": [], "chosen_without_names": []}
    chosen = []
    for f in range(4):
        train, test = fold != f, fold == f
        best = int(np.argmax([merit(t[train]) for t in table]))
        best_without = without[int(np.argmax([merit(table[i][train]) for i in without]))]
        chosen.append(candidates[best])
        pooled["today"].append(today[test])
        pooled["chosen"].append(table[best][test])
        pooled["chosen_without_names"].append(table[best_without][test])
    best = int(np.argmax([merit(t) for t in table]))
    result = {
        "rows": len(rows),
        "today": summary(today),
        "cv": {k: summary(np.concatenate(v)) for k, v in pooled.items()},
        "fold_choices": chosen,
        "best_on_all": {"weights": candidates[best], **summary(table[best])},
    }
    if args.measure:
        measured = collect(index, read_lines(args.measure))
        result["measured"] = {
            "file": str(args.measure), "rows": len(measured),
            "today": summary(ranks(index, measured, FUSION_WEIGHTS, LEVEL_BOOST)),
            "best_on_all": summary(ranks(index, measured, {**FUSION_WEIGHTS, **candidates[best]}, LEVEL_BOOST)),
        }
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
