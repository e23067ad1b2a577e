"""Fixtures of the dossier tests: a catalogue of procedures, its database, a settable clock, a service."""

from __future__ import annotations

from datetime import datetime

import pytest

from motcua.db import Database, shared_database
from motcua.dossiers.notifications import MemoryNotifier
from motcua.dossiers.service import DossierService
from tests.dossiers.support import AGENCY, Clock, seed_procedures


@pytest.fixture
def catalogue(database_url) -> str:
    """A migrated database (SQLite and PostgreSQL) holding the test procedures."""
    seed_procedures(database_url)
    return database_url


@pytest.fixture
def sqlite_catalogue(tmp_path) -> str:
    """The same, on SQLite only (for tests about HTTP, PDFs, dialogue)."""
    from motcua.db import upgrade_database

    url = f"sqlite:///{tmp_path / 'dossiers.sqlite3'}"
    upgrade_database(url)
    seed_procedures(url)
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 10, 9, 30))  # a Tuesday morning


@pytest.fixture
def notifier() -> MemoryNotifier:
    return MemoryNotifier()


@pytest.fixture
def db(catalogue) -> Database:
    """The database of :func:`catalogue`: ``db.run(service.method, …)`` is one call in a transaction of its own."""
    return shared_database(catalogue)


@pytest.fixture
def sqlite_db(sqlite_catalogue) -> Database:
    return shared_database(sqlite_catalogue)


@pytest.fixture
def service(clock, notifier) -> DossierService:
    return DossierService(agency_code=AGENCY, notifier=notifier, clock=clock)


@pytest.fixture
def sqlite_service(clock, notifier) -> DossierService:
    return DossierService(agency_code=AGENCY, notifier=notifier, clock=clock)
