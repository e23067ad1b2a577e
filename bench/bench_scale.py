"""Capacity with workers: simulated citizens of several centres, with 1, 2 and 3 workers of each kind.

For each worker count it starts the whole stack as ``motcua serve --workers N`` does (N Rasa servers, N
action servers, N gateway processes behind one port) on a new PostgreSQL database and the machine's Redis,
registers three centres, and lets ``--users`` citizens talk at once through the gateway's REST API, each
naming its centre: a question about a procedure, then follow-ups that only make sense with it in mind
(«còn lệ phí thì sao?», «mất bao lâu?»). Each message goes to the least busy Rasa server, so one citizen's
consecutive messages land on different workers. When the first answer names one procedure («…»), each
follow-up's answer must name it again; one that does not counts as **lost context** (a first question
answered with choices sets no context, and its follow-ups are not counted). It prints a table and, as its last line, one JSON object::

    {"runs": [{"workers": 1, "msg_per_s": …, "p95_ms": …, "busy": …, "rss_mb": …}, …], "lost_context": 0}

Each run also says where the CPU went: CPU milliseconds per message of each kind of process (Rasa, action
server, gateway, PostgreSQL, Redis, and this driver), from ``/proc`` before and after the measured rounds
(``cpu_ms_per_msg``) — what to cut to serve more citizens on the same cores (issue 24, item 5).

``--quick`` does 1 and 2 workers with fewer rounds (a few minutes); the full run (1, 2, 3) is what the
README's sizing table comes from. Needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 (on every
machine of this project, CI's included) and a trained model (trained on first use, as ``serve`` does).

Run: ``.venvs/app/bin/python bench/bench_scale.py [--quick] [--users 16] [--rounds 3] [--workers 1,2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from motcua.runtime import worker_of  # noqa: E402
from tests.stack import running_stack, stack_settings  # noqa: E402

POSTGRES_ADMIN = os.environ.get("MOTCUA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MOTCUA_BENCH_REDIS", "redis://127.0.0.1:6379/0")
CENTRES = ("xa-an-binh", "xa-tan-phu", "phuong-ba")

# (first question, follow-ups that only make sense with its procedure in mind)
CONVERSATIONS = (
    ("làm giấy khai sinh cho con cần những giấy tờ gì", ("còn lệ phí thì sao?", "thế mất bao lâu")),
    ("đăng ký kết hôn cần mang theo gì", ("lệ phí bao nhiêu", "bao lâu thì có")),
    ("thủ tục đăng ký khai tử cho ông tôi", ("có mất tiền không", "nộp ở đâu")),
    ("chứng thực bản sao từ bản chính cần mang gì", ("lệ phí thế nào", "mấy ngày thì xong")),
)
NAMED = re.compile(r"«([^»]+)»")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_block(size: int) -> int:
    """A port with the next ``size - 1`` free too (Rasa and the action servers take one each per worker)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + size >= 65535:
            continue
        try:
            held = []
            for port in range(first, first + size):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return first
    raise RuntimeError("no block of free ports")


def create_database(name: str) -> str:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_centres(database_url: str) -> None:
    from motcua.centers import add_center
    from motcua.db import session_scope

    with session_scope(database_url) as session:
        for number, code in enumerate(CENTRES, start=1):
            add_center(session, code, f"Trung tâm thử {number}", agency_code=f"000.00.{number:02d}.H01", actor="bench")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SHARED_SERVERS = {"postgres": "postgresql", "redis-server": "redis"}
"""Processes of the machine's servers, counted by their command name (the stack's own are counted by group)."""


def processes(stack, shared: bool = False) -> Iterator[tuple[Path, str]]:
    """Each running process of the stack as (its /proc directory, its kind): every process in a service's
    group, by kind (``rasa-2`` counts as ``rasa``); with ``shared``, PostgreSQL's and Redis's processes too."""
    kinds = {service.process.pid: worker_of(service.name)[0] for service in stack.services if service.process}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            kind = kinds.get(os.getpgid(int(entry.name)))
            if kind is None and shared:
                command = (entry / "comm").read_text().strip()
                kind = next((k for prefix, k in SHARED_SERVERS.items() if command.startswith(prefix)), None)
        except (OSError, ProcessLookupError):
            continue
        if kind is not None:
            yield entry, kind


def stack_rss_mb(stack) -> float:
    """Resident memory of every process of the stack (children of each service's process group)."""
    total_kb = 0
    for entry, _ in processes(stack):
        try:
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return round(total_kb / 1024, 1)


