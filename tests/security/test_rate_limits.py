"""Abuse: chat is limited per client IP whatever sender id the client makes up, and a
client IP is the socket peer unless a trusted proxy says otherwise."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.app import create_app
from bot.ratelimit import RATE_LIMITED_TEXT
from bot.security import forwarded_client, limit_key
from motcua.db import upgrade_database
from motcua.settings import Settings
from tests.servers import free_port, serve_in_thread
from tests.staff.conftest import fake_rasa

FLOODER = ("203.0.113.7", 5000)
NEIGHBOUR = ("203.0.113.8", 5000)


@pytest.fixture
def rasa():
    app = fake_rasa()
    with serve_in_thread(app) as url:
        yield app, url


def gateway(tmp_path, rasa_url: str, **overrides) -> Settings:
    settings = Settings(data_dir=tmp_path, rasa_url=rasa_url, rasa_timeout_s=1.0,
                        action_url=f"http://127.0.0.1:{free_port()}/webhook",
                        chat_ip_burst=3, chat_ip_per_minute=0.5, **overrides)
    upgrade_database(settings.sqlalchemy_url)
    return settings


def serve_like_motcua(app):
    """uvicorn as ``motcua serve`` runs the gateway (``--no-proxy-headers``)."""
    return serve_in_thread(app, proxy_headers=False)


def say(client, sender: str, text: str = "chào"):
    return client.post("/api/v1/messages", json={"sender": sender, "text": text})


def test_rest_chat_is_limited_per_ip_whatever_sender_the_client_invents(tmp_path, rasa):
    fake, url = rasa
    app = create_app(gateway(tmp_path, url))
    with TestClient(app, client=FLOODER) as flooder:
        answers = [say(flooder, f"phien-{i}") for i in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        refused = answers[3]
        assert refused.json()["detail"].startswith("Quá nhiều tin nhắn từ địa chỉ này")
        assert refused.json()["messages"] == [{"text": RATE_LIMITED_TEXT}]  # the citizen's polite sentence
        assert 1 <= int(refused.headers["retry-after"]) <= 120
        assert len(fake.state.received) == 3  # the flood never reached Rasa
    with TestClient(app, client=NEIGHBOUR) as neighbour:  # one client at a time: each runs its own loop
        assert say(neighbour, "phien-0").status_code == 200  # another address has its own budget


def test_both_chat_sockets_share_the_ip_limit_across_sessions(tmp_path, rasa):
    _, url = rasa
    app = create_app(gateway(tmp_path, url))
    texts = []
    with TestClient(app, client=FLOODER) as client:
        for path in ("/ws/kiosk?session=a1", "/ws/widget", "/ws/kiosk?session=a2"):
            with client.websocket_connect(path) as ws:
                ws.receive_text()  # session
                ws.send_text(json.dumps({"type": "message", "text": "chào"}))
                ws.receive_text()  # typing
                texts.append(json.loads(ws.receive_text())["messages"][0]["text"])
                ws.send_text(json.dumps({"type": "message", "text": "chào lần nữa"}))
                ws.receive_text()
                texts.append(json.loads(ws.receive_text())["messages"][0]["text"])
    assert [t == RATE_LIMITED_TEXT for t in texts] == [False, False, False, True, True, True]


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    assert forwarded_client("203.0.113.7", "198.51.100.1", []) == "203.0.113.7"  # no proxy: the peer
    assert forwarded_client("203.0.113.7", "198.51.100.1", ["10.0.0.0/8"]) == "203.0.113.7"  # not a proxy
    assert forwarded_client("10.0.0.2", "198.51.100.1", ["10.0.0.0/8"]) == "198.51.100.1"
    # the client wrote its own X-Forwarded-For; the proxy appended the real peer: the right end counts
    assert forwarded_client("10.0.0.2", "1.2.3.4, 198.51.100.1", ["10.0.0.0/8"]) == "198.51.100.1"
    assert forwarded_client("10.0.0.2", "198.51.100.1, 10.0.0.9", ["10.0.0.2", "10.0.0.9"]) == "198.51.100.1"
    assert forwarded_client("10.0.0.2", "", ["10.0.0.2"]) == "10.0.0.2"
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings(trusted_proxies=["proxy.example"])


def test_a_spoofed_forwarded_for_does_not_escape_the_limit_but_a_trusted_proxy_is_followed(tmp_path, rasa):
    _, url = rasa
    direct = create_app(gateway(tmp_path / "direct", url))
    with serve_like_motcua(direct) as base, httpx.Client(base_url=base, timeout=10) as http:
        codes = [http.post("/api/v1/messages", json={"sender": "s", "text": "chào"},
                           headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    proxied = create_app(gateway(tmp_path / "proxied", url, trusted_proxies=["127.0.0.1"]))
    with serve_like_motcua(proxied) as base, httpx.Client(base_url=base, timeout=10) as http:
        codes = [http.post("/api/v1/messages", json={"sender": "s", "text": "chào"},
                           headers={"X-Forwarded-For": f"198.51.100.{i % 2}"}).status_code for i in range(8)]
    assert codes == [200] * 6 + [429, 429]  # two citizens behind the proxy, three each


def test_motcua_serve_runs_the_gateway_without_uvicorns_own_proxy_headers(tmp_path, monkeypatch):
    """uvicorn believes ``X-Forwarded-For`` from 127.0.0.1 by default; the gateway must decide alone."""
    from pathlib import Path

    from motcua import runtime

    monkeypatch.setattr(runtime, "rasa_executable", lambda: Path("/venv/bin/rasa"))
    stack = runtime.Stack(Settings(data_dir=tmp_path, demo_portal_port=0), tmp_path / "model.tar.gz",
                          echo=lambda _: None)
    gateway_command = next(s for s in stack.services if s.name == "gateway").command
    assert "--no-proxy-headers" in gateway_command


def test_an_ipv6_client_is_counted_by_its_slash_64_so_rotating_addresses_does_not_escape_a_limit():
    assert limit_key("2001:db8:1:2::1") == limit_key("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")  # the next subscriber
    assert limit_key("203.0.113.7") == "203.0.113.7"
    assert limit_key("::ffff:203.0.113.7") == "203.0.113.7"  # IPv4 through a dual stack: the IPv4 address
    assert limit_key("testclient") == "testclient"  # not an address (test clients): as it is
