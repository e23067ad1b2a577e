"""Decide the learned procedure reranker (:mod:`retrieval.rerank`) on the fresh decision set.

The reranker was learned on the tuning half of ``tests/data`` and measured once on the held-out half,
where it cut wrong answers but offered choices more often (README, «retrieval figures»). This script
measures it once more on ``tests/data/fresh_procedures.jsonl``, written after that and never tuned on,
under a rule fixed before measuring (:func:`decide`), and writes ``bench/results/fresh_decision.json``.

The search is the deployment's own index (as ``motcua eval retrieval`` opens it), under three settings:

- ``off`` — today's search: no reranker, today's confidence model and ``PROCEDURE_POLICY``;
- ``on`` — what switching the reranker on means (``rerank_cv`` docstring): the model of
  ``bench/results/rerank_cv.json`` (``chosen.model``) **with** the confidence weights and the policy
  fitted on its ranking (``chosen.confidence_weights`` / ``confidence_bias`` / ``policy``);
- ``model_only`` — the model file alone, confidence and policy as today: what ``motcua eval retrieval``
  measures when ``retrieval/rerank_model.json`` is present and nothing else is changed.

Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.rerank_fresh \\
        tests/data/fresh_procedures.jsonl [--out bench/results/fresh_decision.json]

Nothing here is chosen: the thresholds, weights and the model come from the files as they are.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
import tempfile
from pathlib import Path

from retrieval import embedders
from retrieval.decision import PROCEDURE_POLICY, DecisionPolicy
from retrieval.evaluate import EvalFigures, EvalReport, evaluate, read_questions
from retrieval.rerank import Reranker

HALVES = ("as_written", "without_diacritics")
FIGURES = ("hit_at_1", "hit_at_5", "mrr", "resolved", "wrong_answer", "offered", "answerable_abstained",
           "abstention_recall", "abstention_precision")
# The rule, fixed before measuring: switch the reranker on iff on the fresh
# set, the two halves averaged, wrong_answer drops by at least 0.02, resolved drops by no more than 0.01,
# and offered stays at or under 0.25 or rises by no more than 0.03.
WRONG_DROP = 0.02
RESOLVED_LOSS = 0.01
OFFERED_CEILING = 0.25
OFFERED_RISE = 0.03


def figures(report: EvalReport) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for half in HALVES:
        f: EvalFigures = getattr(report, half)
        out[half] = {name: round(float(getattr(f, name)), 4) for name in FIGURES}
        out[half]["n"] = f"{f.answerable}+{f.unanswerable}"  # type: ignore[assignment]
    return out


def averaged(figs: dict[str, dict[str, float]], name: str) -> float:
    return sum(float(figs[h][name]) for h in HALVES) / len(HALVES)


def decide(off: dict[str, dict[str, float]], on: dict[str, dict[str, float]]) -> dict[str, object]:
    """The fixed rule on the two settings' figures (each averaged over the two halves)."""
    wrong = averaged(on, "wrong_answer") - averaged(off, "wrong_answer")
    resolved = averaged(on, "resolved") - averaged(off, "resolved")
    offered_on = averaged(on, "offered")
    offered = offered_on - averaged(off, "offered")
    checks = {
        f"wrong_answer drops by >= {WRONG_DROP}": wrong <= -WRONG_DROP + 1e-9,
        f"resolved drops by <= {RESOLVED_LOSS}": resolved >= -RESOLVED_LOSS - 1e-9,
        f"offered <= {OFFERED_CEILING} or rises by <= {OFFERED_RISE}": (
            offered_on <= OFFERED_CEILING + 1e-9 or offered <= OFFERED_RISE + 1e-9
        ),
    }
    return {
        "delta_averaged": {"wrong_answer": round(wrong, 4), "resolved": round(resolved, 4),
                           "offered": round(offered, 4)},
        "offered_on_averaged": round(offered_on, 4),
        "checks": checks,
        "switch_on": all(checks.values()),
    }


def tune_half(procedure: str) -> bool:
    """Whether a procedure falls in the tuning half of ``tests/data`` (its split rule: sha1 even)."""
    return int(hashlib.sha1(procedure.encode("utf-8")).hexdigest(), 16) % 2 == 0


