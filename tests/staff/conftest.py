"""Fixtures of the staff tests: a gateway with a fake Rasa, accounts, signed-in clients."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from bot.app import create_app
from motcua.db import session_scope, upgrade_database
from motcua.settings import Settings
from motcua.staff.accounts import create_user
from tests.servers import free_port, serve_in_thread

PASSWORD = "mat-khau-2024"
ADMIN_PASSWORD = "quan-tri-2024"


def make_settings(tmp_path, rasa_url: str, database_url: str = "") -> Settings:
    return Settings(data_dir=tmp_path, rasa_url=rasa_url, database_url=database_url,
                    action_url=f"http://127.0.0.1:{free_port()}/webhook", rasa_timeout_s=1.0)


def add_accounts(url: str) -> None:
    with session_scope(url) as session:
        create_user(session, "canbo", PASSWORD, role="staff", full_name="Nguyễn Văn Cán")
        create_user(session, "quantri", ADMIN_PASSWORD, role="admin", full_name="Trần Thị Quản")


def sign_in(client: TestClient, username: str, password: str) -> None:
    response = client.post("/api/v1/staff/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.cookies["motcua_csrf"]  # what the staff pages' scripts send


HANDOFF_TEXT = "Tôi đã chuyển yêu cầu của ông/bà tới cán bộ. Xin vui lòng chờ trong giây lát."
CLARIFY_TEXT = "Xin lỗi, tôi chưa chắc đã hiểu đúng. Có phải ông/bà muốn:"


def fake_rasa() -> FastAPI:
    """Rasa's REST webhook as the real assistant answers: a handoff for «/request_human», the
    clarify action's apology for gibberish, nothing for «im lặng», an echo otherwise."""
    app = FastAPI()
    app.state.received = []

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        body = await request.json()
        app.state.received.append(body)
        text, sender = body["message"], body["sender"]
        if text == "/request_human":
            return [{"recipient_id": sender, "text": HANDOFF_TEXT},
                    {"recipient_id": sender, "custom": {"handoff": True, "reason": "citizen_request"}}]
        if text.startswith("xyz"):
            return [{"recipient_id": sender, "text": CLARIFY_TEXT,
                     "buttons": [{"title": "Gặp cán bộ", "payload": "/request_human"}]}]
        if text == "im lặng":
            return []
        return [{"recipient_id": sender, "text": f"Trợ lý trả lời: {text}"}]

    @app.get("/status")
    async def status():
        return {"model_file": "motcua-test.tar.gz"}

    return app


@pytest.fixture
def staff_app(tmp_path):
    """(app, settings, rasa) over a migrated SQLite file, with a staff and an admin account; rasa is the fake."""
    rasa = fake_rasa()
    with serve_in_thread(rasa) as rasa_url:
        settings = make_settings(tmp_path, rasa_url)
        upgrade_database(settings.sqlalchemy_url)
        add_accounts(settings.sqlalchemy_url)
        app = create_app(settings)
        yield app, settings, rasa
