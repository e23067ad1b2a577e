"""A kiosk revoked while its page is open loses what enrolment gave it at once, not at its next
reconnection: its next chat message is counted by the client address like any anonymous page's
(``bot/routes/chat.py``), the page is told and its chat socket closed, and its scan socket hears no
more scans (``bot/routes/kiosk.py``) — not even those of a new kiosk registered under the same name.
On SQLite and PostgreSQL, through the gateway's routes and the real queue action."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from bot.app import create_app
from bot.devices import DEVICE_COOKIE
from bot.routes.chat import KIOSK_REVOKED_KEY
from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.devices import add_device, revoke_device
from motcua.origin import origin_in
from motcua.queue.models import QueueTicket
from motcua.settings import Settings
from tests.queue.queue_fakes import MORNING, Clock
from tests.security.test_chat_abuse import FLOODER, kiosk, rasa_running_actions, said
from tests.servers import free_port, serve_in_thread

ISSUED = "đã lấy số thành công"
SCAN = {"device": "quay-1", "event": "cccd_scanned", "data": "001190012345|Nguyễn Thị Lan"}


@pytest.fixture
def hall(tmp_path, database_url):
    """(gateway app, the Rasa stand-in running the real queue action): two numbers per address an hour."""
    settings = Settings(data_dir=tmp_path, database_url=database_url, public_url="https://motcua.example",
                        action_url=f"http://127.0.0.1:{free_port()}/webhook", rasa_timeout_s=10.0,
                        chat_tickets_per_sender=3, chat_tickets_per_address=2)
    rasa = rasa_running_actions(settings, Clock(MORNING))
    with serve_in_thread(rasa) as rasa_url:
        yield create_app(settings.model_copy(update={"rasa_url": rasa_url})), rasa


def _register(database_url: str, name: str) -> str:
    with session_scope(database_url) as session:
        return add_device(session, name, "kiosk", actor="test")[1]


def _revoke(database_url: str, name: str) -> None:
    with session_scope(database_url) as session:
        revoke_device(session, name, actor="test")


def _origins(database_url: str) -> list[str | None]:
    with session_scope(database_url) as session:
        return list(session.scalars(select(QueueTicket.origin).order_by(QueueTicket.id)))


def test_a_kiosk_revoked_with_its_socket_open_is_counted_by_address_from_its_next_message(hall, database_url):
    app, rasa = hall
    key = _register(database_url, "quay-1")
    with TestClient(app, client=FLOODER) as client:
        with client.websocket_connect("/ws/kiosk?session=hall-a", headers={"X-Device-Key": key}) as ws:
            assert json.loads(ws.receive_text())["type"] == "session"
            assert ISSUED in said(ws, "cho tôi lấy số")  # enrolled: not counted by address
            _revoke(database_url, "quay-1")
            assert ISSUED in said(ws, "cho tôi lấy số")  # the same open socket, now an anonymous page
            notice = json.loads(ws.receive_text())
            assert notice == {"type": "error", "messages": [{"text": render(KIOSK_REVOKED_KEY)}]}
            assert "ông/bà" in notice["messages"][0]["text"]
            with pytest.raises(WebSocketDisconnect):
                ws.receive_text()
        # the revoked kiosk's number counted: the address has one number left, then the polite refusal
        assert ISSUED in kiosk(client, "hall-b", headers={"X-Device-Key": key})[0]
        assert kiosk(client, "hall-c", headers={"X-Device-Key": key})[0] == render(
            "queue.limit_address", count=2, window=60, wait=60)
    origins = _origins(database_url)
    assert len(origins) == 3 and origins[0] is None and origins[1] and origins[1] == origins[2]
    sent = [origin_in(body["metadata"]) for body in rasa.state.received]
    assert sent[0] == "" and sent[1] == origins[1]  # the gateway added the address's hash from then on


def test_a_revoked_kiosk_page_hears_no_more_scans_even_of_a_new_kiosk_with_its_name(hall, database_url):
    app, _ = hall
    old_key = _register(database_url, "quay-1")
    with TestClient(app, client=FLOODER) as client:
        cookie = {"cookie": f"{DEVICE_COOKIE}={old_key}"}
        with client.websocket_connect("/ws/kiosk/events?session=s1", headers=cookie) as page:
            assert json.loads(page.receive_text()) == {"type": "ready", "device": "quay-1"}
            sent = client.post("/api/v1/devices/events", json=SCAN, headers={"X-Device-Key": old_key})
            assert sent.json() == {"delivered": 1} and json.loads(page.receive_text())["data"] == SCAN["data"]
            _revoke(database_url, "quay-1")
            new_key = _register(database_url, "quay-1")  # the replacement kiosk, a new key
            assert client.post("/api/v1/devices/events", json=SCAN,
                               headers={"X-Device-Key": old_key}).status_code == 401
            client.post("/api/v1/devices/events", json=SCAN, headers={"X-Device-Key": new_key})
            with pytest.raises(WebSocketDisconnect):  # closed, the scan not passed on
                page.receive_text()
        # reconnected with the dead key: a plain page, its session's notices only
        with client.websocket_connect("/ws/kiosk/events?session=s1", headers=cookie) as page:
            assert json.loads(page.receive_text()) == {"type": "ready", "device": ""}
