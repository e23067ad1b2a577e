"""The counter page (/staff/counter) in a real headless Chromium, at desktop, tablet and phone sizes:
sign in, call the next number, recall it, mark it absent, finish, transfer, through the buttons and the
keyboard shortcuts; the waiting list follows; the board and the called citizen's outbox are told;
nothing overflows sideways. The desktop run saves bench/results/screenshots/counter.png."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.queue.models import QueueNotification
from motcua.staff.accounts import create_user
from tests.browser import sign_in_through, wait_for_js
from tests.queue.test_counter_api import counter_app
from tests.servers import serve_in_thread

pytestmark = pytest.mark.integration

SCREENSHOT = Path(__file__).resolve().parents[2] / "bench" / "results" / "screenshots" / "counter.png"
SIZES = {"desktop": (1366, 768), "tablet": (768, 1024), "phone": (390, 844)}
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def text(page, testid: str) -> str:
    return page.text_content(f"[data-testid={testid}]") or ""


def waiting_labels(page) -> list[str]:
    return page.eval_on_selector_all("#waiting tr[data-label]", "rows => rows.map(r => r.dataset.label)")


def wait_text(page, testid: str, wanted: str, timeout: float = 10_000) -> None:
    wait_for_js(page, f"(document.querySelector('[data-testid={testid}]').textContent || '').includes({wanted!r})",
                timeout=timeout)


def no_overflow(page, where: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page.evaluate(NO_OVERFLOW), f"{where}: the page is {width[0]} px wide in a {width[1]} px window"


@pytest.mark.parametrize("size", list(SIZES))
def test_a_counter_works_through_its_line_on_the_page(size, tmp_path, database_url, clock, browser):
    width, height = SIZES[size]
    app = counter_app(tmp_path, database_url, clock, public_url="")  # plain http: cookies not Secure
    with session_scope(database_url) as session:
        create_user(session, "quay1", "mat-khau-quay-1", role="staff", full_name="Cán bộ quầy 1")
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as http:
            signed = http.post("/api/v1/staff/login", json={"username": "quay1", "password": "mat-khau-quay-1"})
            http.headers["X-CSRF-Token"] = signed.cookies["motcua_csrf"]

            def issue(priority: str = "", **extra) -> str:
                body = {"service": "HT", "priority": priority, "channel": "staff", **extra}
                answer = http.post("/api/v1/queue/staff/tickets", json=body)
                assert answer.status_code == 200, answer.text
                clock.advance(minutes=4)
                return answer.json()["ticket"]["label"]

            issue(channel="telegram", sender_id="telegram:42")  # A001, from a chat
            for priority in ("", "cao_tuoi", "", "khuyet_tat"):  # A002, A003 (priority), A004, A005 (priority)
                issue(priority)

            # not signed in: the sign-in page, then back here
            sign_in_through(page, base, "/staff/counter", "quay1", "mat-khau-quay-1", timeout=10_000)
            wait_for_js(page, "!document.getElementById('desk').hidden", timeout=10_000)
            assert page.input_value("[data-testid=counter-select]") == "1"
            assert text(page, "counter-status") == "Đang mở"
            assert waiting_labels(page) == ["A005", "A003", "A001", "A002", "A004"]
            assert "Người khuyết tật" in page.text_content("#waiting tr[data-label=A005]")
            assert page.is_disabled("[data-testid=recall]") and page.is_disabled("[data-testid=no-show]")
            no_overflow(page, "the page opened")

            page.click("[data-testid=call-next]")  # the button
            wait_text(page, "current-label", "A005")
            assert waiting_labels(page) == ["A003", "A001", "A002", "A004"]
            assert "Đang mời số A005" in text(page, "notice")
            assert http.get("/api/v1/queue/board").json()["calls"][0]["label"] == "A005"  # the board is told
            if size == "desktop":
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT))
            no_overflow(page, "a number called")

            page.keyboard.press("r")  # recall
            wait_text(page, "notice", "Đã gọi lại số A005.")
            wait_text(page, "current-detail", "đã gọi lại 1 lần")
            page.keyboard.press("x")  # no-show
            wait_text(page, "notice", "Số A005 được ghi là vắng mặt.")
            wait_text(page, "current-label", "—")

            page.keyboard.press("n")  # next: A003, a priority
            wait_text(page, "current-label", "A003")
            page.keyboard.press("s")  # the citizen came: serving
            wait_text(page, "current-detail", "Đang được phục vụ")
            page.keyboard.press("x")  # not while serving: said on the page, nothing sent
            wait_text(page, "error", "Số A003 đang được phục vụ")
            page.click("[data-testid=finish]")
            wait_text(page, "notice", "Số A003 đã xong.")

            page.keyboard.press("n")  # A001, whose citizen took the number in Telegram
            wait_text(page, "current-label", "A001")
            with session_scope(database_url) as session:
                told = session.scalars(select(QueueNotification.text)
                                       .where(QueueNotification.sender_id == "telegram:42")).all()
            assert render("notify.queue.your_turn", label="A001", counter=1) in told
            page.keyboard.press("f")
            wait_text(page, "notice", "Số A001 đã xong.")

            page.click("[data-testid=call-next]")  # A002
            wait_text(page, "current-label", "A002")
            page.keyboard.press("t")  # the transfer form, for another service
            page.wait_for_selector("[data-testid=transfer-form]:not([hidden])")
            page.keyboard.press("Escape")
            page.wait_for_selector("[data-testid=transfer-form]", state="hidden")
            page.click("[data-testid=transfer]")
            page.select_option("[data-testid=transfer-service]", "CT")
            no_overflow(page, "the transfer form")
            page.click("[data-testid=transfer-confirm]")
            wait_text(page, "notice", "Đã chuyển số A002 sang Chứng thực.")
            wait_text(page, "current-label", "—")
            assert waiting_labels(page) == ["A004"]

            page.keyboard.press("n")  # A004, the last one
            wait_text(page, "current-label", "A004")
            page.keyboard.press("n")  # nobody left: A004 is finished and the page says why nothing is called
            wait_text(page, "error", "Hiện không còn ai chờ ở quầy này.")
            assert "Số A004 đã xong." in text(page, "error")
            assert text(page, "waiting-count") == "0"

            issue()  # A006, taken at the kiosk meanwhile: the list refreshes itself
            wait_for_js(page, "document.querySelector('#waiting tr[data-label=A006]') !== null", timeout=10_000)
            assert text(page, "waiting-count") == "1"

            page.select_option("[data-testid=counter-select]", "3")  # Chứng thực: A002 transferred there
            wait_for_js(page, "document.querySelector('#waiting tr[data-label=A002]') !== null", timeout=10_000)
            page.reload()
            wait_for_js(page, "!document.getElementById('desk').hidden", timeout=10_000)
            assert page.input_value("[data-testid=counter-select]") == "3"  # remembered by the browser
            page.keyboard.press("p")
            wait_text(page, "counter-status", "Tạm dừng")
            page.keyboard.press("n")
            wait_text(page, "error", "Quầy đang tạm dừng")
            no_overflow(page, "the end")
            page.goto("about:blank")
    finally:
        context.close()
    assert problems == []
