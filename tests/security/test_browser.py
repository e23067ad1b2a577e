"""Browser: Origin on sockets and unsafe methods, CSRF for cookie sign-ins, Secure cookies,
security headers, and a sign-in redirect that stays on this site."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from bot.app import create_app
from bot.routes.pages import STATIC
from bot.security import CSRF_REFUSED, ORIGIN_REFUSED, inline_script_hashes, safe_next
from motcua.db import session_scope, upgrade_database
from motcua.staff.models import StaffUser
from tests.browser import wait_for_js
from tests.servers import serve_in_thread
from tests.staff.conftest import ADMIN_PASSWORD, PASSWORD, add_accounts, fake_rasa, make_settings

EVIL = "https://evil.example"
PARTNER = "https://xa-an-binh.gov.vn"


@pytest.fixture
def settings_for(tmp_path):
    """Settings of a gateway with a fake Rasa and two accounts, with overrides."""
    with serve_in_thread(fake_rasa()) as rasa_url:
        def build(**overrides):
            settings = make_settings(tmp_path, rasa_url).model_copy(update=overrides)
            upgrade_database(settings.sqlalchemy_url)
            return settings

        yield build


@pytest.fixture
def app(settings_for):
    settings = settings_for(cors_origins=[PARTNER], public_url="https://motcua.example.gov.vn")
    add_accounts(settings.sqlalchemy_url)
    return create_app(settings)


def login(client: TestClient, username: str = "quantri", password: str = ADMIN_PASSWORD, **extra):
    return client.post("/api/v1/staff/login", json={"username": username, "password": password, **extra})


def refused_handshake(client: TestClient, path: str, origin: str) -> bool:
    try:
        with client.websocket_connect(path, headers={"Origin": origin}) as ws:
            ws.receive_text()
    except WebSocketDisconnect as closed:
        return closed.code == 1008
    return False


@pytest.mark.parametrize("path", ["/ws/kiosk", "/ws/widget", "/ws/kiosk/events?session=abc"])
def test_every_websocket_refuses_pages_of_other_sites(app, path):
    with TestClient(app) as client:
        assert refused_handshake(client, path, EVIL)
        assert refused_handshake(client, path, "null")
        origins = ["http://testserver", PARTNER]
        if "events" not in path:  # bot/routes/kiosk.py checks /ws/kiosk/events itself, without public_url
            origins.append("https://motcua.example.gov.vn")
        for origin in origins:
            with client.websocket_connect(path, headers={"Origin": origin}) as ws:
                assert ws.receive_json()["type"] in ("session", "ready")
        with client.websocket_connect(path) as ws:  # no Origin: a device agent or a script
            assert ws.receive_json()["type"] in ("session", "ready")


def test_unsafe_requests_from_other_sites_are_refused_in_vietnamese(app):
    with TestClient(app) as client:
        message = {"sender": "s1", "text": "chào"}
        refused = client.post("/api/v1/messages", json=message, headers={"Origin": EVIL})
        assert refused.status_code == 403 and refused.json() == {"detail": ORIGIN_REFUSED}
        assert client.post("/api/v1/messages", json=message, headers={"Origin": "null"}).status_code == 403
        assert client.post("/api/v1/staff/login", json={"username": "quantri", "password": ADMIN_PASSWORD},
                           headers={"Origin": EVIL}).status_code == 403  # no login CSRF either
        for origin in (PARTNER, "http://testserver", "https://motcua.example.gov.vn"):
            assert client.post("/api/v1/messages", json=message, headers={"Origin": origin}).status_code == 200
        assert client.post("/api/v1/messages", json=message).status_code == 200  # servers send no Origin
        assert client.get("/api/v1/staff/me", headers={"Origin": EVIL}).status_code == 401  # GET is not refused


def test_cookie_signed_in_staff_need_the_csrf_token_and_bearer_clients_do_not(app):
    with TestClient(app, base_url="https://testserver") as client:  # the cookies are Secure
        signed = login(client)
        token = signed.cookies["motcua_csrf"]
        with session_scope(client.app.state.services.settings.sqlalchemy_url) as session:
            staff_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "canbo"))
        unlock = f"/api/v1/admin/users/{staff_id}/unlock"  # a body-less POST
        missing = client.post(unlock)
        assert missing.status_code == 403 and missing.json() == {"detail": CSRF_REFUSED}
        assert client.post(unlock, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
        assert client.post(unlock, headers={"X-CSRF-Token": token}).status_code == 200
        assert client.get("/api/v1/staff/me").status_code == 200  # reads need no token
        session_token = client.cookies["motcua_staff"]
    with TestClient(app) as bearer:
        response = bearer.post(unlock, headers={"Authorization": f"Bearer {session_token}"})
        assert response.status_code == 200


def test_cookies_are_secure_when_the_public_address_is_https_even_behind_a_plain_http_proxy(settings_for):
    secure = settings_for(public_url="https://motcua.example.gov.vn")
    add_accounts(secure.sqlalchemy_url)
    with TestClient(create_app(secure)) as client:  # the request itself is http://testserver
        cookies = login(client).headers.get_list("set-cookie")
    assert len(cookies) == 2 and all("Secure" in c and "SameSite=strict" in c for c in cookies)
    assert any(c.startswith("motcua_staff=") and "HttpOnly" in c for c in cookies)
    assert any(c.startswith("motcua_csrf=") and "HttpOnly" not in c for c in cookies)  # the page script reads it


def test_plain_http_installations_keep_cookies_usable_without_secure(settings_for):
    plain = settings_for()
    add_accounts(plain.sqlalchemy_url)
    with TestClient(create_app(plain)) as client:
        cookies = login(client).headers.get_list("set-cookie")
    assert cookies and not any("Secure" in c for c in cookies)


def test_every_response_carries_the_security_headers(app):
    with TestClient(app, follow_redirects=False) as client:
        responses = [client.get("/kiosk"), client.get("/staff/login"), client.get("/static/kiosk.js"),
                     client.get("/api/v1/staff/me"), client.get("/no-such-page"),
                     client.post("/api/v1/messages", json={"sender": "s", "text": "chào"})]
    for response in responses:
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, response.url
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["strict-transport-security"].startswith("max-age=31536000")


def test_no_hsts_on_a_plain_http_installation(settings_for):
    with TestClient(create_app(settings_for())) as client:
        response = client.get("/kiosk")
    assert "strict-transport-security" not in response.headers
    assert "content-security-policy" in response.headers


def test_the_policy_allows_exactly_the_inline_scripts_of_our_pages():
    hashes = inline_script_hashes(STATIC)
    pages_with_inline = [p for p in STATIC.rglob("*.html") if re.search(r"<script>", p.read_text(encoding="utf-8"))]
    assert pages_with_inline and len(hashes) >= len(pages_with_inline)


@pytest.mark.parametrize("target, expected", [
    ("/staff/kb", "/staff/kb"),
    ("/staff/inbox?status=all", "/staff/inbox?status=all"),
    ("/\\evil.example", "/staff"),
    ("//evil.example", "/staff"),
    ("/\\/evil.example", "/staff"),
    ("https://evil.example/", "/staff"),
    ("javascript:alert(1)", "/staff"),
    ("/staff\r\nLocation: https://evil.example", "/staff"),
    ("/\tevil", "/staff"),
    ("", "/staff"),
])
def test_only_paths_of_this_site_are_followed_after_sign_in(target, expected):
    assert safe_next(target, "/staff") == expected


def test_the_sign_in_answer_redirects_only_within_the_site(app):
    with TestClient(app) as client:
        assert login(client, "canbo", PASSWORD, next="/\\evil.example").json()["redirect"] == "/staff"
        assert login(client, "canbo", PASSWORD, next="/staff/kb").json()["redirect"] == "/staff/kb"
        assert login(client, "quantri", ADMIN_PASSWORD, next="//evil.example").json()["redirect"] == "/admin"


def test_staff_pages_run_under_the_policy_and_the_sign_in_page_stays_on_the_site(settings_for, browser_page):
    """Headless Chromium: the sign-in page with ``next=/\\evil.example`` lands on our own staff page,
    the staff pages' inline and external scripts run, and the browser reports no CSP violation."""
    settings = settings_for()
    add_accounts(settings.sqlalchemy_url)
    page = browser_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    with serve_in_thread(create_app(settings)) as base:
        page.goto(f"{base}/staff/login?next=/%5Cevil.example")
        page.fill("#username", "quantri")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/admin", timeout=10_000)  # an admin's own start page, not evil.example
        wait_for_js(page, "document.getElementById('who').textContent.includes('Trần Thị Quản')",
                               timeout=10_000)
        for path in ("/admin", "/staff/inbox", "/staff/unanswered", "/staff/dashboard", "/staff/kb"):
            page.goto(base + path)
            wait_for_js(page, "document.getElementById('who').textContent.includes('quản trị')",
                                   timeout=10_000)
        page.goto(f"{base}/admin")
        wait_for_js(page, "document.getElementById('who').textContent.includes('quản trị')", timeout=10_000)
        unlocked = page.evaluate("""async () => {
            const users = await Staff.api("GET", "/api/v1/admin/users");
            const canbo = users.find((u) => u.username === "canbo");
            return Staff.api("POST", "/api/v1/admin/users/" + canbo.id + "/unlock").then(() => "ok", (e) => e.message);
        }""")
        assert unlocked == "ok"  # staff.js sent the X-CSRF-Token the route requires
        page.click("#who button")  # sign out: a POST that needs the CSRF header
        page.wait_for_url(f"{base}/staff/login", timeout=10_000)
    assert problems == []
