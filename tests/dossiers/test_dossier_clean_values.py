"""A dossier's form values are stored cleaned (no NUL or control characters, NFC), whether the
citizen filled the form in the chat or staff typed it at the counter — on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata

from fastapi.testclient import TestClient
from sqlalchemy import select

from actions.forms import DeclarationFiler
from bot.app import create_app
from bot.deps import get_dossier_service
from knowledge_base.forms import load_forms
from motcua.db import session_scope
from motcua.dossiers.models import DossierRow
from tests.dossiers.support import STAFF_PASSWORD, add_staff, gateway_settings

NFD_NAME = unicodedata.normalize("NFD", "Trần Minh Khang")


def test_a_declaration_filed_from_the_chat_stores_its_values_cleaned(service, catalogue, db):
    form = load_forms()["birth_registration"]
    filer = DeclarationFiler(service, db, "https://motcua.example")
    filer.file(filer.application(form, {"birth_child_name": f"{NFD_NAME}\x00",
                                        "birth_child_birth_date": "2024-03-15",
                                        "birth_requester_name": "Nguyễn\x1b Thị Lan",
                                        "birth_requester_cccd": "001190012345",
                                        "birth_requester_phone": "0912345678"},
                                 "1.001193", "telegram", "telegram:42"))
    with session_scope(catalogue) as session:
        row = session.scalars(select(DossierRow)).one()
        assert row.values["birth_child_name"] == "Trần Minh Khang"
        assert row.values["birth_requester_name"] == row.applicant_name == "Nguyễn Thị Lan"


def test_values_typed_at_the_counter_are_stored_cleaned(tmp_path, sqlite_catalogue, sqlite_service):
    add_staff(sqlite_catalogue)
    app = create_app(gateway_settings(tmp_path, sqlite_catalogue))
    app.dependency_overrides[get_dossier_service] = lambda: sqlite_service
    with TestClient(app) as staff:
        login = staff.post("/api/v1/staff/login", json={"username": "thuha", "password": STAFF_PASSWORD})
        staff.headers["X-CSRF-Token"] = login.cookies["motcua_csrf"]
        response = staff.post("/api/v1/staff/dossiers", json={
            "procedure_code": "1.004194", "applicant_name": "Trần\x00 Văn Bình\x07",
            "applicant_cccd": "001090054321", "values": {"ghi_chu": f"{NFD_NAME}\r\nở\x00 trọ", "so": 3}})
    assert response.status_code == 201, response.text
    with session_scope(sqlite_catalogue) as session:
        row = session.scalars(select(DossierRow)).one()
        assert row.applicant_name == "Trần Văn Bình"
        assert row.values == {"ghi_chu": "Trần Minh Khang\nở trọ", "so": 3}
