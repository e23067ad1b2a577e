"""What the one answering action adds to a turn (target: ≤ 30 ms p95).

On a deployment's index as ``motcua serve`` builds it (a throw-away SQLite data directory with the
default knowledge base, embeddings through the shared cache ``var/embeddings``), the answering
action (:class:`actions.answering.ActionAnswer`) is run, in process with a real ``Tracker`` and
``CollectingDispatcher``, on citizen questions from ``tests/data`` (procedure questions, questions
to abstain on, legal-sounding ones), interleaved question by question:

- **with the search** — what a turn now does (one or two decisions, then the answer or choices);
- **names only** — the same action with no index (only the names and aliases staff keep), what
  answering a question cost before the search was asked on every turn.

Both say fees from the centre's fee table in force (``actions.fees.FeeTableInForce``: the seed with staff edits,
read from the database for a procedure the seed lists), as the action server does.

Prints p50/p95 of both and of the per-question difference, the moves made, and writes
``bench/results/answering.json`` (with the machine's load: on a shared 2-core machine the figure
is 22 ms p95 at load 1.2 and 154 ms at load 8, where the query embedding alone took 120 ms p95). The legal library is not ingested here: legal decisions run
over an empty passage group, so the figure is the procedure search's (the bigger share).

Run: ``.venvs/app/bin/python bench/bench_answering.py [--questions N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from actions.answering import ActionAnswer  # noqa: E402
from actions.fees import FeeTableInForce  # noqa: E402
from actions.knowledge import KnowledgeBase  # noqa: E402
from knowledge_base.sync import sync_defaults  # noqa: E402
from motcua.db import shared_database, upgrade_database  # noqa: E402
from motcua.search_index import open_index  # noqa: E402
from tests.stack import EMBEDDING_CACHE, stack_settings  # noqa: E402

DATA = ROOT / "tests" / "data"
RESULTS = ROOT / "bench" / "results" / "answering.json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def questions(limit: int) -> list[str]:
    """An even mix of procedure, abstain and legal questions, in file order."""
    sets = []
    for name in ("procedure_questions.jsonl", "abstain_questions.jsonl", "legal_questions.jsonl"):
        rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        sets.append([row["question"] for row in rows])
    mixed = [q for group in zip(*sets, strict=False) for q in group]
    return mixed[:limit]


def tracker(text: str) -> Tracker:
    latest = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.4}, "entities": []}
    return Tracker("bench", {}, latest, [], False, None, {}, "action_listen")


async def timed(action: ActionAnswer, text: str) -> tuple[float, str]:
    dispatcher = CollectingDispatcher()
    started = time.perf_counter()
    await action.run(dispatcher, tracker(text), {})
    elapsed = (time.perf_counter() - started) * 1000
    message = dispatcher.messages[0] if dispatcher.messages else {}
    move = (message.get("custom") or {}).get("move") or ("legal" if "legal" in (message.get("custom") or {})
                                                          else "answer")
    return elapsed, move


class NamesOnly(KnowledgeBase):
    """The same knowledge base without its index: the action falls back to staff-kept names."""

    def __init__(self, knowledge: KnowledgeBase):
        self.__dict__.update(knowledge.__dict__)
        self.search = None


async def measure(knowledge: KnowledgeBase, texts: list[str], rounds: int, fees: FeeTableInForce | None = None) -> dict:
    with_search = ActionAnswer(knowledge, fees=fees)
    names_only = ActionAnswer(NamesOnly(knowledge), fees=fees)
    for text in texts[:5]:  # warm the embedder and caches
        await timed(with_search, text)
    searched: list[float] = []
    bare: list[float] = []
    moves: Counter[str] = Counter()
    for _ in range(rounds):
        for text in texts:
            elapsed, move = await timed(with_search, text)
            searched.append(elapsed)
            moves[move] += 1
            bare.append((await timed(names_only, text))[0])
    added = [s - b for s, b in zip(searched, bare, strict=True)]

    def stats(values: list[float]) -> dict:
        return {"p50_ms": round(statistics.median(values), 1), "p95_ms": round(percentile(values, 0.95), 1)}

    return {"questions": len(texts), "rounds": rounds, "with_search": stats(searched), "names_only": stats(bare),
            "added": stats(added), "moves": dict(moves), "target": "added p95 <= 30 ms",
            "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                        "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-answering-") as tmp:
        settings = stack_settings(Path(tmp))
        upgrade_database(settings.sqlalchemy_url)
        sync_defaults(settings.sqlalchemy_url)
        knowledge = KnowledgeBase(settings.sqlalchemy_url)  # names and aliases from the database
        knowledge.warm_up()
        knowledge.search, report = open_index(settings, cache_dir=EMBEDDING_CACHE)  # as `motcua serve` builds it
        print(report.describe())
        fees = FeeTableInForce(shared_database(settings.sqlalchemy_url))  # the staff-edited table, as the action server has it
        result = asyncio.run(measure(knowledge, questions(args.questions), args.rounds, fees))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{'':14}{'p50 ms':>10}{'p95 ms':>10}")
    for key in ("with_search", "names_only", "added"):
        print(f"{key:14}{result[key]['p50_ms']:>10}{result[key]['p95_ms']:>10}")
    print(f"moves: {result['moves']}  (target: added p95 ≤ 30 ms)")


if __name__ == "__main__":
    main()