def cpu_seconds(stack) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each kind of process (:func:`processes`, PostgreSQL and Redis
    included) and by this driver."""
    kinds = {worker_of(service.name)[0] for service in stack.services if service.process}
    totals: dict[str, float] = dict.fromkeys((*sorted(kinds), *SHARED_SERVERS.values()), 0.0)
    for entry, kind in processes(stack, shared=True):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            totals[kind] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    usage = resource.getrusage(resource.RUSAGE_SELF)
    totals["driver"] = usage.ru_utime + usage.ru_stime
    return totals


def cpu_per_message(before: dict[str, float], after: dict[str, float], messages: int) -> dict[str, float]:
    """Milliseconds of CPU per message of each kind between two :func:`cpu_seconds` readings."""
    return {kind: round(max(after[kind] - before.get(kind, 0.0), 0.0) * 1000 / max(messages, 1), 1)
            for kind in after}


async def drive(port: int, users: int, rounds: int, on_start=lambda: None) -> dict:
    url = f"http://127.0.0.1:{port}/api/v1/messages"
    headers = {"Origin": f"http://127.0.0.1:{port}"}
    latencies: list[float] = []
    busy = lost = follow_ups = 0
    limits = httpx.Limits(max_connections=users * 2, max_keepalive_connections=users * 2)

    async def citizen(client: httpx.AsyncClient, user: int, round_no: int) -> None:
        nonlocal busy, lost, follow_ups
        first, rest = CONVERSATIONS[user % len(CONVERSATIONS)]
        centre = CENTRES[user % len(CENTRES)]
        sender = f"scale-{round_no}-{user}-{uuid.uuid4().hex[:6]}"
        topic = ""  # the procedure the first answer named («…»): what the follow-ups must keep
        for turn, text in enumerate((first, *rest)):
            started = time.perf_counter()
            response = await client.post(url, json={"sender": sender, "text": text, "center": centre},
                                         headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            reply = response.json()
            if reply.get("outcome"):
                busy += 1
                continue
            said = " ".join(m.get("text", "") for m in reply.get("messages", []))
            if turn == 0:
                answered = not any(m.get("buttons") and "thủ tục nào" in m.get("text", "")
                                   for m in reply.get("messages", []))  # choices offered: no context yet
                topic = next(iter(NAMED.findall(said)), "") if answered else ""
            elif topic:
                follow_ups += 1
                lost += f"«{topic}»" not in said

    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(citizen(client, u, -1) for u in range(min(users, 4))))  # warm-up, not counted
        latencies.clear()
        busy = lost = follow_ups = 0
        on_start()
        started = time.perf_counter()
        for round_no in range(rounds):
            await asyncio.gather(*(citizen(client, u, round_no) for u in range(users)))
        elapsed = time.perf_counter() - started
    return {"messages": len(latencies), "msg_per_s": round(len(latencies) / elapsed, 2),
            "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
            "busy": busy, "follow_ups": follow_ups, "lost_context": lost}


def run(workers: int, users: int, rounds: int) -> dict:
    name = f"motcua_scale_{os.getpid()}_{workers}"
    database_url = create_database(name)
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            settings = stack_settings(Path(data_dir), database_url=database_url, redis_url=REDIS_URL,
                                      workers=workers, rasa_timeout_s=30.0,
                                      # every simulated citizen comes from this machine's one address
                                      chat_ip_per_minute=1_000_000.0, chat_ip_burst=100_000)
            settings = settings.model_copy(update={"rasa_port": free_block(workers),
                                                   "action_port": free_block(workers)})
            started = time.perf_counter()
            with running_stack(settings) as stack:
                ready_s = time.perf_counter() - started
                add_centres(database_url)
                readings: list[dict[str, float]] = []
                figures = asyncio.run(drive(settings.gateway_port, users, rounds,
                                            on_start=lambda: readings.append(cpu_seconds(stack))))
                figures["cpu_ms_per_msg"] = cpu_per_message(readings[0], cpu_seconds(stack), figures["messages"])
                figures["rss_mb"] = stack_rss_mb(stack)
            figures["start_s"] = round(ready_s, 1)
    finally:
        drop_database(name)
    return {"workers": workers, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 2 workers, 1 round")
    parser.add_argument("--users", type=int, default=16, help="citizens talking at once")
    parser.add_argument("--rounds", type=int, default=None, help="conversations per citizen (default 3; quick 1)")
    parser.add_argument("--workers", default=None, help="worker counts to run, e.g. 1 or 1,2 (default: 1,2,3; "
                        "quick 1,2)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here too (full run: "
                        "bench/results/scale.json)")
    args = parser.parse_args()
    counts = tuple(int(n) for n in args.workers.split(",")) if args.workers else (1, 2) if args.quick else (1, 2, 3)
    rounds = args.rounds or (1 if args.quick else 3)
    runs = []
    for workers in counts:
        print(f"… {workers} worker(s): starting the stack", file=sys.stderr, flush=True)
        result = run(workers, args.users, rounds)
        print(f"  {json.dumps(result)}", file=sys.stderr, flush=True)
        runs.append(result)
    print(f"{'workers':>8}{'msg/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'busy':>6}{'lost':>6}{'RSS MB':>9}{'start s':>9}")
    for r in runs:
        print(f"{r['workers']:>8}{r['msg_per_s']:>9}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['busy']:>6}"
              f"{r['lost_context']:>6}{r['rss_mb']:>9}{r['start_s']:>9}")
    for r in runs:
        print(f"CPU ms a message, {r['workers']} worker(s): "
              + ", ".join(f"{kind} {ms}" for kind, ms in sorted(r["cpu_ms_per_msg"].items(), key=lambda kv: -kv[1])))
    summary = {"runs": [{k: r[k] for k in ("workers", "msg_per_s", "p95_ms", "p50_ms", "busy", "rss_mb",
                                            "messages", "follow_ups", "cpu_ms_per_msg")} for r in runs],
               "lost_context": sum(r["lost_context"] for r in runs), "users": args.users, "rounds": rounds}
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
