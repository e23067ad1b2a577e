"""What the desk and the admin page read from the API: form labels, the search status in plain
words, readable revisions and audit entries, and whether a rollback is possible."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.app import create_app
from motcua.db import session_scope, upgrade_database, utcnow
from motcua.staff.models import ModelVersion
from tests.bot.test_curation_api import BIRTH, curation_settings
from tests.servers import free_port, serve_in_thread
from tests.staff.conftest import ADMIN_PASSWORD, PASSWORD, sign_in


@pytest.fixture
def gateway(tmp_path):
    """(settings, action server port): a knowledge base with the defaults; the action server is not started."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade_database(url)
    port = free_port()
    return curation_settings(tmp_path, url, action_url=f"http://127.0.0.1:{port}/webhook"), port


def fake_action_server(procedures: int) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health():
        return {"ok": True, "procedures": procedures}

    @app.post("/index/refresh")
    async def refresh():
        return {"ok": True, "procedures": procedures, "changed": 1, "removed": 0, "indexed": True, "seconds": 0.1}

    return app


def test_the_desk_gets_each_form_field_label(gateway):
    settings, _ = gateway
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/kb/forms").status_code == 401
        sign_in(client, "canbo", PASSWORD)
        forms = {f["id"]: f for f in client.get("/api/v1/kb/forms").json()}
    birth = forms["birth_registration"]
    first = birth["sections"][0]
    assert first["title"] == "Người yêu cầu đăng ký khai sinh"
    assert first["fields"][0] == {"name": "birth_requester_name", "label": "Họ, chữ đệm và tên người yêu cầu",
                                  "type": "name"}
    assert {"name": "birth_child_birth_date", "label": "Ngày, tháng, năm sinh", "type": "birth_date"} in \
        birth["sections"][1]["fields"]


def test_the_search_status_and_the_save_message_speak_plainly(gateway):
    settings, port = gateway
    with TestClient(create_app(settings)) as client:
        sign_in(client, "canbo", PASSWORD)
        waiting = client.get("/api/v1/kb/index/status").json()
        assert waiting["ready"] is False and waiting["message"] == "Đang chuẩn bị tìm kiếm…"

        procedure = client.get(f"/api/v1/kb/procedures/{BIRTH}").json()["procedure"]
        procedure["aliases"].append("giấy chào đời")
        saved = client.put(f"/api/v1/kb/procedures/{BIRTH}", json={"procedure": procedure}).json()
        message = saved["index"]["message"]
        assert "thay đổi đã được lưu" in message and "khởi động" in message
        assert "chỉ mục" not in message and "tài liệu" not in message

        with serve_in_thread(fake_action_server(2642), port=port):
            ready = client.get("/api/v1/kb/index/status").json()
            procedure["aliases"].append("giấy chứng nhận chào đời")
            again = client.put(f"/api/v1/kb/procedures/{BIRTH}", json={"procedure": procedure}).json()
        assert ready["ready"] is True and ready["procedures"] == 2642
        assert ready["message"] == f"Đã sẵn sàng tìm kiếm: 2.642 thủ tục, {ready['articles']} điều luật"
        assert again["index"]["updated"] is True and "chỉ mục" not in again["index"]["message"]

        history = client.get(f"/api/v1/kb/procedures/{BIRTH}/revisions").json()
        assert history[0]["lines"] == ["Tên gọi khác: thêm «giấy chứng nhận chào đời»"]
        assert history[1]["lines"] == ["Tên gọi khác: thêm «giấy chào đời»"]
        recent = client.get("/api/v1/kb/history").json()
        assert recent[0]["lines"] == history[0]["lines"]


def test_the_audit_log_is_readable_and_rollback_says_why_it_cannot(gateway, tmp_path):
    settings, _ = gateway
    with TestClient(create_app(settings)) as admin:
        sign_in(admin, "quantri", ADMIN_PASSWORD)
        users = {u["username"]: u for u in admin.get("/api/v1/admin/users").json()}
        assert admin.post(f"/api/v1/admin/users/{users['canbo']['id']}", json={"role": "admin"}).status_code == 200
        entry = admin.get("/api/v1/admin/audit?limit=5").json()[0]
        assert entry["summary"] == "Sửa tài khoản canbo"
        assert entry["lines"] == ["Vai trò: Cán bộ → Quản trị"]
        assert entry["before"]["role"] == "staff" and entry["after"]["role"] == "admin"

        state = admin.get("/api/v1/admin/models").json()["rollback"]
        assert state["available"] is False and "Chưa có mô hình nào dùng trước" in state["reason"]

        earlier = tmp_path / "models" / "earlier.tar.gz"
        earlier.parent.mkdir()
        earlier.write_bytes(b"model")
        now = utcnow()
        with session_scope(settings.sqlalchemy_url) as session:
            session.add(ModelVersion(fingerprint="a", path=str(earlier), status="previous",
                                     promoted_at=now - timedelta(days=1), promoted_by="quantri"))
            session.add(ModelVersion(fingerprint="b", path=str(tmp_path / "models" / "now.tar.gz"), status="active",
                                     promoted_at=now, promoted_by="quantri"))
        state = admin.get("/api/v1/admin/models").json()["rollback"]
        assert state["available"] is True and "earlier.tar.gz" in state["reason"]
        earlier.unlink()
        state = admin.get("/api/v1/admin/models").json()["rollback"]
        assert state["available"] is False and "không còn trên máy" in state["reason"]
