"""Shared test fixtures: where the shared data lives, network blocking."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["tests.browser"]  # the shared headless-Chromium fixture `browser_page`


def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout, or ``MOTCUA_SHARED_DIR``."""
    return Path(os.environ.get("MOTCUA_SHARED_DIR", ROOT.parent / "shared")) / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"dữ liệu dùng chung không có ở {path} (shared data absent): bỏ qua")
    return path


# --- running on several workers (`make test`: pytest -n 2 --dist loadgroup) -------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Slow modules first, and each module one unit of work.

    Under ``--dist loadgroup`` a module's tests stay on one worker (its module-scoped stacks start
    once), unless the module names a group of its own with ``pytest.mark.xdist_group``: the modules
    that embed the shared library are one group, so the second finds the first's vectors cached
    instead of embedding the same texts at the same time. The slowest units are handed out first,
    so no worker is left with a long module after the other has finished.
    """
    slow_modules = {item.module.__name__ for item in items if item.get_closest_marker("slow")}
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: item.module.__name__ not in slow_modules)  # stable: order kept within each


# --- databases: every database test runs on SQLite and on PostgreSQL -------------------

POSTGRES_ADMIN_URL = os.environ.get("MOTCUA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        url = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: skip, and say why
        return f"{type(exc).__name__}: {exc}"


def create_postgres_database(name: str) -> str:
    import psycopg

    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(name: str) -> None:
    import psycopg

    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """An empty, migrated database: a SQLite file, or a fresh PostgreSQL database."""
    from motcua.db import upgrade_database

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        reason = _postgres_reachable()
        if reason:
            pytest.skip(f"PostgreSQL không truy cập được tại 127.0.0.1:5432, bỏ qua ({reason})")
        name = f"motcua_t{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**8}"
        url = create_postgres_database(name)
        request.addfinalizer(lambda: drop_postgres_database(name))
    upgrade_database(url)
    return url
