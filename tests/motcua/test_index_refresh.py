"""Telling a running action server that the knowledge base changed."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from motcua.index_refresh import refresh_url, request_refresh_sync
from motcua.settings import Settings
from tests.servers import free_port


class _ActionServer(BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []
    bodies: list[dict] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        type(self).paths.append(self.path)
        type(self).bodies.append(json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}"))
        body = json.dumps({"ok": True, "changed": 3, "removed": 1}).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def action_server():
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _ActionServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _ActionServer.paths, _ActionServer.bodies, _ActionServer.status = [], [], 200
    yield port
    server.shutdown()


def test_the_refresh_address_is_beside_the_webhook(tmp_path):
    settings = Settings(data_dir=tmp_path, action_port=5999)
    assert refresh_url(settings) == "http://127.0.0.1:5999/index/refresh"


def test_a_running_action_server_reports_what_it_updated(tmp_path, action_server):
    outcome = request_refresh_sync(Settings(data_dir=tmp_path, action_port=action_server))
    assert _ActionServer.paths == ["/index/refresh"]
    assert re.fullmatch(r"[0-9a-f]{32}", _ActionServer.bodies[0]["rid"])  # the refresh's name, for its notice
    assert outcome["updated"] and (outcome["changed"], outcome["removed"]) == (3, 1)
    assert "3 tài liệu" in outcome["message"]


def test_a_failing_action_server_is_said_plainly(tmp_path, action_server):
    _ActionServer.status = 503
    outcome = request_refresh_sync(Settings(data_dir=tmp_path, action_port=action_server))
    assert not outcome["updated"] and "mã 503" in outcome["message"]


def test_no_action_server_keeps_the_change_for_the_next_start(tmp_path):
    outcome = request_refresh_sync(Settings(data_dir=tmp_path, action_port=free_port()))
    assert not outcome["updated"]
    assert "chưa chạy" in outcome["message"] and "khi khởi động" in outcome["message"]


def test_the_action_server_remembers_the_refresh_a_post_named(tmp_path):
    """So the Redis notice with the same name that follows costs it no second pass (motcua/index_refresh.py)."""
    from fastapi.testclient import TestClient

    from actions.knowledge import RefreshReport
    from actions.server import ActionServices, create_app

    class Knowledge:
        calls = 0

        def refresh(self) -> RefreshReport:
            Knowledge.calls += 1
            return RefreshReport(48, 1, 0, True, 0.01)

    app = create_app(Settings(data_dir=tmp_path))
    app.state.services = ActionServices(executor=None, knowledge=Knowledge())  # type: ignore[arg-type]
    client = TestClient(app)  # no lifespan: the services above stand in for the real ones
    assert client.post("/index/refresh", json={"rid": "a1b2"}).json()["changed"] == 1
    assert client.post("/index/refresh").status_code == 200  # an older gateway names none
    assert Knowledge.calls == 2
    assert "a1b2" in app.state.refreshed and "" not in app.state.refreshed and "zz" not in app.state.refreshed
