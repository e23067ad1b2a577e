"""The chaos benchmark's quick run, in the suite: ``bench/bench_chaos.py --quick`` kills 10 children
of ``motcua serve`` (and takes the fake portal and Telegram down) while citizens chat, take numbers
and file dossiers — on SQLite and, when it answers, PostgreSQL — and nothing a citizen was told may
be lost, done twice or left stuck."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _postgres_reachable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def test_quick_chaos_run_loses_nothing_duplicates_nothing_and_leaves_nothing_stuck(tmp_path):
    out = tmp_path / "chaos-quick.json"
    process = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_chaos.py"), "--quick", "--db", "both",
                              "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert process.returncode == 0, process.stderr[-4000:]
    lines = [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]
    expected = {"sqlite"} | ({"postgres"} if _postgres_reachable() is None else set())
    assert {line["db"] for line in lines} == expected, process.stdout
    for line in lines:
        assert set(line) == {"kills", "dossiers", "lost", "duplicated", "stuck", "busy_answers", "max_recovery_s", "db"}
        assert line["kills"] >= 10, line
        assert line["dossiers"] > 0, line
        assert (line["lost"], line["duplicated"], line["stuck"]) == (0, 0, 0), process.stderr[-4000:]
    runs = json.loads(out.read_text())["runs"]
    for run in runs:
        assert run["tickets_told"] > 0 and run["dossiers_told"] > 0, run  # the citizens got through
        assert run["detail"]["notices"] > 0 and run["detail"]["portal_messages"] > 0, run
    # how long it took is the benchmark's to print (chaos_s in the JSON), not a test's to judge
