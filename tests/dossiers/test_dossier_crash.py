"""A process killed with SIGKILL while filing leaves whole dossiers or nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from motcua.db import session_scope
from motcua.dossiers.models import DossierCounter, DossierRow, DossierStatusChange, PortalOutboxRow

ROOT = Path(__file__).resolve().parents[2]
KILLS = 10


def _start(url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "dossiers" / "filing_loop.py"), url],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.slow
def test_sigkill_during_filing_leaves_every_dossier_whole_with_its_outbox_rows(catalogue):
    rng = random.Random(20260310)
    for _ in range(KILLS):
        process = _start(catalogue)
        try:
            line = process.stdout.readline()
            assert line.strip() == "ready", process.stderr.read()
            time.sleep(rng.uniform(0.0, 0.4))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        assert process.returncode == -signal.SIGKILL

    with session_scope(catalogue) as session:
        dossiers = session.scalars(select(DossierRow)).all()
        assert len(dossiers) >= KILLS
        outbox = session.scalars(select(PortalOutboxRow)).all()
        changes = session.scalars(select(DossierStatusChange)).all()
        per_dossier_outbox: dict[int, list[PortalOutboxRow]] = defaultdict(list)
        for row in outbox:
            per_dossier_outbox[row.dossier_id].append(row)
        per_dossier_changes: dict[int, list[DossierStatusChange]] = defaultdict(list)
        for change in sorted(changes, key=lambda c: c.id):
            per_dossier_changes[change.dossier_id].append(change)
        ids = {d.id for d in dossiers}
        # every outbox row belongs to a dossier, and every dossier has its rows
        assert set(per_dossier_outbox) == ids == set(per_dossier_changes)
        for dossier in dossiers:
            rows = sorted(per_dossier_outbox[dossier.id], key=lambda r: r.position)
            assert rows[0].event == "dossier.created", dossier.code
            assert [r.position for r in rows] == list(range(1, len(rows) + 1)), dossier.code
            history = per_dossier_changes[dossier.id]
            assert len(rows) == len(history) == dossier.event_count, dossier.code
            assert [r.payload.get("to", "received") for r in rows] == [c.to_status for c in history], dossier.code
            assert dossier.status == history[-1].to_status, dossier.code
        # the daily sequence has no gap and no duplicate, and the counter agrees
        by_day: dict = defaultdict(list)
        for dossier in dossiers:
            by_day[dossier.day].append(dossier.seq)
        for day, seqs in by_day.items():
            assert sorted(seqs) == list(range(1, len(seqs) + 1)), day
            last = session.scalar(select(DossierCounter.last_seq).where(DossierCounter.day == day))
            assert last == len(seqs), day
        assert session.scalar(select(func.count()).select_from(DossierCounter)) == len(by_day)
    if catalogue.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(catalogue.split("///", 1)[1]) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
