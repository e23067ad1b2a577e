"""Queue test fixtures: a settable clock, a small centre, no network beyond 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from motcua.db import session_scope
from motcua.queue.service import QueueService, seed_queue
from tests.queue.queue_fakes import MORNING, SMALL_CENTRE, Clock, Sent

_LOCAL = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Only loopback connections: platform APIs and printers are fakes on 127.0.0.1."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        if isinstance(address, tuple) and address[0] not in _LOCAL:
            raise OSError(f"network blocked in tests: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def clock() -> Clock:
    return Clock(MORNING)


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
def queue(database_url, clock, sent):
    """(url, QueueService) over a migrated database seeded with the small centre."""
    with session_scope(database_url) as session:
        assert seed_queue(session, SMALL_CENTRE)
    return database_url, QueueService(SMALL_CENTRE, clock=clock, notifier=lambda session: sent)