def by_half_of_tests_data(report: EvalReport) -> dict[str, dict[str, object]]:
    """Answerable questions whose procedure the reranker's tuning half holds (it may have learned from
    them) apart from the rest: resolved / wrong, as written."""
    groups: dict[str, list] = {"tune_procedures": [], "other_procedures": []}
    for r in report.as_written.results:
        if r.expected:
            groups["tune_procedures" if tune_half(r.expected[0]) else "other_procedures"].append(r)
    return {
        name: {
            "n": len(rows),
            "resolved": round(sum(r.resolved for r in rows) / len(rows), 4) if rows else 0.0,
            "wrong_answer": round(sum(r.wrong_answer for r in rows) / len(rows), 4) if rows else 0.0,
        }
        for name, rows in groups.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path, help="the fresh decision set")
    parser.add_argument("--results", type=Path, default=Path("bench/results/rerank_cv.json"),
                        help="rerank_cv's results: the model, its confidence weights and policy")
    parser.add_argument("--out", type=Path, default=Path("bench/results/fresh_decision.json"))
    parser.add_argument("--procedures-only", type=Path, metavar="CACHE_DIR",
                        help="build, in memory, an index of the deployment's procedures and FAQ only (no legal "
                             "passages), with the embedding cache in CACHE_DIR, instead of opening the saved index")
    args = parser.parse_args()

    from motcua.search_index import knowledge_documents, open_index
    from motcua.settings import get_settings
    from retrieval.service import RetrievalService

    chosen = json.loads(args.results.read_text(encoding="utf-8"))["chosen"]
    model = Reranker.from_json(chosen["model"])
    policy_on = DecisionPolicy(answer_at=chosen["policy"]["answer_at"], offer_at=chosen["policy"]["offer_at"],
                               answer_model=tuple(chosen["policy"]["answer_model"]))
    questions = read_questions(args.questions)
    settings = get_settings()
    embedders.RECENT_QUERIES = 4 * len(questions)  # each setting asks the same questions: embed them once
    if args.procedures_only:
        documents, synonyms = knowledge_documents(settings.sqlalchemy_url)
        service = RetrievalService(embedder=settings.embedding_model, synonyms=synonyms, autosave=False,
                                   cache_dir=args.procedures_only)
        with tempfile.TemporaryDirectory() as scratch:
            service.build([d for d in documents if d.kind != "passage"], scratch)
        where = f"in-memory index of the procedures and FAQ of the deployment at {settings.data_dir} (legal " \
                "passages left out)"
    else:
        service, _ = open_index(settings)
        where = f"the saved index of the deployment at {settings.data_dir}"
    index = service.index
    today = (dict(index.confidence_weights), index.confidence_bias)

    settings_run = {
        "off": (None, today, PROCEDURE_POLICY),
        "on": (model, (dict(chosen["confidence_weights"]), float(chosen["confidence_bias"])), policy_on),
        "model_only": (model, today, PROCEDURE_POLICY),
    }
    reports: dict[str, EvalReport] = {}
    for name, (reranker, (weights, bias), policy) in settings_run.items():
        index.reranker = reranker
        index.confidence_weights, index.confidence_bias = weights, bias
        reports[name] = evaluate(service, questions, policy=policy)
        print(name, reports[name].summary(), sep="\n", flush=True)
    index.reranker = None
    index.confidence_weights, index.confidence_bias = today

    measured = {name: figures(r) for name, r in reports.items()}
    decision = decide(measured["off"], measured["on"])
    moved = [
        {"id": a.id, "expected": list(a.expected), "off": [a.move, a.shown], "on": [b.move, b.shown]}
        for a, b in zip(reports["off"].as_written.results, reports["on"].as_written.results, strict=True)
        if (a.move, a.shown) != (b.move, b.shown)
    ]
    result = {
        "summary": "Learned reranker decided on a fresh set written after it and never tuned on "
                   "(issue 18). Rule fixed before measuring; see 'rule'.",
        "date": datetime.date.today().isoformat(),
        "data": f"{args.questions} ({reports['off'].as_written.answerable} answerable + "
                f"{reports['off'].as_written.unanswerable} to decline)",
        "index": f"{where}; deployment made by db upgrade, kb load-defaults, kb import-dichvucong, kb ingest "
                 f"of the 11 shared legal texts, kb reindex; embedder {settings.embedding_model}",
        "run": "MOTCUA_DATA_DIR=" + str(settings.data_dir) + " .venvs/app/bin/python -m retrieval.dev.rerank_fresh "
               + " ".join(sys.argv[1:]),
        "commands": [
            "MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.rerank_fresh "
            "tests/data/fresh_procedures.jsonl",
            "MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/motcua eval retrieval "
            "tests/data/fresh_procedures.jsonl --json   # without, then with retrieval/rerank_model.json",
        ],
        "rule": "switch on iff, as written and without diacritics averaged, wrong_answer drops by >= 0.02, "
                "resolved drops by <= 0.01, and offered stays <= 0.25 or rises by <= 0.03 ('on' against 'off')",
        "settings": {
            "off": "no reranker; CONFIDENCE_WEIGHTS / CONFIDENCE_BIAS and PROCEDURE_POLICY as in the code",
            "on": "rerank_cv.json chosen.model with chosen.confidence_weights / confidence_bias / policy",
            "model_only": "rerank_cv.json chosen.model; confidence and policy as in the code "
                          "(= motcua eval retrieval with retrieval/rerank_model.json present)",
        },
        "figures": measured,
        "by_procedure_half_as_written": {name: by_half_of_tests_data(r) for name, r in reports.items()},
        "decision": decision,
        "moved_as_written": moved,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(decision, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
