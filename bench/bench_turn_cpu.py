"""Where a Rasa turn's CPU goes: every NLU component's ``process`` and every policy's prediction.

Loads a trained model in the Rasa environment (``.venvs/rasa``) and plays one turn per message
of a fixed list (the texts of ``tests/nlu/heldout.yml``, annotations removed): parse the message
(the NLU graph), then predict the next action twice (the answer, then usually ``action_listen``)
on a fresh conversation that holds only that message — what ``rasa run`` does for a turn, less
the action server. Every graph node is timed (``time.process_time``: CPU of the whole process,
TensorFlow's threads included; and wall time). A few warm-up turns are not counted.

Prints JSON: per model, CPU and wall milliseconds per message for each node, its share of the
turn's CPU, and the turn's CPU and wall p50/p95. Several models (``--model label=path``, run one
after the other in the same invocation) are compared by ratio to the first — compare within one
run: the machine is shared, absolute figures drift between runs.

Run: ``.venvs/app/bin/python bench/bench_turn_cpu.py [--quick] [--model label=path …] [--save]``.
Without ``--model`` it measures the model of the checkout's current training data (``motcua train``;
``MOTCUA_DATA_DIR`` applies). ``--save`` merges the run into ``bench/results/turn_cpu.json``
under ``runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RASA_PYTHON = Path(os.environ.get("MOTCUA_RASA_VENV", ROOT / ".venvs" / "rasa")) / "bin" / "python"
RESULTS = ROOT / "bench" / "results" / "turn_cpu.json"
QUICK_MESSAGES = 60
WARMUP = 5


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# -- the worker: runs in the Rasa environment, imports only Rasa -------------------------------------


def worker(model: str, texts: list[str], repeat: int) -> dict:
    import asyncio
    import logging
    from collections import Counter, defaultdict

    logging.disable(logging.WARNING)
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.graph import GraphNode
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    phase = {"name": "load"}
    nodes: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    original_call = GraphNode.__call__

    def timed_call(self, *inputs):
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return original_call(self, *inputs)
        finally:
            if phase["name"] == "measure":
                row = nodes[(self._node_name, f"{self._component_class.__name__}.{self._fn_name}")]
                row[0] += time.process_time() - cpu
                row[1] += time.perf_counter() - wall
                row[2] += 1

    GraphNode.__call__ = timed_call  # type: ignore[method-assign]
    started = time.perf_counter()
    agent = Agent.load(model)
    load_s = time.perf_counter() - started
    processor = agent.processor
    loop = asyncio.new_event_loop()
    listen = "action_listen"

    def turn(text: str) -> dict:
        tracker = DialogueStateTracker.from_events(
            "bench", [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted(listen)])
        cpu, wall = time.process_time(), time.perf_counter()
        parsed = loop.run_until_complete(processor.parse_message(UserMessage(text, sender_id="bench"), tracker))
        nlu_cpu, nlu_wall = time.process_time() - cpu, time.perf_counter() - wall
        tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
        actions, deciders = [], []
        for _ in range(2):
            prediction = processor._predict_next_with_tracker(tracker)
            action = processor.domain.action_names_or_texts[prediction.max_confidence_index]
            actions.append(action)
            deciders.append(prediction.policy_name or "none")
            if action == listen:
                break
            tracker.update(ActionExecuted(action, policy=prediction.policy_name))
        return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                "nlu_cpu": nlu_cpu, "nlu_wall": nlu_wall, "intent": parsed["intent"]["name"], "actions": actions,
                "deciders": deciders}

    for text in texts[:WARMUP]:
        turn(text)
    phase["name"] = "measure"
    turns = [turn(text) for _ in range(repeat) for text in texts]
    phase["name"] = "done"
    count = len(turns)
    turn_cpu = sum(t["cpu"] for t in turns)
    nlu_cpu = sum(t["nlu_cpu"] for t in turns)
    per_node = {
        name: {"component": component, "cpu_ms": round(row[0] / count * 1000, 3),
               "wall_ms": round(row[1] / count * 1000, 3), "calls_per_message": round(row[2] / count, 2),
               "share_of_turn_cpu": round(row[0] / turn_cpu, 4) if turn_cpu else None}
        for (name, component), row in sorted(nodes.items(), key=lambda item: -item[1][0])}
    timed = sum(row[0] for row in nodes.values())
    return {
        "model": model, "load_s": round(load_s, 2), "messages": count,
        "turn_cpu_ms": round(turn_cpu / count * 1000, 3),
        "nlu_cpu_ms": round(nlu_cpu / count * 1000, 3),
        "policies_cpu_ms": round((turn_cpu - nlu_cpu) / count * 1000, 3),
        "graph_overhead_cpu_ms": round((turn_cpu - timed) / count * 1000, 3),
        "turn_cpu_p50_ms": round(percentile([t["cpu"] for t in turns], 50) * 1000, 2),
        "turn_cpu_p95_ms": round(percentile([t["cpu"] for t in turns], 95) * 1000, 2),
        "turn_wall_p50_ms": round(percentile([t["wall"] for t in turns], 50) * 1000, 2),
        "turn_wall_p95_ms": round(percentile([t["wall"] for t in turns], 95) * 1000, 2),
        "predictions_per_message": round(sum(len(t["actions"]) for t in turns) / count, 2),
        "predictions_decided_by": dict(Counter(d for t in turns for d in t["deciders"]).most_common()),
        "nodes": per_node,
    }


# -- the driver: runs in the app environment ---------------------------------------------------------


def heldout_texts() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from motcua.rasa_eval import HELDOUT, plain_text, read_examples

    return [plain_text(example).strip() for _, example in read_examples(HELDOUT)]


def current_model() -> Path:
    sys.path.insert(0, str(ROOT))
    from motcua.runtime import model_path
    from motcua.settings import get_settings

    path = model_path(get_settings())
    if not path.exists():
        raise SystemExit(f"no model for the current training data at {path}: run «motcua train» first")
    return path


def measure(label: str, model: Path, texts: list[str], repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as work:
        job = Path(work) / "job.json"
        job.write_text(json.dumps({"model": str(model), "texts": texts, "repeat": repeat}, ensure_ascii=False))
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false",
               "PYTHONWARNINGS": "ignore", "LOG_LEVEL_LIBRARIES": "ERROR", "TF_ENABLE_ONEDNN_OPTS": "0",
               "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
        env.pop("PYTHONPATH", None)
        process = subprocess.run([str(RASA_PYTHON), __file__, "--worker", str(job)], cwd=ROOT, env=env,
                                 capture_output=True, text=True, check=False)
        if process.returncode != 0:
            raise SystemExit(f"{label}: the Rasa worker failed:\n{process.stderr[-3000:]}")
        return {"label": label, **json.loads(process.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", default=[], metavar="LABEL=PATH",
                        help="a trained model (repeat to compare; the first is the reference)")
    parser.add_argument("--quick", action="store_true", help=f"the first {QUICK_MESSAGES} messages, once")
    parser.add_argument("--repeat", type=int, default=2, help="passes over the messages (default 2)")
    parser.add_argument("--save", action="store_true", help=f"merge the run into {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        job = json.loads(Path(args.worker).read_text())
        print(json.dumps(worker(job["model"], job["texts"], job["repeat"])))
        return
    texts = heldout_texts()
    repeat = args.repeat
    if args.quick:
        texts, repeat = texts[:QUICK_MESSAGES], 1
    models = [tuple(m.split("=", 1)) if "=" in m else (Path(m).name, m) for m in args.model] or \
        [("current", str(current_model()))]
    runs = [measure(label, Path(path), texts, repeat) for label, path in models]
    reference = runs[0]
    for run in runs[1:]:
        run["ratio_to_first"] = {key: round(run[key] / reference[key], 3) if reference[key] else None
                                 for key in ("turn_cpu_ms", "nlu_cpu_ms", "policies_cpu_ms", "turn_wall_p95_ms")}
    result = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": platform.machine(),
              "cpus": os.cpu_count(), "load_average": os.getloadavg(), "quick": args.quick,
              "messages": len(texts) * repeat, "runs": runs}
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.save:
        saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        saved.setdefault("runs", {})["quick" if args.quick else "full"] = result
        RESULTS.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
