"""The kiosk page and the web widget in headless Chromium, against a gateway whose Rasa is a fake.

Keyboard only: every step below is a key press. Screenshots go to the test's tmp dir and
one of each to ``bench/results/screenshots/``. Chromium is Debian's (``/usr/bin/chromium``);
Playwright never downloads a browser here.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from bot.app import create_app
from devices.agent import GatewayReporter, read_device, run, split_lines
from devices.fake_scanner import DOSSIER_EXAMPLE, FakeScanner
from motcua.db import session_scope
from motcua.devices import add_device
from motcua.settings import ROOT
from tests.channels.conftest import channel_settings
from tests.channels.fakes import (
    BIRTH_QUESTION,
    BIRTH_TEXT,
    FEE_TEXT_AFTER_BIRTH,
    QUEUE_TEXT_AFTER_BIRTH,
    STORY_TEXTS,
    received_from,
    wait_for,
)
from tests.servers import free_port, serve_in_thread

pytestmark = pytest.mark.integration

SCREENSHOTS = ROOT / "bench" / "results" / "screenshots"
TIMEOUT_MS = 10_000


def keep_screenshot(page, tmp_path: Path, name: str, full_page: bool = False) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=full_page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENSHOTS / name)
    return path


ACTIVE = """() => { let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el; }"""


def focused(page) -> dict:
    return page.evaluate(f"""() => {{ const el = ({ACTIVE})();
      const style = getComputedStyle(el);
      return {{tag: el.tagName, text: (el.textContent || '').trim(), id: el.id, cls: el.className,
               outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0}}; }}""")


def tab_to(page, predicate, limit: int = 40, key: str = "Tab") -> dict:
    """Press Tab until the focused element satisfies ``predicate``; return its description."""
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        if predicate(now):
            return now
    raise AssertionError(f"keyboard focus never reached the element (last: {focused(page)})")


def bot_texts(page, selector: str) -> list[str]:
    return page.evaluate(f"""() => [...document.querySelectorAll('{selector}')].map(n => n.firstChild &&
        n.firstChild.nodeType === 3 ? n.firstChild.textContent : n.childNodes[1]?.textContent || '')""")


# --- the kiosk page ---------------------------------------------------------------------


def test_kiosk_page_holds_the_story_by_keyboard_reads_aloud_and_takes_a_scan(browser, tmp_path, fakes, migrated):
    settings = channel_settings(tmp_path, fakes)
    with session_scope(migrated) as session:
        _, kiosk_key = add_device(session, "quay-1", "kiosk")
    with serve_in_thread(create_app(settings)) as gateway:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # the kiosk is enrolled once by an admin pasting its device key (HttpOnly cookie from then on)
        page.goto(f"{gateway}/kiosk/enrol")
        page.fill("input[name=key]", kiosk_key)
        page.click("button:has-text('Ghi khóa')")
        page.wait_for_url(f"{gateway}/kiosk")
        page.wait_for_selector("#status:has-text('Đã kết nối')")
        page.wait_for_selector("body[data-events='ready']")
        assert page.get_attribute("#log", "role") == "log"
        assert page.get_attribute("#log", "aria-live") == "polite"

        # keyboard only: the question box has focus on arrival
        assert focused(page)["id"] == "input"
        page.keyboard.type(BIRTH_QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(f".msg.bot:has-text('{BIRTH_TEXT[:30]}')")
        choice = tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Lấy số thứ tự"
                        and "task" not in f["cls"])
        assert choice["outline"] != "none" and choice["outlineWidth"] >= 2  # visible focus
        page.keyboard.press("Enter")
        page.wait_for_selector(f".msg.bot:has-text('{QUEUE_TEXT_AFTER_BIRTH[:30]}')")
        shown = [t for t in bot_texts(page, ".msg.bot") if t and not t.startswith("Xin chào")]
        assert [[t] for t in shown] == STORY_TEXTS

        # display controls, by keyboard
        tab_to(page, lambda f: f["id"] == "bigger")
        page.keyboard.press("Enter")
        assert page.evaluate("document.documentElement.style.fontSize") != "22px"
        tab_to(page, lambda f: f["id"] == "contrast")
        page.keyboard.press("Space")
        assert page.get_attribute("#contrast", "aria-pressed") == "true"
        assert "high-contrast" in page.get_attribute("body", "class")

        # read-out: switch it on, and the next reply is fetched as Vietnamese speech
        tab_to(page, lambda f: f["id"] == "speak")
        with page.expect_response(lambda r: "/api/v1/tts" in r.url) as announced:
            page.keyboard.press("Enter")
        assert announced.value.status in (200, 503)  # 503 only where espeak-ng is missing
        assert announced.value.request.method == "POST" and "?" not in announced.value.url  # text never in a URL
        fee_button = tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Lệ phí")
        assert fee_button
        with page.expect_response(lambda r: "/api/v1/tts" in r.url and "miễn" in (r.request.post_data or "")
                                  ) as spoken:
            page.keyboard.press("Enter")
        page.wait_for_selector(f".msg.bot:has-text('{FEE_TEXT_AFTER_BIRTH[:25]}')")
        assert spoken.value.status == (200 if shutil.which("espeak-ng") else 503)
        if spoken.value.status == 200:
            assert spoken.value.header_value("content-type") == "audio/wav"

        # a dossier receipt under the scanner: agent → gateway → this page → its chat socket → Rasa
        with FakeScanner() as scanner:
            reporter = GatewayReporter(gateway, "quay-1", key=kiosk_key)
            agent = threading.Thread(target=run, args=(split_lines(read_device(scanner.path)), reporter), daemon=True)
            agent.start()
            scanner.scan(DOSSIER_EXAMPLE)
            page.wait_for_selector(f".msg.user:has-text('Đã quét mã hồ sơ {DOSSIER_EXAMPLE}')")
            page.wait_for_selector(".msg.bot:has-text('Đã nhận dữ liệu từ máy quét (dossier_scanned)')")
        agent.join(timeout=5)
        reporter.close()
        session = page.evaluate("sessionStorage.getItem('motcua-session')")
        device_bodies = [b for b in fakes.rasa.state.received if b["metadata"].get("device_event")]
        assert device_bodies[0]["sender"] == f"kiosk:{session}"
        assert device_bodies[0]["message"] == DOSSIER_EXAMPLE
        assert device_bodies[0]["metadata"]["device_event"] == "dossier_scanned"
        keep_screenshot(page, tmp_path, "kiosk.png", full_page=True)
        assert errors == []
        page.close()
    assert received_from(fakes.rasa, f"kiosk:{session}")[:3] == [BIRTH_QUESTION, "/request_queue_number", "/ask_fee"]


def test_an_idle_kiosk_clears_the_screen_and_starts_a_new_session(browser, tmp_path, fakes, migrated):
    settings = channel_settings(tmp_path, fakes)
    with serve_in_thread(create_app(settings)) as gateway:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{gateway}/kiosk?idle=2")
        page.wait_for_selector("#status:has-text('Đã kết nối')")
        page.keyboard.type(BIRTH_QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(f".msg.bot:has-text('{BIRTH_TEXT[:30]}')")
        first = page.evaluate("sessionStorage.getItem('motcua-session')")
        page.wait_for_selector("#status:has-text('phiên mới')", timeout=6000)
        assert page.locator(".msg").count() == 1  # only the greeting
        wait_for(lambda: page.evaluate("sessionStorage.getItem('motcua-session')") not in (None, "", first))
        second = page.evaluate("sessionStorage.getItem('motcua-session')")
        page.keyboard.type("Lấy số thứ tự")
        page.keyboard.press("Enter")
        page.wait_for_selector(".msg.bot:has-text('Bạn nói')")
        page.close()
    assert received_from(fakes.rasa, f"kiosk:{first}") == [BIRTH_QUESTION]
    assert received_from(fakes.rasa, f"kiosk:{second}") == ["Lấy số thứ tự"]  # a new citizen, a new story


# --- the web widget on somebody else's page --------------------------------------------


def host_page(gateway: str) -> FastAPI:
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    async def index():
        return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>UBND xã Thử Nghiệm</title>
<style>body{{font-family:serif;margin:2rem}} button{{all:unset}} *{{color:purple}}</style></head>
<body><h1>Ủy ban nhân dân xã Thử Nghiệm</h1><p>Trang thông tin điện tử.</p><a href="#tin">Tin tức</a>
<script src="{gateway}/static/widget.js" defer data-title="Trợ lý UBND xã Thử Nghiệm"
        data-color="#0b6e4f" data-text-color="#ffffff" data-lang="vi"></script></body></html>"""

    return app


