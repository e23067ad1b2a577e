"""Numbers: per service prefix, restarting at the centre's midnight, unique and gapless under load."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from motcua.db import get_engine, session_scope, write_transaction
from motcua.queue.models import QueueEvent, QueueTicket
from motcua.queue.service import QueueError, QueueNotFound, QueueService
from tests.queue.queue_fakes import SMALL_CENTRE


def issue(url, service: QueueService, code: str = "HT", **kw):
    with session_scope(url) as session:
        return service.issue(session, code, channel=kw.pop("channel", "kiosk"), **kw)


def test_numbers_count_up_per_service_prefix(queue):
    url, service = queue
    labels = [issue(url, service, code).ticket.label for code in ("HT", "HT", "CT", "HT", "CT")]
    assert labels == ["A001", "A002", "B001", "A003", "B002"]


def test_ticket_numbers_restart_at_midnight_in_the_centre_time_zone(queue, clock):
    url, service = queue
    clock.now = datetime(2026, 11, 25, 16, 58, tzinfo=UTC)  # 23:58 in Hà Nội
    assert issue(url, service).ticket.label == "A001"
    assert issue(url, service).ticket.label == "A002"
    clock.now = datetime(2026, 11, 25, 17, 0, 1, tzinfo=UTC)  # 00:00:01 next day in Hà Nội, still the 25th in UTC
    after = issue(url, service).ticket
    assert after.label == "A001"
    assert str(after.day) == "2026-11-26"
    with session_scope(url) as session:
        days = session.execute(select(QueueTicket.day, func.count()).group_by(QueueTicket.day)).all()
    assert sorted((str(d), n) for d, n in days) == [("2026-11-25", 2), ("2026-11-26", 1)]


def test_issuing_records_an_event_and_refuses_unknown_services_and_priorities(queue):
    url, service = queue
    issued = issue(url, service, "HT", priority="cao_tuoi", channel="telegram", sender_id="telegram:42")
    assert issued.ticket.priority_name == "Người cao tuổi" and issued.ticket.weight == 2
    with pytest.raises(QueueNotFound, match="XX"):
        issue(url, service, "XX")
    with pytest.raises(ValueError, match="ưu tiên"):
        issue(url, service, "HT", priority="vip")
    assert issue(url, service, "HT").ticket.label == "A002"  # a refused issue left no lock behind
    with session_scope(url) as session:
        events = session.scalars(select(QueueEvent)).all()
    assert [(e.kind, e.label, e.detail["channel"]) for e in events] == [("issued", "A001", "telegram"),
                                                                       ("issued", "A002", "kiosk")]


def test_the_unique_constraint_refuses_a_duplicate_number(queue):
    url, service = queue
    first = issue(url, service).ticket
    with pytest.raises(IntegrityError), session_scope(url) as session:
        session.add(QueueTicket(token="dup", service_code="CT", issued_service="HT", day=first.day, number=1,
                                label="A001", channel="kiosk", issued_at=first.issued_at))
        session.flush()


def test_sqlite_write_transactions_take_the_lock_at_begin(tmp_path):
    from motcua.db import upgrade_database

    url = f"sqlite:///{tmp_path / 'lock.sqlite3'}"
    upgrade_database(url)
    engine = get_engine(url)
    holder_has_lock, release = threading.Event(), threading.Event()
    waited: list[bool] = []

    def holder():
        with session_scope(url) as session:
            write_transaction(session)
            holder_has_lock.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holder_has_lock.wait(5)
    with engine.connect() as other:
        raw = other.connection.dbapi_connection
        raw.execute("PRAGMA busy_timeout=100")
        try:
            raw.execute("BEGIN IMMEDIATE")
            waited.append(False)
            raw.execute("ROLLBACK")
        except Exception as exc:  # sqlite3.OperationalError: database is locked
            waited.append("locked" in str(exc))
        raw.execute("PRAGMA busy_timeout=10000")
    release.set()
    thread.join()
    assert waited == [True]


def test_a_kiosk_kept_waiting_by_another_writer_is_refused_politely(queue, monkeypatch):
    import motcua.db

    url, service = queue
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL takes no lock up front")
    monkeypatch.setattr(motcua.db, "WRITE_LOCK_TIMEOUT_S", 0.1)
    holding, release = threading.Event(), threading.Event()

    def holder():
        with session_scope(url) as session:
            write_transaction(session)
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(5)
        with pytest.raises(QueueError, match="đang bận"):
            issue(url, service)
    finally:
        release.set()
        thread.join()
    assert issue(url, service).ticket.label == "A001"  # the refused kiosk took no number


@pytest.mark.slow
def test_32_kiosks_issue_1000_tickets_without_duplicates_or_gaps(queue):
    url, service = queue
    codes = ("HT", "CT", "TN")
    per_thread = [1000 // 32 + (1 if i < 1000 % 32 else 0) for i in range(32)]
    start = threading.Barrier(32)

    def kiosk(i: int) -> list[tuple[str, int, str]]:
        start.wait()
        out = []
        for n in range(per_thread[i]):
            ticket = issue(url, service, codes[(i + n) % 3]).ticket
            out.append((ticket.service_code, ticket.number, ticket.label))
        return out

    with ThreadPoolExecutor(32) as pool:
        results = [row for rows in pool.map(kiosk, range(32)) for row in rows]
    assert len(results) == 1000
    per_service = Counter(code for code, _, _ in results)
    for code in codes:
        numbers = sorted(n for c, n, _ in results if c == code)
        assert numbers == list(range(1, per_service[code] + 1)), f"{code}: duplicates or gaps"
    assert len({label for _, _, label in results}) == 1000
    with session_scope(url) as session:
        stored = session.execute(select(QueueTicket.service_code, func.count(), func.max(QueueTicket.number))
                                 .group_by(QueueTicket.service_code)).all()
    assert {code: (n, top) for code, n, top in stored} == {c: (per_service[c], per_service[c]) for c in codes}


def test_the_small_centre_configuration_is_valid():
    assert SMALL_CENTRE.priority("cao_tuoi").weight == 2
    assert SMALL_CENTRE.priority("") is None
