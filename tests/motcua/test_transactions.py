"""Write transactions: serialised on SQLite (BEGIN IMMEDIATE and a per-engine lock), plain on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, text

import motcua.db
from motcua.db import Database, DatabaseBusy, write_transaction


@pytest.fixture
def database(database_url):
    """A Database of its own (not the shared one) holding a one-row counter table."""
    database = Database.open(database_url)
    with database.session() as session:
        session.execute(text("CREATE TABLE tx_counter (n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO tx_counter (n) VALUES (0)"))
    yield database
    database.close()


def _statements(database: Database) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()[:2]).upper())

    event.listen(database.engine, "before_cursor_execute", record)
    return seen


def test_writers_on_threads_serialise_instead_of_failing_or_losing_updates(database):
    if database.engine.dialect.name != "sqlite":
        pytest.skip("the in-process lock and BEGIN IMMEDIATE are SQLite's")
    inside, overlaps, errors = [0], [], []
    guard = threading.Lock()
    start = threading.Barrier(8)

    def writer() -> None:
        try:
            start.wait()
            for _ in range(5):
                with database.session() as session:
                    session.execute(text("SELECT 1")).all()  # a read before the write: deferred BEGIN would fail
                    write_transaction(session)
                    with guard:
                        inside[0] += 1
                        overlaps.append(inside[0])
                    n = session.execute(text("SELECT n FROM tx_counter")).scalar_one()
                    time.sleep(0.002)  # another writer would read the same n here
                    session.execute(text("UPDATE tx_counter SET n = :n"), {"n": n + 1})
                    with guard:
                        inside[0] -= 1
        except BaseException as exc:  # collected, the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert max(overlaps) == 1  # one writer at a time
    with database.session() as session:
        assert session.execute(text("SELECT n FROM tx_counter")).scalar_one() == 40


def test_sqlite_begins_immediate_and_postgresql_as_is(database):
    statements = _statements(database)
    with database.write() as session:
        session.execute(text("UPDATE tx_counter SET n = n + 1"))
        write_transaction(session)  # a second call in the same transaction does nothing
    if database.engine.dialect.name == "sqlite":
        assert statements == ["BEGIN IMMEDIATE", "UPDATE TX_COUNTER"]
    else:
        assert statements == ["UPDATE TX_COUNTER"]
    with database.session() as session:
        assert session.execute(text("SELECT n FROM tx_counter")).scalar_one() == 1


def test_the_write_lock_is_freed_by_commit_and_by_rollback(database):
    for _ in range(2):
        with pytest.raises(RuntimeError, match="crash"), database.write() as session:
            session.execute(text("UPDATE tx_counter SET n = n + 1"))
            raise RuntimeError("crash in the middle")
        with database.write() as session:
            session.execute(text("UPDATE tx_counter SET n = n + 10"))
    with database.session() as session:
        assert session.execute(text("SELECT n FROM tx_counter")).scalar_one() == 20
        assert "motcua.db.write_lock" not in session.info


def test_a_writer_that_waits_too_long_gets_the_callers_error(database, monkeypatch):
    if database.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL takes no lock up front")
    monkeypatch.setattr(motcua.db, "WRITE_LOCK_TIMEOUT_S", 0.1)
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with database.write():
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(5)
        with pytest.raises(DatabaseBusy), database.write():
            pass

        class Busy(Exception):
            pass

        with pytest.raises(Busy), database.session() as session:
            write_transaction(session, on_busy=Busy)
    finally:
        release.set()
        thread.join()
    with database.write() as session:  # free again once the holder committed
        session.execute(text("UPDATE tx_counter SET n = 5"))


def test_a_database_is_one_engine_and_its_url():
    database = Database.open("sqlite://")
    assert database.url == "sqlite://"
    with database.session() as session:
        assert session.get_bind() is database.engine
