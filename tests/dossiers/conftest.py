"""Fixtures of the dossier tests: a catalogue of procedures, a settable clock, a service."""

from __future__ import annotations

from datetime import datetime

import pytest

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
def service(catalogue, clock, notifier) -> DossierService:
    return DossierService.from_url(catalogue, agency_code=AGENCY, notifier=notifier, clock=clock)


@pytest.fixture
def sqlite_service(sqlite_catalogue, clock, notifier) -> DossierService:
    return DossierService.from_url(sqlite_catalogue, agency_code=AGENCY, notifier=notifier, clock=clock)
