"""The tools that chose the fusion weights and the confidence model on the tuning half of tests/data.

Hand-made rows: what the confidence is fitted to say (a right procedure among the four offered),
that the fit separates what it should, and that folds never split one procedure.
"""

from __future__ import annotations

import numpy as np

from retrieval.dev.confidence_fit import Row, cross_validate, fit, label, with_confidence
from retrieval.dev.decision_tune import Ranked, folds_of


def _row(group: str, gold: set[str], codes: list[str], features: dict[str, float]) -> Row:
    hits = [(c, 1.0 - i / 10) for i, c in enumerate(codes)]
    return Row(Ranked(group, frozenset(gold), hits, 0.5), features)


def test_the_label_is_a_right_procedure_among_the_four_offered():
    assert label(_row("a", {"A"}, ["x", "y", "z", "A", "w"], {})) == 1.0
    assert label(_row("a", {"A"}, ["x", "y", "z", "w", "A"], {})) == 0.0  # fifth: never offered
    assert label(_row("", set(), ["x", "y"], {})) == 0.0  # nothing answers: a 0


def _sets(n: int = 40) -> dict[str, list[Row]]:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(n):
        answerable = i % 3 != 0
        score = rng.uniform(0.6, 1.0) if answerable else rng.uniform(0.0, 0.4)
        codes = [f"P{i}", "q", "r", "s"] if answerable else ["q", "r", "s", "t"]
        rows.append(_row(f"p{i // 2}" if answerable else "", {f"P{i}"} if answerable else set(), codes,
                         {"top_score": score, "noise": float(rng.normal())}))
    return {"as_written": rows, "without_diacritics": rows}


def test_the_fit_separates_answerable_from_unanswerable():
    sets = _sets()
    weights, bias = fit([r for rows in sets.values() for r in rows], ["top_score", "noise"], l2=1.0)
    assert weights["top_score"] > 5 * abs(weights["noise"])
    ranked = with_confidence(sets, weights, bias)["as_written"]
    answerable = [r.confidence for r in ranked if r.gold]
    unanswerable = [r.confidence for r in ranked if not r.gold]
    assert min(answerable) > max(unanswerable)


def test_cross_validation_measures_every_row_once_with_folds_by_procedure():
    sets = _sets()
    folds = folds_of([r.ranked for r in sets["as_written"]], 4)
    by_group: dict[str, set[int]] = {}
    for row, fold in zip(sets["as_written"], folds, strict=True):
        if row.ranked.group:
            by_group.setdefault(row.ranked.group, set()).add(fold)
    assert all(len(f) == 1 for f in by_group.values())  # one procedure never in two folds
    result = cross_validate(sets, ["top_score"], l2=1.0)
    assert len(result["policies"]) == 4
    figures = result["figures"]["as_written"]
    assert figures["resolved"] == 1.0 and figures["abstention_recall"] == 1.0



def test_the_offer_ceiling_is_the_target_the_policy_is_chosen_against(monkeypatch):
    from retrieval.dev import confidence_fit

    seen = []
    monkeypatch.setattr(confidence_fit, "choose", lambda sets, grid, targets: seen.append(targets) or grid[0])
    sets = {"as_written": [], "without_diacritics": []}
    confidence_fit.choose_policy(sets, answer_model=False)
    monkeypatch.setattr(confidence_fit, "OFFER_CEILING", [0.22])
    confidence_fit.choose_policy(sets, answer_model=False)
    assert seen[0] == confidence_fit.TARGETS  # by default the target, 0.25
    assert seen[1] == {**confidence_fit.TARGETS, "offered": 0.22}
