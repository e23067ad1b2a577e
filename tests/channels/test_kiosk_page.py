"""The kiosk page as a 65-year-old uses it, in headless Chromium at three sizes.

A portrait kiosk (1080×1920, at the largest font), a phone (390×844) and a desktop (1366×768),
against a gateway whose Rasa is a fake that answers the way the real actions do: a queue number
(text, then ``custom.queue_ticket``), a handoff (``custom.handoff``), a filed dossier
(``custom.dossier_code``…), a legal answer with links, and a custom payload the page does not know.
The number is issued in the real queue tables, so its QR code and its call are real.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

from bot.app import create_app
from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.queue.config import load_queue_config
from motcua.queue.service import QueueService
from motcua.settings import Settings
from tests.channels.test_browser import keep_screenshot
from tests.servers import free_port, serve_in_thread

pytestmark = pytest.mark.integration

TIMEOUT_MS = 15_000
SIZES = {
    "kiosk": {"viewport": {"width": 1080, "height": 1920}, "bigger": 4},
    "phone": {"viewport": {"width": 390, "height": 844}, "bigger": 0},
    "desktop": {"viewport": {"width": 1366, "height": 768}, "bigger": 0},
}
LEGAL_TEXT = ("Theo Luật Hộ tịch, xem /phap-luat/luat-ho-tich-2014 và https://vbpl.vn/van-ban/123. "
              "<b>không phải thẻ</b>")
FILED_TEXT = "Hồ sơ đã được tiếp nhận. Tờ khai: /api/v1/dossiers/HB-0001/declaration.pdf?t=abc"
HANDOFF_TEXT = "Dạ, Tôi chuyển ông/bà tới cán bộ."
LONG_TEXT = "\n".join(f"Dòng giải thích số {n} của câu trả lời dài." for n in range(1, 30))


def page_rasa(database_url: str) -> FastAPI:
    """Rasa's REST webhook, answering like the real actions (a text, then its custom payload)."""
    app = FastAPI()
    app.state.received = []
    service = QueueService(load_queue_config())

    def answer(sender: str, text: str) -> list[dict]:
        if text == "/request_queue_number":
            with session_scope(database_url) as session:
                issued = service.issue(session, "HT", channel="kiosk", sender_id=sender)
            ticket, url = issued.ticket, f"/queue/ticket/{issued.ticket.token}"
            return [{"text": f"Số của ông/bà: {ticket.label}.\n{LONG_TEXT}\nTheo dõi: {url}",
                     "buttons": [{"title": f"Xem lại số {ticket.label}", "payload": "/request_queue_number"},
                                 {"title": "Gặp cán bộ", "payload": "/request_human"}]},
                    {"custom": {"queue_ticket": {"token": ticket.token, "label": ticket.label,
                                                 "service": ticket.service_name, "status_url": url,
                                                 "status": "waiting", "new": True, "people_ahead": 0,
                                                 "estimated_wait_min": 5}}}]
        if text == "/ask_procedure":
            return [{"text": LONG_TEXT, "buttons": [{"title": "Lệ phí", "payload": "/ask_fee"},
                                                    {"title": "Gặp cán bộ", "payload": "/request_human"}]}]
        if text == "/request_human":
            return [{"text": HANDOFF_TEXT}, {"custom": {"handoff": True, "reason": "citizen_request"}}]
        if text == "/fill_form":
            return [{"text": FILED_TEXT},
                    {"custom": {"dossier_code": "HB-0001", "due_date": "2026-12-24",
                                "declaration_pdf": "/api/v1/dossiers/HB-0001/declaration.pdf?t=abc"}}]
        if text.startswith("luật"):
            return [{"text": LEGAL_TEXT}, {"custom": {"fallback": True, "move": "abstain"}}]
        return [{"text": f"Ông/bà nói: {text}"}]

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        body = await request.json()
        app.state.received.append(body)
        return [{"recipient_id": body["sender"], **m} for m in answer(body["sender"], body["message"])]

    @app.get("/status")
    async def status():
        return {"model_file": "page.tar.gz"}

    return app


def gateway_settings(tmp_path: Path, rasa_url: str) -> Settings:
    return Settings(data_dir=tmp_path, rasa_url=rasa_url, action_url=f"http://127.0.0.1:{free_port()}/webhook",
                    rasa_timeout_s=3.0, device_token="", cors_origins=[])


def open_kiosk(browser, gateway: str, size: str, query: str = ""):
    page = browser.new_page(viewport=SIZES[size]["viewport"], locale="vi-VN")
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{gateway}/kiosk{query}")
    page.wait_for_selector("#status:has-text('Đã kết nối')")
    for _ in range(SIZES[size]["bigger"]):
        page.click("#bigger")
    if SIZES[size]["bigger"]:
        assert page.is_disabled("#bigger")  # the largest font
    return page, errors


