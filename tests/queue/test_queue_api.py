"""The queue's HTTP API and pages through FastAPI's TestClient (SSE through a real local server)."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.deps import get_queue
from bot.queue_runtime import QueueRuntime
from devices.printer import MemoryPrinter, printer_from_url
from devices.voice import VoiceError
from motcua.db import session_scope, shared_database
from motcua.devices import add_device
from motcua.queue.service import QueueService
from motcua.settings import Settings
from motcua.staff.accounts import create_user
from tests.queue.queue_fakes import SMALL_CENTRE
from tests.servers import free_port, serve_in_thread

SECRET = "staff-secret-for-tests-long-enough-32"
STAFF: dict[str, str] = {}  # staff calls are authenticated by the signed-in session cookie


class FakeVoice:
    def __init__(self, broken: bool = False):
        self.texts: list[str] = []
        self.broken = broken

    def say(self, text: str) -> bytes:
        if self.broken:
            raise VoiceError("espeak-ng not installed")
        self.texts.append(text)
        return b"RIFF\x00\x00\x00\x00WAVEfake"


def make_app(tmp_path, database_url, clock, printer=None, voice=None, public_url="https://motcua.example"):
    settings = Settings(data_dir=tmp_path, database_url=database_url, rasa_url=f"http://127.0.0.1:{free_port()}",
                        action_url=f"http://127.0.0.1:{free_port()}/webhook", secret_key=SECRET,
                        public_url=public_url)
    app = create_app(settings)
    # made before the app starts, so the test centre (not the configuration file) is what gets seeded
    runtime = QueueRuntime(settings, shared_database(database_url), SMALL_CENTRE,
                           QueueService(SMALL_CENTRE, clock=clock),
                           printer=printer if printer is not None else printer_from_url("dummy"),
                           voice=voice or FakeVoice())
    runtime.seed()
    app.dependency_overrides[get_queue] = lambda: runtime
    return app


HTTPS = "https://testserver"
"""public_url is https, so cookies are Secure: the test client talks https to send them back."""


def kiosk_key(database_url: str, name: str = "quay-1", kind: str = "kiosk") -> dict[str, str]:
    """Headers of a registered device (priority numbers, printing and voice need one)."""
    with session_scope(database_url) as session:
        return {"X-Device-Key": add_device(session, name, kind, actor="test")[1]}


def add_counter_staff(database_url: str) -> None:
    with session_scope(database_url) as session:
        create_user(session, "quay1", "mat-khau-quay-1", role="staff", full_name="Cán bộ quầy 1")


@pytest.fixture
def client(tmp_path, database_url, clock):
    """A kiosk/board client; staff calls sign in first (see :func:`signed_in`)."""
    add_counter_staff(database_url)
    with TestClient(make_app(tmp_path, database_url, clock), base_url=HTTPS) as client:
        yield client


def signed_in(client):
    """Sign the test client (TestClient or httpx.Client) in as the counter's staff member."""
    response = client.post("/api/v1/staff/login", json={"username": "quay1", "password": "mat-khau-quay-1"})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.cookies["motcua_csrf"]  # what the staff pages' scripts send
    return client


def test_a_kiosk_ticket_is_issued_printed_and_explained_in_vietnamese(client, database_url):
    client.headers.update(kiosk_key(database_url))  # a registered kiosk prints by default
    body = client.post("/api/v1/queue/tickets", json={"service": "ht"}).json()
    assert body["ticket"]["label"] == "A001"
    assert body["printed"] is True and body["print_message"].startswith("Đã in phiếu số A001")
    assert body["message"] == "Số thứ tự của ông/bà: A001 — Hộ tịch. Ông/bà sẽ được phục vụ ngay khi có quầy trống."
    assert body["ticket"]["status_url"].startswith("https://motcua.example/queue/ticket/")
    second = client.post("/api/v1/queue/tickets", json={"service": "HT", "print": False}).json()
    assert second["estimate"]["ahead"] == 1 and second["estimate"]["minutes"] == 5  # 1 × 10 min ÷ 2 counters
    assert second["printed"] is False and second["print_message"] == ""
    token = second["ticket"]["token"]
    status = client.get(f"/api/v1/queue/tickets/{token}").json()
    assert (status["label"], status["status_text"], status["people_ahead"]) == ("A002", "Đang chờ", 1)
    page = client.get(f"/queue/ticket/{token}").text
    assert '<html lang="vi">' in page and "A002" in page and "Phía trước còn" in page
    assert client.get("/queue/ticket/nope").status_code == 404


def test_bad_requests_get_clear_vietnamese_answers(client, database_url):
    unknown = client.post("/api/v1/queue/tickets", json={"service": "ZZ"})
    assert unknown.status_code == 404 and "ZZ" in unknown.json()["detail"]
    vip = client.post("/api/v1/queue/tickets", json={"service": "HT", "priority": "vip"}, headers=kiosk_key(database_url))
    assert vip.status_code == 422
    assert client.get("/api/v1/queue/tickets/nope").status_code == 404


