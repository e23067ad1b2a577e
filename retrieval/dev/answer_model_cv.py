"""Does the «is the first procedure right?» model gain from signals that contrast the first two hits?

Today's answer model (``PROCEDURE_POLICY.answer_model``) reads the confidence, the first hit's fused score
and its lead over the second. A confident wrong answer is mostly a sibling of the right procedure a hair
behind it; this compares, by four folds **by procedure** on the tuning half only, that model with one that
also reads, for the first two hits, the difference of single signals — how much more of the first's best
name the question says (``names_coverage``), how much closer the question is to one of its names
(``dense_names``), to its title (``title_coverage``) and text (``full_accented``, ``dense_summary``) — so a
sibling whose extra words («lại», «có yếu tố nước ngoài», «lưu động») the question does not say could
lose the answer to an offer. On three folds the model is fitted and the thresholds chosen as
``retrieval/dev/confidence_fit.py`` does (offers capped at the tune half's share today); on the fourth
both are measured; the pooled figures say what unseen procedures get. Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.answer_model_cv \\
        /tmp/evalsets/proc_tune.jsonl --out bench/results/answer_model_cv.json

The held-out half and the decision sets are never read here.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from retrieval import fusion
from retrieval.decision import PROCEDURE_POLICY
from retrieval.dev import deployment_service
from retrieval.dev.confidence_fit import searched
from retrieval.dev.decision_tune import TARGETS, folds_of, read_lines, shortfall

CONTRASTS = fusion.LEAD_SIGNALS
OFFER_DEPTH = 4
MAX_CHOICES = 4


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def collect(index, lines: list[dict]) -> list[dict]:
    """Per question and spelling: the ranking, confidence, and the first hit's lead over the second on each
    signal (``ProcedureHit.lead``, as the deployment computes it)."""
    rows = []
    for half, ranked, _, hits in searched(index, lines):
        lead = hits[0].lead if hits else {}
        rows.append({"half": half, "ranked": ranked, "contrast": [float(lead.get(s, 0.0)) for s in CONTRASTS]})
    return rows


def design(rows: list[dict], extended: bool) -> np.ndarray:
    x = []
    for row in rows:
        r = row["ranked"]
        scores = [s for _, s in r.hits[:2]] + [0.0, 0.0]
        base = [1.0, _logit(r.confidence), scores[0], scores[0] - scores[1]]
        x.append(base + (row["contrast"] if extended else []))
    return np.array(x)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    w = np.zeros(x.shape[1])
    for _ in range(4000):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        w -= 0.5 * (x.T @ (p - y) / len(y) + l2 * np.r_[0.0, w[1:]] / len(y))
    return w


def first_right(rows: list[dict]) -> np.ndarray:
    return np.array([float(bool(r["ranked"].hits) and r["ranked"].hits[0][0] in r["ranked"].gold) for r in rows])


def figures(rows: list[dict], certainty: np.ndarray, answer_at: float, offer_at: float,
            max_choices: int = MAX_CHOICES) -> dict[str, float]:
    answerable = resolved = wrong = offered = abstained = outside = declined = 0
    for row, sure in zip(rows, certainty, strict=True):
        r = row["ranked"]
        if not r.hits or r.confidence < offer_at:
            move, shown = "abstain", set()
        elif sure >= answer_at or len(r.hits) == 1:
            move, shown = "answer", {r.hits[0][0]}
        else:
            move, shown = "offer", {code for code, _ in r.hits[:max_choices]}
        offered += move == "offer"
        if r.gold:
            answerable += 1
            abstained += move == "abstain"
            resolved += move != "abstain" and bool(shown & r.gold)
            wrong += move == "answer" and not shown & r.gold
        else:
            outside += 1
            declined += move == "abstain"
    return {"resolved": resolved / max(answerable, 1), "wrong_answer": wrong / max(answerable, 1),
            "offered": offered / max(len(rows), 1), "answerable_abstained": abstained / max(answerable, 1),
            "abstention_recall": declined / max(outside, 1)}


STEPS = [round(0.025 * i, 3) for i in range(1, 40)]


HARD_CEILING = [False]  # --hard-ceiling: no policy may offer on more than the ceiling's share (either spelling)


def choose(rows: list[dict], certainty: np.ndarray, offer_ceiling: float, goals: dict[str, float] = TARGETS,
           max_choices: int = MAX_CHOICES) -> tuple[float, float]:
    """The thresholds (answer_at, offer_at) that come closest to ``goals`` on both spellings (offers capped at
    ``offer_ceiling``: hard with ``--hard-ceiling``), then the most resolved − wrong, the fewest offers."""
    targets = {**goals, "offered": offer_ceiling}
    others = {k: v for k, v in goals.items() if k != "offered"}
    halves = ("as_written", "without_diacritics")
    best, best_key = (0.5, 0.5), None
    for answer_at in STEPS:
        for offer_at in STEPS:
            both = []
            for half in halves:
                keep = [i for i, r in enumerate(rows) if r["half"] == half]
                both.append(figures([rows[i] for i in keep], certainty[keep], answer_at, offer_at, max_choices))
            if HARD_CEILING[0]:
                key = (all(f["offered"] <= offer_ceiling + 1e-9 for f in both),
                       -sum(shortfall(f, others) for f in both),
                       sum(f["resolved"] - f["wrong_answer"] for f in both), -sum(f["offered"] for f in both))
            else:
                key = (-sum(shortfall(f, targets) for f in both),
                       sum(f["resolved"] - f["wrong_answer"] for f in both), -sum(f["offered"] for f in both))
            if best_key is None or key > best_key:
                best, best_key = (answer_at, offer_at), key
    return best


def cross_validate(rows: list[dict], extended: bool, offer_ceiling: float, k: int = 4,
                   goals: dict[str, float] = TARGETS, max_choices: int = MAX_CHOICES, l2: float = 1.0) -> dict:
    """Fit the answer model and choose its thresholds on k − 1 folds (by ``Ranked.group``), measure on the
    last; the pooled figures per spelling and each fold's thresholds."""
    fold = np.array(folds_of([r["ranked"] for r in rows], k))
    x, y = design(rows, extended), first_right(rows)
    pooled = np.zeros(len(rows))
    chosen = []
    for f in range(k):
        train, test = fold != f, fold == f
        w = fit(x[train], y[train], l2)
        certainty = 1.0 / (1.0 + np.exp(-x @ w))
        tr = [rows[i] for i in np.flatnonzero(train)]
        policy = choose(tr, certainty[train], offer_ceiling, goals, max_choices)
        chosen.append(policy)
        pooled[test] = certainty[test]
        for i in np.flatnonzero(test):
            rows[i]["policy"] = policy
    out = {}
    for half in ("as_written", "without_diacritics"):
        totals: dict[str, float] = {}
        idx = [i for i, r in enumerate(rows) if r["half"] == half]
        answerable = sum(bool(rows[i]["ranked"].gold) for i in idx)
        for i in idx:
            one = figures([rows[i]], pooled[[i]], *rows[i]["policy"], max_choices)
            for key, value in one.items():
                totals[key] = totals.get(key, 0.0) + value
        shares = {"resolved": answerable, "wrong_answer": answerable, "answerable_abstained": answerable,
                  "offered": len(idx), "abstention_recall": len(idx) - answerable}
        out[half] = {key: round(totals[key] / max(n, 1), 3) for key, n in shares.items()}
    return {"figures": out, "policies": chosen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procedures", type=Path, help="the tuning half (questions and no-procedure questions)")
    parser.add_argument("--offer-ceiling", type=float, default=0.22, help="offers a policy may make before it pays "
                        "(default: the tune half's share today)")
    parser.add_argument("--hard-ceiling", action="store_true", help="never offer on more than the ceiling's "
                        "share, either spelling (else the ceiling is one target among the others)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    HARD_CEILING[0] = args.hard_ceiling
    lines = read_lines(args.procedures)
    if any(line.get("split") not in (None, "tune") for line in lines):
        raise SystemExit("only the tune half is read here")
    rows = collect(deployment_service().index, lines)
    result = {"today's answer model": cross_validate(rows, False, args.offer_ceiling),
              "+ contrasts of the first two": cross_validate(rows, True, args.offer_ceiling)}
    x, y = design(rows, True), first_right(rows)
    w = np.round(fit(x, y), 3)
    certainty = 1.0 / (1.0 + np.exp(-x @ w))
    answer_at, offer_at = choose(rows, certainty, args.offer_ceiling)
    result["extended model on the whole tune half"] = {
        "weights": dict(zip(["bias", "logit_confidence", "score", "lead", *CONTRASTS], w.tolist(), strict=True)),
        "answer_at": answer_at, "offer_at": offer_at,
        "tune_figures": {h: figures([r for r in rows if r["half"] == h],
                                    certainty[[i for i, r in enumerate(rows) if r["half"] == h]], answer_at, offer_at)
                         for h in ("as_written", "without_diacritics")}}
    result["today"] = {"policy": [PROCEDURE_POLICY.answer_at, PROCEDURE_POLICY.offer_at,
                                  list(PROCEDURE_POLICY.answer_model)]}
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
