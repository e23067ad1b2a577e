"""Fit the procedure abstention model (``CONFIDENCE_WEIGHTS``) and choose ``PROCEDURE_POLICY`` on the
tuning half of ``tests/data`` only.

The confidence the search gives is what the assistant reads to decide between offering choices and
abstaining, so it is fitted to say just that: *is a right procedure among the first four hits?* (a
question no procedure answers is a 0). A logistic regression (L2, features unscaled) over features of
the best hit that are not raw cosines, so no embedder's similarity scale is built in. Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.confidence_fit \\
        /tmp/evalsets/proc_tune.jsonl

It compares feature sets by four folds **by procedure**: on three folds the model is fitted and the
policy chosen, on the fourth both are measured; the pooled figures estimate what unseen procedures
get. Then the chosen set is fitted on the whole tuning half and printed to paste into
``retrieval/abstention.py`` and ``retrieval/decision.py``. The held-out half is never read here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from retrieval.decision import DecisionPolicy
from retrieval.dev import deployment_service
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
from retrieval.fusion import GroupResult
from retrieval.hybrid import procedure_hits
from retrieval.normalize import strip_diacritics
from retrieval.results import ProcedureHit

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "four (today's)": ("title_coverage_idf", "field_agreement", "disagreement", "query_terms"),
    "+ top score": ("title_coverage_idf", "field_agreement", "disagreement", "query_terms", "top_score"),
    "+ top score, query coverage": ("title_coverage_idf", "field_agreement", "disagreement", "query_terms",
                                    "top_score", "query_coverage"),
    "+ top score, query coverage, title z": ("title_coverage_idf", "field_agreement", "disagreement",
                                             "query_terms", "top_score", "query_coverage", "dense_title_z"),
}
OFFER_DEPTH = 4  # the choices a citizen is offered


@dataclass
class Row:
    ranked: Ranked
    features: dict[str, float]


def searched(index, lines: Sequence[dict]) -> Iterator[tuple[str, Ranked, GroupResult, list[ProcedureHit]]]:
    """Each question as written and without diacritics, searched as the deployment searches it: the
    spelling, its ten best procedures as :class:`Ranked`, the group's result and the hits themselves."""
    group = index.group("procedures")
    for line in lines:
        gold = frozenset(line["expected"])
        name = line.get("procedure") or ",".join(sorted(gold))
        for half, text in (("as_written", line["question"]), ("without_diacritics", strip_diacritics(line["question"]))):
            analyzed = index.analyzer.analyze(text)
            vector = index.embedder.embed_queries([analyzed.dense_text])[0]
            result = index.search_procedures(group, analyzed, vector, {"procedure", "faq"})
            hits = procedure_hits(group, result, 10, index.total_weight)
            yield half, Ranked(name, gold, [(h.code, h.score) for h in hits], result.confidence), result, hits


def collect(index, lines: Sequence[dict]) -> dict[str, list[Row]]:
    """Each question as written and without diacritics: its ten best procedures and the features."""
    out: dict[str, list[Row]] = {"as_written": [], "without_diacritics": []}
    for half, ranked, result, _ in searched(index, lines):
        out[half].append(Row(ranked, dict(result.features)))
    return out


def label(row: Row) -> float:
    shown = {code for code, _ in row.ranked.hits[:OFFER_DEPTH]}
    return float(bool(row.ranked.gold & shown))


def fit(rows: Sequence[Row], names: Sequence[str], l2: float) -> tuple[dict[str, float], float]:
    """Logistic regression by gradient descent (a few hundred rows, a handful of features)."""
    x = np.array([[1.0] + [r.features[n] for n in names] for r in rows])
    y = np.array([label(r) for r in rows])
    w = np.zeros(x.shape[1])
    for _ in range(6000):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        w -= 0.5 * (x.T @ (p - y) / len(y) + l2 * np.r_[0.0, w[1:]] / len(y))
    return {n: round(float(v), 3) for n, v in zip(names, w[1:], strict=True)}, round(float(w[0]), 3)


def with_confidence(sets: dict[str, list[Row]], weights: dict[str, float], bias: float) -> dict[str, list[Ranked]]:
    out = {}
    for half, rows in sets.items():
        out[half] = []
        for r in rows:
            z = bias + sum(w * r.features[n] for n, w in weights.items())
            out[half].append(replace(r.ranked, confidence=float(1.0 / (1.0 + np.exp(-z)))))
    return out


