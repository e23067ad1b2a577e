"""``/health`` tells anyone whether each part is up; the details (the model file Rasa serves,
restarts, latencies, outbox figures) only to signed-in staff and bearer clients."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from bot.routes import health as health_route
from motcua.db import session_scope
from motcua.staff.accounts import create_user, open_session
from motcua.supervisor import status_path
from tests.staff.conftest import PASSWORD, sign_in, staff_app  # noqa: F401  (fixture)

SUPERVISOR = {"pid": 1, "updated_at": "2026-12-06T08:00:00+00:00",
              "services": {"action-server": {"state": "running", "restarts": 3, "last_exit_code": 9,
                                             "crash_loop": False}}}


def staff_bearer(database_url: str, username: str = "giamsat") -> dict[str, str]:
    """Headers of a bearer client: a staff account made for the test, and one of its sessions."""
    with session_scope(database_url) as session:
        user = create_user(session, username, "giam-sat-2024", role="staff", full_name="Giám sát")
        session.flush()
        token = open_session(session, user)
    return {"Authorization": f"Bearer {token}"}


def _write_supervisor_file(data_dir) -> None:
    path = status_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(SUPERVISOR))


def _only_ok(body: dict) -> None:
    assert set(body) == {"status", "message", "checks"}
    assert body["status"] in ("ok", "degraded")
    for name, check in body["checks"].items():
        assert check.keys() == {"ok"} and isinstance(check["ok"], bool), (name, check)


def test_an_anonymous_caller_gets_the_status_and_each_checks_ok_only(staff_app):  # noqa: F811
    app, settings, _ = staff_app
    _write_supervisor_file(settings.data_dir)
    with TestClient(app) as client:
        response = client.get("/health")
    assert response.status_code == 503  # no action server in this test
    body = response.json()
    _only_ok(body)
    assert body["checks"]["rasa"] == {"ok": True} and body["checks"]["action_server"] == {"ok": False}
    assert set(body["checks"]) >= {"gateway", "database", "rasa", "action_server", "supervisor", "outbox"}
    for secret in ("motcua-test.tar.gz", "restarts", "latency_ms", "failed_rows", "ConnectError", "pending"):
        assert secret not in response.text, secret
    assert response.headers["cache-control"] == "no-store"


def test_signed_in_staff_see_the_details(staff_app):  # noqa: F811
    app, settings, _ = staff_app
    _write_supervisor_file(settings.data_dir)
    with TestClient(app) as client:
        sign_in(client, "canbo", PASSWORD)
        checks = client.get("/health").json()["checks"]
    assert checks["rasa"]["model"] == "motcua-test.tar.gz" and "latency_ms" in checks["database"]
    assert checks["supervisor"]["restarts"] == {"action-server": 3}
    assert checks["message_log"] == {"ok": True, "failed_rows": 0}
    assert checks["action_server"]["ok"] is False and checks["action_server"]["error"]


def test_a_bearer_client_sees_the_details_and_a_wrong_token_does_not(staff_app):  # noqa: F811
    app, _, _ = staff_app
    with TestClient(app) as signing, TestClient(app) as probe:
        token = signing.post("/api/v1/staff/login", json={"username": "canbo", "password": PASSWORD}) \
            .cookies["motcua_staff"]
        detailed = probe.get("/health", headers={"Authorization": f"Bearer {token}"}).json()
        wrong = probe.get("/health", headers={"Authorization": "Bearer not-a-session"}).json()
        signing.post("/api/v1/staff/logout", headers={"Authorization": f"Bearer {token}"})
        after = probe.get("/health", headers={"Authorization": f"Bearer {token}"}).json()
    assert detailed["checks"]["rasa"]["model"] == "motcua-test.tar.gz"
    _only_ok(wrong)
    _only_ok(after)  # a closed session is nobody


def test_a_session_made_for_monitoring_is_a_bearer_client(staff_app):  # noqa: F811
    app, settings, _ = staff_app
    headers = staff_bearer(settings.sqlalchemy_url)
    with TestClient(app) as client:
        assert client.get("/health", headers=headers).json()["checks"]["rasa"]["model"] == "motcua-test.tar.gz"


def test_health_still_answers_when_the_session_cannot_be_checked(staff_app, monkeypatch):  # noqa: F811
    app, _, _ = staff_app

    async def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(health_route, "current_principal", broken)
    with TestClient(app) as client:
        response = client.get("/health", headers={"Authorization": "Bearer anything"})
    assert response.status_code in (200, 503)
    _only_ok(response.json())
