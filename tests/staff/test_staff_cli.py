"""``motcua users create`` makes the first admin; weak passwords are refused with a Vietnamese message."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from motcua.db import session_scope
from motcua.settings import get_settings
from motcua.staff.accounts import authenticate
from motcua.staff.cli import register


def test_users_create_makes_the_first_admin_who_can_sign_in(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MOTCUA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        app = typer.Typer()
        app.command("noop")(lambda: None)
        register(app)
        runner = CliRunner()
        result = runner.invoke(app, ["users", "create", "quantri", "--role", "admin", "--name", "Trần Thị Quản"],
                               env={"MOTCUA_NEW_PASSWORD": "quan-tri-2024"})
        assert result.exit_code == 0, result.output
        assert "Đã tạo tài khoản «quantri» (admin)" in result.output
        weak = runner.invoke(app, ["users", "create", "canbo", "--password", "123"])
        assert weak.exit_code == 1 and "Mật khẩu phải có ít nhất 10 ký tự" in weak.output
        listed = runner.invoke(app, ["users", "list"])
        assert "quantri" in listed.output and "canbo" not in listed.output
        with session_scope(get_settings().sqlalchemy_url) as session:
            assert authenticate(session, "quantri", "quan-tri-2024").role == "admin"
    finally:
        get_settings.cache_clear()