NO_ANSWER_MODEL = (0.0, 1.0, 0.0, 0.0)  # the confidence itself decides to answer


def grid(model: tuple[float, float, float, float] = NO_ANSWER_MODEL) -> list[DecisionPolicy]:
    steps = [round(0.025 * i, 3) for i in range(1, 40)]
    return [DecisionPolicy(a, o, answer_model=model) for a in steps for o in steps]


OFFER_CEILING = [TARGETS["offered"]]  # --offer-ceiling: the share of choices a policy may offer before it pays


def choose_policy(sets: dict[str, list[Ranked]], answer_model: bool) -> DecisionPolicy:
    """The best thresholds; with ``answer_model``, the answer is decided by a model of «the first hit is
    right» (confidence, first score, lead over the second) fitted on the same rows first."""
    model = fit_answer_model([r for rows in sets.values() for r in rows]) if answer_model else NO_ANSWER_MODEL
    return choose(sets, grid(model), {**TARGETS, "offered": OFFER_CEILING[0]})


def cross_validate(sets: dict[str, list[Row]], names: Sequence[str], l2: float, k: int = 4,
                   answer_model: bool = False) -> dict:
    fold = folds_of([r.ranked for r in sets["as_written"]], k)
    pooled: dict[str, list[tuple[Ranked, DecisionPolicy]]] = {h: [] for h in sets}
    chosen = []
    for f in range(k):
        train = {h: [r for r, x in zip(rows, fold, strict=True) if x != f] for h, rows in sets.items()}
        weights, bias = fit([r for rows in train.values() for r in rows], names, l2)
        policy = choose_policy(with_confidence(train, weights, bias), answer_model)
        chosen.append((policy.answer_at, policy.offer_at))
        test = with_confidence({h: [r for r, x in zip(rows, fold, strict=True) if x == f] for h, rows in sets.items()},
                               weights, bias)
        for h, rows in test.items():
            pooled[h] += [(r, policy) for r in rows]
    return {"policies": chosen, "figures": pooled_figures(pooled)}


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procedures", type=Path, help="the tuning half (questions and no-procedure questions)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/confidence_fit.json"))
    parser.add_argument("--only", metavar="SET / L2 X / answer model",
                        help="refit one setting as the code has it (e.g. after a ranking change), choosing nothing")
    parser.add_argument("--offer-ceiling", type=float, default=TARGETS["offered"],
                        help="choose policies offering choices on at most this share of questions (default the target)")
    args = parser.parse_args()
    OFFER_CEILING[0] = args.offer_ceiling
    service = deployment_service()
    sets = collect(service.index, read_lines(args.procedures))
    results: dict[str, object] = {}
    for label_, names in FEATURE_SETS.items():
        for l2 in (1.0, 5.0):
            for answer_model in (False, True):
                key = f"{label_} / L2 {l2}" + (" / answer model" if answer_model else "")
                if args.only and key != args.only:
                    continue
                cv = cross_validate(sets, names, l2, answer_model=answer_model)
                results[key] = cv
                print(f"{key:60}: {json.dumps(cv['figures'])} {cv['policies']}", flush=True)
    best = max(results, key=lambda k: sum(f["resolved"] - f["wrong_answer"] - max(0, f["offered"] - 0.25)
                                          - max(0, 0.85 - f["abstention_recall"])
                                          for f in results[k]["figures"].values()))  # type: ignore[index]
    answer_model = best.endswith(" / answer model")
    label_, l2 = best.removesuffix(" / answer model").rsplit(" / L2 ", 1)
    weights, bias = fit([r for rows in sets.values() for r in rows], FEATURE_SETS[label_], float(l2))
    policy = choose_policy(with_confidence(sets, weights, bias), answer_model)
    final = {"feature_set": best, "weights": weights, "bias": bias,
             "policy": {"answer_at": policy.answer_at, "offer_at": policy.offer_at,
                        "answer_model": policy.answer_model},
             "tune_figures": {h: figures(rows, policy) for h, rows in with_confidence(sets, weights, bias).items()}}
    results["chosen"] = final
    print(json.dumps(final, indent=1, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=lambda x: round(x, 4)) + "\n")


if __name__ == "__main__":
    main()
