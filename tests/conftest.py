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

SHARED_UNITS = {
    # The shared legal library (with the default knowledge base) is embedded by the first of these and found in
    # the embedding cache by the second, instead of both embedding the same texts at once on two workers.
    "tests/retrieval/test_legal_eval_shared.py": "legal-library",
    "tests/test_legal_conversation.py": "legal-library",
}


def xdist_unit(nodeid: str) -> str:
    """The unit of work a test belongs to: its module (whose module-scoped stacks then start once), or the
    unit its module shares (``SHARED_UNITS``)."""
    module = nodeid.split("::", 1)[0]
    return SHARED_UNITS.get(module, module)


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` hands out :func:`xdist_unit`\ s whole.

    xdist's own loadgroup reads a group from a suffix it writes into ``item._nodeid``, which pytest 9 no longer
    reads: every test went its own way, module stacks started once per worker and two workers embedded the
    same library at the same time. This scheduler groups by the test's id in the controller instead.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # units in the order collected (heaviest first), not by their size

    class ModuleUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_unit(nodeid)

    return ModuleUnits(config, log)


HEAVIEST_FIRST = (
    # The longest units of a fresh clone's run (its --durations, 2026-12-07), handed out first so that no worker
    # is left with one of them after the other has finished: retraining with the gate (~8 min), the catalogue
    # embedded from an empty cache (~7), the legal library (~5), the chaos and capacity benchmarks' quick runs.
    "tests/staff/test_staff_training.py",
    "tests/retrieval/test_eval_shared.py",
    "tests/retrieval/test_legal_eval_shared.py",
    "tests/test_bench_chaos.py",
    "tests/test_bench_scale.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """The heaviest units first, then the other slow modules, then the rest (stable: order kept within each)."""
    slow_modules = {item.module.__name__ for item in items if item.get_closest_marker("slow")}

    def rank(item) -> int:
        module = item.nodeid.split("::", 1)[0]
        if module in HEAVIEST_FIRST:
            return HEAVIEST_FIRST.index(module)
        return len(HEAVIEST_FIRST) + (item.module.__name__ not in slow_modules)

    items.sort(key=rank)


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