def test_services_and_priorities_are_listed_for_the_kiosk(client):
    client.post("/api/v1/queue/tickets", json={"service": "CT", "print": False})
    services = {s["code"]: s for s in client.get("/api/v1/queue/services").json()}
    assert list(services) == ["HT", "CT", "TN"]
    assert services["CT"]["waiting"] == 1 and services["CT"]["prefix"] == "B"
    assert [p["code"] for p in client.get("/api/v1/queue/priorities").json()] == ["khuyet_tat", "cao_tuoi", "con_nho"]


def test_staff_routes_need_the_staff_token(client):
    for method, url in (("post", "/api/v1/queue/counters/1/call-next"), ("get", "/api/v1/queue/counters"),
                        ("post", "/api/v1/queue/staff/tickets"), ("get", "/api/v1/queue/stats"),
                        ("put", "/api/v1/queue/services/XY")):
        response = client.request(method.upper(), url, json={})  # nobody signed in
        assert response.status_code == 401, url
        assert response.json()["detail"]


def test_a_counter_works_through_a_day_over_the_api(client, clock):
    signed_in(client)
    for priority in ("", "cao_tuoi"):
        client.post("/api/v1/queue/tickets", json={"service": "HT", "priority": priority, "print": False})
    staff = client.post("/api/v1/queue/staff/tickets", json={"service": "HT", "channel": "staff"}, headers=STAFF)
    assert staff.json()["ticket"]["channel"] == "staff"
    call = client.post("/api/v1/queue/counters/1/call-next", headers=STAFF).json()
    assert call["ticket"]["label"] == "A002" and call["announcement"] == "Mời số A002 đến quầy số 1"
    assert client.post("/api/v1/queue/counters/1/recall", headers=STAFF).json()["announcement"] == call["announcement"]
    assert client.post("/api/v1/queue/counters/1/start", headers=STAFF).json()["ticket"]["status"] == "serving"
    clock.advance(minutes=7)
    assert client.post("/api/v1/queue/counters/1/finish", headers=STAFF).json()["ticket"]["status"] == "done"
    client.post("/api/v1/queue/counters/1/call-next", headers=STAFF)  # A001
    moved = client.post("/api/v1/queue/counters/1/transfer", json={"service": "CT"}, headers=STAFF).json()
    assert (moved["label"], moved["service_code"], moved["status"]) == ("A001", "CT", "waiting")
    assert client.post("/api/v1/queue/counters/3/call-next", headers=STAFF).json()["ticket"]["label"] == "A001"
    assert client.post("/api/v1/queue/counters/3/no-show", headers=STAFF).json()["ticket"]["status"] == "no_show"
    paused = client.post("/api/v1/queue/counters/2/pause", headers=STAFF).json()
    assert paused["counter"]["status"] == "paused" and "tạm dừng" in paused["message"]
    refused = client.post("/api/v1/queue/counters/2/call-next", headers=STAFF)
    assert refused.status_code == 409 and "tạm dừng" in refused.json()["detail"]
    assert client.post("/api/v1/queue/counters/2/resume", headers=STAFF).status_code == 200
    assert client.post("/api/v1/queue/counters/2/dance", headers=STAFF).status_code == 404
    assert client.post("/api/v1/queue/counters/9/call-next", headers=STAFF).status_code == 404
    counters = {c["number"]: c for c in client.get("/api/v1/queue/counters", headers=STAFF).json()}
    assert counters[1]["current"] is None and counters[2]["services"] == ["CT", "HT"]
    board = client.get("/api/v1/queue/board").json()
    assert [c["label"] for c in board["calls"]] == ["A001", "A001", "A002", "A002"]
    assert board["calls"][0]["text"] == "Mời số A001 đến quầy số 3"
    stats = {s["service_code"]: s for s in client.get("/api/v1/queue/stats", headers=STAFF).json()}
    assert stats["HT"]["issued"] == 3 and stats["HT"]["served"] == 1 and stats["HT"]["mean_service_min"] == 7.0
    assert stats["CT"]["no_show"] == 1 and stats["HT"]["waiting"] == 1


