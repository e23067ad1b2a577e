"""Write transactions that take the database's write lock at once.

On SQLite a transaction opened with a plain (deferred) ``BEGIN`` that reads before it
writes can fail with "database is locked" when another writer commits in between, and the
busy timeout does not help. Every write of the dossier store therefore starts with
``BEGIN IMMEDIATE``: writers queue on the busy timeout instead. PostgreSQL needs nothing
special: the counter row's lock serialises filings that share a day.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from motcua.db import get_engine

__all__ = ["write_session"]


@contextmanager
def write_session(url: str) -> Iterator[Session]:
    """A session whose transaction is committed when the block ends, rolled back on error.

    On SQLite the first statement is ``BEGIN IMMEDIATE`` (the write lock is held from the
    start, so nothing read inside can go stale before the write).
    """
    session = Session(get_engine(url), expire_on_commit=False)
    try:
        if url.startswith("sqlite"):
            # pysqlite sends no BEGIN of its own before a non-DML statement and none after
            # this one (it sees the open transaction); commit and rollback work as usual.
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
