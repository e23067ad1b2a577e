"""The capacity benchmark's quick run, in the suite: ``bench/bench_scale.py --quick`` starts the whole
assistant with 1 and then 2 workers of each kind on PostgreSQL and Redis, lets simulated citizens of three
centres talk through the one gateway port, and no follow-up may lose the procedure its conversation is
about when its messages land on different Rasa servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _postgres_reachable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def test_quick_scale_run_keeps_every_conversations_context_with_one_and_two_workers():
    reason = _postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL không truy cập được, bỏ qua ({reason})")
    process = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_scale.py"), "--quick", "--users", "8"],
                             cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert process.returncode == 0, process.stderr[-4000:]
    summary = json.loads(process.stdout.strip().splitlines()[-1])  # the last line is the JSON object
    assert [run["workers"] for run in summary["runs"]] == [1, 2]
    for run in summary["runs"]:
        assert run["messages"] == 8 * 3 and run["msg_per_s"] > 0, run  # every citizen's three messages
        assert run["follow_ups"] >= 8, run  # the first answers named a procedure: there was context to keep
        assert run["busy"] == 0, run
        cpu = run["cpu_ms_per_msg"]  # where the CPU went: every kind of the stack was seen working
        assert {"rasa", "action-server", "gateway", "postgresql", "redis", "driver"} <= set(cpu), cpu
        # (PostgreSQL and Redis are counted when they run on this machine, as on this project's machines)
        assert all(cpu[kind] > 0 for kind in ("rasa", "action-server", "gateway")), cpu
    assert summary["lost_context"] == 0, process.stderr[-4000:]
    # throughput against workers is the benchmark's to print (its full run, in the README), not a test's
