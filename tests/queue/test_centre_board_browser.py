"""A centre's board page (/c/<code>/board) in a real headless Chromium shows its own calls only."""

from __future__ import annotations

import httpx
import pytest

from motcua.db import session_scope
from motcua.staff.accounts import create_user
from tests.browser import wait_for_js
from tests.queue.test_centre_tenancy import B, second_centre
from tests.queue.test_queue_api import make_app
from tests.servers import serve_in_thread

pytestmark = pytest.mark.integration


def test_a_centres_board_page_shows_its_calls_and_not_another_centres(tmp_path, database_url, clock, browser_page):
    from bot.deps import get_queue

    app = make_app(tmp_path, database_url, clock, public_url="")  # plain http: cookies not Secure
    second_centre(database_url, app.dependency_overrides[get_queue]().service)
    with session_scope(database_url) as session:
        create_user(session, "tinh", "mat-khau-quan-tri-1", role="admin")
    page = browser_page
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        signed = http.post("/api/v1/staff/login", json={"username": "tinh", "password": "mat-khau-quan-tri-1"})
        assert signed.status_code == 200, signed.text
        http.headers["X-CSRF-Token"] = signed.cookies["motcua_csrf"]
        http.post("/api/v1/queue/tickets", json={"service": "HT", "print": False})  # A's A001
        http.post(f"/api/v1/queue/tickets?center={B}", json={"service": "HT", "print": False})  # B's A001
        page.goto(f"{base}/c/{B}/board")
        wait_for_js(page, "document.getElementById('link').textContent === 'Đang trực tuyến'", timeout=10_000)
        assert page.text_content("[data-testid=current-label]") == "—"
        assert http.post("/api/v1/queue/counters/1/call-next").json()["ticket"]["label"] == "A001"  # at A
        assert http.post("/api/v1/queue/counters/11/call-next").json()["ticket"]["label"] == "A001"  # at B
        wait_for_js(page, "window.boardState && window.boardState.calls.length === 1", timeout=10_000)
        assert page.text_content("[data-testid=current-counter]") == "Đến quầy số 11"
        assert "Quầy số 11" in page.text_content("[data-testid=counters]")
        assert page.evaluate("window.boardState.counters.map((c) => c.number)") == [11, 12]
        page.wait_for_timeout(2500)  # another poll of the stream: A's call never comes
        assert page.evaluate("window.boardState.calls.map((c) => c.counter)") == [11]
        page.goto("about:blank")  # close the event stream before the server stops
