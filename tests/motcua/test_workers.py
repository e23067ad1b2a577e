"""``motcua serve --workers N`` (issue 24 item 2): N Rasa servers and action servers, N gateway processes
behind one port, and what spreads over them — messages to the least busy Rasa, a model loaded into every
Rasa, an index refresh to every action server."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from bot.dialogue import DialogueClient
from channels.base import UserMessage
from motcua.index_refresh import refresh_urls, request_refresh_sync
from motcua.runtime import (
    Stack,
    child_names,
    child_service,
    endpoints_config,
    ready_url,
    worker_of,
    workers_problem,
)
from motcua.settings import Settings
from motcua.training import RasaModelLoader
from tests.servers import free_port

PROVINCE = {"database_url": "postgresql+psycopg://motcua@db:5432/motcua", "redis_url": "redis://cache:6379/0"}


def test_settings_name_one_rasa_and_one_action_server_per_worker(tmp_path):
    three = Settings(data_dir=tmp_path, workers=3, rasa_port=6005, action_port=6055)
    assert three.rasa_base_urls == ["http://127.0.0.1:6005", "http://127.0.0.1:6006", "http://127.0.0.1:6007"]
    assert three.action_webhook_urls[2] == "http://127.0.0.1:6057/webhook"
    assert refresh_urls(three)[1] == "http://127.0.0.1:6056/index/refresh"
    machines = Settings(data_dir=tmp_path, rasa_url="http://rasa-a:5005, http://rasa-b:5005/")
    assert machines.rasa_base_urls == ["http://rasa-a:5005", "http://rasa-b:5005"]  # several machines
    assert Settings(data_dir=tmp_path).rasa_base_urls == ["http://127.0.0.1:5005"]  # one, as before


def test_serve_with_two_workers_starts_two_of_each_and_one_gateway_port_with_two_processes(tmp_path):
    settings = Settings(data_dir=tmp_path, workers=2, demo_portal_port=0, **PROVINCE)
    names = child_names(settings)
    assert names == ["action-server", "action-server-2", "rasa", "rasa-2", "gateway"]
    assert [worker_of(name) for name in names[:4]] == [("action-server", 1), ("action-server", 2), ("rasa", 1),
                                                       ("rasa", 2)]
    second_actions = child_service(settings, "action-server-2")
    assert second_actions.command[second_actions.command.index("--port") + 1] == str(settings.action_port + 1)
    assert ready_url(settings, "rasa-2").startswith(f"http://127.0.0.1:{settings.rasa_port + 1}/status")
    gateway = child_service(settings, "gateway").command
    assert gateway[gateway.index("--workers") + 1] == "2" and gateway.count("--port") == 1
    assert "--workers" not in child_service(Settings(data_dir=tmp_path), "gateway").command  # one: as before
    # each Rasa calls its own action server, and all share the tracker store and the Redis lock store
    first, second = endpoints_config(settings, 1), endpoints_config(settings, 2)
    assert first["action_endpoint"]["url"] == f"http://127.0.0.1:{settings.action_port}/webhook"
    assert second["action_endpoint"]["url"] == f"http://127.0.0.1:{settings.action_port + 1}/webhook"
    assert first["tracker_store"] == second["tracker_store"] and first["tracker_store"]["dialect"] == "postgresql"
    assert first["lock_store"]["type"] == "redis" and first["lock_store"] == second["lock_store"]


def test_the_stack_writes_one_endpoints_file_per_rasa_worker(tmp_path):
    settings = Settings(data_dir=tmp_path, workers=2, demo_portal_port=0, **PROVINCE)
    stack = Stack(settings, Path("model.tar.gz"), echo=lambda _: None)
    rasa = {s.name: s.command for s in stack.services if worker_of(s.name)[0] == "rasa"}
    files = {name: Path(command[command.index("--endpoints") + 1]) for name, command in rasa.items()}
    assert files["rasa"] != files["rasa-2"]
    assert yaml.safe_load(files["rasa-2"].read_text())["action_endpoint"]["url"].endswith(
        f":{settings.action_port + 1}/webhook")
    assert rasa["rasa-2"][rasa["rasa-2"].index("-p") + 1] == str(settings.rasa_port + 1)


def test_several_workers_need_redis_and_postgresql_and_say_so_in_vietnamese(tmp_path):
    alone = Settings(data_dir=tmp_path, workers=2)
    problem = workers_problem(alone)
    assert "Redis" in problem and "PostgreSQL" in problem and problem.startswith("Chạy 2 worker")
    assert "PostgreSQL" in workers_problem(Settings(data_dir=tmp_path, workers=2, redis_url=PROVINCE["redis_url"]))
    assert workers_problem(Settings(data_dir=tmp_path, workers=2, **PROVINCE)) == ""
    assert workers_problem(Settings(data_dir=tmp_path)) == ""  # one worker: the embedded default
    with pytest.raises(Exception, match="Redis"):
        Stack(alone, Path("model.tar.gz"), echo=lambda _: None)


def rasa_fakes(delays: list[float]) -> tuple[httpx.AsyncClient, list[str]]:
    """Rasa servers ``rasa-0``, ``rasa-1``… answering after their delay; the hosts each message reached."""
    reached: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        reached.append(request.url.host)
        await asyncio.sleep(delays[int(request.url.host.split("-")[1])])
        return httpx.Response(200, json=[{"recipient_id": "x", "text": f"from {request.url.host}"}])

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), reached


async def test_messages_go_round_the_rasa_servers_and_skip_a_busy_one():
    client, reached = rasa_fakes([0.0, 0.0, 0.0])
    dialogue = DialogueClient(["http://rasa-0", "http://rasa-1", "http://rasa-2"], client=client)
    for _ in range(6):  # one at a time: in turn
        await dialogue.send(UserMessage("rest", "rest:a", "xin chào"))
    assert reached == ["rasa-0", "rasa-1", "rasa-2"] * 2
    slow_client, slow_reached = rasa_fakes([0.5, 0.0])
    slow = DialogueClient(["http://rasa-0", "http://rasa-1"], client=slow_client)
    first = asyncio.create_task(slow.send(UserMessage("rest", "rest:a", "1")))
    await asyncio.sleep(0.05)  # rasa-0 is busy with the first message
    replies = [await slow.send(UserMessage("rest", "rest:b", str(i))) for i in range(3)]
    assert slow_reached == ["rasa-0", "rasa-1", "rasa-1", "rasa-1"]  # the busy server is passed over
    assert [r.messages[0].text for r in replies] == ["from rasa-1"] * 3
    assert (await first).messages[0].text == "from rasa-0"


async def test_health_says_how_many_rasa_servers_answer():
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "rasa-1":
            return httpx.Response(503)
        return httpx.Response(200, json={"model_file": "motcua-abc.tar.gz"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    status = await DialogueClient(["http://rasa-0", "http://rasa-1"], client=client).ping()
    assert status["ok"] is False and status["servers"] == "1/2" and status["model"] == "motcua-abc.tar.gz"


class _Recorder(BaseHTTPRequestHandler):
    calls: list[tuple[int, str, str]] = []
    failing: set[int] = set()

    def _answer(self, status: int, body: dict | None) -> None:
        port = self.server.server_address[1]
        type(self).calls.append((port, self.command, self.path.split("?")[0]))
        status = 500 if port in type(self).failing else status
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 - the http.server API
        self._answer(200, {"ok": True, "changed": 2, "removed": 0})

    def do_GET(self):  # noqa: N802
        self._answer(200, {"ok": True, "procedures": 3})

    def do_PUT(self):  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        port = self.server.server_address[1]
        type(self).calls.append((port, "PUT", self.path.split("?")[0]))
        self.send_response(500 if port in type(self).failing else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def two_servers():
    ports = [free_port(), free_port()]
    servers = [ThreadingHTTPServer(("127.0.0.1", port), _Recorder) for port in ports]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.calls, _Recorder.failing = [], set()
    yield ports
    for server in servers:
        server.shutdown()


def test_an_index_refresh_reaches_every_action_server_and_says_when_one_missed_it(tmp_path, two_servers):
    webhooks = ",".join(f"http://127.0.0.1:{port}/webhook" for port in two_servers)
    settings = Settings(data_dir=tmp_path, action_url=webhooks)
    assert request_refresh_sync(settings)["updated"]
    assert sorted(_Recorder.calls) == sorted((port, "POST", "/index/refresh") for port in two_servers)
    _Recorder.failing = {two_servers[1]}
    missed = request_refresh_sync(settings)
    assert not missed["updated"] and "mã 500" in missed["message"]  # not «updated» while one worker lacks it


def test_a_promoted_model_is_loaded_into_every_rasa_server(tmp_path, two_servers):
    loader = RasaModelLoader([f"http://127.0.0.1:{port}" for port in two_servers], token="t")
    loader.load(tmp_path / "motcua-new.tar.gz")
    assert [(port, method, path) for port, method, path in _Recorder.calls] == [
        (two_servers[0], "PUT", "/model"), (two_servers[1], "PUT", "/model")]
    _Recorder.failing = {two_servers[1]}
    with pytest.raises(Exception, match="không nạp được"):
        loader.load(tmp_path / "motcua-new.tar.gz")


async def test_health_checks_every_action_server(two_servers):
    from bot.routes.health import _check_all_actions

    urls = [f"http://127.0.0.1:{port}/webhook" for port in two_servers]
    assert await _check_all_actions(urls) == {"ok": True, "servers": "2/2"}
    _Recorder.failing = {two_servers[0]}
    assert await _check_all_actions(urls) == {"ok": False, "servers": "1/2"}
    assert (await _check_all_actions(urls[1:]))["ok"] is True  # one: as before, with its latency


def test_serve_with_workers_on_the_embedded_defaults_stops_at_once_and_says_what_is_missing(tmp_path, monkeypatch):
    from rich.console import Console
    from typer.testing import CliRunner

    from motcua import cli

    prepared = []
    monkeypatch.setattr(cli, "console", Console(width=400, soft_wrap=True))
    monkeypatch.setattr(cli, "get_settings", lambda: Settings(data_dir=tmp_path))
    monkeypatch.setattr(cli, "_prepare_assistant", lambda settings: prepared.append(settings))
    result = CliRunner().invoke(cli.app, ["serve", "--workers", "2"])
    assert result.exit_code == 1, result.output
    assert "Chạy 2 worker (MOTCUA_WORKERS) cần Redis" in result.output and "PostgreSQL" in result.output
    assert prepared == []  # nothing trained, migrated or started first
