"""The gateway's services are built once when the app starts, share one database, are handed
to routes as typed dependencies (websockets too), and are closed when the app stops."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.deps import get_gateway
from bot.dialogue import DialogueReply
from bot.ratelimit import RateLimitedGateway, TokenBuckets
from channels.base import BotMessage, UserMessage
from motcua.db import Database
from motcua.payments.service import PaymentService
from motcua.queue.models import QueueService as ServiceRow
from tests.bot.test_gateway import gateway_settings


@pytest.fixture
def migrated_sqlite(tmp_path) -> str:
    from motcua.db import upgrade_database

    url = f"sqlite:///{tmp_path / 'motcua.sqlite3'}"
    upgrade_database(url)
    return url


class EchoGateway:
    """Answers every message itself, without Rasa."""

    def __init__(self) -> None:
        self.seen: list[UserMessage] = []

    async def handle(self, message: UserMessage) -> DialogueReply:
        self.seen.append(message)
        return DialogueReply([BotMessage(f"Tôi đã nhận: {message.text}")], "answered")

    def join(self, sender_id: str, send):
        return lambda: None


def test_the_services_are_ready_before_the_first_request_and_share_one_database(tmp_path, migrated_sqlite):
    with TestClient(create_app(gateway_settings(tmp_path, "http://127.0.0.1:9", migrated_sqlite))) as client:
        built = client.app.state.services
        with built.database.session() as session:  # the queue's configuration was seeded at start-up
            assert session.scalar(select(func.count()).select_from(ServiceRow)) > 0
        assert built.queue.database is built.database
        for fees in (built.payments, built.dossiers.fees):  # they work in the caller's session, hold no database
            assert isinstance(fees, PaymentService) and not hasattr(fees, "database")
        assert built.staff_desk.database is built.database and built.message_log.database is built.database


def test_the_database_is_closed_when_the_app_stops(tmp_path, migrated_sqlite, monkeypatch):
    closed: list[Database] = []
    close = Database.close

    def recording_close(database: Database) -> None:
        closed.append(database)
        close(database)

    monkeypatch.setattr(Database, "close", recording_close)
    with TestClient(create_app(gateway_settings(tmp_path, "http://127.0.0.1:9", migrated_sqlite))) as client:
        database = client.app.state.services.database
        assert closed == []
    assert closed == [database]


def test_a_route_gets_the_overridden_gateway(tmp_path, migrated_sqlite):
    app = create_app(gateway_settings(tmp_path, "http://127.0.0.1:9", migrated_sqlite))
    fake = EchoGateway()
    app.dependency_overrides[get_gateway] = lambda: fake
    with TestClient(app) as client:
        body = client.post("/api/v1/messages", json={"sender": "s1", "text": "xin chào"}).json()
    assert body["messages"][0]["text"] == "Tôi đã nhận: xin chào"
    assert [m.sender_id for m in fake.seen] == ["rest:s1"]


def test_a_websocket_route_gets_the_overridden_gateway(tmp_path, migrated_sqlite):
    app = create_app(gateway_settings(tmp_path, "http://127.0.0.1:9", migrated_sqlite))
    fake = EchoGateway()
    app.dependency_overrides[get_gateway] = lambda: fake
    with TestClient(app) as client, client.websocket_connect("/ws/kiosk?session=k1") as socket:
        assert json.loads(socket.receive_text())["type"] == "session"
        socket.send_text(json.dumps({"type": "message", "text": "lấy số"}))
        frames = [json.loads(socket.receive_text()) for _ in range(2)]
    assert frames[0]["type"] == "typing"
    assert "Tôi đã nhận: lấy số" in json.dumps(frames[1], ensure_ascii=False)
    assert [m.sender_id for m in fake.seen] == ["kiosk:k1"]


def test_the_rate_limited_gateway_forwards_only_what_it_declares():
    inner = EchoGateway()
    gateway = RateLimitedGateway(inner, TokenBuckets(1.0, 1))
    assert gateway.join("web:x", lambda _: None)() is None
    with pytest.raises(AttributeError):
        gateway.seen  # noqa: B018 - nothing else of the wrapped gateway leaks through
