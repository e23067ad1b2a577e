"""Does the legal answer model gain from the first article's lead over the second on single signals?

``LEGAL_POLICY``'s answer model (answer one article, or offer two or three?) reads the confidence, the
first article's score and its lead over the second. This does for articles what
``retrieval/dev/answer_model_cv.py`` did for procedures: the model also reads the first article's lead over
the second distinct article on each single signal of the legal fusion (``PassageHit.lead``,
:data:`retrieval.legal_ranking.LEGAL_LEAD_SIGNALS`, as the deployment computes it), and its thresholds are
chosen with offers capped hard (``--hard-ceiling``; no threshold pair may offer on more than the ceiling's
share of questions in either spelling). On the tuning half only, four folds **by article** (a question to
decline is its own group): on three folds the model is fitted and the thresholds chosen, on the fourth both
are measured; the pooled figures say what unseen articles get. The same folds also try a smaller model
(the six leads the fusion weighs) and a stronger L2 (5, 20). Then each variant (one per ceiling; all nine
leads, L2 1 as for procedures) is fitted on the whole tuning half and printed as a ``DecisionPolicy``. The
index is the deployment's saved one (``MOTCUA_DATA_DIR``), opened as ``motcua eval legal`` opens it, so
the folds and the decision read the same ranking. Run::

    grep -h '"split": "tune"' tests/data/legal_questions.jsonl > /tmp/legal_tune.jsonl
    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.legal_answer_model_cv \\
        /tmp/legal_tune.jsonl --hard-ceiling --offer-ceiling 0.21 --offer-ceiling 0.25 \\
        --offer-ceiling 0.391 \\
        --out bench/results/legal_answer_model_cv.json

The held-out half and the decision set are never read by that. ``--decide FILE`` is the other use, once
per decision set: it reads the rule and the chosen variant from ``--decision`` (written before measuring),
measures today's ``LEGAL_POLICY`` and that variant on ``FILE`` as ``motcua eval legal FILE --json`` does
(the deployment's saved index, :func:`motcua.legal_eval.evaluate_legal`), and adds the figures and the
verdict to the same file; it refuses a file that already holds figures.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from retrieval.decision import LEGAL_POLICY, DecisionPolicy, distinct_articles
from retrieval.dev import answer_model_cv, decision_tune
from retrieval.dev.answer_model_cv import HARD_CEILING, choose, cross_validate, design, first_right, fit
from retrieval.dev.decision_tune import LEGAL_TARGETS, read_lines
from retrieval.legal_ranking import LEGAL_FUSION_WEIGHTS, LEGAL_LEAD_SIGNALS

HALVES = ("as_written", "without_diacritics")
MAX_CHOICES = LEGAL_POLICY.max_choices  # articles offered (2 or 3)
DEPTH = 10  # hits read per question, as motcua eval legal reads them
LEAD_SETS = {"all nine": LEGAL_LEAD_SIGNALS,
             "the six the fusion weighs": tuple(n for n in LEGAL_LEAD_SIGNALS if LEGAL_FUSION_WEIGHTS[n])}
L2S = (1.0, 5.0, 20.0)  # the answer model's L2 (today's: 1.0)


def collect(service, lines: list[dict]) -> list[dict]:
    """Each question as written and without diacritics, ranked once as the deployment ranks it: rows as
    :mod:`retrieval.dev.answer_model_cv` reads them (``half``, ``ranked``: distinct articles, and
    ``contrast``: the first article's lead over the second on each of :data:`LEGAL_LEAD_SIGNALS`)."""
    leads: list[list[float]] = []

    def rank(text: str) -> tuple[list, float]:
        hits, confidence = service.rank_passages(text, depth=DEPTH)
        lead = distinct_articles(hits)[0].lead if hits else {}
        leads.append([float(lead.get(name, 0.0)) for name in LEGAL_LEAD_SIGNALS])
        return hits, confidence

    sets = decision_tune.collect(rank, lines, legal=True)  # ranks line by line, each as written then without
    rows = []
    for i, line in enumerate(lines):
        for j, half in enumerate(HALVES):
            ranked = sets[half][i]
            if not ranked.gold:  # a question to decline is its own group: both spellings in one fold
                ranked = replace(ranked, group=f"outside:{line['id']}")
            rows.append({"half": half, "ranked": ranked, "contrast": leads[2 * i + j]})
    return rows


def today(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Today's ``LEGAL_POLICY`` replayed on the rows (through :func:`retrieval.decision.decide`)."""
    return {h: decision_tune.figures([r["ranked"] for r in rows if r["half"] == h], LEGAL_POLICY)
            for h in HALVES}


def rounded(figures: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {h: {k: round(v, 3) for k, v in f.items()} for h, f in figures.items()}


def fitted_policy(rows: list[dict], offer_ceiling: float) -> tuple[DecisionPolicy, dict]:
    """The answer model with leads fitted on all the rows (weights rounded as pasted), its thresholds chosen
    with offers capped at ``offer_ceiling``, and its figures on those rows."""
    x, y = design(rows, True), first_right(rows)
    w = np.round(fit(x, y), 3)
    certainty = 1.0 / (1.0 + np.exp(-x @ w))
    answer_at, offer_at = choose(rows, certainty, offer_ceiling, LEGAL_TARGETS, MAX_CHOICES)
    leads = tuple((name, float(v)) for name, v in zip(LEGAL_LEAD_SIGNALS, w[4:], strict=True))
    policy = replace(LEGAL_POLICY, answer_at=answer_at, offer_at=offer_at,
                     answer_model=tuple(float(v) for v in w[:4]), answer_leads=leads)  # type: ignore[arg-type]
    in_sample = {h: answer_model_cv.figures([r for r in rows if r["half"] == h],
                                            certainty[[i for i, r in enumerate(rows) if r["half"] == h]],
                                            answer_at, offer_at, MAX_CHOICES) for h in HALVES}
    return policy, rounded(in_sample)


def policy_json(policy: DecisionPolicy) -> dict[str, object]:
    data = asdict(policy)
    data["answer_leads"] = dict(policy.answer_leads)
    return data


def policy_of(data: dict[str, object]) -> DecisionPolicy:
    fields = dict(data)
    fields["answer_model"] = tuple(fields["answer_model"])  # type: ignore[arg-type]
    fields["answer_leads"] = tuple(dict(fields.get("answer_leads") or {}).items())  # type: ignore[arg-type]
    return DecisionPolicy(**fields)  # type: ignore[arg-type]


def deployment():
    """The deployment's search, opened as ``motcua eval legal`` opens it."""
    from motcua.cli import open_search_index
    from motcua.settings import get_settings

    service, _ = open_search_index(get_settings())
    return service


def tune(args: argparse.Namespace) -> None:
    HARD_CEILING[0] = args.hard_ceiling
    lines = read_lines(args.legal)
    if any(line.get("split") != "tune" for line in lines):
        raise SystemExit("only the tune half of tests/data/legal_questions.jsonl is read here")
    rows = collect(deployment(), lines)
    result: dict[str, object] = {
        "data": f"{args.legal} ({sum(bool(r['ranked'].gold) for r in rows) // 2} answerable + "
                f"{sum(not r['ranked'].gold for r in rows) // 2} to decline), both spellings",
        "today's LEGAL_POLICY": {
            "policy": policy_json(LEGAL_POLICY),
            "figures (thresholds and model chosen on this whole half: in sample)": rounded(today(rows)),
        },
    }
    for ceiling in args.offer_ceiling:
        kind = "hard" if args.hard_ceiling else "soft"
        policy, in_sample = fitted_policy(rows, ceiling)
        variant: dict[str, object] = {
            "folds: today's answer model, refitted": cross_validate(rows, False, ceiling, goals=LEGAL_TARGETS,
                                                                    max_choices=MAX_CHOICES),
            "folds: + leads of the first article": cross_validate(rows, True, ceiling, goals=LEGAL_TARGETS,
                                                                  max_choices=MAX_CHOICES),
            "whole tune half: + leads": {"policy": policy_json(policy), "figures (in sample)": in_sample},
        }
        for label, names in LEAD_SETS.items():  # fewer leads, stronger L2: does a smaller model carry over?
            for l2 in L2S:
                if (label, l2) == ("all nine", 1.0):
                    continue  # the main variant above
                narrowed = [{**r, "contrast": [r["contrast"][LEGAL_LEAD_SIGNALS.index(n)] for n in names]}
                            for r in rows]
                folds = cross_validate(narrowed, True, ceiling, goals=LEGAL_TARGETS, max_choices=MAX_CHOICES,
                                       l2=l2)
                variant[f"folds: + leads ({label}), L2 {l2}"] = folds
        result[f"offers capped at {ceiling} ({kind})"] = variant
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


def averaged(figures: dict[str, dict], key: str) -> float:
    return sum(float(figures[h][key]) for h in HALVES) / len(HALVES)


def verdict(before: dict[str, dict], after: dict[str, dict]) -> dict[str, object]:
    """The rule of the procedure decisions (``bench/results/answer_model_decision.json``), averaged over the
    two spellings."""
    def delta(key: str) -> float:
        return averaged(after, key) - averaged(before, key)

    margin = delta("resolved") - delta("wrong_answer")
    checks = {
        "resolved - wrong improves by >= 0.015": margin >= 0.015 - 1e-9,
        "resolved drops by <= 0.005": delta("resolved") >= -0.005 - 1e-9,
        "wrong rises by <= 0.005": delta("wrong_answer") <= 0.005 + 1e-9,
        "offered <= 0.25 or rises by <= 0.02": (averaged(after, "offered") <= 0.25 + 1e-9
                                                or delta("offered") <= 0.02 + 1e-9),
        "abstention recall drops by <= 0.02": delta("abstention_recall") >= -0.02 - 1e-9,
    }
    return {"deltas (averaged over both spellings)": {
                "resolved - wrong": round(margin, 4), **{k: round(delta(k), 4) for k in
                ("resolved", "wrong_answer", "offered", "answerable_abstained", "abstention_recall")}},
            "checks": checks, "keep": all(checks.values())}


def decide_on(args: argparse.Namespace) -> None:
    from motcua.legal_eval import evaluate_legal, read_legal_questions

    record = json.loads(args.decision.read_text(encoding="utf-8"))
    if "rule" not in record or not record.get("chosen"):
        raise SystemExit(f"{args.decision}: write the rule and the chosen variant before measuring")
    if "fresh" in record:
        raise SystemExit(f"{args.decision}: this set was measured already; a decision set is measured once")
    chosen = policy_of(record["variants"][record["chosen"]])
    questions = read_legal_questions(args.decide)
    service = deployment()
    figures = {"today": evaluate_legal(service, questions, policy=LEGAL_POLICY),
               record["chosen"]: evaluate_legal(service, questions, policy=chosen)}
    record["fresh"] = {"file": str(args.decide), "figures": figures}
    record["verdict"] = verdict(figures["today"], figures[record["chosen"]])
    args.decision.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({"fresh": record["fresh"], "verdict": record["verdict"]}, indent=1, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("legal", type=Path, nargs="?",
                        help="the tune half of tests/data/legal_questions.jsonl")
    parser.add_argument("--offer-ceiling", type=float, action="append", default=None,
                        help="a ceiling on offers to choose thresholds under (repeat for several variants)")
    parser.add_argument("--hard-ceiling", action="store_true", help="never offer on more than the ceiling's "
                        "share, either spelling (else the ceiling is one target among the others)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--decide", type=Path, default=None, help="a decision set, measured once (see above)")
    parser.add_argument("--decision", type=Path,
                        default=Path("bench/results/legal_answer_model_decision.json"))
    args = parser.parse_args()
    if args.decide:
        decide_on(args)
        return
    if args.legal is None:
        parser.error("give the tune half, or --decide FILE")
    args.offer_ceiling = args.offer_ceiling or [LEGAL_TARGETS["offered"]]
    tune(args)


if __name__ == "__main__":
    main()