def test_a_printer_failure_tells_citizen_and_staff_and_the_ticket_still_exists(tmp_path, database_url, clock):
    app = make_app(tmp_path, database_url, clock, printer=MemoryPrinter(fail="hết giấy"))
    with session_scope(database_url) as session:
        create_user(session, "quay1", "mat-khau-quay-1", role="staff", full_name="Cán bộ quầy 1")
    with TestClient(app, base_url=HTTPS) as client:
        signed_in(client)
        body = client.post("/api/v1/queue/tickets", json={"service": "HT"}).json()
        assert body["printed"] is False
        assert "A001" in body["print_message"] and "sự cố" in body["print_message"]
        assert client.get(f"/api/v1/queue/tickets/{body['ticket']['token']}").status_code == 200
        alerts = client.get("/api/v1/queue/alerts", headers=STAFF).json()
        assert [(a["kind"], a["label"]) for a in alerts] == [("print_failed", "A001")]
        call = client.post("/api/v1/queue/counters/1/call-next", headers=STAFF).json()
        assert call["ticket"]["label"] == "A001"
        reprint = client.post(f"/api/v1/queue/tickets/{body['ticket']['token']}/print").json()
        assert reprint["printed"] is False


def test_the_voice_is_served_as_wav_for_a_called_number(tmp_path, database_url, clock):
    voice = FakeVoice()
    add_counter_staff(database_url)
    with TestClient(make_app(tmp_path, database_url, clock, voice=voice), base_url=HTTPS) as client:
        signed_in(client)
        client.post("/api/v1/queue/tickets", json={"service": "HT", "print": False})
        assert client.get("/api/v1/queue/voice/A001.wav").status_code == 404  # not called yet
        client.post("/api/v1/queue/counters/2/call-next", headers=STAFF)
        audio = client.get("/api/v1/queue/voice/A001.wav")
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        assert audio.content.startswith(b"RIFF")
        assert client.get("/api/v1/queue/voice/A001.wav?counter=2").status_code == 200
        assert client.get("/api/v1/queue/voice/B007.wav?counter=2").status_code == 404  # never called: never spoken
        assert client.get("/api/v1/queue/voice/..%2Fetc.wav").status_code == 404
    assert voice.texts == ["Xin mời số a một, đến quầy số hai."] * 2
    board = kiosk_key(database_url, "bang-1", "board")
    with TestClient(make_app(tmp_path, database_url, clock, voice=FakeVoice(broken=True))) as client:
        response = client.get("/api/v1/queue/voice/A001.wav?counter=2", headers=board)
        assert response.status_code == 503 and "giọng đọc" in response.json()["detail"]


def test_staff_configure_services_and_counters_over_the_api(client):
    signed_in(client)
    saved = client.put("/api/v1/queue/services/DD", headers=STAFF,
                       json={"prefix": "d", "name": "Đất đai", "fields": ["Đất đai"], "minutes": 15}).json()
    assert (saved["code"], saved["prefix"]) == ("DD", "D")
    clash = client.put("/api/v1/queue/services/XX", headers=STAFF, json={"prefix": "A", "name": "Trùng"})
    assert clash.status_code == 409 and "Hộ tịch" in clash.json()["detail"]
    counter = client.put("/api/v1/queue/counters/4", headers=STAFF, json={"services": ["DD", "HT"]}).json()
    assert (counter["name"], counter["services"]) == ("Quầy số 4", ["DD", "HT"])
    assert client.put("/api/v1/queue/counters/4", headers=STAFF, json={"services": ["NO"]}).status_code == 404
    assert client.post("/api/v1/queue/tickets", json={"service": "DD", "print": False}).json()["ticket"]["label"] == "D001"
    call = client.post("/api/v1/queue/counters/4/call-next", headers=STAFF).json()
    assert call["ticket"]["label"] == "D001"
    off = client.put("/api/v1/queue/services/DD", headers=STAFF,
                     json={"prefix": "D", "name": "Đất đai", "active": False})
    assert off.status_code == 200
    assert client.post("/api/v1/queue/tickets", json={"service": "DD"}).status_code == 404


def test_the_board_page_is_large_vietnamese_and_streams_calls(tmp_path, database_url, clock):
    app = make_app(tmp_path, database_url, clock, public_url="")  # plain http: cookies are not Secure
    add_counter_staff(database_url)
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        signed_in(http)
        page = http.get("/board").text
        assert '<html lang="vi">' in page and "XIN MỜI SỐ" in page and "Số vừa gọi" in page
        http.post("/api/v1/queue/tickets", json={"service": "HT", "print": False})
        with http.stream("GET", "/api/v1/queue/stream") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            first = _next_board(lines)
            assert first["calls"] == []
            http.post("/api/v1/queue/counters/1/call-next", headers=STAFF)
            board = _next_board(lines)
    assert board["calls"][0]["label"] == "A001" and board["calls"][0]["counter"] == 1
    assert board["counters"][0] == {"number": 1, "name": "Quầy số 1", "status": "open", "label": "A001",
                                    "ticket_status": "called"}


def _next_board(lines) -> dict:
    for line in lines:
        if line.startswith("data: "):
            return json.loads(line[len("data: "):])
    raise AssertionError("stream ended")
