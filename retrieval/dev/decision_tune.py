"""Choose ``PROCEDURE_POLICY`` and ``LEGAL_POLICY`` on the tuning half of ``tests/data``.

The index of a deployment (``MOTCUA_DATA_DIR``) is opened once; each question (as written and
without diacritics) is ranked once and its hits and confidence kept, so a grid of thousands of
policies costs only :func:`retrieval.decision.decide` calls. Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.decision_tune \\
        --procedures /tmp/evalsets/proc_tune.jsonl --legal /tmp/evalsets/legal_tune.jsonl

It prints the best policy of each kind (every target met on both spellings, then the most
``resolved``, the fewest choices offered) and a cross-validated estimate: the tuning half is cut
into folds **by procedure (or article)**, a policy chosen on the other folds is measured on each.
The held-out half is never read here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.decision import DecisionPolicy, _logit, decide, distinct_articles
from retrieval.dev import deployment_service
from retrieval.normalize import strip_diacritics

TARGETS = {"resolved": 0.92, "wrong_answer": 0.05, "abstention_recall": 0.85, "offered": 0.25}
LEGAL_TARGETS = {**TARGETS, "answerable_abstained": 0.10, "abstention_recall": 0.80}


@dataclass
class Ranked:
    """One question's ranking, kept to replay any policy on it."""

    group: str  # the procedure / article it is about ("" for a question to abstain on)
    gold: frozenset
    hits: list  # (key, score), best first
    confidence: float


def _key_score(hit) -> tuple[object, float]:
    if hasattr(hit, "code"):
        return hit.code, hit.score
    return (hit.document, hit.article.removeprefix("Điều ").strip()), hit.score


def collect(rank: Callable[[str], tuple[list, float]], lines: Sequence[dict], legal: bool) -> dict[str, list[Ranked]]:
    """Each question as written and without diacritics, ranked once."""
    out: dict[str, list[Ranked]] = {"as_written": [], "without_diacritics": []}
    for line in lines:
        if legal:
            gold = frozenset((g["number"], str(g["article"])) for g in line["gold"] if g.get("article"))
            group = "|".join(sorted(f"{a}#{b}" for a, b in gold))
        else:
            gold = frozenset(line["expected"])
            group = line.get("procedure") or ",".join(sorted(gold))
        for half, text in (("as_written", line["question"]), ("without_diacritics", strip_diacritics(line["question"]))):
            hits, confidence = rank(text)
            if legal:
                hits = distinct_articles(hits)
            out[half].append(Ranked(group, gold, [_key_score(h) for h in hits[:10]], confidence))
    return out


def figures(rows: Sequence[Ranked], policy: DecisionPolicy) -> dict[str, float]:
    answerable = resolved = wrong = offered = abstained = outside = outside_abstained = 0
    for row in rows:
        decision = decide(row.hits, row.confidence, policy, score=lambda h: h[1])
        shown = {key for key, _ in decision.hits}
        offered += decision.move == "offer"
        if row.gold:
            answerable += 1
            abstained += decision.move == "abstain"
            resolved += decision.move != "abstain" and bool(shown & row.gold)
            wrong += decision.move == "answer" and not shown & row.gold
        else:
            outside += 1
            outside_abstained += decision.move == "abstain"
    return {
        "resolved": resolved / max(answerable, 1),
        "wrong_answer": wrong / max(answerable, 1),
        "offered": offered / max(len(rows), 1),
        "answerable_abstained": abstained / max(answerable, 1),
        "abstention_recall": outside_abstained / max(outside, 1),
    }


def meets(f: dict[str, float], targets: dict[str, float]) -> bool:
    """Targets are floors, except the shares that must stay low (wrong, offered, abstained)."""
    ceilings = {"wrong_answer", "offered", "answerable_abstained"}
    return all(f[k] <= v if k in ceilings else f[k] >= v for k, v in targets.items())


def shortfall(f: dict[str, float], targets: dict[str, float]) -> float:
    """How far from every target (0 when all are met): what a policy is chosen on first."""
    ceilings = {"wrong_answer", "offered", "answerable_abstained"}
    return sum(max(0.0, f[k] - v) if k in ceilings else max(0.0, v - f[k]) for k, v in targets.items())


def fit_answer_model(rows: Sequence[Ranked], l2: float = 1.0) -> tuple[float, float, float, float]:
    """Logistic regression: is the first hit right? On logit(confidence), score₁, score₁ − score₂."""
    x, y = [], []
    for row in rows:
        scores = [score for _, score in row.hits[:2]] + [0.0, 0.0]
        x.append([1.0, _logit(row.confidence), scores[0], scores[0] - scores[1]])
        y.append(float(bool(row.hits) and row.hits[0][0] in row.gold))
    features, target = np.array(x), np.array(y)
    weights = np.zeros(4)
    for _ in range(3000):  # plain gradient descent: four weights, a few hundred rows
        p = 1.0 / (1.0 + np.exp(-features @ weights))
        gradient = features.T @ (p - target) / len(target) + l2 * np.r_[0.0, weights[1:]] / len(target)
        weights -= 0.5 * gradient
    return tuple(round(float(w), 3) for w in weights)  # type: ignore[return-value]


