"""The portal outbox: written with every change, delivered in order, retried, never twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from devices.fake_portal import EVENTS_PATH, PortalState, create_portal_app
from motcua.db import session_scope, shared_database
from motcua.dossiers.models import DossierStatusChange, PortalOutboxRow
from motcua.dossiers.outbox import OutboxWorker, RetryPolicy, deliver_pending, outbox_summary
from motcua.dossiers.portal import (
    HttpPortalClient,
    MemoryPortal,
    PortalClient,
    PortalMessage,
    PortalRejected,
    PortalUnavailable,
)
from motcua.dossiers.service import DossierService
from tests.dossiers.support import AGENCY, application
from tests.servers import free_port, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
FAST = RetryPolicy(base_delay_s=0.05, max_delay_s=0.3, lease_s=30)


def _rows(url: str) -> list[PortalOutboxRow]:
    with session_scope(url) as session:
        return list(session.scalars(select(PortalOutboxRow).order_by(PortalOutboxRow.id)))


def _history_count(url: str) -> int:
    with session_scope(url) as session:
        return len(session.scalars(select(DossierStatusChange.id)).all())


def test_backoff_doubles_from_the_base_and_stops_at_the_cap():
    policy = RetryPolicy(base_delay_s=2, max_delay_s=10)
    assert [policy.delay(n) for n in range(0, 7)] == [0, 2, 4, 8, 10, 10, 10]
    assert RetryPolicy().delay(10_000) == RetryPolicy().max_delay_s
    with pytest.raises(ValueError):
        RetryPolicy(base_delay_s=5, max_delay_s=1)


def test_rows_go_out_in_order_per_dossier_and_a_failure_holds_back_that_dossiers_later_rows(service, catalogue,
                                                                                             clock, db):
    a = db.run(service.file_dossier, application()).code
    db.run(service.receive, a, actor="staff:Hà")
    db.run(service.request_supplement, a, "Thiếu giấy chứng sinh.", actor="staff:Hà")
    b = db.run(service.file_dossier, application()).code
    portal = MemoryPortal(reject_events={"dossier.status_changed"})
    policy = RetryPolicy(base_delay_s=60, max_delay_s=600)
    report = deliver_pending(db, portal, policy=policy, clock=clock)
    assert (report.delivered, report.failed, report.portal_unavailable) == (2, 1, False)
    assert portal.order == [f"{a}/001", f"{b}/001"]
    failed = next(r for r in _rows(catalogue) if r.idempotency_key == f"{a}/002")
    assert failed.attempts == 1 and failed.delivered_at is None
    assert "PortalRejected: HTTP 422" in failed.last_error
    portal.reject_events.clear()
    assert deliver_pending(db, portal, policy=policy, clock=clock).attempted == 0  # its backoff
    clock.advance(seconds=61)
    assert deliver_pending(db, portal, policy=policy, clock=clock).delivered == 2
    assert portal.order[2:] == [f"{a}/002", f"{a}/003"]
    assert all(r.delivered_at is not None and r.last_error == "" for r in _rows(catalogue))
    assert outbox_summary(catalogue).message == "Đã đồng bộ đầy đủ với Cổng Dịch vụ công."


def test_an_unavailable_portal_stops_the_pass_at_the_first_failure(service, catalogue, clock, db):
    for _ in range(3):
        db.run(service.file_dossier, application())
    portal = MemoryPortal(down=True)
    report = deliver_pending(db, portal, policy=FAST, clock=clock)
    assert (report.delivered, report.failed, report.portal_unavailable) == (0, 1, True)
    assert portal.requests == 1
    assert [r.attempts for r in _rows(catalogue)] == [1, 0, 0]
    assert all(r.locked_until is None for r in _rows(catalogue))  # the untried rows were released
    summary = outbox_summary(catalogue)
    assert (summary.pending, summary.failing) == (3, 1)
    assert "Còn 3 thông tin chờ gửi" in summary.message


def test_max_rows_bounds_one_pass(service, catalogue, clock, db):
    for _ in range(5):
        db.run(service.file_dossier, application())
    portal = MemoryPortal()
    assert deliver_pending(db, portal, 2, clock=clock).delivered == 2
    assert deliver_pending(db, portal, 10, clock=clock).delivered == 3


# --- one contract for every portal client ------------------------------------------------


class MemoryControls:
    def __init__(self):
        self.portal = MemoryPortal()
        self.client: PortalClient = self.portal

    def down(self, is_down: bool) -> None:
        self.portal.down = is_down

    def refuse(self) -> None:
        self.portal.reject_events.add("dossier.created")

    def accepted(self) -> dict[str, int]:
        return {k: self.portal.order.count(k) for k in self.portal.order}


class HttpControls:
    def __init__(self, base_url: str, state: PortalState):
        self.base_url, self.state = base_url, state
        self.client = HttpPortalClient(base_url + EVENTS_PATH, timeout_s=2)

    def _behave(self, **behaviour) -> None:
        httpx.post(self.base_url + "/admin/behaviour", json=behaviour).raise_for_status()

    def down(self, is_down: bool) -> None:
        self._behave(fail_with=503 if is_down else None)

    def refuse(self) -> None:
        self._behave(fail_with=422)

    def accepted(self) -> dict[str, int]:
        return httpx.get(self.base_url + "/admin/deliveries").json()["accepted_per_key"]


@pytest.fixture(params=["memory", "http"])
def portal(request):
    if request.param == "memory":
        yield MemoryControls()
        return
    state = PortalState()
    with serve_in_thread(create_portal_app(state)) as base_url:
        yield HttpControls(base_url, state)


def test_portal_contract_a_key_is_accepted_once_however_often_it_is_sent(portal):
    message = PortalMessage("000.00.04.H51-260310-0001/001", "dossier.created", "000.00.04.H51-260310-0001",
                            {"code": "000.00.04.H51-260310-0001"})
    portal.client.deliver(message)
    portal.client.deliver(message)
    assert portal.accepted() == {message.idempotency_key: 1}


def test_portal_contract_unavailable_and_refused_are_told_apart(portal):
    message = PortalMessage("k/001", "dossier.created", "k", {})
    portal.down(True)
    with pytest.raises(PortalUnavailable):
        portal.client.deliver(message)
    portal.down(False)
    portal.refuse()
    with pytest.raises(PortalRejected):
        portal.client.deliver(message)
    assert portal.accepted() == {}


def test_the_http_client_reports_a_refused_connection_as_unavailable():
    client = HttpPortalClient(f"http://127.0.0.1:{free_port()}{EVENTS_PATH}", timeout_s=1)
    with pytest.raises(PortalUnavailable, match="không kết nối được"):
        client.deliver(PortalMessage("k/001", "dossier.created", "k", {}))
    with pytest.raises(ValueError):
        HttpPortalClient("ftp://portal")


def test_the_fake_portal_requires_an_idempotency_key():
    with serve_in_thread(create_portal_app()) as base_url:
        response = httpx.post(base_url + EVENTS_PATH, json={"event": "dossier.created", "dossier_code": "x"})
        assert response.status_code == 400
        response = httpx.post(base_url + EVENTS_PATH, json={"event": "dossier.created", "dossier_code": "x"},
                              headers={"Idempotency-Key": "x/001"})
        assert response.status_code == 201
        again = httpx.post(base_url + EVENTS_PATH, json={"event": "dossier.created", "dossier_code": "x"},
                           headers={"Idempotency-Key": "x/001"})
        assert again.status_code == 200 and again.json()["duplicate"] is True


# --- the portal down for a while --------------------------------------------------------


def _wait_until(condition, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_with_the_portal_down_for_a_while_no_change_is_lost_and_each_arrives_exactly_once(catalogue):
    db = shared_database(catalogue)
    service = DossierService(agency_code=AGENCY)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    client = HttpPortalClient(base_url + EVENTS_PATH, timeout_s=1)
    worker = OutboxWorker(db, client, policy=FAST, poll_interval_s=0.05, batch_size=4)
    worker.start()
    try:
        # 1. Nothing listens on the port: connections are refused.
        codes = [db.run(service.file_dossier, application()).code for _ in range(4)]
        for code in codes[:3]:
            db.run(service.receive, code, actor="staff:Hà")
        assert _wait_until(lambda: any(r.attempts >= 2 for r in _rows(catalogue)), 10)
        assert "không kết nối được" in _rows(catalogue)[0].last_error
        state = PortalState(fail_with=503)
        with serve_in_thread(create_portal_app(state), port=port):
            # 2. The portal answers, but only "503 Service Unavailable"; staff keep working.
            db.run(service.request_supplement, codes[0], "Thiếu giấy chứng sinh.", actor="staff:Hà")
            db.run(service.change_status, codes[1], "completed", actor="staff:Hà")
            db.run(service.change_status, codes[3], "rejected", actor="staff:Hà", note="Sai thẩm quyền.")
            assert _wait_until(lambda: any(r["answered"] == 503 for r in state.requests), 10)
            assert all(r.delivered_at is None for r in _rows(catalogue))
            # 3. The portal is back.
            httpx.post(base_url + "/admin/behaviour", json={"fail_with": None}).raise_for_status()
            db.run(service.change_status, codes[1], "result_returned", actor="staff:Minh")
            assert _wait_until(lambda: all(r.delivered_at is not None for r in _rows(catalogue)), 30)
            deliveries = httpx.get(base_url + "/admin/deliveries").json()
    finally:
        worker.stop()
    rows = _rows(catalogue)
    assert len(rows) == _history_count(catalogue) == 4 + 3 + 3 + 1  # every filing and every change
    assert set(deliveries["accepted_per_key"]) == {r.idempotency_key for r in rows}
    assert set(deliveries["accepted_per_key"].values()) == {1}
    assert max(deliveries["requests_per_key"].values()) >= 2  # some rows were tried more than once
    assert all(r.last_error == "" and r.attempts >= 1 for r in rows)
    arrived: dict[str, list[int]] = defaultdict(list)
    for item in deliveries["accepted"]:
        code, position = item["key"].rsplit("/", 1)
        arrived[code].append(int(position))
    assert all(positions == sorted(positions) for positions in arrived.values())
    assert arrived[codes[1]] == [1, 2, 3, 4]


def test_a_slow_portal_that_accepted_before_the_timeout_still_counts_each_message_once(sqlite_catalogue, clock):
    db = shared_database(sqlite_catalogue)
    service = DossierService(agency_code=AGENCY, clock=clock)
    code = db.run(service.file_dossier, application()).code
    db.run(service.receive, code, actor="staff:Hà")
    state = PortalState(delay_s=1.0)
    with serve_in_thread(create_portal_app(state)) as base_url:
        client = HttpPortalClient(base_url + EVENTS_PATH, timeout_s=0.3)
        report = deliver_pending(db, client, policy=FAST, clock=clock)
        assert report.portal_unavailable and "hết thời gian chờ" in _rows(sqlite_catalogue)[0].last_error
        httpx.post(base_url + "/admin/behaviour", json={"delay_s": 0}).raise_for_status()
        clock.advance(seconds=1)
        assert deliver_pending(db, client, policy=FAST, clock=clock).delivered == 2
        deliveries = httpx.get(base_url + "/admin/deliveries").json()
    assert deliveries["requests_per_key"] == {f"{code}/001": 2, f"{code}/002": 1}
    assert deliveries["accepted_per_key"] == {f"{code}/001": 1, f"{code}/002": 1}


def test_the_fake_portal_runs_as_a_command(tmp_path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "devices.fake_portal", "--port", str(port)], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        base_url = f"http://127.0.0.1:{port}"
        assert _wait_until(lambda: _answers(base_url), 20), process.stderr
        response = httpx.post(base_url + EVENTS_PATH, json={"event": "dossier.created", "dossier_code": "x"},
                              headers={"Idempotency-Key": "x/001"})
        assert response.status_code == 201
    finally:
        process.terminate()
        process.wait(10)


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/admin/deliveries", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_worker_without_a_portal_url_is_not_built(tmp_path):
    from motcua.settings import Settings

    assert OutboxWorker.from_settings(Settings(data_dir=tmp_path)) is None
    worker = OutboxWorker.from_settings(Settings(data_dir=tmp_path, portal_url="http://127.0.0.1:9/x"))
    assert worker is not None and not worker.running
    assert timedelta(seconds=worker.policy.delay(1)).total_seconds() == RetryPolicy().base_delay_s
