"""A stand-in installation for the deploy/ tests (see :func:`tests.deploy.deploy_files.make_installation`)."""

from __future__ import annotations

import pytest

from tests.deploy.deploy_files import Installation, make_installation


@pytest.fixture
def installation(tmp_path) -> Installation:
    return make_installation(tmp_path)


@pytest.fixture
def installation_on_each_database(tmp_path, database_url) -> Installation:
    """The same on SQLite and on PostgreSQL (the suite's ``database_url``): the model Rasa starts with is
    looked up in the database."""
    return make_installation(tmp_path, database_url)
