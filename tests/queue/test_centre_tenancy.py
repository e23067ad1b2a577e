"""Two centres on one database (motcua/centers.py): each numbers, calls and shows only its own tickets.

SQLite and PostgreSQL (the ``database_url`` fixture): the service's rules, the HTTP routes of the
board, the kiosk and the counters, the Rasa action, the migration, and ``motcua centers add|list``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rasa_sdk import Tracker
from sqlalchemy import select

from bot.deps import get_queue
from motcua.centers import (
    DEFAULT_CENTER,
    CenterError,
    add_center,
    ensure_default_center,
    list_centers,
    staff_center,
)
from motcua.db import session_scope
from motcua.devices import DeviceError, add_device
from motcua.queue.config import CounterConfig
from motcua.queue.models import QueueCounter, QueueTicket
from motcua.queue.service import QueueError, QueueNotFound
from motcua.staff.accounts import create_user
from motcua.staff.models import StaffUser
from tests.queue.queue_fakes import SMALL_CENTRE
from tests.queue.test_queue_action import action, run
from tests.queue.test_queue_api import HTTPS, add_counter_staff, make_app

ROOT = Path(__file__).resolve().parents[2]
B = "xa-dong"


def second_centre(url: str, service) -> None:
    """Centre B with two counters of its own (11 for HT, 12 for HT and CT)."""
    with session_scope(url) as session:
        add_center(session, B, "Trung tâm PVHCC xã Đông", agency_code="000.00.31.h01", actor="test")
    with session_scope(url) as session:
        service.save_counter(session, CounterConfig(11, "Quầy số 11", ("HT",)), "test", center=B)
        service.save_counter(session, CounterConfig(12, "Quầy số 12", ("HT", "CT")), "test", center=B)


@pytest.fixture
def two(queue):
    url, service = queue
    second_centre(url, service)
    return url, service


def issue(url, service, code, center=DEFAULT_CENTER):
    with session_scope(url) as session:
        return service.issue(session, code, channel="kiosk", center=center).ticket


# --- the rules ------------------------------------------------------------------------------------

def test_each_centre_numbers_its_own_day_from_one(two):
    url, service = two
    a = [issue(url, service, "HT").label for _ in range(2)]
    b = [issue(url, service, "HT", B).label for _ in range(3)]
    assert a == ["A001", "A002"] and b == ["A001", "A002", "A003"]
    assert issue(url, service, "HT").label == "A003"  # B's numbers did not move A's counter
    with session_scope(url) as session:
        rows = session.execute(select(QueueTicket.center_code, QueueTicket.label).order_by(QueueTicket.id)).all()
    assert [tuple(r) for r in rows] == [(DEFAULT_CENTER, "A001"), (DEFAULT_CENTER, "A002"), (B, "A001"),
                                        (B, "A002"), (B, "A003"), (DEFAULT_CENTER, "A003")]


def test_a_counter_calls_only_its_own_centres_tickets(two):
    url, service = two
    b_ticket = issue(url, service, "HT", B)  # B's A001 came first
    a_ticket = issue(url, service, "HT")
    with session_scope(url) as session:
        called = service.call_next(session, 1, "staff:a").ticket
    assert (called.token, called.center_code) == (a_ticket.token, DEFAULT_CENTER)
    with session_scope(url) as session:
        assert service.call_next(session, 2, "staff:a").ticket is None  # B's number is not A's to call
        assert service.call_next(session, 11, "staff:b").ticket.token == b_ticket.token
        assert service.call_next(session, 12, "staff:b").ticket is None


def test_a_staff_member_of_one_centre_cannot_work_another_centres_counters(two):
    url, service = two
    issue(url, service, "HT", B)
    for operation in (service.call_next, service.recall, service.start, service.finish, service.no_show,
                      service.pause, service.resume):
        with session_scope(url) as session, pytest.raises(QueueNotFound, match="quầy số 11"):
            operation(session, 11, "staff:a", center=DEFAULT_CENTER)
    with session_scope(url) as session, pytest.raises(QueueNotFound):
        service.waiting_for_counter(session, 11, center=DEFAULT_CENTER)
    with session_scope(url) as session:
        assert service.call_next(session, 11, "staff:b", center=B).ticket.label == "A001"
        with pytest.raises(QueueNotFound):  # a transfer stays in the counter's centre
            service.transfer(session, 11, to_counter=1, actor="staff:b", center=B)
    with session_scope(url) as session, pytest.raises(QueueError, match="trung tâm khác"):
        service.save_counter(session, CounterConfig(11, "Quầy A", ("HT",)), "staff:a", center=DEFAULT_CENTER)


def test_the_counters_lists_and_the_waits_are_per_centre(two):
    url, service = two
    for _ in range(3):
        issue(url, service, "HT", B)
    first_at_a = issue(url, service, "HT")
    with session_scope(url) as session:
        assert [c.number for c in service.counters(session)] == [1, 2, 3]
        assert [c.number for c in service.counters(session, B)] == [11, 12]
        assert [c.number for c in service.counters(session, None)] == [1, 2, 3, 11, 12]
        assert service.people_ahead(session, first_at_a) == 0
        assert service.estimate(session, "HT").ahead == 1
        assert service.estimate(session, "HT", center=B).ahead == 3
        assert [t.center_code for t in service.waiting_for_counter(session, 12)] == [B, B, B]
        stats = {s.service_code: s.issued for s in service.stats(session)}
        assert stats["HT"] == 1 and {s.service_code: s.issued for s in service.stats(session, center=None)}["HT"] == 4


def test_a_centres_board_never_shows_another_centres_numbers(two):
    url, service = two
    issue(url, service, "HT", B)
    issue(url, service, "HT", B)
    issue(url, service, "CT")
    with session_scope(url) as session:
        service.call_next(session, 11, "staff:b")
        service.call_next(session, 3, "staff:a")
    with session_scope(url) as session:
        board_a, board_b = service.board(session), service.board(session, center=B)
    assert [(c.label, c.counter_number) for c in board_a.calls] == [("B001", 3)]
    assert [c.number for c in board_a.counters] == [1, 2, 3] and board_a.waiting == {}
    assert [(c.label, c.counter_number) for c in board_b.calls] == [("A001", 11)]
    assert [(c.number, c.label) for c in board_b.counters] == [(11, "A001"), (12, None)]
    assert board_b.waiting == {"HT": 1}
    with session_scope(url) as session:
        assert service.ticket_by_label(session, "A001", center=B).counter_number == 11
        with pytest.raises(QueueNotFound):
            service.ticket_by_label(session, "A001")  # A issued no A001 today


def test_a_staff_account_works_in_the_centre_its_code_or_agency_code_names(two):
    url, _ = two
    with session_scope(url) as session:
        ensure_default_center(session, name="Trung tâm mặc định", agency_code="000.00.00.h00")
        assert staff_center(session, "") == DEFAULT_CENTER
        assert staff_center(session, B) == B
        assert staff_center(session, "000.00.31.H01") == B
        assert staff_center(session, "000.00.00.H00") == DEFAULT_CENTER
        assert staff_center(session, "khong-co") == "khong-co"  # fails closed: no counter, no ticket


def test_centres_are_added_once_with_a_well_formed_code(database_url):
    with session_scope(database_url) as session:
        kept = ensure_default_center(session, name="Trung tâm xã Demo", address="Số 1", agency_code="000.00.00.h00")
        add_center(session, "xa-tay", "Trung tâm xã Tây", actor="test")
    assert (kept.code, kept.name, kept.agency_code) == (DEFAULT_CENTER, "Trung tâm xã Demo", "000.00.00.H00")
    with session_scope(database_url) as session:
        again = ensure_default_center(session, name="Tên khác")  # what is there already is kept
        assert again.name == "Trung tâm xã Demo"
        for code, name in (("xa-tay", "Trùng"), ("Xã Tây", "Sai mã"), ("xa/tay", "Sai mã"), ("ok", "  ")):
            with pytest.raises(CenterError):
                add_center(session, code, name)
        assert [c.code for c in list_centers(session)] == [DEFAULT_CENTER, "xa-tay"]
        with pytest.raises(DeviceError, match="Không có trung tâm"):
            add_device(session, "quay-9", "kiosk", center="khong-co")


def test_the_centres_migration_matches_the_tables(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from motcua.db import Base, get_engine, import_all_models

    import_all_models()
    tables = ("centers", "queue_tickets", "queue_counters", "queue_events", "queue_day_counters", "devices")
    with get_engine(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [change for change in diff if any(f"'{t}'" in repr(change) or f"{t}." in repr(change) for t in tables)] == []
    with session_scope(database_url) as session:  # the migration made the default centre
        assert [c.code for c in list_centers(session)] == [DEFAULT_CENTER]


# --- over HTTP --------------------------------------------------------------------------------------

@pytest.fixture
def client(tmp_path, database_url, clock):
    add_counter_staff(database_url)  # "quay1": no centre code, so the default centre's
    app = make_app(tmp_path, database_url, clock)
    with TestClient(app, base_url=HTTPS) as client:
        runtime = app.dependency_overrides[get_queue]()
        second_centre(database_url, runtime.service)
        with session_scope(database_url) as session:
            create_user(session, "canbo-dong", "mat-khau-xa-dong-2", role="staff", center_code=B)
            create_user(session, "tinh", "mat-khau-quan-tri-1", role="admin")
        yield client


def sign_in(client, username, password):
    response = client.post("/api/v1/staff/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.cookies["motcua_csrf"]


def test_a_kiosk_enrolled_at_a_centre_issues_that_centres_numbers(client, database_url):
    with session_scope(database_url) as session:
        key_b = add_device(session, "kiosk-dong", "kiosk", actor="test", center=B)[1]
    at_b = client.post("/api/v1/queue/tickets", json={"service": "HT", "print": False},
                       headers={"X-Device-Key": key_b})
    asks_a = client.post("/api/v1/queue/tickets?center=default", json={"service": "HT", "print": False},
                         headers={"X-Device-Key": key_b})  # a device's own centre wins over what it asks
    plain = client.post("/api/v1/queue/tickets", json={"service": "HT"})
    named = client.post(f"/api/v1/queue/tickets?center={B}", json={"service": "HT"})
    assert [r.json()["ticket"]["label"] for r in (at_b, asks_a, plain, named)] == ["A001", "A002", "A001", "A003"]
    with session_scope(database_url) as session:
        centres = list(session.scalars(select(QueueTicket.center_code).order_by(QueueTicket.id)))
    assert centres == [B, B, DEFAULT_CENTER, B]
    unknown = client.post("/api/v1/queue/tickets?center=khong-co", json={"service": "HT"})
    assert unknown.status_code == 404 and "không tìm thấy trung tâm" in unknown.json()["detail"]


def test_enrolling_a_centres_device_opens_that_centres_page(client, database_url):
    with session_scope(database_url) as session:
        keys = {name: add_device(session, name, kind, actor="test", center=centre)[1]
                for name, kind, centre in (("kiosk-dong", "kiosk", B), ("bang-dong", "board", B),
                                           ("kiosk-mac-dinh", "kiosk", DEFAULT_CENTER))}
    homes = {name: client.post("/kiosk/enrol", data={"key": key}, follow_redirects=False) for name, key in keys.items()}
    assert {name: (r.status_code, r.headers["location"]) for name, r in homes.items()} == {
        "kiosk-dong": (303, f"/c/{B}/kiosk"), "bang-dong": (303, f"/c/{B}/board"), "kiosk-mac-dinh": (303, "/kiosk")}


def test_each_board_page_and_feed_shows_only_its_centres_calls(client, database_url):
    client.post(f"/api/v1/queue/tickets?center={B}", json={"service": "HT"})
    client.post("/api/v1/queue/tickets", json={"service": "CT"})
    sign_in(client, "canbo-dong", "mat-khau-xa-dong-2")
    assert client.post("/api/v1/queue/counters/11/call-next").json()["ticket"]["label"] == "A001"
    board_b = client.get(f"/api/v1/queue/board?center={B}").json()
    board_a = client.get("/api/v1/queue/board").json()
    assert [c["label"] for c in board_b["calls"]] == ["A001"] and board_a["calls"] == []
    assert [c["number"] for c in board_a["counters"]] == [1, 2, 3] and board_a["waiting"] == {"CT": 1}
    assert [c["number"] for c in board_b["counters"]] == [11, 12] and board_b["waiting"] == {}
    page = client.get(f"/c/{B}/board")
    assert page.status_code == 200 and "Trung tâm PVHCC xã Đông" in page.text
    assert client.get(f"/c/{B}/kiosk").status_code == 200
    assert client.get("/c/khong-co/board").status_code == 404
    assert client.get("/c/khong-co/kiosk").status_code == 404
    assert client.get("/api/v1/queue/board?center=khong-co").status_code == 404
    assert client.get("/board").status_code == 200 and client.get("/kiosk").status_code == 200
    with session_scope(database_url) as session:
        board_key = add_device(session, "bang-dong", "board", actor="test", center=B)[1]
    enrolled = client.get("/api/v1/queue/board?center=default", headers={"X-Device-Key": board_key}).json()
    assert [c["label"] for c in enrolled["calls"]] == ["A001"]  # an enrolled board shows its own centre


def test_staff_act_in_their_own_centre_and_a_province_admin_in_all(client):
    client.post(f"/api/v1/queue/tickets?center={B}", json={"service": "HT"})
    sign_in(client, "quay1", "mat-khau-quay-1")
    assert [c["number"] for c in client.get("/api/v1/queue/counters").json()] == [1, 2, 3]
    assert client.post("/api/v1/queue/counters/11/call-next").status_code == 404
    assert client.get("/api/v1/staff/counters/11").status_code == 404
    assert client.post("/api/v1/queue/counters/1/call-next").json()["ticket"] is None  # B's number is not A's
    staffed = client.post("/api/v1/queue/staff/tickets", json={"service": "HT", "channel": "staff"}).json()
    assert staffed["ticket"]["label"] == "A001"  # A's own first number of the day
    sign_in(client, "canbo-dong", "mat-khau-xa-dong-2")
    assert [c["number"] for c in client.get("/api/v1/staff/counters").json()] == [11, 12]
    assert client.post("/api/v1/queue/counters/1/call-next").status_code == 404
    desk = client.get("/api/v1/staff/counters/12").json()
    assert [t["label"] for t in desk["waiting"]] == ["A001"] and [c["number"] for c in desk["counters"]] == [11, 12]
    sign_in(client, "tinh", "mat-khau-quan-tri-1")
    assert [c["number"] for c in client.get("/api/v1/queue/counters").json()] == [1, 2, 3, 11, 12]
    assert client.post("/api/v1/queue/counters/12/call-next").json()["ticket"]["label"] == "A001"


def test_a_kiosks_paper_ticket_bears_its_own_centres_name(client, database_url, monkeypatch):
    from types import SimpleNamespace

    from bot.routes import queue as queue_routes

    printed = []
    monkeypatch.setattr(queue_routes, "print_ticket",
                        lambda printer, ticket: printed.append(ticket) or SimpleNamespace(printed=True, message="ok"))
    with session_scope(database_url) as session:
        key_b = add_device(session, "kiosk-dong", "kiosk", actor="test", center=B)[1]
        key_a = add_device(session, "kiosk-demo", "kiosk", actor="test")[1]
    for key in (key_b, key_a):
        assert client.post("/api/v1/queue/tickets", json={"service": "HT"}, headers={"X-Device-Key": key}).json()["printed"]
    assert [(t.center_name, t.label) for t in printed] == [("Trung tâm PVHCC xã Đông", "A001"),
                                                           (client.app.dependency_overrides[get_queue]().settings.center_name, "A001")]


def test_only_an_admin_adds_centres_and_gives_a_device_its_centre(client):
    centre = {"code": "xa-bac", "name": "Trung tâm PVHCC xã Bắc", "agency_code": "000.00.32.h01"}
    assert client.post("/api/v1/admin/centers", json=centre).status_code == 401
    sign_in(client, "canbo-dong", "mat-khau-xa-dong-2")
    assert client.post("/api/v1/admin/centers", json=centre).status_code == 403
    sign_in(client, "tinh", "mat-khau-quan-tri-1")
    added = client.post("/api/v1/admin/centers", json=centre)
    assert added.status_code == 201 and added.json()["agency_code"] == "000.00.32.H01"
    assert client.post("/api/v1/admin/centers", json=centre).status_code == 400  # the code is taken
    assert [c["code"] for c in client.get("/api/v1/admin/centers").json()] == [DEFAULT_CENTER, "xa-bac", B]
    device = client.post("/api/v1/admin/devices", json={"name": "bang-bac", "kind": "board", "center": "xa-bac"})
    assert device.status_code == 201 and device.json()["device"]["center_code"] == "xa-bac"
    assert client.post("/api/v1/admin/devices", json={"name": "bang-x", "kind": "board", "center": "khong-co"}
                       ).status_code == 400


# --- the chat action and the command ---------------------------------------------------------------

async def test_a_number_taken_in_a_centres_kiosk_chat_is_that_centres(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    with session_scope(database_url) as session:
        add_center(session, B, "Trung tâm PVHCC xã Đông")
    latest = {"text": "cho tôi lấy số", "intent": {"name": "request_queue_number", "confidence": 0.95},
              "entities": [], "metadata": {"channel": "kiosk", "center": B}}
    await run(act, Tracker("kiosk:s1", {}, latest, [], False, None, {}, "action_listen"))
    await run(act, Tracker("kiosk:s2", {}, {**latest, "metadata": {"channel": "kiosk"}}, [], False, None, {},
                           "action_listen"))
    with session_scope(database_url) as session:
        rows = session.execute(select(QueueTicket.center_code, QueueTicket.label).order_by(QueueTicket.id)).all()
        assert session.scalar(select(QueueCounter.center_code).where(QueueCounter.number == 1)) == DEFAULT_CENTER
    assert [tuple(r) for r in rows] == [(B, "T001"), (DEFAULT_CENTER, "T001")]
    assert SMALL_CENTRE.default_service == "TN"


def motcua(*args: str, database_url: str, data_dir: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update({"MOTCUA_DATA_DIR": str(data_dir), "MOTCUA_DATABASE_URL": database_url, "COLUMNS": "200"})
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=check)


def test_the_cli_adds_and_lists_centres(tmp_path, database_url):
    added = motcua("centers", "add", B, "--name", "Trung tâm PVHCC xã Đông", "--agency", "000.00.31.h01",
                   "--address", "Thôn Đông", database_url=database_url, data_dir=tmp_path)
    assert f"/c/{B}/kiosk" in added.stdout and f"/c/{B}/board" in added.stdout
    again = motcua("centers", "add", B, "--name", "Lần hai", database_url=database_url, data_dir=tmp_path,
                   check=False)
    assert again.returncode == 1 and "Đã có trung tâm" in again.stdout
    listed = motcua("centers", "list", database_url=database_url, data_dir=tmp_path).stdout
    assert B in listed and "Trung tâm PVHCC xã Đông" in listed and "000.00.31.H01" in listed
    assert "default" in listed and "Trung tâm Phục vụ hành chính công xã Demo" in listed  # from center.yaml
    with session_scope(database_url) as session:
        assert [c.code for c in list_centers(session)] == [DEFAULT_CENTER, B]


def test_a_staff_account_is_created_only_in_a_centre_that_exists(tmp_path, database_url):
    motcua("centers", "add", B, "--name", "Trung tâm PVHCC xã Đông", "--agency", "000.00.31.h01",
           database_url=database_url, data_dir=tmp_path)
    unknown = motcua("users", "create", "can-bo-lac", "--center", "xa-khong-co", "--password", "mat-khau-dai-2024",
                     database_url=database_url, data_dir=tmp_path, check=False)
    assert unknown.returncode == 1 and "xa-khong-co" in unknown.stdout + unknown.stderr
    by_code = motcua("users", "create", "can-bo-dong", "--center", B, "--password", "mat-khau-dai-2024",
                     database_url=database_url, data_dir=tmp_path, check=False)
    by_agency = motcua("users", "create", "can-bo-dong-2", "--center", "000.00.31.H01", "--password",
                       "mat-khau-dai-2024", database_url=database_url, data_dir=tmp_path, check=False)
    assert by_code.returncode == 0 and by_agency.returncode == 0, by_code.stdout + by_agency.stdout
    with session_scope(database_url) as session:
        codes = dict(session.execute(select(StaffUser.username, StaffUser.center_code)).all())
    assert "can-bo-lac" not in codes and codes["can-bo-dong"] == B