def test_the_widget_on_a_host_page_holds_the_story_by_keyboard_and_survives_a_reload(
        browser, tmp_path, fakes, migrated):
    host_port = free_port()
    host_origin = f"http://127.0.0.1:{host_port}"
    settings = channel_settings(tmp_path, fakes, cors_origins=[host_origin])
    with serve_in_thread(create_app(settings)) as gateway, \
            serve_in_thread(host_page(gateway), port=host_port) as host:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(host)
        page.wait_for_selector(".mc-bubble")
        assert page.evaluate("getComputedStyle(document.querySelector('#motcua-widget').shadowRoot"
                             ".querySelector('.mc-bubble')).backgroundColor") == "rgb(11, 110, 79)"

        bubble = tab_to(page, lambda f: "mc-bubble" in f["cls"])
        assert bubble["outline"] != "none"
        page.keyboard.press("Enter")
        assert focused(page)["id"] == "mc-input"
        assert page.locator(".mc-log").get_attribute("role") == "log"
        assert page.locator(".mc-log").get_attribute("aria-live") == "polite"
        assert page.locator(".mc-bubble").get_attribute("aria-expanded") == "true"

        # a Vietnamese IME composing «sinh»: Enter ends the composition, it must not send
        page.evaluate("""() => { const t = document.querySelector('#motcua-widget').shadowRoot.querySelector('#mc-input');
            t.value = 'khai si'; t.dispatchEvent(new CompositionEvent('compositionstart'));
            t.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 229, isComposing: true, bubbles: true}));
            t.dispatchEvent(new CompositionEvent('compositionend', {data: 'sinh'})); }""")
        assert page.locator(".mc-user").count() == 0
        assert page.locator("#mc-input").input_value() == "khai si"
        page.locator("#mc-input").fill("")
        page.wait_for_timeout(50)

        page.keyboard.type(BIRTH_QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(f".mc-bot:has-text('{BIRTH_TEXT[:30]}')")
        choice = tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Lấy số thứ tự", key="Shift+Tab")
        assert choice["outline"] != "none"
        page.keyboard.press("Enter")
        page.wait_for_selector(f".mc-bot:has-text('{QUEUE_TEXT_AFTER_BIRTH[:30]}')")
        replies = page.evaluate("""() => [...document.querySelector('#motcua-widget').shadowRoot
            .querySelectorAll('.mc-bot:not(.mc-typing)')].map(n => n.childNodes[1].textContent)""")
        assert [[t] for t in replies[1:]] == STORY_TEXTS
        keep_screenshot(page, tmp_path, "widget.png")

        # Esc closes and gives focus back to the bubble
        page.keyboard.press("Escape")
        assert page.locator(".mc-panel").is_hidden()
        assert "mc-bubble" in focused(page)["cls"]

        # a reload keeps the history and the session: the conversation continues
        session = page.evaluate("JSON.parse(sessionStorage.getItem('motcua-widget:' + "
                                f"'{gateway}')).session")
        page.reload()
        page.wait_for_selector(".mc-bubble")
        tab_to(page, lambda f: "mc-bubble" in f["cls"])
        page.keyboard.press("Enter")
        assert page.locator(".mc-bot", has_text=QUEUE_TEXT_AFTER_BIRTH[:30]).count() == 1
        page.keyboard.type("lệ phí bao nhiêu")
        page.keyboard.press("Enter")
        page.wait_for_selector(".mc-bot:has-text('Bạn nói: lệ phí bao nhiêu')")
        assert errors == []
        context.close()
    assert received_from(fakes.rasa, f"web:{session}") == [BIRTH_QUESTION, "/request_queue_number", "lệ phí bao nhiêu"]


def test_the_widget_is_usable_at_200_percent_zoom(browser, tmp_path, fakes, migrated):
    host_port = free_port()
    settings = channel_settings(tmp_path, fakes, cors_origins=[f"http://127.0.0.1:{host_port}"])
    with serve_in_thread(create_app(settings)) as gateway, \
            serve_in_thread(host_page(gateway), port=host_port) as host:
        # 200 % zoom of a 1280×800 window: a 640×400 CSS viewport at device scale 2
        context = browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=2)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(host)
        page.wait_for_selector(".mc-bubble")
        tab_to(page, lambda f: "mc-bubble" in f["cls"])
        page.keyboard.press("Enter")
        for selector in (".mc-panel", "#mc-input", ".mc-send", ".mc-close"):
            box = page.locator(selector).bounding_box()
            assert box is not None, selector
            assert box["x"] >= 0 and box["y"] >= 0, selector
            assert box["x"] + box["width"] <= 640 + 0.5 and box["y"] + box["height"] <= 400 + 0.5, selector
        page.keyboard.type(BIRTH_QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(f".mc-bot:has-text('{BIRTH_TEXT[:30]}')")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        keep_screenshot(page, tmp_path, "widget-zoom-200.png")
        context.close()


def test_the_widget_reconnects_after_the_gateway_restarts_and_keeps_the_conversation(
        browser, tmp_path, fakes, migrated):
    host_port, gateway_port = free_port(), free_port()
    settings = channel_settings(tmp_path, fakes, cors_origins=[f"http://127.0.0.1:{host_port}"])
    gateway = f"http://127.0.0.1:{gateway_port}"
    with serve_in_thread(host_page(gateway), port=host_port) as host:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        with serve_in_thread(create_app(settings), port=gateway_port):
            page.goto(host)
            page.wait_for_selector(".mc-bubble")
            tab_to(page, lambda f: "mc-bubble" in f["cls"])
            page.keyboard.press("Enter")
            page.keyboard.type(BIRTH_QUESTION)
            page.keyboard.press("Enter")
            page.wait_for_selector(f".mc-bot:has-text('{BIRTH_TEXT[:30]}')")
        page.wait_for_selector(".mc[data-connected='false']")  # the gateway went away
        page.keyboard.type("Lấy số thứ tự")  # typed while offline: kept until the socket is back
        page.keyboard.press("Enter")
        with serve_in_thread(create_app(settings), port=gateway_port):
            page.wait_for_selector(".mc-bot:has-text('Bạn nói: Lấy số thứ tự')", timeout=15_000)
        session = page.evaluate(f"JSON.parse(sessionStorage.getItem('motcua-widget:{gateway}')).session")
        page.close()
    assert received_from(fakes.rasa, f"web:{session}") == [BIRTH_QUESTION, "Lấy số thứ tự"]
