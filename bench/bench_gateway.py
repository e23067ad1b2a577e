"""Gateway overhead: the same messages through the gateway and straight to bare Rasa.

Starts the real stack (Rasa, action server, gateway) on a throw-away SQLite data
directory, then, in one run and interleaved round by round, sends 16 concurrent
conversations' messages (a) to the gateway's REST API and (b) to Rasa's own REST
webhook, and prints messages per second, p50/p95 latency and the p95 ratio.
Target: the gateway adds at most 10 % to Rasa's own p95.

Run: ``make bench`` or ``.venvs/app/bin/python bench/bench_gateway.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.stack import running_stack, stack_settings  # noqa: E402

CONVERSATION = [
    "xin chào",
    "làm giấy khai sinh cần những giấy tờ gì",
    "còn lệ phí thì sao?",
    "thế mất bao lâu",
    "đăng ký kết hôn cần gì",
    "cảm ơn",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_round(client: httpx.AsyncClient, target: str, url: str, round_no: int, users: int) -> list[float]:
    async def conversation(user: int) -> list[float]:
        sender = f"bench-{target}-{round_no}-{user}"
        latencies = []
        for text in CONVERSATION:
            body = {"sender": sender, "text": text} if target == "gateway" else {"sender": sender, "message": text}
            started = time.perf_counter()
            response = await client.post(url, json=body)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            if target == "gateway" and response.json()["outcome"]:
                raise RuntimeError(f"gateway answered {response.json()['outcome']}: raise the timeout for the bench")
        return latencies

    results = await asyncio.gather(*(conversation(u) for u in range(users)))
    return [x for r in results for x in r]


async def measure(gateway_port: int, rasa_url: str, rounds: int, users: int) -> dict:
    urls = {"gateway": f"http://127.0.0.1:{gateway_port}/api/v1/messages",
            "rasa": f"{rasa_url}/webhooks/rest/webhook"}
    samples: dict[str, list[float]] = {"gateway": [], "rasa": []}
    elapsed = {"gateway": 0.0, "rasa": 0.0}
    limits = httpx.Limits(max_connections=users * 2, max_keepalive_connections=users * 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await run_round(client, "rasa", urls["rasa"], -1, users)  # warm-up, not counted
        await run_round(client, "gateway", urls["gateway"], -1, users)
        for round_no in range(rounds):
            order = ("rasa", "gateway") if round_no % 2 == 0 else ("gateway", "rasa")
            for target in order:
                started = time.perf_counter()
                samples[target] += await run_round(client, target, urls[target], round_no, users)
                elapsed[target] += time.perf_counter() - started
    report = {}
    for target, values in samples.items():
        report[target] = {"messages": len(values), "msg_per_s": round(len(values) / elapsed[target], 1),
                          "p50_ms": round(statistics.median(values), 1), "p95_ms": round(percentile(values, 0.95), 1)}
    report["p95_ratio"] = round(report["gateway"]["p95_ms"] / report["rasa"]["p95_ms"], 3)
    report["p50_ratio"] = round(report["gateway"]["p50_ms"] / report["rasa"]["p50_ms"], 3)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--users", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        # every simulated citizen comes from 127.0.0.1: the per-address chat limit would refuse them (429), as in
        # bench_scale.py
        settings = stack_settings(Path(data_dir), rasa_timeout_s=30.0, chat_ip_per_minute=1_000_000.0,
                                  chat_ip_burst=100_000)
        with running_stack(settings):
            report = asyncio.run(measure(settings.gateway_port, settings.rasa_base_url, args.rounds, args.users))
    report.update({"users": args.users, "rounds": args.rounds, "conversation_turns": len(CONVERSATION),
                   "target": "p95_ratio <= 1.10"})
    print(f"{'':10}{'msg/s':>10}{'p50 ms':>10}{'p95 ms':>10}")
    for target in ("rasa", "gateway"):
        r = report[target]
        print(f"{target:10}{r['msg_per_s']:>10}{r['p50_ms']:>10}{r['p95_ms']:>10}")
    print(f"gateway/rasa p95 ratio: {report['p95_ratio']}  (p50 ratio {report['p50_ratio']}; target ≤ 1.10)")
    out = ROOT / "bench" / "results" / "gateway.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
