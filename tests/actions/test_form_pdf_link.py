"""The declaration PDF link the assistant gives after filing: only its holder can fetch the PDF.

The token is random, per link, stored only as its SHA-256; the unforgeability,
expiry, revocation and the one identical 404 are in ``tests/security/test_dossier_privacy.py``.
"""

from __future__ import annotations

import io
import unicodedata

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader

from bot.deps import get_database, get_dossier_service
from bot.routes.dossiers import router
from knowledge_base.forms import load_forms
from motcua.db import Database, shared_database, upgrade_database
from motcua.dossiers.links import declaration_path, hash_token, new_token
from motcua.dossiers.service import Applicant, DossierApplication, DossierService
from tests.dossiers.support import AGENCY, seed_procedures

SECRET = "khoa-bi-mat-thu-nghiem-du-dai-32-ky-tu"


def test_tokens_are_random_and_only_their_hash_is_kept():
    code = f"{AGENCY}-260310-0001"
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) == 32 for t in tokens)
    token = tokens.pop()
    assert hash_token(token) != token and len(hash_token(token)) == 64
    assert declaration_path(code, token) == f"/api/v1/dossiers/{code}/declaration.pdf?token={token}"
    with pytest.raises(ValueError):
        declaration_path(code, "")


@pytest.fixture
def client_and_code(tmp_path):
    url = f"sqlite:///{tmp_path / 'pdf.sqlite3'}"
    upgrade_database(url)
    seed_procedures(url)
    db = shared_database(url)
    service = DossierService(agency_code=AGENCY, forms=load_forms())
    filed = db.run(service.file_dossier, DossierApplication(
        procedure_code="1.001193", applicant=Applicant("Nguyễn Thị Lan", "001190012345", "0912345678"),
        values={"birth_child_name": "Trần Minh Khang", "birth_child_birth_date": "2024-03-15",
                "birth_requester_name": "Nguyễn Thị Lan"},
        form_id="birth_registration", channel="kiosk", sender_id="kiosk:s1"))
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[get_dossier_service] = lambda: service
    app.dependency_overrides[get_database] = lambda: db
    return TestClient(app), filed.code, service, db


def _link(db: Database, service: DossierService, code: str) -> str:
    return declaration_path(code, db.run(service.issue_link, code))


def test_the_link_downloads_the_filled_declaration(client_and_code):
    client, code, service, db = client_and_code
    response = client.get(_link(db, service, code))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = unicodedata.normalize("NFC", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in text and "Trần Minh Khang" in text and "15/03/2024" in text


def test_a_wrong_or_missing_token_gets_nothing(client_and_code):
    client, code, service, db = client_and_code
    assert client.get(f"/api/v1/dossiers/{code}/declaration.pdf").status_code == 404
    assert client.get(f"/api/v1/dossiers/{code}/declaration.pdf?token={'a' * 32}").status_code == 404
    token = db.run(service.issue_link, code)
    other = f"{AGENCY}-260310-0099"
    assert client.get(declaration_path(other, token)).status_code == 404  # a real token, but no such dossier


def test_a_dossier_filed_without_a_form_has_no_declaration(client_and_code):
    client, _, service, db = client_and_code
    filed = db.run(service.file_dossier, DossierApplication(
        procedure_code="1.001193", applicant=Applicant("Nguyễn Thị Lan", "001190012345", ""), channel="counter"))
    response = client.get(_link(db, service, filed.code))
    assert response.status_code == 404 and "không đúng hoặc đã hết hiệu lực" in response.json()["detail"]
