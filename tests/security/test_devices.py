"""Kiosk devices: priority numbers, printing, voice and scans need a registered device or staff.

Before: anyone could issue ``khuyet_tat`` numbers and print, make the gateway synthesise
and keep a WAV for any label and counter (``counter=-1`` answered 500), read the kiosk's
replies from ``/api/v1/tts?text=…`` addresses, and post scans from 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import stat

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from bot.app import create_app
from devices.fake_scanner import CCCD_EXAMPLE
from devices.printer import MemoryPrinter
from devices.voice import EspeakVoice, spoken_call
from motcua.db import session_scope
from motcua.devices import Device, DeviceError, add_device, device_for_key, list_devices, revoke_device
from motcua.queue.models import QueueTicket
from motcua.settings import ROOT
from motcua.staff.accounts import create_user
from tests.channels.conftest import channel_settings
from tests.cli.test_cli import motcua
from tests.queue.queue_fakes import MORNING, Clock
from tests.queue.test_queue_api import FakeVoice, add_counter_staff, make_app, signed_in
from tests.servers import serve_in_thread

PRIORITY = {"service": "HT", "priority": "khuyet_tat", "print": False}


def register(url: str, name: str, kind: str) -> str:
    with session_scope(url) as session:
        return add_device(session, name, kind, actor="test")[1]


@pytest.fixture
def clock() -> Clock:
    return Clock(MORNING)


@pytest.fixture
def printer() -> MemoryPrinter:
    return MemoryPrinter()


@pytest.fixture
def voice() -> FakeVoice:
    return FakeVoice()


@pytest.fixture
def client(tmp_path, database_url, clock, printer, voice):
    add_counter_staff(database_url)
    app = make_app(tmp_path, database_url, clock, printer=printer, voice=voice)
    with TestClient(app, base_url="https://testserver") as client:  # public_url is https: Secure cookies
        yield client


def labels(url: str) -> list[tuple[str, str]]:
    with session_scope(url) as session:
        return [(t.label, t.priority) for t in session.scalars(select(QueueTicket).order_by(QueueTicket.id))]


# --- the registry -------------------------------------------------------------------------------

def test_a_device_key_is_shown_once_stored_hashed_and_dies_when_revoked(database_url):
    with session_scope(database_url) as session:
        device, key = add_device(session, "quay-1", "kiosk", actor="admin")
    assert key.startswith("mcd_") and len(key) > 40
    with session_scope(database_url) as session:
        row = session.scalar(select(Device))
        assert key not in (row.key_hash, row.key_hint, row.name) and row.key_hint == key[:10]
        assert device_for_key(session, key).name == "quay-1"
        assert device_for_key(session, key + "x") is None and device_for_key(session, "") is None
        with pytest.raises(DeviceError, match="Đã có thiết bị"):
            add_device(session, "quay-1", "kiosk")
    with session_scope(database_url) as session:
        with pytest.raises(DeviceError):
            add_device(session, "quầy 1", "kiosk")
        with pytest.raises(DeviceError):
            add_device(session, "quay-9", "toaster")
        revoke_device(session, "quay-1", actor="admin")
    with session_scope(database_url) as session:
        assert device_for_key(session, key) is None
        _, again = add_device(session, "quay-1", "kiosk")  # the name may be given a new key
    with session_scope(database_url) as session:
        assert device_for_key(session, key) is None and device_for_key(session, again).name == "quay-1"
        assert [d.name for d in list_devices(session)] == ["quay-1"]


def test_the_cli_adds_lists_and_revokes_devices(tmp_path):
    added = motcua("devices", "add", "bang-sanh", "--kind", "board", data_dir=tmp_path)
    key = next(line for line in added.stdout.splitlines() if line.startswith("mcd_"))
    listed = motcua("devices", "list", data_dir=tmp_path).stdout
    assert "bang-sanh" in listed and "board" in listed and key not in listed and key[:10] in listed
    assert motcua("devices", "add", "bang-sanh", "--kind", "board", data_dir=tmp_path, check=False).returncode == 1
    motcua("devices", "revoke", "bang-sanh", data_dir=tmp_path)
    with session_scope(f"sqlite:///{tmp_path / 'motcua.sqlite3'}") as session:
        assert device_for_key(session, key) is None


def test_only_an_admin_registers_devices_and_the_key_is_returned_once(client, database_url):
    assert client.get("/api/v1/admin/devices").status_code == 401
    signed_in(client)
    assert client.post("/api/v1/admin/devices", json={"name": "quay-1", "kind": "kiosk"}).status_code == 403
    with session_scope(database_url) as session:
        create_user(session, "quantri", "mat-khau-quan-tri-1", role="admin")
    admin = client.post("/api/v1/staff/login", json={"username": "quantri", "password": "mat-khau-quan-tri-1"})
    client.headers["X-CSRF-Token"] = admin.cookies["motcua_csrf"]
    made = client.post("/api/v1/admin/devices", json={"name": "quay-1", "kind": "kiosk"})
    assert made.status_code == 201
    key = made.json()["key"]
    listed = client.get("/api/v1/admin/devices")
    assert key not in listed.text and listed.json()[0]["active"] is True
    assert client.post("/api/v1/admin/devices", json={"name": "quay-1", "kind": "kiosk"}).status_code == 400
    revoked = client.post(f"/api/v1/admin/devices/{made.json()['device']['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert client.post("/api/v1/admin/devices/999/revoke").status_code == 404
    client.cookies.clear()
    assert client.post("/api/v1/queue/tickets", json=PRIORITY, headers={"X-Device-Key": key}).status_code == 401


# --- tickets and printing -----------------------------------------------------------------------

def test_an_unknown_caller_cannot_declare_a_priority_group_and_loses_no_number(client, database_url):
    refused = client.post("/api/v1/queue/tickets", json=PRIORITY)
    assert refused.status_code == 401
    assert "Nhóm ưu tiên" in refused.json()["detail"] and "ông/bà" in refused.json()["detail"].lower()
    forged = client.post("/api/v1/queue/tickets", json=PRIORITY, headers={"X-Device-Key": "mcd_guess"})
    assert forged.status_code == 401
    plain = client.post("/api/v1/queue/tickets", json={"service": "HT"})
    assert plain.status_code == 200 and plain.json()["ticket"]["label"] == "A001"
    assert labels(database_url) == [("A001", "")]


def test_an_unknown_caller_cannot_print(client, database_url, printer):
    assert client.post("/api/v1/queue/tickets", json={"service": "HT", "print": True}).status_code == 401
    plain = client.post("/api/v1/queue/tickets", json={"service": "HT"}).json()
    assert plain["printed"] is False and printer.images == []
    again = client.post(f"/api/v1/queue/tickets/{plain['ticket']['token']}/print")
    assert again.status_code == 401 and "in được phiếu" in again.json()["detail"]
    assert printer.images == []


def test_a_registered_kiosk_issues_priority_numbers_and_prints(client, database_url, printer):
    kiosk = {"X-Device-Key": register(database_url, "quay-1", "kiosk")}
    body = client.post("/api/v1/queue/tickets", json={"service": "HT", "priority": "khuyet_tat"}, headers=kiosk)
    assert body.status_code == 200, body.text
    assert body.json()["ticket"]["priority"] == "khuyet_tat" and body.json()["printed"] is True
    assert len(printer.images) == 1
    again = client.post(f"/api/v1/queue/tickets/{body.json()['ticket']['token']}/print", headers=kiosk)
    assert again.status_code == 200 and len(printer.images) == 2
    board = {"X-Device-Key": register(database_url, "bang-1", "board")}
    assert client.post("/api/v1/queue/tickets", json=PRIORITY, headers=board).status_code == 403
    assert client.post(f"/api/v1/queue/tickets/{body.json()['ticket']['token']}/print", headers=board).status_code == 403
    with session_scope(database_url) as session:
        revoke_device(session, "quay-1")
    assert client.post("/api/v1/queue/tickets", json=PRIORITY, headers=kiosk).status_code == 401


def test_a_signed_in_staff_member_may_set_a_priority_and_print(client, database_url, printer):
    signed_in(client)
    body = client.post("/api/v1/queue/tickets", json={**PRIORITY, "print": True}).json()
    assert body["ticket"]["priority"] == "khuyet_tat" and body["printed"] is True


def test_plain_numbers_are_limited_per_address_but_not_for_a_kiosk(client, database_url):
    for _ in range(10):
        assert client.post("/api/v1/queue/tickets", json={"service": "HT"}).status_code == 200
    limited = client.post("/api/v1/queue/tickets", json={"service": "HT"})
    assert limited.status_code == 429 and "nhiều số" in limited.json()["detail"]
    assert len(labels(database_url)) == 10
    kiosk = {"X-Device-Key": register(database_url, "quay-1", "kiosk")}
    assert client.post("/api/v1/queue/tickets", json={"service": "HT"}, headers=kiosk).status_code == 200


def test_only_staff_confirm_a_priority_group_for_a_waiting_number(client, database_url):
    first = client.post("/api/v1/queue/tickets", json={"service": "HT"}).json()["ticket"]
    second = client.post("/api/v1/queue/tickets", json={"service": "HT"}).json()["ticket"]
    url = f"/api/v1/queue/tickets/{second['token']}/priority"
    assert client.post(url, json={"priority": "khuyet_tat"}).status_code == 401
    kiosk = {"X-Device-Key": register(database_url, "quay-1", "kiosk")}
    assert client.post(url, json={"priority": "khuyet_tat"}, headers=kiosk).status_code == 401
    signed_in(client)
    assert client.post(url, json={"priority": "vip"}).status_code == 422
    confirmed = client.post(url, json={"priority": "khuyet_tat"})
    assert confirmed.status_code == 200 and confirmed.json()["priority_name"] == "Người khuyết tật"
    assert client.post("/api/v1/queue/counters/1/call-next").json()["ticket"]["label"] == second["label"]
    assert client.post(url, json={"priority": ""}).status_code == 409  # called already
    assert labels(database_url) == [(first["label"], ""), (second["label"], "khuyet_tat")]


# --- voice --------------------------------------------------------------------------------------

def test_voice_is_spoken_only_for_a_number_called_at_that_counter(client, database_url, voice):
    board = {"X-Device-Key": register(database_url, "bang-1", "board")}
    client.post("/api/v1/queue/tickets", json={"service": "HT"})
    assert client.get("/api/v1/queue/voice/A001.wav?counter=1", headers=board).status_code == 404  # not called
    signed_in(client).post("/api/v1/queue/counters/1/call-next")
    client.cookies.clear()
    assert client.get("/api/v1/queue/voice/A001.wav?counter=1").status_code == 401
    assert client.get("/api/v1/queue/voice/A001.wav?counter=1", headers=board).status_code == 200
    assert client.get("/api/v1/queue/voice/A001.wav", headers=board).status_code == 200
    for query, status in (("counter=2", 404), ("counter=9", 404), ("counter=-1", 422), ("counter=0", 422),
                          ("counter=1000000", 422), ("counter=abc", 422)):
        assert client.get(f"/api/v1/queue/voice/A001.wav?{query}", headers=board).status_code == status, query
    for label in ("A002", "B007", "Z999999"):
        assert client.get(f"/api/v1/queue/voice/{label}.wav?counter=1", headers=board).status_code == 404
    kiosk = {"X-Device-Key": register(database_url, "quay-1", "kiosk")}
    assert client.get("/api/v1/queue/voice/A001.wav?counter=1", headers=kiosk).status_code == 403
    assert voice.texts == [spoken_call("A001", 1)] * 2


def test_the_voice_cache_on_disk_is_bounded(tmp_path, monkeypatch):
    voice = EspeakVoice(tmp_path, memory_items=1, disk_items=3)
    monkeypatch.setattr(voice, "_synthesise", lambda text: b"RIFF" + text.encode())
    for n in range(1, 8):
        voice.say(spoken_call(f"A{n:03d}", 1))
    assert len(list(tmp_path.glob("*.wav"))) == 3


def test_a_number_read_from_disk_is_kept_over_older_ones(tmp_path, monkeypatch):
    voice = EspeakVoice(tmp_path, memory_items=1, disk_items=2)
    made: list[str] = []
    monkeypatch.setattr(voice, "_synthesise", lambda text: made.append(text) or b"RIFF" + text.encode())
    first, second, third = (spoken_call(f"A00{n}", 1) for n in (1, 2, 3))
    voice.say(first)
    voice.say(second)
    for n, path in enumerate(sorted(tmp_path.glob("*.wav"), key=lambda p: p.stat().st_mtime_ns)):
        os.utime(path, ns=(10**9 * (n + 1),) * 2)  # a clear order whatever the clock's resolution
    voice.say(first)  # from disk (memory holds one): touched, now the newest file
    voice.say(third)  # evicts the least recently used: ``second``
    voice.say(second)  # so it is made again; ``first`` was served from disk, never made twice
    assert made == [first, second, third, second]


# --- scans --------------------------------------------------------------------------------------

def scan_body(device: str = "quay-1") -> dict:
    return {"device": device, "event": "cccd_scanned", "data": CCCD_EXAMPLE}


def test_scans_are_accepted_only_with_the_key_of_that_kiosk(tmp_path, fakes, migrated):
    kiosk = {"X-Device-Key": register(migrated, "quay-1", "kiosk")}
    board = {"X-Device-Key": register(migrated, "bang-1", "board")}
    with serve_in_thread(create_app(channel_settings(tmp_path, fakes))) as gateway:  # a real 127.0.0.1 caller
        post = lambda body, headers=None: httpx.post(gateway + "/api/v1/devices/events", json=body,  # noqa: E731
                                                     headers=headers or {}, timeout=5)
        refused = post(scan_body())
        assert refused.status_code == 401 and "khóa thiết bị" in refused.json()["detail"]
        assert post(scan_body(), {"X-Device-Key": "mcd_guess"}).status_code == 401
        assert post(scan_body(), board).status_code == 403
        assert post(scan_body("quay-2"), kiosk).status_code == 403  # another kiosk's page
        assert post(scan_body(), kiosk).json() == {"delivered": 0}


def test_the_legacy_shared_token_still_works_for_agents(tmp_path, fakes, migrated):
    with TestClient(create_app(channel_settings(tmp_path, fakes, device_token="kiosk-token-123"))) as client:
        assert client.post("/api/v1/devices/events", json=scan_body(),
                           headers={"X-Device-Token": "kiosk-token-123"}).status_code == 200
        assert client.post("/api/v1/devices/events", json=scan_body(),
                           headers={"X-Device-Token": "guess"}).status_code == 401


def test_only_a_page_enrolled_as_that_kiosk_hears_its_scans(tmp_path, fakes, migrated):
    key = register(migrated, "quay-1", "kiosk")
    with TestClient(create_app(channel_settings(tmp_path, fakes, device_token="kiosk-token-123"))) as client:
        for spying in ("/ws/kiosk/events?session=s1&device=quay-1",
                       "/ws/kiosk/events?session=s1&device=quay-1&key=kiosk-token-123"):
            with pytest.raises(WebSocketDisconnect):
                with client.websocket_connect(spying) as spy:
                    spy.receive_text()
        with client.websocket_connect("/ws/kiosk/events?session=s0") as plain:  # notifications only
            assert json.loads(plain.receive_text()) == {"type": "ready", "device": ""}
        enrolled = client.post("/kiosk/enrol", data={"key": key}, follow_redirects=False)
        assert enrolled.status_code == 303 and enrolled.headers["location"] == "/kiosk"
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws/kiosk/events?session=s1&device=quay-2") as other:
                other.receive_text()
        with client.websocket_connect("/ws/kiosk/events?session=s1") as page:
            assert json.loads(page.receive_text()) == {"type": "ready", "device": "quay-1"}
            sent = client.post("/api/v1/devices/events", json=scan_body(), headers={"X-Device-Key": key})
            assert sent.json() == {"delivered": 1}
            assert json.loads(page.receive_text())["data"] == CCCD_EXAMPLE


def test_enrolment_sets_a_strict_httponly_cookie_only_for_a_valid_key(tmp_path, database_url, clock):
    key = register(database_url, "bang-1", "board")
    with TestClient(make_app(tmp_path, database_url, clock), base_url="https://motcua.example") as client:
        assert client.get("/kiosk/enrol").status_code == 200
        wrong = client.post("/kiosk/enrol", data={"key": "mcd_guess"}, follow_redirects=False)
        assert wrong.status_code == 403 and "set-cookie" not in wrong.headers
        ok = client.post("/kiosk/enrol", data={"key": key}, follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/board"
        cookie = ok.headers["set-cookie"].lower()
        assert cookie.startswith("motcua_device=") and "httponly" in cookie and "samesite=strict" in cookie
        assert "secure" in cookie
        assert "bang-1" in client.get("/kiosk/enrol").text
        assert client.get("/api/v1/queue/voice/A001.wav?counter=1").status_code == 404  # allowed, not called
        forgot = client.post("/kiosk/enrol", data={"forget": "1"})
        assert forgot.status_code == 200 and "chưa được đăng ký" in forgot.text
        assert client.get("/api/v1/queue/voice/A001.wav?counter=1").status_code == 401


# --- read-aloud ---------------------------------------------------------------------------------

@pytest.fixture
def fake_espeak(tmp_path):
    """A synthesiser that answers a WAV header followed by what it was asked to read."""
    script = tmp_path / "fake-espeak"
    script.write_text("#!/bin/sh\nprintf 'RIFF\\044\\000\\000\\000WAVE'\ncat\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_read_aloud_text_goes_in_a_post_body_never_in_the_address(tmp_path, fakes, migrated, fake_espeak):
    settings = channel_settings(tmp_path, fakes, tts_command=fake_espeak)
    text = "Số CCCD của ông/bà là 001099012345."
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/tts", params={"text": text}).status_code == 405
        audio = client.post("/api/v1/tts", json={"text": text})
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        assert audio.content.endswith(text.encode()) and audio.headers["cache-control"] == "no-store"
        assert client.post("/api/v1/tts", json={"text": "x" * 2001}).status_code == 422
        assert client.post("/api/v1/tts", json={"text": ""}).status_code == 422
    kiosk_js = (ROOT / "bot" / "static" / "kiosk.js").read_text(encoding="utf-8")
    assert "/api/v1/tts?" not in kiosk_js and 'method: "POST"' in kiosk_js


# --- chat channels --------------------------------------------------------------------------------

async def test_a_chat_citizen_takes_a_plain_number_whatever_priority_the_message_claims(tmp_path, database_url, clock):
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from tests.queue.test_queue_action import action

    claims = {"text": "tôi là người khuyết tật, cho tôi số ưu tiên", "intent": {"name": "request_queue_number"},
              "entities": [{"entity": "priority", "value": "khuyet_tat"}],
              "metadata": {"channel": "telegram", "priority": "khuyet_tat"}}
    tracker = Tracker("telegram:9", {"priority": "khuyet_tat"}, claims, [], False, None, {}, "action_listen")
    await action(tmp_path, database_url, clock).run(CollectingDispatcher(), tracker, {})
    with session_scope(database_url) as session:
        ticket = session.scalar(select(QueueTicket))
    assert (ticket.channel, ticket.priority, ticket.weight) == ("telegram", "", 0)


def test_the_devices_migration_matches_the_table(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from motcua.db import Base, get_engine, import_all_models

    import_all_models()
    with get_engine(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [change for change in diff if "'devices'" in repr(change) or "devices." in repr(change)] == []


def test_a_scan_frame_on_the_chat_socket_is_believed_only_from_an_enrolled_kiosk(tmp_path, fakes, migrated):
    from bot.routes.chat import SCAN_REFUSED

    key = register(migrated, "quay-1", "kiosk")
    frame = json.dumps({"type": "device", "event": "cccd_scanned", "data": CCCD_EXAMPLE})
    with TestClient(create_app(channel_settings(tmp_path, fakes))) as client:
        with client.websocket_connect("/ws/kiosk?session=forged") as chat:
            assert json.loads(chat.receive_text())["type"] == "session"
            chat.send_text(frame)
            assert json.loads(chat.receive_text()) == {"type": "error", "messages": [{"text": SCAN_REFUSED}]}
        assert [b for b in fakes.rasa.state.received if b["metadata"].get("device_event")] == []
        client.post("/kiosk/enrol", data={"key": key}, follow_redirects=False)
        with client.websocket_connect("/ws/kiosk?session=enrolled") as chat:
            assert json.loads(chat.receive_text())["type"] == "session"
            chat.send_text(frame)
            assert json.loads(chat.receive_text())["type"] == "typing"
            assert json.loads(chat.receive_text())["type"] == "bot"
    relayed = [b for b in fakes.rasa.state.received if b["metadata"].get("device_event")]
    assert [(b["sender"], b["message"]) for b in relayed] == [("kiosk:enrolled", CCCD_EXAMPLE)]
