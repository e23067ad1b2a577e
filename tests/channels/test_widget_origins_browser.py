"""Headless Chromium: the README's one line on a commune's page, served from a second local origin.

Before the admin allows the site the widget says so once, in its own place, in the page's
language, and opens no socket; after the admin adds the site on /admin it works; once the site
is removed, a reload says so again.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from bot.app import create_app
from knowledge_base.messages import render
from motcua import widget_origins
from motcua.db import session_scope
from motcua.staff.accounts import create_user
from tests.channels.conftest import channel_settings
from tests.channels.fakes import BIRTH_QUESTION, BIRTH_TEXT
from tests.servers import free_port, serve_in_thread

pytestmark = pytest.mark.integration

TIMEOUT_MS = 10_000
ADMIN = ("quantri", "mat-khau-quan-tri-1")


def commune_site(gateway: str) -> FastAPI:
    """A commune's own site: two pages with nothing of ours but the README's one line."""
    app = FastAPI()

    def page(lang: str, title: str) -> str:
        return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>'
                f"<body><h1>{title}</h1>\n<script src=\"{gateway}/static/widget.js\"></script>\n</body></html>")

    @app.get("/", response_class=HTMLResponse)
    async def vietnamese():
        return page("vi", "UBND xã An Bình")

    @app.get("/en", response_class=HTMLResponse)
    async def english():
        return page("en", "An Binh commune")

    return app


def admin_page_action(browser, gateway: str, action) -> None:
    """Sign in on /admin in a context of its own and do ``action(page)`` there."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{gateway}/staff/login")
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{gateway}/admin")
    page.wait_for_selector("#origins thead")
    action(page)
    context.close()


def test_the_one_line_is_refused_with_a_notice_until_the_admin_allows_the_site(browser, tmp_path, fakes, migrated):
    widget_origins.invalidate()
    with session_scope(migrated) as session:
        create_user(session, ADMIN[0], ADMIN[1], role="admin", full_name="Quản trị")
    site_port = free_port()
    site = f"http://127.0.0.1:{site_port}"
    with serve_in_thread(create_app(channel_settings(tmp_path, fakes))) as gateway, \
            serve_in_thread(commune_site(gateway), port=site_port):
        context = browser.new_context(locale="vi-VN")
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        sockets: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("websocket", lambda ws: sockets.append(ws.url))

        # not allowed: one notice where the bubble would be, naming the site, and no socket at all
        page.goto(site)
        notice = page.locator(".mc-refused-text")
        notice.wait_for()
        assert notice.inner_text() == render("page.widget.refused", origin=site)
        assert page.locator(".mc-bubble").count() == 0
        assert page.locator(".mc-refused").get_attribute("role") == "status"
        page.wait_for_timeout(1500)
        assert sockets == [] and page.locator(".mc-refused").count() == 1
        # the page's language decides (the browser here is Vietnamese)
        page.goto(f"{site}/en")
        assert page.locator(".mc-refused-text").inner_text() == render("page.widget.refused", locale="en", origin=site)
        page.locator(".mc-dismiss").click()
        assert page.locator(".mc-refused").count() == 0

        # the admin allows the site on /admin
        def allow(admin) -> None:
            admin.fill("#o-origin", site + "/")
            admin.fill("#o-note", "UBND xã An Bình")
            admin.click("#new-origin button[type=submit]")
            admin.wait_for_selector(f"#origins td:text-is('{site}')")

        admin_page_action(browser, gateway, allow)

        # the same one line now works: the bubble, the socket, an answer
        page.goto(site)
        page.locator(".mc-bubble").click()
        page.locator("#mc-input").fill(BIRTH_QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(f".mc-bot:has-text('{BIRTH_TEXT[:30]}')")
        assert page.locator(".mc-refused").count() == 0
        assert sockets and sockets[-1].startswith(gateway.replace("http", "ws") + "/ws/widget")

        # removed again: the next visit is told so, not left retrying
        def remove(admin) -> None:
            admin.on("dialog", lambda dialog: dialog.accept())
            admin.click("#origins button:text-is('Bỏ')")
            admin.wait_for_selector("#origins td.empty")

        admin_page_action(browser, gateway, remove)
        page.goto(site)
        page.locator(".mc-refused-text").wait_for()
        assert page.locator(".mc-bubble").count() == 0
        assert errors == []
        context.close()


def test_an_open_widget_whose_site_is_removed_stops_retrying_and_says_why(browser, tmp_path, fakes, migrated):
    widget_origins.invalidate()
    site_port, gateway_port = free_port(), free_port()
    site, gateway = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{gateway_port}"
    with session_scope(migrated) as session:
        allowed = widget_origins.add_origin(session, site, actor="quantri")
    settings = channel_settings(tmp_path, fakes)
    with serve_in_thread(commune_site(gateway), port=site_port):
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        with serve_in_thread(create_app(settings), port=gateway_port):
            page.goto(site)
            page.locator(".mc-bubble").click()
            page.wait_for_selector(".mc[data-connected='true']")
        page.wait_for_selector(".mc[data-connected='false']")  # the gateway restarts…
        with session_scope(migrated) as session:  # …and meanwhile the admin took the site off the list
            widget_origins.remove_origin(session, allowed.id, actor="quantri")
        with serve_in_thread(create_app(settings), port=gateway_port):
            page.locator(".mc-refused-text").wait_for(timeout=15_000)
            assert page.locator(".mc-refused-text").inner_text() == render("page.widget.refused", origin=site)
            assert page.locator(".mc-bubble").count() == 0
            tried = len(sockets)
            page.wait_for_timeout(3000)
            assert len(sockets) == tried  # no more attempts
        page.close()
