"""The ticket's status page in a real headless Chromium, on a phone (390×844), a tablet (768×1024) and a desktop: when
staff call the number, a large banner appears without a reload and the chime plays; once served,
the rating form replaces nothing-to-do and sends a real rating."""

from __future__ import annotations

import httpx
import pytest

from knowledge_base.messages import render
from tests.browser import wait_for_js
from tests.queue.test_queue_api import STAFF, add_counter_staff, make_app, signed_in
from tests.servers import serve_in_thread

pytestmark = pytest.mark.integration

SIZES = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1280, 800)}
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("size", list(SIZES))
def test_the_ticket_page_rings_when_the_number_is_called_and_then_asks_for_a_rating(size, tmp_path, database_url,
                                                                                  clock, browser):
    width, height = SIZES[size]
    app = make_app(tmp_path, database_url, clock, public_url="")  # plain http: cookies not Secure
    add_counter_staff(database_url)
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as http:
            signed_in(http)
            token = http.post("/api/v1/queue/tickets", json={"service": "HT", "print": False}).json()["ticket"]["token"]
            page.goto(f"{base}/queue/ticket/{token}")
            wait_for_js(page, "window.ticketState && window.ticketState.events >= 1", timeout=10_000)
            assert page.is_hidden("#called") and page.is_hidden("#rating")
            page.click("#sound")  # a phone plays sound only after a tap
            assert page.text_content("#sound") == render("page.ticket.sound_ready")
            page.evaluate("window.notReloaded = true")

            http.post("/api/v1/queue/counters/1/call-next", headers=STAFF)
            wait_for_js(page, "!document.getElementById('called').hidden", timeout=10_000)
            assert page.evaluate("window.notReloaded") is True  # live, not a reload
            assert page.text_content("#called") == render("page.ticket.called_banner", label="A001", counter=1)
            assert page.evaluate("window.ticketState.chimes") == 1
            box = page.evaluate("(() => { const r = document.getElementById('called').getBoundingClientRect();"
                                " return [r.top, r.height, parseFloat(getComputedStyle(document.getElementById("
                                "'called')).fontSize)]; })()")
            assert box[0] < height and box[2] >= 28  # on screen, in large letters
            assert page.text_content("#row-counter td") == render("page.ticket.counter_number", counter=1)
            assert page.evaluate(NO_OVERFLOW), "the page overflows sideways"

            http.post("/api/v1/queue/counters/1/recall", headers=STAFF)
            wait_for_js(page, "window.ticketState.chimes === 2", timeout=10_000)  # called again: rings again

            http.post("/api/v1/queue/counters/1/start", headers=STAFF)
            http.post("/api/v1/queue/counters/1/finish", headers=STAFF)
            wait_for_js(page, "!document.getElementById('rating').hidden", timeout=10_000)
            assert page.is_hidden("#called")
            page.click("#rating button[type=submit]")
            assert page.text_content("#rating-note") == render("page.ticket.rate_pick")
            page.click("#rating .star:nth-of-type(4)")
            page.fill("#comment", "Cán bộ hướng dẫn tận tình.")
            page.click("#rating button[type=submit]")
            wait_for_js(page, "window.ticketState.rated === true", timeout=10_000)
            assert page.text_content("#rating") == render("gateway.rating_thanks")
            assert page.evaluate(NO_OVERFLOW), "the page overflows sideways"
            page.reload()  # the same phone later: thanked, not asked again
            wait_for_js(page, "window.ticketState && window.ticketState.rated === true", timeout=10_000)
            page.goto("about:blank")
    finally:
        context.close()
    assert problems == []
