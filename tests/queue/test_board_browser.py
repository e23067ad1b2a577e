"""The display board in a real headless Chromium: a call made through the API appears and is spoken."""

from __future__ import annotations

import shutil

import httpx
import pytest

from devices.voice import EspeakVoice
from motcua.db import session_scope
from motcua.staff.accounts import create_user
from tests.browser import wait_for_js
from tests.channels.test_browser import keep_screenshot
from tests.queue.test_queue_api import STAFF, FakeVoice, kiosk_key, make_app
from tests.servers import serve_in_thread

pytestmark = pytest.mark.integration


def test_a_call_made_through_the_api_appears_on_the_board_and_is_spoken(tmp_path, database_url, clock,
                                                                         browser_page):
    voice = EspeakVoice(tmp_path / "voice") if shutil.which("espeak-ng") else FakeVoice()
    app = make_app(tmp_path, database_url, clock, voice=voice, public_url="")  # plain http: cookies not Secure
    page = browser_page
    voice_answers: list[tuple[str, int]] = []
    page.on("response", lambda r: voice_answers.append((r.url, r.status)) if "/voice/" in r.url else None)
    with session_scope(database_url) as session:
        create_user(session, "quay1", "mat-khau-quay-1", role="staff", full_name="Cán bộ quầy 1")
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        signed = http.post("/api/v1/staff/login", json={"username": "quay1", "password": "mat-khau-quay-1"})
        assert signed.status_code == 200, signed.text
        http.headers["X-CSRF-Token"] = signed.cookies["motcua_csrf"]
        http.post("/api/v1/queue/tickets", json={"service": "HT", "print": False})
        http.post("/api/v1/queue/tickets", json={"service": "CT", "print": False})
        page.goto(f"{base}/kiosk/enrol")  # the board's browser is enrolled once with its device key
        page.fill("#key", kiosk_key(database_url, "bang-1", "board")["X-Device-Key"])
        page.click("form[action='/kiosk/enrol'] button[type=submit] >> nth=0")
        page.wait_for_url(f"{base}/board")
        wait_for_js(page, "document.getElementById('link').textContent === 'Đang trực tuyến'", timeout=10_000)
        assert page.text_content("[data-testid=current-label]") == "—"

        http.post("/api/v1/queue/counters/1/call-next", headers=STAFF)
        wait_for_js(page, 
            "document.querySelector('[data-testid=current-label]').textContent === 'A001'", timeout=10_000)
        assert page.text_content("[data-testid=current-counter]") == "Đến quầy số 1"
        assert "Quầy số 1" in page.text_content("[data-testid=counters]")

        http.post("/api/v1/queue/counters/3/call-next", headers=STAFF)
        wait_for_js(page, 
            "document.querySelector('[data-testid=current-label]').textContent === 'B001'", timeout=10_000)
        recent = page.locator("[data-testid=recent] li").all_text_contents()
        assert recent == ["B001Quầy 3", "A001Quầy 1"]
        wait_for_js(page, "window.boardState && window.boardState.calls.length === 2")
        page.wait_for_timeout(1500)  # the voice queue plays A001 then asks for B001
        # the label is big: at least 100 CSS pixels high on a 1280×720 window
        height = page.evaluate("document.querySelector('[data-testid=current-label]').getBoundingClientRect().height")
        assert height >= 100
        keep_screenshot(page, tmp_path, "board.png")  # bench/results/screenshots, shown in the README
        page.goto("about:blank")  # close the event stream before the server stops
    assert any("/api/v1/queue/voice/A001.wav?counter=1" in url and status == 200 for url, status in voice_answers)
