"""The curation API (/api/v1/kb) on SQLite and PostgreSQL: sign-in and roles, procedures, synonyms,
FAQ, legal uploads; every change versioned, revertible and audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.auth import COOKIE
from knowledge_base.legal_files import MAX_FILE_BYTES
from knowledge_base.store import KbRevision, LegalDocumentRow, LegalUnitRow, get_procedure, list_synonyms
from knowledge_base.sync import sync_defaults
from motcua.db import session_scope
from motcua.staff.models import AuditEntry
from tests.knowledge_base.test_ingest import SAMPLE
from tests.servers import free_port
from tests.staff.conftest import ADMIN_PASSWORD, PASSWORD, add_accounts, make_settings, sign_in

BIRTH = "1.001193"


def curation_settings(tmp_path, database_url: str, action_url: str = ""):
    """Gateway settings over a database with the default knowledge base and two accounts."""
    settings = make_settings(tmp_path, f"http://127.0.0.1:{free_port()}", database_url)
    if action_url:
        settings = settings.model_copy(update={"action_url": action_url})
    sync_defaults(database_url)
    add_accounts(database_url)
    return settings


@pytest.fixture
def api(tmp_path, database_url):
    """A signed-in staff client (not admin) of a gateway whose action server is not running."""
    settings = curation_settings(tmp_path, database_url)
    with TestClient(create_app(settings)) as client:
        sign_in(client, "canbo", PASSWORD)
        client.database_url = database_url
        yield client


def _audit_actions(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.startswith("kb."))
                                    .order_by(AuditEntry.id)))


def test_the_api_and_page_need_a_signed_in_staff_member_and_creating_needs_an_admin(tmp_path, database_url):
    settings = curation_settings(tmp_path, database_url)
    app = create_app(settings)
    with TestClient(app, follow_redirects=False) as anonymous, TestClient(app) as staff, TestClient(app) as admin:
        assert anonymous.get("/api/v1/kb/procedures?q=khai").status_code == 401
        assert anonymous.put(f"/api/v1/kb/procedures/{BIRTH}", json={"procedure": {}}).status_code == 401
        assert anonymous.post("/api/v1/kb/synonyms", json={"phrase": "a b", "canonical": "c d"}).status_code == 401
        forged = TestClient(app, cookies={COOKIE: "khong-hop-le"})
        assert forged.get("/api/v1/kb/faq").status_code == 401
        page = anonymous.get("/staff/kb")
        assert page.status_code == 303 and page.headers["location"] == "/staff/login?next=/staff/kb"

        sign_in(staff, "canbo", PASSWORD)
        html = staff.get("/staff/kb")
        assert html.status_code == 200 and '<html lang="vi">' in html.text and "Cơ sở tri thức" in html.text
        new = {"procedure": {"code": "X.000001", "name": "Thủ tục thí điểm"}}
        refused = staff.post("/api/v1/kb/procedures", json=new)
        assert refused.status_code == 403 and "quản trị" in refused.json()["detail"]

        sign_in(admin, "quantri", ADMIN_PASSWORD)
        created = admin.post("/api/v1/kb/procedures", json=new)
        assert created.status_code == 201 and created.json()["version"] == 1
        assert admin.post("/api/v1/kb/procedures", json=new).status_code == 409
    with session_scope(database_url) as session:
        assert get_procedure(session, "X.000001").name == "Thủ tục thí điểm"
    assert _audit_actions(database_url) == ["kb.procedure.create"]


def test_staff_search_edit_see_the_history_and_revert_a_procedure(api):
    found = api.get("/api/v1/kb/procedures", params={"q": "khai sinh"}).json()
    assert found[0]["code"] == BIRTH and found[0]["name"] == "Đăng ký khai sinh"
    assert api.get("/api/v1/kb/procedures", params={"q": "dang ky khai sinh"}).json()[0]["code"] == BIRTH
    detail = api.get(f"/api/v1/kb/procedures/{BIRTH}").json()
    assert detail["version"] == 1 and not detail["staff_edited"]

    procedure = detail["procedure"]
    procedure["channels"][0]["time"] = {"value": 2, "unit": "ngay_lam_viec", "note": ""}
    procedure["aliases"].append("giấy chào đời")
    saved = api.put(f"/api/v1/kb/procedures/{BIRTH}",
                    json={"procedure": procedure, "version": 1, "reason": "sửa thời hạn"})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["changed"] and body["version"] == 2
    assert body["index"]["updated"] is False and "đã được lưu" in body["index"]["message"]
    assert "khởi động" in body["index"]["message"]

    stale = api.put(f"/api/v1/kb/procedures/{BIRTH}", json={"procedure": procedure, "version": 1})
    assert stale.status_code == 409 and "canbo" in stale.json()["detail"] and "tải lại" in stale.json()["detail"]
    bad = api.put(f"/api/v1/kb/procedures/{BIRTH}", json={"procedure": {**procedure, "name": ""}})
    assert bad.status_code == 422 and bad.json()["detail"] == "Tên thủ tục không được để trống."
    bad_fee = dict(procedure, channels=[{"kind": "truc_tiep", "fee": {"amount": -1}}])
    assert "không âm" in api.put(f"/api/v1/kb/procedures/{BIRTH}", json={"procedure": bad_fee}).json()["detail"]
    missing = api.get("/api/v1/kb/procedures/9.999999")
    assert missing.status_code == 404 and missing.json()["detail"] == "Không tìm thấy thủ tục mã «9.999999»."

    history = api.get(f"/api/v1/kb/procedures/{BIRTH}/revisions").json()
    assert [(r["version"], r["actor"], r["action"]) for r in history] == [(2, "canbo", "update"),
                                                                          (1, "system:defaults", "create")]
    changes = {c["field"]: c for c in history[0]["changes"]}
    assert set(changes) == {"channels", "aliases"} and "giấy chào đời" in changes["aliases"]["after"]
    assert "giấy chào đời" not in changes["aliases"]["before"]

    reverted = api.post(f"/api/v1/kb/procedures/{BIRTH}/revisions/{history[0]['id']}/revert", params={"to": "before"})
    assert reverted.status_code == 200 and reverted.json()["version"] == 3
    with session_scope(api.database_url) as session:
        assert "giấy chào đời" not in get_procedure(session, BIRTH).aliases
    newest = api.get(f"/api/v1/kb/procedures/{BIRTH}/revisions").json()[0]
    assert newest["reason"] == "khôi phục trạng thái trước phiên bản 2" and newest["actor"] == "canbo"
    assert api.post(f"/api/v1/kb/procedures/{BIRTH}/revisions/999999/revert").status_code == 404
    assert api.get("/api/v1/kb/history", params={"kind": "procedure"}).json()[0]["version"] == 3
    assert _audit_actions(api.database_url) == ["kb.procedure.update", "kb.procedure.revert"]


def test_synonyms_and_faq_are_added_edited_deleted_and_restored(api):
    added = api.post("/api/v1/kb/synonyms", json={"phrase": "giấy chào đời", "canonical": "giấy khai sinh"})
    assert added.status_code == 201, added.text
    key = added.json()["key"]
    assert api.post("/api/v1/kb/synonyms", json={"phrase": "giấy chào đời", "canonical": "x y"}).status_code == 409
    assert api.post("/api/v1/kb/synonyms", json={"phrase": "", "canonical": "x"}).status_code == 422
    edited = api.put(f"/api/v1/kb/synonyms/{key}", json={"phrase": "giấy chào đời", "canonical": "khai sinh"})
    assert edited.json()["current"] == {"phrase": "giấy chào đời", "canonical": "khai sinh"}
    assert api.delete(f"/api/v1/kb/synonyms/{key}").json()["current"] is None
    assert "giấy chào đời" not in {s["phrase"] for s in api.get("/api/v1/kb/synonyms").json()}
    assert api.delete(f"/api/v1/kb/synonyms/{key}").status_code == 404
    history = api.get(f"/api/v1/kb/synonyms/{key}/revisions").json()
    assert [r["action"] for r in history] == ["delete", "update", "create"]
    restore = api.post(f"/api/v1/kb/synonyms/{key}/revisions/{history[0]['id']}/revert?to=before")
    assert restore.status_code == 200 and restore.json()["version"] == 4
    with session_scope(api.database_url) as session:
        assert {s.phrase: s.canonical for s in list_synonyms(session)}["giấy chào đời"] == "khai sinh"
    assert [s for s in api.get("/api/v1/kb/synonyms", params={"q": "chao doi"}).json()] == [
        {"id": int(key), "phrase": "giấy chào đời", "canonical": "khai sinh", "staff_edited": True}]

    faq = api.post("/api/v1/kb/faq", json={"question": "Khai sinh ở đâu?", "answer": "Tại UBND xã.",
                                           "procedures": [BIRTH]})
    assert faq.status_code == 201
    faq_key = faq.json()["key"]
    wrong = api.post("/api/v1/kb/faq", json={"question": "Q?", "answer": "A.", "procedures": ["0.000000"]})
    assert wrong.status_code == 422 and "0.000000" in wrong.json()["detail"]
    api.put(f"/api/v1/kb/faq/{faq_key}", json={"question": "Khai sinh ở đâu?", "answer": "Tại Trung tâm.",
                                                "procedures": [BIRTH]})
    assert api.delete(f"/api/v1/kb/faq/{faq_key}").status_code == 200
    assert "Khai sinh ở đâu?" not in {f["question"] for f in api.get("/api/v1/kb/faq").json()}
    faq_history = api.get(f"/api/v1/kb/faq/{faq_key}/revisions").json()
    update = next(r for r in faq_history if r["action"] == "update")
    assert api.post(f"/api/v1/kb/faq/{faq_key}/revisions/{update['id']}/revert").status_code == 200
    entry = next(f for f in api.get("/api/v1/kb/faq").json() if f["question"] == "Khai sinh ở đâu?")
    assert entry["answer"] == "Tại Trung tâm." and entry["procedures"] == [BIRTH]
    recent = api.get("/api/v1/kb/history").json()
    assert [(r["kind"], r["action"]) for r in recent[:2]] == [("faq", "restore"), ("faq", "delete")]
    assert _audit_actions(api.database_url) == [
        "kb.synonym.add", "kb.synonym.update", "kb.synonym.delete", "kb.synonym.revert",
        "kb.faq.add", "kb.faq.update", "kb.faq.delete", "kb.faq.revert"]


def _legal_counts(url: str) -> tuple[int, int, int]:
    with session_scope(url) as session:
        return (session.scalar(select(func.count()).select_from(LegalDocumentRow)),
                session.scalar(select(func.count()).select_from(LegalUnitRow)),
                session.scalar(select(func.count()).select_from(KbRevision)))


def test_good_markdown_and_pdf_uploads_are_stored_with_a_report(api, tmp_path):
    response = api.post("/api/v1/kb/legal/upload", files={"file": ("99-2025-ND-CP.md", SAMPLE.encode(), "text/markdown")})
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["stored"] and report["created"] and report["document"]["number"] == "99/2025/NĐ-CP"
    assert report["articles"] == 2 and report["message"].startswith("Đã thêm văn bản 99/2025/NĐ-CP")
    assert report["index"]["updated"] is False

    from tests.knowledge_base.legal_samples import fictional_decree_lines, write_pdf

    pdf = tmp_path / "nghi-dinh-thu-nghiem.pdf"
    write_pdf(pdf, fictional_decree_lines())
    response = api.post("/api/v1/kb/legal/upload", files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
    assert response.status_code == 201, response.text
    assert response.json()["document"]["number"] == "99/2030/NĐ-CP" and response.json()["articles"] == 13
    documents = {d["number"]: d for d in api.get("/api/v1/kb/legal").json()}
    assert set(documents) == {"99/2025/NĐ-CP", "99/2030/NĐ-CP"} and documents["99/2030/NĐ-CP"]["articles"] == 13

    doc_id = documents["99/2025/NĐ-CP"]["id"]
    changed = api.put(f"/api/v1/kb/legal/{doc_id}", json={"title": "Nghị định thử nghiệm (sửa)"})
    assert changed.status_code == 200 and changed.json()["current"]["title"] == "Nghị định thử nghiệm (sửa)"
    assert api.put(f"/api/v1/kb/legal/{doc_id}", json={"issued": "2/1/2025"}).status_code == 422
    history = api.get(f"/api/v1/kb/legal/{doc_id}/revisions").json()
    api.post(f"/api/v1/kb/legal/{doc_id}/revisions/{history[0]['id']}/revert", params={"to": "before"})
    assert api.get(f"/api/v1/kb/legal/{doc_id}").json()["title"] == "Nghị định thử nghiệm"
    assert _audit_actions(api.database_url) == ["kb.legal.upload", "kb.legal.upload", "kb.legal.update",
                                                "kb.legal.revert"]


def _scanned_pdf() -> bytes:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 120, 80, style="F")
    return bytes(pdf.output())


@pytest.mark.parametrize(("name", "content", "status", "kind", "message"), [
    ("trong.md", lambda: b"", 422, "empty", "trống"),
    ("vua-qua.md", lambda: b"x" * (MAX_FILE_BYTES + 1), 413, "too_large", "giới hạn là 20 MB"),
    ("rat-lon.pdf", lambda: b"x" * (21 * 1024 * 1024), 413, "too_large", "giới hạn là 20 MB"),
    ("ban-scan.pdf", _scanned_pdf, 422, "scanned", "bản quét"),
    ("bang-tinh.xlsx", lambda: b"PK\x03\x04 not a legal text", 415, "unsupported", "Không hỗ trợ định dạng"),
    ("thong-bao.txt", lambda: "Thông báo lịch tiếp dân.".encode(), 422, "unreadable", "Không tìm thấy Điều"),
])
def test_a_bad_upload_gets_a_clear_vietnamese_message_and_nothing_is_stored(api, name, content, status, kind,
                                                                            message):
    api.post("/api/v1/kb/legal/upload", files={"file": ("99-2025-ND-CP.md", SAMPLE.encode(), "text/markdown")})
    before = _legal_counts(api.database_url)
    response = api.post("/api/v1/kb/legal/upload", files={"file": (name, content(), "application/octet-stream")})
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["kind"], body["stored"]) == (kind, False) and message in body["detail"]
    assert _legal_counts(api.database_url) == before
    assert _audit_actions(api.database_url) == ["kb.legal.upload"]
    assert api.post("/api/v1/kb/legal/upload", json={}).status_code == 422  # no file at all
