"""Database access: engines, sessions, write transactions, Alembic migrations.

SQLite (WAL) is the embedded default; PostgreSQL is what a province deploys.
Rasa's tracker store writes its own ``events`` table into the same database.

One transaction convention: a service works in the ``Session`` it is handed, or opens one from
the :class:`Database` it was handed; whoever opens the session commits it. A transaction that
writes starts with :func:`write_transaction`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, overload
from weakref import WeakKeyDictionary

from sqlalchemy import DateTime, Engine, String, TypeDecorator, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
@overload
def as_utc(moment: datetime | None) -> datetime | None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """A naive moment read as UTC (everything stored is UTC); aware ones and ``None`` unchanged.
    Columns are read aware already (:class:`UTCDateTime`); this is for values from elsewhere
    (an injected clock, a raw aggregate)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class UTCDateTime(TypeDecorator):
    """A moment, always read back time-zone aware: PostgreSQL keeps the zone, SQLite gives naive
    values back — everything stored is UTC, so those are read as UTC. The one column type for
    every ``datetime`` of the models (no ``_aware`` fix-ups at the call sites)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return as_utc(value)


class EnumText(TypeDecorator):
    """A :class:`~enum.StrEnum` member stored as its value in a plain ``VARCHAR`` and read back as the
    member: the statuses of the models. No database enum type, so the schema stays a string column;
    a value outside the enum fails at once, when written."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum
        self.length = length

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - driver hook
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


PRIVATE_MODE = 0o600
"""The database holds citizens' conversations and dossiers: readable by its owner only, whatever the umask."""


def create_private_file(path: Path) -> None:
    """Create ``path`` (and its folder) owner-only before SQLite does, so it is never world-readable, even briefly."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
        except FileExistsError:  # another process created it first
            pass
    protect_sqlite_files(path)


def protect_sqlite_files(path: Path) -> None:
    """chmod 0600 the database and its ``-wal``/``-shm`` files (also fixes files made by an older version)."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if candidate.stat().st_mode & 0o777 != PRIVATE_MODE:
                candidate.chmod(PRIVATE_MODE)
        except FileNotFoundError:
            continue
        except PermissionError:  # not our file (e.g. a shared read-only copy): leave it as it is
            continue


def create_database_engine(url: str) -> Engine:
    """A new engine for ``url``; SQLite files get WAL, a busy timeout and owner-only files."""
    if url.startswith("sqlite"):
        path = make_url(url).database or ""
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        if path and path != ":memory:" and not path.startswith("file:"):
            create_private_file(Path(path))
            event.listen(engine, "connect", lambda *_: protect_sqlite_files(Path(path)))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


# --- write transactions --------------------------------------------------------------------

WRITE_LOCK_TIMEOUT_S = 30.0
"""How long a thread waits for another thread of this process to finish writing (SQLite)."""
_WRITE_LOCK_KEY = "motcua.db.write_lock"
_WRITE_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_WRITE_LOCKS_GUARD = threading.Lock()


class DatabaseBusy(RuntimeError):
    """Another writer of this process kept the database longer than :data:`WRITE_LOCK_TIMEOUT_S`."""


def _busy() -> Exception:
    return DatabaseBusy(f"no write lock after {WRITE_LOCK_TIMEOUT_S:g} s")


@event.listens_for(Session, "after_transaction_end")
def _release_write_lock(session: Session, transaction) -> None:
    """The outermost transaction ended (after the real COMMIT or ROLLBACK): let the next writer in."""
    if transaction.parent is None:
        lock = session.info.pop(_WRITE_LOCK_KEY, None)
        if lock is not None:
            lock.release()


def _engine_write_lock(engine: Engine) -> threading.Lock:
    with _WRITE_LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(engine)
        if lock is None:
            lock = _WRITE_LOCKS[engine] = threading.Lock()
        return lock


def write_transaction(session: Session, *, on_busy: Callable[[], Exception] = _busy) -> None:
    """Start the session's transaction as a writer; the caller commits or rolls back as usual.

    SQLite: a deferred ``BEGIN`` that reads before it writes can fail with "database is
    locked" when another writer commits in between (the busy timeout does not help), so the
    transaction starts with ``BEGIN IMMEDIATE``, which takes the write lock at once. Threads
    of this process first queue on a Python lock of the engine, held until the transaction
    ends: they wake as soon as the writer before them commits instead of sleeping in
    SQLite's busy handler (other processes wait on SQLite's own lock). After
    :data:`WRITE_LOCK_TIMEOUT_S` the exception made by ``on_busy`` is raised.

    PostgreSQL: nothing to do; the statements lock the rows they change.

    Calling it again in a transaction that already writes does nothing.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    if raw is None or raw.in_transaction or _WRITE_LOCK_KEY in session.info:
        return  # already writing in this transaction
    lock = _engine_write_lock(connection.engine)
    if not lock.acquire(timeout=WRITE_LOCK_TIMEOUT_S):
        raise on_busy()
    session.info[_WRITE_LOCK_KEY] = lock
    # pysqlite sends no BEGIN of its own before this statement nor after it (it sees the open
    # transaction); on failure the session rolls back and the lock is freed.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# --- one database ----------------------------------------------------------------------------


_T = TypeVar("_T")


class Database:
    """One database: its engine and session factory, made once and handed to the services.

    ``session()`` is a transaction committed when the block ends and rolled back on any
    error; ``write()`` is the same, started with :func:`write_transaction`; ``run(method, …)`` calls a
    service method taking the caller's Session in a ``session()`` of its own.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Database:
        """A new engine for ``url`` (see :func:`create_database_engine`)."""
        return cls(create_database_engine(url))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def write(self, *, on_busy: Callable[[], Exception] = _busy) -> Iterator[Session]:
        with self.session() as session:
            write_transaction(session, on_busy=on_busy)
            yield session

    def run(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """``function(session, *args, **kwargs)`` in a transaction of its own (:meth:`session`), for a
        service method that takes the caller's Session (it starts its writes with :func:`write_transaction`)."""
        with self.session() as session:
            return function(session, *args, **kwargs)

    def close(self) -> None:
        """Close the pooled connections (the object stays usable: it reconnects on demand)."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.engine.url!r})"


@lru_cache(maxsize=8)
def shared_database(url: str) -> Database:
    """The process's :class:`Database` for ``url``, for code handed a URL rather than a Database."""
    return Database.open(url)


def get_engine(url: str) -> Engine:
    """The engine of :func:`shared_database`."""
    return shared_database(url).engine


def session_scope(url: str) -> AbstractContextManager[Session]:
    """A transaction on :func:`shared_database`: committed when the block ends, rolled back on any error."""
    return shared_database(url).session()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "heads") -> None:
    """Bring the schema at ``url`` up to ``revision`` (idempotent).

    Each area (knowledge base, queue, dossiers) keeps its own branch of migrations
    from ``0001``; "heads" applies them all.
    """
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The applied revisions, comma separated (one per migration branch)."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def import_all_models() -> None:
    """Import every module that declares tables, so ``Base.metadata`` is complete."""
    import knowledge_base.store  # noqa: F401
    import motcua.devices  # noqa: F401 - kiosks, printers, boards
    import motcua.dossiers.models  # noqa: F401
    import motcua.models  # noqa: F401
    import motcua.payments.models  # noqa: F401 - dossier fees, payments, bank statements

    # Each area adds its own tables module here (one line each).
    import motcua.queue.models  # noqa: F401
    import motcua.staff.models  # noqa: F401
    import motcua.widget_origins  # noqa: F401 - sites allowed to embed the web widget
