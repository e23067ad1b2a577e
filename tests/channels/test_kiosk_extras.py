"""The kiosk's extras: read-out audio (POST), scanner events from a registered device agent, pushes to the page."""

from __future__ import annotations

import json
import shutil
import struct
import threading

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.sync.client import connect

from bot.app import create_app
from bot.routes.kiosk import fix_wav_sizes
from devices.agent import GatewayReporter, Scan, classify, read_device, run, split_lines
from devices.fake_scanner import CCCD_EXAMPLE, DOSSIER_EXAMPLE, FakeScanner
from motcua.db import session_scope
from motcua.devices import add_device
from tests.channels.conftest import channel_settings
from tests.servers import serve_in_thread

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng chưa được cài (apt-get install espeak-ng)")


@needs_espeak
def test_replies_are_read_aloud_as_vietnamese_wav(settings):
    with TestClient(create_app(settings)) as client:
        audio = client.post("/api/v1/tts", json={"text": "Xin chào, ông bà cần làm thủ tục gì ạ?"})
        again = client.post("/api/v1/tts", json={"text": "Xin chào, ông bà cần làm thủ tục gì ạ?"})
        dash = client.post("/api/v1/tts", json={"text": "--help -v en"})  # never read as options
        empty = client.post("/api/v1/tts", json={"text": "\x00\x01"})
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    body = audio.content
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    assert struct.unpack("<I", body[4:8])[0] == len(body) - 8  # real sizes, not espeak's streaming header
    assert len(body) > 20_000  # about a second of speech or more
    assert again.content == body
    assert dash.status_code == 200 and dash.content[:4] == b"RIFF"
    assert empty.status_code == 422


def test_a_missing_synthesiser_gives_a_polite_503(tmp_path, fakes, migrated):
    settings = channel_settings(tmp_path, fakes, tts_command="/nonexistent/espeak")
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/v1/tts", json={"text": "xin chào"})
    assert response.status_code == 503
    assert "đọc to" in response.json()["detail"]


def test_wav_sizes_are_fixed():
    header = b"RIFF" + struct.pack("<I", 0x7FFFFFFF) + b"WAVEfmt " + b"\x10\x00\x00\x00" + b"\x00" * 16
    wav = header + b"data" + struct.pack("<I", 0x7FFFFFFF) + b"\x01\x02" * 10
    fixed = fix_wav_sizes(wav)
    assert struct.unpack("<I", fixed[4:8])[0] == len(wav) - 8
    assert struct.unpack("<I", fixed[40:44])[0] == 20


def test_scans_are_classified():
    assert classify(CCCD_EXAMPLE) == Scan("cccd_scanned", CCCD_EXAMPLE)
    assert classify("  Mã hồ sơ: " + DOSSIER_EXAMPLE + "\x07") == Scan("dossier_scanned", DOSSIER_EXAMPLE)
    assert classify("8935049500124") is None  # a product barcode
    assert classify("") is None
    assert list(split_lines(iter([b"abc\r", b"def\r\n", b"\n", b"gh"]))) == ["abc", "def", "gh"]
    assert list(split_lines(iter([b"x" * 5000, b"tail\n"]))) == ["tail"]  # runaway junk is dropped


def kiosk_device(url: str, name: str = "quay-1") -> str:
    """A registered kiosk's key (``motcua devices add quay-1 --kind kiosk``)."""
    with session_scope(url) as session:
        return add_device(session, name, "kiosk", actor="test")[1]


def test_device_events_need_the_key_of_a_registered_kiosk(tmp_path, fakes, migrated):
    body = {"device": "quay-1", "event": "cccd_scanned", "data": CCCD_EXAMPLE}
    key = kiosk_device(migrated)
    with TestClient(create_app(channel_settings(tmp_path, fakes))) as client:
        with pytest.raises(WebSocketDisconnect):  # scans carry personal data: no key, no listening
            with client.websocket_connect("/ws/kiosk/events?session=s1&device=quay-1") as spy:
                spy.receive_text()
        client.cookies.set("motcua_device", key)  # what /kiosk/enrol leaves in the kiosk's browser
        with client.websocket_connect("/ws/kiosk/events?session=s1&device=quay-1") as page:
            assert json.loads(page.receive_text()) == {"type": "ready", "device": "quay-1"}
            client.cookies.clear()
            assert client.post("/api/v1/devices/events", json=body).status_code == 401
            assert client.post("/api/v1/devices/events", json=body, headers={"X-Device-Key": "no"}).status_code == 401
            bad = client.post("/api/v1/devices/events", json={**body, "event": "rm -rf"}, headers={"X-Device-Key": key})
            assert bad.status_code == 422
            ok = client.post("/api/v1/devices/events", json=body, headers={"X-Device-Key": key})
            assert ok.json() == {"delivered": 1}
            assert json.loads(page.receive_text()) == {"type": "device", "event": "cccd_scanned", "data": CCCD_EXAMPLE}
            other = client.post("/api/v1/devices/events", json={**body, "device": "quay-2"},
                                headers={"X-Device-Key": kiosk_device(migrated, "quay-2")})
            assert other.json() == {"delivered": 0}  # another kiosk's scanner


def test_the_agent_reads_a_serial_scanner_and_the_kiosk_page_gets_each_scan(settings, migrated):
    key = kiosk_device(migrated)
    with serve_in_thread(create_app(settings)) as gateway, FakeScanner() as scanner:
        page = connect(gateway.replace("http", "ws") + "/ws/kiosk/events?session=s-agent", open_timeout=5,
                       additional_headers={"Cookie": f"motcua_device={key}"})  # an enrolled kiosk page
        assert json.loads(page.recv(timeout=5)) == {"type": "ready", "device": "quay-1"}
        reported = []
        reporter = GatewayReporter(gateway, "quay-1", key=key)
        agent = threading.Thread(target=lambda: reported.append(
            run(split_lines(read_device(scanner.path)), reporter)), daemon=True)
        agent.start()
        scanner.scan(CCCD_EXAMPLE)
        assert json.loads(page.recv(timeout=5)) == {"type": "device", "event": "cccd_scanned", "data": CCCD_EXAMPLE}
        scanner.scan("8935049500124")  # not ours: ignored
        scanner.scan(DOSSIER_EXAMPLE)
        assert json.loads(page.recv(timeout=5)) == {"type": "device", "event": "dossier_scanned",
                                                    "data": DOSSIER_EXAMPLE}
        scanner.close()  # unplugged: the agent stops
        agent.join(timeout=5)
        assert reported == [2]
        reporter.close()
        page.close()