def policies(max_choices: int, model: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 0.0)) -> list[DecisionPolicy]:
    steps = [round(0.025 * i, 3) for i in range(1, 40)]
    return [DecisionPolicy(answer_at, offer_at, floor, 2, max_choices, model)
            for answer_at, offer_at, floor in itertools.product(steps, steps, (0.0, 0.7))]


def merit(sets: dict[str, list[Ranked]], policy: DecisionPolicy, targets: dict[str, float]) -> tuple:
    both = [figures(rows, policy) for rows in sets.values()]
    return (
        -sum(shortfall(f, targets) for f in both),
        sum(f["resolved"] - f["wrong_answer"] for f in both),
        -sum(f["offered"] for f in both),
    )


def choose(sets: dict[str, list[Ranked]], grid: Sequence[DecisionPolicy], targets: dict[str, float]):
    return max(grid, key=lambda p: merit(sets, p, targets))


def folds_of(rows: Sequence[Ranked], k: int, seed: int = 7) -> list[int]:
    """A fold per row, the same for every question of one procedure / article (stable hash)."""
    rng = random.Random(seed)
    return [zlib.crc32(f"{seed}{r.group}".encode()) % k if r.group else rng.randrange(k) for r in rows]


def choose_with(sets: dict[str, list[Ranked]], targets: dict[str, float], max_choices: int,
                fit: bool) -> DecisionPolicy:
    """The best policy; with ``fit``, its answer model is fitted on the same questions first."""
    model = fit_answer_model([r for rows in sets.values() for r in rows]) if fit else (0.0, 1.0, 0.0, 0.0)
    return choose(sets, policies(max_choices, model), targets)


def cross_validate(sets: dict[str, list[Ranked]], targets: dict[str, float], max_choices: int, fit: bool,
                   k: int = 4) -> dict:
    """Choose (and fit) on k-1 folds, measure on the last; the chosen policies and the pooled figures."""
    fold = folds_of(sets["as_written"], k)
    chosen, pooled = [], {half: [] for half in sets}
    for f in range(k):
        train = {h: [r for r, x in zip(rows, fold, strict=True) if x != f] for h, rows in sets.items()}
        policy = choose_with(train, targets, max_choices, fit)
        chosen.append(policy)
        for h, rows in sets.items():
            pooled[h] += [(r, policy) for r, x in zip(rows, fold, strict=True) if x == f]
    return {"policies": [p.__dict__ for p in chosen], "figures": pooled_figures(pooled)}


def pooled_figures(pooled: dict[str, list[tuple[Ranked, DecisionPolicy]]]) -> dict[str, dict[str, float]]:
    """The figures of rows each measured under its own fold's policy, pooled per spelling."""
    summary = {}
    for h, items in pooled.items():
        answerable = sum(bool(r.gold) for r, _ in items)
        totals = {key: 0.0 for key in TARGETS | {"answerable_abstained": 0}}
        for row, policy in items:
            for key, value in figures([row], policy).items():
                totals[key] += value
        shares = {"resolved": answerable, "wrong_answer": answerable, "answerable_abstained": answerable,
                  "offered": len(items), "abstention_recall": len(items) - answerable}
        summary[h] = {key: round(totals[key] / max(n, 1), 3) for key, n in shares.items()}
    return summary


def report(name: str, sets: dict[str, list[Ranked]], targets: dict[str, float], max_choices: int,
           current: DecisionPolicy) -> dict:
    out: dict[str, object] = {
        "current": {"policy": current.__dict__, **{h: figures(rows, current) for h, rows in sets.items()}}}
    for label, fit in (("confidence_only", False), ("answer_model", True)):
        best = choose_with(sets, targets, max_choices, fit)
        out[label] = {"policy": best.__dict__, **{h: figures(rows, best) for h, rows in sets.items()},
                      "cross_validated": cross_validate(sets, targets, max_choices, fit)}
    print(name, json.dumps(out, indent=1, default=lambda x: round(x, 3)))
    return out


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    from retrieval.decision import LEGAL_POLICY, PROCEDURE_POLICY

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procedures", type=Path)
    parser.add_argument("--legal", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench/results/decision_tune.json"))
    args = parser.parse_args()
    service = deployment_service()
    results = {}
    if args.procedures:
        sets = collect(service.rank, read_lines(args.procedures), legal=False)
        results["procedures"] = report("procedures", sets, TARGETS, 4, PROCEDURE_POLICY)
    if args.legal:
        sets = collect(lambda q: service.rank_passages(q, depth=10), read_lines(args.legal), legal=True)
        results["legal"] = report("legal", sets, LEGAL_TARGETS, 3, LEGAL_POLICY)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=lambda x: round(x, 4)) + "\n")


if __name__ == "__main__":
    main()
