"""The dossier routes through FastAPI's TestClient: citizens' lookup and uploads, the staff desk."""

from __future__ import annotations

import io
import unicodedata

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.app import create_app
from bot.deps import get_dossier_service
from motcua.db import session_scope
from motcua.dossiers.attachments import MAX_FILE_BYTES
from motcua.dossiers.models import DossierAttachment
from motcua.dossiers.service import DossierService
from tests.dossiers.support import AGENCY, STAFF_PASSWORD, add_staff, application, gateway_settings, jpeg, pdf

DESK = "/api/v1/staff/dossiers"


def _sign_in(client: TestClient) -> None:
    response = client.post("/api/v1/staff/login", json={"username": "thuha", "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.cookies["motcua_csrf"]  # what the desk's script sends


@pytest.fixture
def app(tmp_path, sqlite_catalogue, sqlite_service):
    add_staff(sqlite_catalogue)
    app = create_app(gateway_settings(tmp_path, sqlite_catalogue))
    app.dependency_overrides[get_dossier_service] = lambda: sqlite_service
    return app


@pytest.fixture
def client(app):
    """A citizen: no sign-in."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def staff(app):
    """A signed-in staff member (session cookie)."""
    with TestClient(app) as client:
        _sign_in(client)
        yield client


@pytest.fixture
def code(sqlite_service, sqlite_db) -> str:
    return sqlite_db.run(sqlite_service.file_dossier, application()).code


def _attachments(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(DossierAttachment))


def test_the_public_status_hides_personal_data(client, code):
    response = client.get(f"/api/v1/dossiers/{code}")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["status_label"], body["verified"]) == ("received", "Đã tiếp nhận", False)
    assert body["due_date"] == "2026-03-12"
    for secret in ("Nguyễn Thị Lan", "001190012345", "0912345678", "telegram:42"):
        assert secret not in response.text


def test_lookup_with_the_phone_or_by_qr_shows_more(client, code):
    body = client.post("/api/v1/dossiers/lookup",
                       json={"code": code, "cccd": "001190012345", "phone": "0912 345 678"}).json()
    assert body["verified"] and body["applicant_name"] == "Nguyễn Thị Lan"
    assert body["applicant_phone"] == "091*****78"
    scanned = client.post("/api/v1/dossiers/lookup", json={"qr": f"MOTCUA:{code}"}).json()
    assert scanned["code"] == code and not scanned["verified"]


@pytest.mark.parametrize(("request_body", "status", "message"), [
    ({"code": "HS-2026-0001"}, 422, "không phải mã số hồ sơ"),
    ({"qr": "001190012345||Nguyễn Thị Lan|01011990|Nữ|Hà Nội|01012021"}, 422, "Mã QR vừa quét không chứa mã số hồ sơ"),
    ({"code": "000.00.04.H51-260310-0042"}, 404, "Không tìm thấy hồ sơ"),
])
def test_bad_lookups_get_clear_messages(client, code, request_body, status, message):
    response = client.post("/api/v1/dossiers/lookup", json=request_body)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_the_desk_takes_a_dossier_through_its_statuses(staff, code, notifier):
    listed = staff.get(DESK, params={"status": "received"}).json()
    assert [d["code"] for d in listed] == [code]
    detail = staff.post(f"{DESK}/{code}/receive").json()
    assert detail["status"] == "in_processing" and detail["history"][-1]["actor"] == "staff:thuha"
    missing = staff.post(f"{DESK}/{code}/supplement", json={"note": " "})
    assert missing.status_code == 422 and "ghi rõ" in missing.json()["detail"]
    detail = staff.post(f"{DESK}/{code}/supplement", json={"note": "Thiếu giấy chứng sinh."}).json()
    assert detail["supplement_note"] == "Thiếu giấy chứng sinh."
    assert [s["status"] for s in detail["next_statuses"]] == ["in_processing", "rejected"]
    refused = staff.post(f"{DESK}/{code}/status", json={"status": "result_returned"})
    assert refused.status_code == 409 and "không chuyển sang" in refused.json()["detail"]
    assert notifier.notices[-1].text.startswith(f"Hồ sơ {code} (Đăng ký khai sinh) cần bổ sung")
    sync = staff.get(f"{DESK}/sync").json()
    assert sync["pending"] == 3 and not sync["portal_configured"]
    assert staff.get(DESK, params={"q": "0912345678"}).json()[0]["code"] == code
    assert staff.get(DESK, params={"status": "nonsense"}).status_code == 409


def test_the_desk_files_a_dossier_at_the_counter(staff):
    response = staff.post(DESK, json={
        "procedure_code": "1.004194", "applicant_name": "trần văn bình", "applicant_cccd": "001090054321"})
    assert response.status_code == 201
    filed = response.json()
    assert filed["code"] == "000.00.04.H51-260310-0001" and filed["due_date"] == "2026-03-13"
    bad = staff.post(DESK, json={
        "procedure_code": "1.004194", "applicant_name": "Trần Văn Bình", "applicant_cccd": "123"})
    assert bad.status_code == 422 and "12 chữ số" in bad.json()["detail"]


def test_uploads_oversized_or_not_an_image_are_refused_and_nothing_is_stored(staff, code, sqlite_catalogue):
    too_big = staff.post(f"{DESK}/{code}/attachments",
                          files={"files": ("scan.jpg", b"\xff\xd8\xff" + b"\0" * MAX_FILE_BYTES, "image/jpeg")})
    assert too_big.status_code == 413 and "vượt quá giới hạn 10,0 MB" in too_big.json()["detail"]
    not_image = staff.post(f"{DESK}/{code}/attachments",
                            files={"files": ("scan.jpg", b"#!/bin/sh\nrm -rf /\n", "image/jpeg")})
    assert not_image.status_code == 415 and "không phải ảnh JPEG, ảnh PNG hay tệp PDF" in not_image.json()["detail"]
    assert _attachments(sqlite_catalogue) == 0
    good = staff.post(f"{DESK}/{code}/attachments", data={"label": "Giấy chứng sinh"},
                       files=[("files", ("1.jpg", jpeg(), "image/jpeg")), ("files", ("2.pdf", pdf(1), "application/pdf"))])
    assert good.status_code == 201 and good.json()["pages"] == 2
    download = staff.get(f"{DESK}/{code}/attachments/{good.json()['id']}")
    assert download.headers["content-type"] == "application/pdf" and download.content.startswith(b"%PDF-")


def test_a_citizen_uploads_only_with_the_matching_number(client, code, sqlite_catalogue):
    files = {"files": ("cs.jpg", jpeg(), "image/jpeg")}
    wrong = client.post(f"/api/v1/dossiers/{code}/attachments", data={"cccd": "001190012345", "phone": "0987654321"},
                        files=files)
    assert wrong.status_code == 403
    right = client.post(f"/api/v1/dossiers/{code}/attachments",
                        data={"cccd": "001190012345", "phone": "0912345678", "label": "Bổ sung"}, files=files)
    assert right.status_code == 201 and right.json()["label"] == "Bổ sung"
    assert _attachments(sqlite_catalogue) == 1


def test_receipts_for_staff_and_for_the_applicant(client, staff, code):
    printed = staff.get(f"{DESK}/{code}/receipt.pdf")
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF-")
    assert "Đỗ Thu Hà" in unicodedata.normalize("NFC", PdfReader(io.BytesIO(printed.content)).pages[0].extract_text())
    assert client.post(f"/api/v1/dossiers/{code}/receipt", json={"phone": "0987654321"}).status_code == 403
    mine = client.post(f"/api/v1/dossiers/{code}/receipt", json={"cccd": "001190012345", "phone": "0912345678"})
    assert mine.status_code == 200 and mine.headers["content-type"] == "application/pdf"


def test_the_desk_page_is_in_vietnamese_and_for_signed_in_staff(client, staff):
    anonymous = client.get("/staff/dossiers", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/staff/login?next=")
    page = staff.get("/staff/dossiers")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and "Trung tâm Phục vụ hành chính công xã Hòa Bình" in page.text
    assert "yêu cầu bổ sung" in page.text and "In giấy tiếp nhận hồ sơ" in page.text
    assert staff.get("/static/desk.js").status_code == 200 and staff.get("/static/desk.css").status_code == 200


def test_the_desk_api_refuses_anyone_not_signed_in(client, code):
    for method, url in (("GET", DESK), ("POST", DESK), ("GET", f"{DESK}/{code}"), ("POST", f"{DESK}/{code}/receive"),
                        ("POST", f"{DESK}/{code}/attachments"), ("GET", f"{DESK}/{code}/receipt.pdf"),
                        ("GET", f"{DESK}/sync")):
        assert client.request(method, url).status_code == 401, (method, url)
    assert client.get(f"/api/v1/dossiers/{code}").status_code == 200  # citizens are still served


def test_a_service_is_built_from_the_settings_when_none_is_given(tmp_path, sqlite_catalogue):
    add_staff(sqlite_catalogue)
    app = create_app(gateway_settings(tmp_path, sqlite_catalogue))
    with TestClient(app) as staff:
        _sign_in(staff)
        response = staff.post(DESK, json={
            "procedure_code": "1.001193", "applicant_name": "Lê Văn Cường", "applicant_phone": "0901234567"})
        assert response.status_code == 201 and response.json()["code"].startswith(AGENCY + "-")
        assert isinstance(app.state.services.dossiers, DossierService)
