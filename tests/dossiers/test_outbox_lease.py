"""A portal message claimed by a worker that was killed goes out after one lease, and the lease
follows the send's HTTP timeout (not minutes)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from devices.fake_portal import EVENTS_PATH, PortalState, create_portal_app
from motcua.db import session_scope
from motcua.delivery import LEASE_FACTOR, LEASE_MARGIN_S, SEND_TIMEOUT_S, DeliveryPolicy, lease_for
from motcua.dossiers.models import PortalOutboxRow
from motcua.dossiers.outbox import OutboxWorker, _claim, deliver_pending
from motcua.dossiers.portal import HttpPortalClient, MemoryPortal
from tests.dossiers.support import application
from tests.servers import serve_in_thread

POLICY = DeliveryPolicy(max_attempts=3, base_delay_s=60, max_delay_s=600, jitter=0)


def test_the_lease_is_the_send_timeout_times_a_small_factor_plus_a_margin():
    assert lease_for(10.0) == 10.0 * LEASE_FACTOR + LEASE_MARGIN_S == 25.0
    assert DeliveryPolicy().lease_s == lease_for(SEND_TIMEOUT_S) < 60  # a crash costs well under a minute
    assert HttpPortalClient("http://127.0.0.1:9/x").timeout_s == SEND_TIMEOUT_S
    assert POLICY.leased_for(3.0).lease_s == 11.0 and POLICY.leased_for(3.0).max_attempts == 3
    with pytest.raises(ValueError):
        lease_for(0)


def test_the_worker_leases_rows_for_its_clients_timeout(catalogue):
    from motcua.db import shared_database

    worker = OutboxWorker(shared_database(catalogue), HttpPortalClient("http://127.0.0.1:9/x", timeout_s=3.0),
                          policy=POLICY)
    assert worker.policy.lease_s == lease_for(3.0) == 11.0
    assert worker.policy.base_delay_s == POLICY.base_delay_s  # the rest of the policy as given
    memory = OutboxWorker(shared_database(catalogue), MemoryPortal(), policy=POLICY)  # no timeout: the policy's own
    assert memory.policy.lease_s == POLICY.lease_s


def test_a_row_claimed_by_a_killed_worker_goes_out_one_lease_later(service, catalogue, clock, db):
    code = db.run(service.file_dossier, application()).code
    with serve_in_thread(create_portal_app(PortalState())) as base_url:
        client = HttpPortalClient(base_url + EVENTS_PATH, timeout_s=2.0)
        lease = lease_for(2.0)
        leased = POLICY.leased_for(2.0)
        assert lease == 9.0
        assert len(_claim(db, 1, clock(), leased)) == 1  # the worker takes the row… and is killed
        clock.advance(seconds=lease - 1)
        assert deliver_pending(db, client, policy=POLICY, clock=clock).delivered == 0  # still held
        clock.advance(seconds=2)
        assert deliver_pending(db, client, policy=POLICY, clock=clock).delivered == 1
    with session_scope(catalogue) as session:
        row = session.scalars(select(PortalOutboxRow)).one()
        assert (row.state, row.idempotency_key, row.locked_until) == ("sent", f"{code}/001", None)


def test_a_pass_claims_one_row_at_a_time_so_no_row_waits_behind_an_expired_lease(service, catalogue, clock, db):
    for _ in range(3):
        db.run(service.file_dossier, application())
    held: list[int] = []

    class Watching(MemoryPortal):
        timeout_s = 2.0

        def deliver(self, message):
            with session_scope(catalogue) as session:
                held.append(len(session.scalars(select(PortalOutboxRow.id)
                                                .where(PortalOutboxRow.locked_until.is_not(None))).all()))
            super().deliver(message)

    assert deliver_pending(db, Watching(), policy=POLICY, clock=clock).delivered == 3
    assert held == [1, 1, 1]  # while one row is sent, only that row is held
