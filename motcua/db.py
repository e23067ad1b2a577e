"""Database access: one engine per URL, sessions, Alembic migrations.

SQLite (WAL) is the embedded default; PostgreSQL is what a province deploys.
Rasa's tracker store writes its own ``events`` table into the same database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


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


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """The engine for ``url``; SQLite files get WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = make_url(url).database or ""
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        if path and path != ":memory:" and not path.startswith("file:"):
            create_private_file(Path(path))
            event.listen(engine, "connect", lambda *_: protect_sqlite_files(Path(path)))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache(maxsize=8)
def _session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back on any error."""
    session = _session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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

    # Each area adds its own tables module here (one line each).
    import motcua.queue.models  # noqa: F401
    import motcua.staff.models  # noqa: F401
