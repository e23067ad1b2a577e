"""The web widget's websocket protocol, its origin check, and CORS."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bot.app import create_app
from channels import web
from tests.channels.conftest import channel_settings
from tests.channels.fakes import (
    BIRTH_BUTTONS,
    BIRTH_QUESTION,
    BIRTH_TEXT,
    QUEUE_TEXT_AFTER_BIRTH,
    received_from,
)

HOST_PAGE = "https://ubnd-xa.example.gov.vn"


def say(ws, text, payload=None) -> dict:
    ws.send_text(json.dumps({"type": "message", "text": text, "payload": payload}, ensure_ascii=False))
    while True:
        frame = json.loads(ws.receive_text())
        if frame["type"] != "typing":
            return frame


def test_the_widget_holds_a_conversation_and_keeps_its_session_across_reconnects(settings, fakes):
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect("/ws/widget") as ws:
            session = json.loads(ws.receive_text())["session"]
            frame = say(ws, BIRTH_QUESTION)
            assert frame == {"type": "bot", "pushed": False, "messages": [{"text": BIRTH_TEXT, "buttons": BIRTH_BUTTONS}]}
        # the page reloads: same session id, same conversation
        with client.websocket_connect(f"/ws/widget?session={session}") as ws:
            assert json.loads(ws.receive_text())["session"] == session
            assert say(ws, "Lấy số thứ tự", "/request_queue_number")["messages"][0]["text"] == QUEUE_TEXT_AFTER_BIRTH
            ws.send_text('{"type": "ping"}')
            assert json.loads(ws.receive_text()) == {"type": "pong"}
    assert received_from(fakes.rasa, f"web:{session}") == [BIRTH_QUESTION, "/request_queue_number"]


def test_huge_binary_and_unknown_frames_are_answered_and_the_socket_lives_on(settings, fakes):
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/widget?session=abcdefgh12") as ws:
        ws.receive_text()
        huge = say(ws, "khai sinh " + "ạ" * 34_000)  # 100 kB of UTF-8
        assert huge["messages"][0]["text"] == BIRTH_TEXT
        ws.send_bytes(b"\x00\xff\xfe binary junk" * 100)
        assert json.loads(ws.receive_text())["type"] == "error"
        ws.send_text(json.dumps({"type": "video", "data": "x"}))
        assert json.loads(ws.receive_text())["type"] == "error"
        ws.send_text(json.dumps({"type": "device", "event": "cccd_scanned", "data": "1|2"}))  # kiosks only
        assert json.loads(ws.receive_text())["type"] == "error"
        ws.send_text("{" * 200_000)  # larger than a frame may be
        assert "quá dài" in json.loads(ws.receive_text())["messages"][0]["text"]
        assert say(ws, "Lấy số thứ tự", "/request_queue_number")["messages"][0]["text"] == QUEUE_TEXT_AFTER_BIRTH
    assert [len(m) for m in received_from(fakes.rasa, "web:abcdefgh12")] == [2000, len("/request_queue_number")]


def test_a_bad_session_id_gets_a_fresh_one():
    assert web.session_or_new("abc") != "abc"
    assert web.session_or_new("../../etc/passwd") != "../../etc/passwd"
    assert web.session_or_new("Good_session-123") == "Good_session-123"


def test_pages_from_other_sites_are_refused_unless_listed(tmp_path, fakes, migrated):
    settings = channel_settings(tmp_path, fakes, cors_origins=[HOST_PAGE])
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect("/ws/widget", headers={"Origin": HOST_PAGE}) as ws:
            assert json.loads(ws.receive_text())["type"] == "session"
        with client.websocket_connect("/ws/widget", headers={"Origin": "http://testserver"}) as ws:  # same site
            assert json.loads(ws.receive_text())["type"] == "session"
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/ws/widget", headers={"Origin": "https://evil.example"}):
                pass
        assert refused.value.code == 1008
        # CORS for the REST API: the listed site only
        allowed = client.options("/api/v1/messages", headers={"Origin": HOST_PAGE, "Access-Control-Request-Method": "POST"})
        assert allowed.headers.get("access-control-allow-origin") == HOST_PAGE
        denied = client.options("/api/v1/messages", headers={"Origin": "https://evil.example",
                                                             "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in denied.headers


def test_origin_rules(tmp_path):
    from bot.security import origin_allowed
    from motcua.settings import Settings

    def rules(cors_origins: list[str]) -> Settings:
        return Settings(data_dir=tmp_path, cors_origins=cors_origins)

    assert origin_allowed(None, "gw", rules([]))
    assert origin_allowed("http://gw", "gw", rules([]))
    assert origin_allowed("https://A.example/", "gw", rules(["https://a.example"]))
    assert not origin_allowed("https://b.example", "gw", rules(["https://a.example"]))
    assert origin_allowed("https://b.example", "gw", rules(["*"]))


def test_the_widget_script_and_style_are_served(settings):
    with TestClient(create_app(settings)) as client:
        script = client.get("/static/widget.js")
        style = client.get("/static/widget.css")
    assert script.status_code == 200 and "/ws/widget" in script.text
    assert style.status_code == 200 and ":focus-visible" in style.text
