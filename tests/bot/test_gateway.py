"""The gateway in front of a fake Rasa that speaks Rasa's REST webhook protocol."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.models import ConversationMessage
from motcua.settings import Settings
from tests.servers import free_port, serve_in_thread


def fake_rasa(behaviour: dict) -> FastAPI:
    app = FastAPI()
    app.state.received = []

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        body = await request.json()
        app.state.received.append(body)
        await asyncio.sleep(behaviour.get("delay", 0))
        if behaviour.get("empty"):
            return []
        return [{"recipient_id": body["sender"], "text": f"Bạn nói: {body['message']}",
                 "buttons": [{"title": "Lệ phí", "payload": "/ask_fee"}]}]

    @app.get("/status")
    async def status(request: Request):
        # Rasa's HTTP API behind ``rasa run --auth-token``: 401 without the token
        if behaviour.get("token") and request.query_params.get("token") != behaviour["token"]:
            return JSONResponse({"message": "User is not authenticated."}, status_code=401)
        return {"model_file": "motcua-test.tar.gz"}

    return app


def gateway_settings(tmp_path, rasa_url: str, database_url: str | None = None) -> Settings:
    return Settings(data_dir=tmp_path, rasa_url=rasa_url, database_url=database_url or "",
                    action_url=f"http://127.0.0.1:{free_port()}/webhook", rasa_timeout_s=1.0)


@pytest.fixture
def migrated_sqlite(tmp_path) -> str:
    from motcua.db import upgrade_database

    url = f"sqlite:///{tmp_path / 'motcua.sqlite3'}"
    upgrade_database(url)
    return url


def test_rest_message_goes_to_rasa_and_buttons_come_back(tmp_path, migrated_sqlite):
    behaviour: dict = {}
    rasa = fake_rasa(behaviour)
    with serve_in_thread(rasa) as rasa_url, TestClient(create_app(gateway_settings(tmp_path, rasa_url))) as client:
        response = client.post("/api/v1/messages", json={"sender": "abc", "text": "  xin chào\x00 "})
        assert response.status_code == 200
        body = response.json()
        assert body["outcome"] == ""
        assert body["messages"][0]["text"] == "Bạn nói: xin chào"
        assert body["messages"][0]["buttons"] == [{"title": "Lệ phí", "payload": "/ask_fee"}]
    assert rasa.state.received[0]["sender"] == "rest:abc"
    assert rasa.state.received[0]["metadata"]["channel"] == "rest"


def test_kiosk_websocket_holds_a_conversation_and_logs_it(tmp_path, migrated_sqlite):
    rasa = fake_rasa({})
    settings = gateway_settings(tmp_path, "")
    with serve_in_thread(rasa) as rasa_url:
        settings = gateway_settings(tmp_path, rasa_url)
        with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/kiosk?session=s1") as ws:
            assert json.loads(ws.receive_text()) == {"type": "session", "session": "s1"}
            ws.send_text(json.dumps({"type": "message", "text": "Lệ phí", "payload": "/ask_fee"}))
            assert json.loads(ws.receive_text())["type"] == "typing"
            frame = json.loads(ws.receive_text())
            assert frame["messages"][0]["text"] == "Bạn nói: /ask_fee"
            ws.send_text("not json")
            assert json.loads(ws.receive_text())["type"] == "error"
            ws.send_bytes(b"\x00\xff binary junk")
            assert json.loads(ws.receive_text())["type"] == "error"
    with session_scope(settings.sqlalchemy_url) as session:
        rows = session.scalars(select(ConversationMessage).order_by(ConversationMessage.id)).all()
    assert [(r.direction, r.text, r.sender_id) for r in rows] == [
        ("in", "Lệ phí", "kiosk:s1"), ("out", "Bạn nói: /ask_fee", "kiosk:s1")]


def test_slow_rasa_gives_a_polite_busy_message_within_two_seconds(tmp_path, migrated_sqlite):
    rasa = fake_rasa({"delay": 5})
    with serve_in_thread(rasa) as rasa_url, TestClient(create_app(gateway_settings(tmp_path, rasa_url))) as client:
        started = time.monotonic()
        body = client.post("/api/v1/messages", json={"sender": "x", "text": "alo"}).json()
        elapsed = time.monotonic() - started
        assert body["outcome"] == "busy"
        assert body["messages"][0]["text"] == render("gateway.busy")
        assert elapsed < 2.0
        # the gateway keeps serving while Rasa is stuck
        assert client.get("/kiosk").status_code == 200


def test_rasa_down_gives_busy_message_and_health_reports_it(tmp_path, migrated_sqlite):
    dead = f"http://127.0.0.1:{free_port()}"
    with TestClient(create_app(gateway_settings(tmp_path, dead))) as client:
        body = client.post("/api/v1/messages", json={"sender": "x", "text": "alo"}).json()
        assert body["outcome"] == "busy"
        health = client.get("/health")
        assert health.status_code == 503
        checks = health.json()["checks"]
        assert checks["rasa"]["ok"] is False
        assert checks["action_server"]["ok"] is False
        assert checks["database"]["ok"] is True
        assert checks["message_log"] == {"ok": True}  # anonymous: ok or not, no figures


def test_health_asks_rasa_with_its_api_token(tmp_path, migrated_sqlite):
    behaviour: dict = {}
    with serve_in_thread(fake_rasa(behaviour)) as rasa_url:
        settings = gateway_settings(tmp_path, rasa_url)
        behaviour["token"] = settings.rasa_token
        with TestClient(create_app(settings)) as client:
            assert client.get("/health").json()["checks"]["rasa"]["ok"] is True
            # the REST webhook is a Rasa channel, not guarded by the token: messages still flow
            assert client.post("/api/v1/messages", json={"sender": "x", "text": "alo"}).json()["outcome"] == ""
        behaviour["token"] = "another-token"
        with TestClient(create_app(settings)) as client:
            assert client.get("/health").json()["checks"]["rasa"]["ok"] is False


def test_the_admin_model_loader_calls_rasa_with_its_token(tmp_path, migrated_sqlite):
    settings = gateway_settings(tmp_path, "http://127.0.0.1:5005")
    with TestClient(create_app(settings)) as client:
        loader = client.app.state.services.model_loader
    assert loader.params == {"token": settings.rasa_token}  # PUT /model and /status need it


def test_empty_rasa_answer_becomes_an_apology(tmp_path, migrated_sqlite):
    with serve_in_thread(fake_rasa({"empty": True})) as rasa_url, \
            TestClient(create_app(gateway_settings(tmp_path, rasa_url))) as client:
        body = client.post("/api/v1/messages", json={"sender": "x", "text": "alo"}).json()
    assert body["outcome"] == "empty"
    assert body["messages"][0]["text"] == render("gateway.empty")


def test_kiosk_page_is_vietnamese_and_has_task_buttons(tmp_path, migrated_sqlite):
    with TestClient(create_app(gateway_settings(tmp_path, "http://127.0.0.1:9"))) as client:
        page = client.get("/kiosk").text
    assert '<html lang="vi">' in page
    for label in ("Hỏi thủ tục", "Lấy số thứ tự", "Tra cứu hồ sơ", "Điền tờ khai"):
        assert label in page


def test_empty_and_oversized_messages_are_answered_not_crashed(tmp_path, migrated_sqlite):
    with serve_in_thread(fake_rasa({})) as rasa_url, \
            TestClient(create_app(gateway_settings(tmp_path, rasa_url))) as client:
        assert client.post("/api/v1/messages", json={"sender": "x", "text": "\x00\x01"}).json()["outcome"] == "empty"
        assert client.post("/api/v1/messages", json={"sender": "x", "text": "a" * 30000}).status_code == 422
        long = client.post("/api/v1/messages", json={"sender": "x", "text": "b" * 19000}).json()
        assert len(long["messages"][0]["text"]) == len("Bạn nói: ") + 2000
