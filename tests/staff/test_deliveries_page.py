"""/staff/deliveries: dead letters listed (masked recipient, tries, last error), «Gửi lại» and
«Bỏ qua» audited; /health's outbox figures; the page in a headless Chromium at desktop size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.routes import deliveries
from motcua.db import session_scope, upgrade_database, utcnow
from motcua.queue.models import QueueNotification
from motcua.staff.models import AuditEntry
from tests.browser import sign_in_through, wait_for_js
from tests.servers import serve_in_thread
from tests.staff.conftest import PASSWORD, add_accounts, make_settings, sign_in


def _with_deliveries(app):
    """The gateway with the deliveries routes (added here until bot/app.py includes them)."""
    if not any(getattr(route, "path", "") == "/staff/deliveries" for route in app.routes):
        app.include_router(deliveries.router)
    return app


def _seed(url: str) -> tuple[int, int]:
    now = utcnow()
    with session_scope(url) as session:
        dead = QueueNotification(source="staff", channel="zalo", sender_id="zalo:8123456789", text="Cán bộ: mời ông/bà",
                                 created_at=now - timedelta(days=1), state="dead", attempts=8,
                                 next_attempt_at=now - timedelta(hours=1), last_error="Zalo: 48h window closed")
        other = QueueNotification(source="queue", channel="telegram", sender_id="telegram:5550001", text="Đến lượt",
                                  created_at=now - timedelta(days=1), state="dead", attempts=8,
                                  next_attempt_at=now - timedelta(hours=2), last_error="Forbidden: bot was blocked")
        stale = QueueNotification(source="queue", channel="telegram", sender_id="telegram:1", text="Đến lượt",
                                  created_at=now - timedelta(minutes=30), next_attempt_at=now - timedelta(minutes=20))
        session.add_all([dead, other, stale])
        session.flush()
        return dead.id, other.id


def test_staff_list_resend_and_dismiss_dead_letters_and_health_tells_the_backlog(staff_app):
    app, settings, _ = staff_app
    dead_id, other_id = _seed(settings.sqlalchemy_url)
    with TestClient(_with_deliveries(app)) as client:
        assert client.get("/api/v1/staff/deliveries").status_code == 401
        sign_in(client, "canbo", PASSWORD)
        body = client.get("/api/v1/staff/deliveries").json()
        assert (body["pending"], body["dead"]) == (1, 2)
        first = body["dead_letters"][0]
        assert (first["kind"], first["id"], first["channel"], first["recipient"], first["attempts"]) == (
            "notice", dead_id, "zalo", "zalo:81•••89", 8)
        assert first["what"] == "Tin nhắn của cán bộ" and first["last_error"] == "Zalo: 48h window closed"
        assert "8123456789" not in str(body) and "mời ông/bà" not in str(body)  # no personal data in full
        assert client.post(f"/api/v1/staff/deliveries/notice/{dead_id}/resend").json()["state"] == "pending"
        assert client.post(f"/api/v1/staff/deliveries/notice/{dead_id}/resend").status_code == 404  # not dead now
        assert client.post(f"/api/v1/staff/deliveries/notice/{other_id}/dismiss").json()["state"] == "dismissed"
        assert client.post("/api/v1/staff/deliveries/bogus/1/dismiss").status_code == 422
        assert client.get("/api/v1/staff/deliveries").json()["dead_letters"] == []
        health = client.get("/health").json()["checks"]["outbox"]
        assert (health["pending"], health["dead_letters"]) == (2, 0)  # the relay retries them (no Zalo here)
        assert health["oldest_pending_s"] >= 30 * 60
    with session_scope(settings.sqlalchemy_url) as session:
        audit = [(a.actor, a.action, a.target) for a in session.scalars(select(AuditEntry).where(
            AuditEntry.action.like("delivery.%")).order_by(AuditEntry.id))]
        row = session.get(QueueNotification, dead_id)
        assert row.state == "pending" and row.attempts <= 1  # re-queued from zero; the woken relay may have tried
    assert audit == [("canbo", "delivery.resend", f"notice/{dead_id}"),
                     ("canbo", "delivery.dismiss", f"notice/{other_id}")]


def test_health_keeps_ok_for_a_backlog_waiting_its_backoff(staff_app):
    app, settings, _ = staff_app
    now = utcnow()
    with session_scope(settings.sqlalchemy_url) as session:
        session.add(QueueNotification(channel="telegram", sender_id="telegram:1", text="x", attempts=3,
                                      created_at=now - timedelta(hours=3), next_attempt_at=now + timedelta(hours=1)))
    with TestClient(app) as client:
        sign_in(client, "canbo", PASSWORD)  # the outbox figures are details: for staff only
        outbox = client.get("/health").json()["checks"]["outbox"]
    assert outbox["ok"] is True and outbox["pending"] == 1 and outbox["oldest_pending_s"] >= 3 * 3600
    assert outbox["oldest_due_s"] is None


def test_health_says_degraded_when_a_due_row_waits_over_15_minutes(tmp_path):
    from bot.routes.health import _check_outbox
    from motcua.db import shared_database

    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    upgrade_database(url)
    assert _check_outbox(shared_database(url)) == {"ok": True, "pending": 0, "due": 0, "oldest_pending_s": None,
                                                   "oldest_due_s": None, "dead_letters": 0}
    _seed(url)  # one row due for 20 minutes (no relay runs here), two dead letters
    check = _check_outbox(shared_database(url))
    assert (check["ok"], check["pending"], check["due"], check["dead_letters"]) == (False, 1, 1, 2)
    assert check["oldest_due_s"] >= 20 * 60


@pytest.mark.integration
def test_the_deliveries_page_at_desktop_size(browser, tmp_path):
    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    url = settings.sqlalchemy_url
    upgrade_database(url)
    add_accounts(url)
    dead_id, _ = _seed(url)
    with serve_in_thread(_with_deliveries(create_app(settings))) as base:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            sign_in_through(page, base, "/staff/deliveries", "canbo", PASSWORD, timeout=10_000)
            wait_for_js(page, "document.body.dataset.loaded === '1'", timeout=15_000)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert page.locator("#nav a.current").text_content() == "Thư chưa gửi được"
            row = page.locator(f"#rows tr[data-id='notice/{dead_id}']")
            assert "zalo:81•••89" in row.text_content() and "48h window" in row.text_content()
            assert row.locator("td").nth(3).text_content().strip().endswith("8")
            row.get_by_role("button", name="Gửi lại").click()
            wait_for_js(page, f"!document.querySelector(\"#rows tr[data-id='notice/{dead_id}']\")", timeout=10_000)
            assert page.text_content("#error") == ""
            page.locator("#rows tr[data-id] button", has_text="Bỏ qua").click()
            wait_for_js(page, "document.querySelector('#rows').textContent.includes('Không có thư nào')",
                        timeout=10_000)
            assert errors == []
        finally:
            context.close()
    with session_scope(url) as session:
        assert session.get(QueueNotification, dead_id).state == "pending"