def say(page, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def within_viewport(page, selector: str) -> bool:
    return page.evaluate(f"""() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
        return r.width > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth + 0.5
               && r.bottom <= innerHeight + 0.5; }}""")


def visible_in_log(page, selector: str) -> bool:
    """The last element matching ``selector`` is inside the conversation's visible area."""
    return page.evaluate(f"""() => {{ const all = document.querySelectorAll({json.dumps(selector)});
        const r = all[all.length - 1].getBoundingClientRect();
        const box = document.getElementById('log').getBoundingClientRect();
        return r.top >= box.top - 1 && r.bottom <= box.bottom + 1; }}""")


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth && document.body.scrollWidth <= innerWidth")


@pytest.mark.parametrize("size", list(SIZES))
def test_a_ticket_is_a_card_with_a_qr_code_links_are_tappable_and_the_call_is_announced(
        browser, tmp_path, migrated, size):
    rasa = page_rasa(migrated)
    with serve_in_thread(rasa) as rasa_url, serve_in_thread(create_app(gateway_settings(tmp_path, rasa_url))) as gateway:
        page, errors = open_kiosk(browser, gateway, size)
        # the layout: the question box and «Gửi» in view, nothing wider than the screen
        assert within_viewport(page, "#input") and within_viewport(page, "#send")
        assert no_horizontal_overflow(page)
        if size == "phone":  # a compact header and task row leave the screen to the conversation
            taken = page.evaluate("document.querySelector('nav.tasks').getBoundingClientRect().bottom")
            assert taken <= 0.35 * 844

        # a long reply with buttons: the log scrolls after the buttons are drawn, so they are in view
        page.click("button.task[data-payload='/ask_procedure']")
        page.wait_for_selector(".choices button:has-text('Lệ phí')")
        _wait(lambda: visible_in_log(page, ".choices button"))
        assert within_viewport(page, "#input") and no_horizontal_overflow(page)

        page.click("button.task[data-payload='/request_queue_number']")
        page.wait_for_selector(".msg.card.ticket img")
        label = page.text_content(".ticket-label")
        assert label and label.startswith("A")
        card = page.text_content(".msg.card.ticket")
        assert render("page.kiosk.ticket_service", service="Hộ tịch") in card
        assert render("page.kiosk.ticket_ahead", ahead=0) in card
        assert render("page.kiosk.ticket_wait", minutes=5) in card
        qr = page.evaluate("""() => { const img = document.querySelector('.ticket-qr img');
            return {src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0}; }""")
        assert qr["src"].endswith("/qr.svg")
        _wait(lambda: page.evaluate("document.querySelector('.ticket-qr img').naturalWidth > 0"))
        # no empty bubble for the payload: every bot bubble says something
        assert page.evaluate("[...document.querySelectorAll('.msg.bot')].every(n => n.textContent.trim())")
        # the whole reply was drawn before the log scrolled: its buttons, under the card, are in view
        _wait(lambda: visible_in_log(page, ".choices button"))
        assert page.evaluate("""() => { const row = document.querySelector('#log > :last-child');
            return row.matches('.choices-row') && row.previousElementSibling.matches('.msg.card.ticket'); }""")
        assert page.evaluate("""() => { const card = document.querySelector('.msg.card.ticket').getBoundingClientRect();
            const box = document.getElementById('log').getBoundingClientRect();
            return card.bottom > box.top && card.bottom <= box.bottom; }""")  # the card just above them
        # the status page address in the text is a link; so is the card's
        links = page.evaluate("[...document.querySelectorAll('.msg.bot a')].map(a => a.getAttribute('href'))")
        assert any(h.startswith("/queue/ticket/") for h in links)
        assert within_viewport(page, "#input") and no_horizontal_overflow(page)
        if size == "kiosk":
            keep_screenshot(page, tmp_path, "kiosk-ticket.png")

        # legal links and escaping; an unknown custom payload draws nothing
        bubbles = page.locator(".msg.bot").count()
        say(page, "luật hộ tịch")
        page.wait_for_selector(".msg.bot a[href='/phap-luat/luat-ho-tich-2014']")
        assert page.locator(".msg.bot a[href='https://vbpl.vn/van-ban/123']").count() == 1
        assert page.locator(".msg.bot b").count() == 0  # markup in a reply is shown as text
        assert "<b>không phải thẻ</b>" in page.text_content(".msg.bot:last-of-type")
        assert page.locator(".msg.bot").count() == bubbles + 1  # one bubble, not two
        assert visible_in_log(page, ".msg.bot a[href='/phap-luat/luat-ho-tich-2014']")

        # a filed dossier: a card with its code, its date and the PDF link
        page.click("button.task[data-payload='/fill_form']")
        page.wait_for_selector(".msg.card.dossier")
        dossier = page.text_content(".msg.card.dossier")
        assert render("page.kiosk.dossier_code", code="HB-0001") in dossier
        assert render("page.kiosk.dossier_due", date="24/12/2026") in dossier
        assert page.get_attribute(".msg.card.dossier a", "href") == "/api/v1/dossiers/HB-0001/declaration.pdf?t=abc"
        assert page.text_content(".msg.card.dossier a") == render("page.kiosk.dossier_pdf")
        assert visible_in_log(page, ".msg.card.dossier")
        if size == "phone":
            keep_screenshot(page, tmp_path, "kiosk-phone.png")

        # staff call the number: the page shows a banner and chimes (no sound file fetched)
        sounds: list[str] = []
        page.on("request", lambda r: sounds.append(r.url) if r.resource_type == "media" else None)
        with session_scope(migrated) as session:
            assert QueueService(load_queue_config()).call_next(session, 1).ticket.label == label
        page.wait_for_selector("#called:not([hidden])")
        assert page.text_content("#called-title") == render("page.kiosk.called_title")
        assert page.text_content("#called-body") == render("page.kiosk.called_body", label=label, counter=1)
        assert within_viewport(page, "#called-dismiss")
        _wait(lambda: page.evaluate("Number(document.body.dataset.chimes || 0) >= 1"))
        assert sounds == []
        page.click("#called-dismiss")
        assert page.is_hidden("#called")
        assert errors == []
        page.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_a_citizen_waiting_for_staff_is_never_wiped_and_sees_each_message_reach_staff(
        browser, tmp_path, migrated, size):
    from motcua.staff.accounts import create_user

    with session_scope(migrated) as session:
        create_user(session, "thuha", "mat-khau-thu-ha-1", role="staff", full_name="Đỗ Thu Hà")
    rasa = page_rasa(migrated)
    with serve_in_thread(rasa) as rasa_url, serve_in_thread(create_app(gateway_settings(tmp_path, rasa_url))) as gateway:
        page, errors = open_kiosk(browser, gateway, size, "?idle=2")
        say(page, "xin chào")
        page.wait_for_selector(".msg.bot:has-text('Ông/bà nói: xin chào')")
        page.click("button.task[data-payload='/request_queue_number']")  # a reply with «Gặp cán bộ»
        page.wait_for_selector(".msg.card.ticket")
        page.click(".choices button:has-text('Gặp cán bộ')")
        page.wait_for_selector(".msg.card.handoff")
        assert page.get_attribute("body", "data-handoff") == "open"
        say(page, "tôi cần hỏi thêm về giấy tờ")
        page.wait_for_selector(f".msg.user .sent-mark:has-text('{render('page.kiosk.handoff_sent')}')")
        time.sleep(5)  # more than twice the idle time: the page keeps the conversation
        assert page.locator(".msg.card.handoff").count() == 1
        assert page.get_attribute("body", "data-handoff") == "open"
        assert within_viewport(page, "#input") and no_horizontal_overflow(page)

        with httpx.Client(base_url=gateway, timeout=10) as staff:
            signed = staff.post("/api/v1/staff/login", json={"username": "thuha", "password": "mat-khau-thu-ha-1"})
            assert signed.status_code == 200, signed.text
            staff.headers["X-CSRF-Token"] = signed.cookies.get("motcua_csrf") or ""
            conversation = staff.get("/api/v1/staff/handoffs").json()
            rows = conversation if isinstance(conversation, list) else conversation.get("items", [])
            number = rows[0]["id"]
            assert staff.post(f"/api/v1/staff/handoffs/{number}/reply", json={"text": "Dạ, ông/bà chờ một chút."}
                              ).status_code == 200
            page.wait_for_selector(".msg.bot:has-text('ông/bà chờ một chút')")
            assert staff.post(f"/api/v1/staff/handoffs/{number}/release").status_code == 200
        _wait(lambda: page.get_attribute("body", "data-handoff") == "")
        # handed back: the normal idle time again — the screen starts a new session
        page.wait_for_selector("#status:has-text('phiên mới')", timeout=8000)
        assert errors == []
        page.close()
    asked = [b["message"] for b in rasa.state.received]
    assert "tôi cần hỏi thêm về giấy tờ" not in asked  # it went to the staff inbox, not to the assistant


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
