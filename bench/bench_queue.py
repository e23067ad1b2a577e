"""Queue numbering under load: 32 kiosk threads, then kiosks and counters together.

For SQLite (a throw-away file, WAL, as ``motcua serve`` runs it) and PostgreSQL at
127.0.0.1:5432 (a throw-away database; skipped with the reason when unreachable):

1. **issue** — 32 threads issue ``--tickets`` tickets over the demo centre's services
   through :class:`motcua.queue.service.QueueService`, each in its own transaction;
   prints tickets per second and issue latency p50/p95, then checks every service's
   numbers run 1..n with no duplicate and no gap.
2. **mixed** — 32 threads again: one per counter calling next (then finishing) in a
   loop, the rest issuing ``--tickets`` more; prints call-next latency p50/p95 and the
   issue rate while counters work.

Target: ≥ 500 tickets/s on SQLite on 2 cores. Results go to
``bench/results/queue.json``.

Run: ``.venvs/app/bin/python bench/bench_queue.py [--tickets 1000] [--threads 32] [--no-postgres]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from motcua.db import get_engine, session_scope, upgrade_database  # noqa: E402
from motcua.queue.config import load_queue_config  # noqa: E402
from motcua.queue.models import QueueTicket  # noqa: E402
from motcua.queue.service import QueueService, seed_queue  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 50) * 1000, 2), "p95_ms": round(percentile(values, 95) * 1000, 2),
            "max_ms": round(max(values) * 1000, 2) if values else float("nan"), "count": len(values)}


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def issue_phase(url: str, service: QueueService, codes: list[str], tickets: int, threads: int) -> dict:
    barrier = threading.Barrier(threads)
    shares = split(tickets, threads)

    def kiosk(i: int) -> list[float]:
        latencies = []
        barrier.wait()
        for n in range(shares[i]):
            started = time.perf_counter()
            with session_scope(url) as session:
                service.issue(session, codes[(i + n) % len(codes)], channel="kiosk")
            latencies.append(time.perf_counter() - started)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = [x for part in pool.map(kiosk, range(threads)) for x in part]
    elapsed = time.perf_counter() - started
    return {"tickets": tickets, "threads": threads, "seconds": round(elapsed, 3),
            "tickets_per_s": round(tickets / elapsed, 1), "issue_latency": ms(latencies)}


def mixed_phase(url: str, service: QueueService, codes: list[str], counters: list[int], tickets: int,
                threads: int) -> dict:
    kiosks = threads - len(counters)
    if kiosks < 1:
        raise ValueError("need more threads than counters")
    shares = split(tickets, kiosks)
    barrier = threading.Barrier(threads)
    issuing_done = threading.Event()
    call_latencies: dict[int, list[float]] = defaultdict(list)
    issue_latencies: list[float] = []
    lock = threading.Lock()

    def kiosk(i: int) -> None:
        mine = []
        barrier.wait()
        for n in range(shares[i]):
            started = time.perf_counter()
            with session_scope(url) as session:
                service.issue(session, codes[(i + n) % len(codes)], channel="kiosk")
            mine.append(time.perf_counter() - started)
        with lock:
            issue_latencies.extend(mine)

    def counter(number: int) -> None:
        barrier.wait()
        while not issuing_done.is_set():
            started = time.perf_counter()
            with session_scope(url) as session:
                service.call_next(session, number, actor="bench")
            call_latencies[number].append(time.perf_counter() - started)
            time.sleep(0.002)  # a person at a counter does not call a thousand times a second

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        counter_jobs = [pool.submit(counter, n) for n in counters]
        kiosk_jobs = [pool.submit(kiosk, i) for i in range(kiosks)]
        for job in kiosk_jobs:
            job.result()
        elapsed = time.perf_counter() - started
        issuing_done.set()
        for job in counter_jobs:
            job.result()
    calls = [x for values in call_latencies.values() for x in values]
    return {"tickets": tickets, "kiosk_threads": kiosks, "counter_threads": len(counters),
            "seconds": round(elapsed, 3), "tickets_per_s": round(tickets / elapsed, 1),
            "issue_latency": ms(issue_latencies), "call_next_latency": ms(calls)}


def check_numbers(url: str) -> dict:
    """Every (service, day) runs 1..n: no duplicate, no gap."""
    with session_scope(url) as session:
        rows = session.execute(select(QueueTicket.issued_service, QueueTicket.day, func.count(),
                                      func.count(func.distinct(QueueTicket.number)), func.max(QueueTicket.number))
                               .group_by(QueueTicket.issued_service, QueueTicket.day)).all()
    bad = [(code, str(day)) for code, day, n, distinct, top in rows if not n == distinct == top]
    return {"series": len(rows), "tickets": sum(r[2] for r in rows), "ok": not bad, "bad": bad}


def run_backend(name: str, url: str, tickets: int, threads: int) -> dict:
    upgrade_database(url)
    config = load_queue_config()
    with session_scope(url) as session:
        seed_queue(session, config)
    service = QueueService(config)
    codes = [s.code for s in config.services]
    counters = [c.number for c in config.counters]
    print(f"\n== {name}: {url.split('@')[-1]}")
    issue = issue_phase(url, service, codes, tickets, threads)
    print(f"issue  {issue['tickets']} tickets, {threads} threads: {issue['tickets_per_s']} tickets/s "
          f"(p50 {issue['issue_latency']['p50_ms']} ms, p95 {issue['issue_latency']['p95_ms']} ms)")
    mixed = mixed_phase(url, service, codes, counters, tickets, threads)
    print(f"mixed  {mixed['kiosk_threads']} kiosks + {mixed['counter_threads']} counters: "
          f"{mixed['tickets_per_s']} tickets/s; call-next p50 {mixed['call_next_latency']['p50_ms']} ms, "
          f"p95 {mixed['call_next_latency']['p95_ms']} ms over {mixed['call_next_latency']['count']} calls")
    numbers = check_numbers(url)
    print(f"check  {numbers['tickets']} tickets in {numbers['series']} series: "
          + ("no duplicate, no gap" if numbers["ok"] else f"PROBLEM {numbers['bad']}"))
    with get_engine(url).connect() as connection:
        version = connection.execute(text("select sqlite_version()" if name == "sqlite" else "show server_version"))
        server = version.scalar()
    return {"server_version": server, "issue": issue, "mixed": mixed, "numbers": numbers}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    report: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "sqlite_library": sqlite3.sqlite_version, "platform": platform.platform()},
                    "target_sqlite_tickets_per_s": 500, "backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        report["backends"]["sqlite"] = run_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args.tickets,
                                                   args.threads)
    if not args.no_postgres:
        from tests.conftest import _postgres_reachable, create_postgres_database, drop_postgres_database

        reason = _postgres_reachable()
        if reason:
            print(f"\n== postgresql: skipped ({reason})")
            report["backends"]["postgresql"] = {"skipped": reason}
        else:
            name = f"motcua_bench_queue_{os.getpid()}"
            try:
                report["backends"]["postgresql"] = run_backend("postgresql", create_postgres_database(name),
                                                               args.tickets, args.threads)
            finally:
                drop_postgres_database(name)
    sqlite_rate = report["backends"]["sqlite"]["issue"]["tickets_per_s"]
    report["target_met"] = sqlite_rate >= report["target_sqlite_tickets_per_s"]
    print(f"\nSQLite {sqlite_rate} tickets/s — target ≥ 500: {'met' if report['target_met'] else 'NOT met'}")
    out = ROOT / "bench" / "results" / "queue.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written {out.relative_to(ROOT)}")
    ok = all(b.get("numbers", {"ok": True})["ok"] for b in report["backends"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
