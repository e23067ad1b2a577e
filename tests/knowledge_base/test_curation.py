"""Staff curation on SQLite and PostgreSQL: search, edit, history, revert, synonyms, FAQ, legal uploads."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from knowledge_base import curation
from knowledge_base.curation import Conflict, EntityKind, Invalid, NotFound, UploadRefused
from knowledge_base.store import (
    FaqRow,
    KbRevision,
    LegalDocumentRow,
    LegalUnitRow,
    ProcedureRevision,
    get_procedure,
    list_faq,
    list_synonyms,
)
from knowledge_base.sync import sync_defaults
from motcua.db import session_scope
from tests.knowledge_base.test_ingest import SAMPLE

BIRTH = "1.001193"  # Đăng ký khai sinh
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.fixture
def kb(database_url) -> str:
    sync_defaults(database_url)
    return database_url


def _edit(url: str, code: str, change, *, actor: str = "canbo", **kwargs):
    with session_scope(url) as session:
        data = copy.deepcopy(curation.get_procedure_detail(session, code).procedure)
        change(data)
        return curation.update_procedure(session, code, data, actor=actor, **kwargs)


# --- procedures --------------------------------------------------------------------------------


def test_search_finds_a_procedure_by_name_with_or_without_diacritics_and_by_code(kb):
    with session_scope(kb) as session:
        accented = curation.search_procedures(session, "khai sinh")
        bare = curation.search_procedures(session, "DANG KY KHAI SINH")
        by_code = curation.search_procedures(session, BIRTH)
        by_alias = curation.search_procedures(session, "giay ks")
        nothing = curation.search_procedures(session, "zzqq không có")
    assert accented[0].code == BIRTH and accented[0].name == "Đăng ký khai sinh"
    assert all("khai sinh" in curation.fold(p.name) for p in accented[:3])
    assert bare[0].code == BIRTH
    assert [p.code for p in by_code] == [BIRTH]
    assert nothing == []
    assert by_alias[0].code == BIRTH  # «giấy ks» is only an alias


def test_an_edit_is_validated_versioned_and_survives_loading_the_defaults_again(kb):
    def change(data):
        data["name"] = "  Đăng ký khai sinh   (cán bộ sửa) "
        data["aliases"] = ["giấy chào đời", "", "Giấy chào đời", "khai sinh cho bé"]
        data["channels"][0]["fee"] = {"amount": 8000, "free": False, "note": "bản sao"}

    result = _edit(kb, BIRTH, change, reason="cập nhật lệ phí")
    assert result.changed and result.version == 2 and result.revision_id
    with session_scope(kb) as session:
        procedure = get_procedure(session, BIRTH)
        revisions = curation.list_revisions(session, EntityKind.PROCEDURE, BIRTH)
    assert procedure.name == "Đăng ký khai sinh (cán bộ sửa)"
    assert procedure.aliases == ["giấy chào đời", "khai sinh cho bé"]
    assert procedure.channels[0].fee.amount == 8000
    newest = revisions[0]
    assert (newest.version, newest.actor, newest.reason, newest.action) == (2, "canbo", "cập nhật lệ phí", "update")
    changed = {c.field: c for c in newest.changes}
    assert set(changed) == {"name", "aliases", "channels"}
    assert changed["name"].before == "Đăng ký khai sinh"
    assert changed["name"].after == "Đăng ký khai sinh (cán bộ sửa)"
    assert revisions[-1].action == "create" and revisions[-1].actor == "system:defaults"

    sync_defaults(kb)  # a restart loads the default files again: the staff edit stays
    with session_scope(kb) as session:
        assert get_procedure(session, BIRTH).name == "Đăng ký khai sinh (cán bộ sửa)"
        detail = curation.get_procedure_detail(session, BIRTH)
    assert detail.staff_edited and detail.version == 2


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(name="   "), "Tên thủ tục không được để trống"),
    (lambda d: d.update(code="9.999999"), "Không đổi được mã"),
    (lambda d: d.update(colour="xanh"), "Trường không có"),
    (lambda d: d.update(aliases="một chuỗi"), "phải là một danh sách"),
    (lambda d: d["channels"][0].update(kind="bay_den"), "Hình thức nộp «bay_den» không hợp lệ"),
    (lambda d: d["channels"][0].update(fee={"amount": -5}), "không âm"),
    (lambda d: d["channels"][0].update(time={"value": "mai", "unit": "ngay"}), "số không âm"),
    (lambda d: d["channels"][0].update(time={"value": 3, "unit": "tuan"}), "Đơn vị thời hạn"),
    (lambda d: d.update(documents=[{"name": "Tờ khai", "copies": 0}]), "từ 1 trở lên"),
    (lambda d: d.update(documents=[{"copies": 1}]), "thiếu tên"),
])
def test_a_bad_edit_is_refused_with_a_vietnamese_message_and_changes_nothing(kb, change, message):
    with session_scope(kb) as session:
        before = curation.get_procedure_detail(session, BIRTH)
    with pytest.raises(Invalid, match=message):
        _edit(kb, BIRTH, change)
    with session_scope(kb) as session:
        after = curation.get_procedure_detail(session, BIRTH)
        count = session.scalar(select(func.count()).select_from(ProcedureRevision)
                               .where(ProcedureRevision.procedure_code == BIRTH))
    assert after == before and count == 1


def test_an_edit_from_a_stale_version_is_a_conflict_and_an_unknown_code_is_not_found(kb):
    _edit(kb, BIRTH, lambda d: d.update(result="Giấy khai sinh (bản chính)"), expected_version=1)
    with pytest.raises(Conflict, match="phiên bản 2"):
        _edit(kb, BIRTH, lambda d: d.update(result="khác"), expected_version=1)
    with session_scope(kb) as session, pytest.raises(NotFound, match="9.999999"):
        curation.update_procedure(session, "9.999999", {"name": "x"}, actor="canbo")


def test_saving_the_same_content_writes_no_revision(kb):
    result = _edit(kb, BIRTH, lambda d: None)
    assert not result.changed and result.version == 1 and result.revision_id is None


def test_revert_restores_a_version_or_undoes_a_change_each_as_a_new_revision(kb):
    with session_scope(kb) as session:
        original = copy.deepcopy(curation.get_procedure_detail(session, BIRTH).procedure)
    _edit(kb, BIRTH, lambda d: d.update(name="Tên thứ hai"))
    _edit(kb, BIRTH, lambda d: d.update(name="Tên thứ ba"), actor="lan")
    with session_scope(kb) as session:
        first = curation.list_revisions(session, "procedure", BIRTH)[-1]
        result = curation.revert(session, "procedure", BIRTH, first.id, actor="quantri")
    assert result.changed and result.version == 4
    with session_scope(kb) as session:
        assert curation.get_procedure_detail(session, BIRTH).procedure == original
        history = curation.list_revisions(session, "procedure", BIRTH)
        third = next(r for r in history if r.version == 3)
        undo = curation.revert(session, "procedure", BIRTH, third.id, actor="quantri", to="before")
    assert [r.version for r in history] == [4, 3, 2, 1]
    assert (history[0].actor, history[0].reason) == ("quantri", "khôi phục phiên bản 1")
    assert undo.current["name"] == "Tên thứ hai" and undo.version == 5
    with session_scope(kb) as session:
        assert curation.get_procedure_detail(session, BIRTH).staff_edited
        with pytest.raises(Conflict, match="không bị xóa"):
            curation.revert(session, "procedure", BIRTH, first.id, actor="quantri", to="before")
        with pytest.raises(NotFound):
            curation.revert(session, "procedure", "1.000894", first.id, actor="quantri")  # another's revision


def test_an_admin_can_create_a_procedure_once(kb):
    data = {"code": "X.000001", "name": "Xác nhận tình trạng hôn nhân (thí điểm)", "aliases": ["giấy độc thân"]}
    with session_scope(kb) as session:
        created = curation.create_procedure(session, data, actor="quantri")
    assert created.changed and created.version == 1 and created.current["source"] == "staff"
    with session_scope(kb) as session, pytest.raises(Conflict, match="Đã có"):
        curation.create_procedure(session, data, actor="quantri")


# --- synonyms ----------------------------------------------------------------------------------


def test_synonyms_are_added_edited_deleted_and_restored_with_history(kb):
    with session_scope(kb) as session:
        added = curation.add_synonym(session, " giấy  chào đời ", "giấy khai sinh", actor="canbo")
    key = int(added.key)
    assert added.current == {"phrase": "giấy chào đời", "canonical": "giấy khai sinh"} and added.version == 1
    with session_scope(kb) as session:
        edited = curation.update_synonym(session, key, "giấy chào đời", "đăng ký khai sinh", actor="lan")
        deleted = curation.delete_synonym(session, key, actor="lan")
    assert edited.version == 2 and deleted.current is None and deleted.version == 3
    with session_scope(kb) as session:
        assert "giấy chào đời" not in {s.phrase for s in list_synonyms(session)}
        history = curation.list_revisions(session, "synonym", str(key))
        assert [r.action for r in history] == ["delete", "update", "create"]
        restored = curation.revert(session, "synonym", str(key), history[0].id, actor="canbo", to="before")
    assert restored.current == {"phrase": "giấy chào đời", "canonical": "đăng ký khai sinh"}
    with session_scope(kb) as session:
        assert {"giấy chào đời": "đăng ký khai sinh"}.items() <= {s.phrase: s.canonical
                                                                   for s in list_synonyms(session)}.items()
        back_to_first = curation.revert(session, "synonym", str(key), history[-1].id, actor="canbo")
    assert back_to_first.current["canonical"] == "giấy khai sinh" and back_to_first.version == 5


def test_synonym_mistakes_are_refused(kb):
    with session_scope(kb) as session:
        with pytest.raises(Conflict, match="sổ đỏ"):
            curation.add_synonym(session, "sổ đỏ", "bất cứ gì", actor="canbo")
        with pytest.raises(Invalid, match="Cần nhập"):
            curation.add_synonym(session, "!!!", "giấy khai sinh", actor="canbo")
        with pytest.raises(Invalid, match="giống nhau"):
            curation.add_synonym(session, "Khai Sinh", "khai sinh", actor="canbo")
        with pytest.raises(NotFound):
            curation.update_synonym(session, 999999, "a b", "c d", actor="canbo")


def test_loading_the_defaults_again_keeps_staff_edited_and_deleted_synonyms(kb):
    with session_scope(kb) as session:
        items = {s.phrase: s for s in curation.list_synonym_items(session)}
        curation.update_synonym(session, items["sổ đỏ"].id, "sổ đỏ", "giấy chứng nhận (sửa)", actor="canbo")
        curation.delete_synonym(session, items["sổ hồng"].id, actor="canbo")
    sync_defaults(kb)
    with session_scope(kb) as session:
        now = {s.phrase: s.canonical for s in list_synonyms(session)}
    assert now["sổ đỏ"] == "giấy chứng nhận (sửa)"
    assert "sổ hồng" not in now


# --- FAQ ---------------------------------------------------------------------------------------


def test_faq_entries_are_added_edited_deleted_and_restored_with_history(kb):
    question = "Làm giấy khai sinh ở đâu?"
    with session_scope(kb) as session:
        added = curation.add_faq_entry(session, question, "Tại bộ phận một cửa của xã.", [BIRTH], actor="canbo")
        key = int(added.key)
        curation.update_faq_entry(session, key, question, "Tại Trung tâm phục vụ hành chính công xã.", [BIRTH],
                                  actor="canbo")
        curation.delete_faq_entry(session, key, actor="lan")
    with session_scope(kb) as session:
        assert question not in {f.question for f in list_faq(session)}
        history = curation.list_revisions(session, "faq", str(key))
        assert [(r.version, r.action, r.actor) for r in history] == [(3, "delete", "lan"), (2, "update", "canbo"),
                                                                      (1, "create", "canbo")]
        assert history[1].changes[0].field == "answer"
        curation.revert(session, "faq", str(key), history[1].id, actor="canbo")
    with session_scope(kb) as session:
        entry = next(f for f in list_faq(session) if f.question == question)
    assert entry.answer == "Tại Trung tâm phục vụ hành chính công xã." and entry.procedures == (BIRTH,)


def test_faq_mistakes_are_refused_and_a_deleted_default_is_not_added_back(kb):
    with session_scope(kb) as session:
        first = curation.list_faq_items(session)[0]
        with pytest.raises(Invalid, match="9.999999"):
            curation.add_faq_entry(session, "Câu hỏi mới?", "Trả lời.", ["9.999999"], actor="canbo")
        with pytest.raises(Invalid, match="Cần nhập cả câu hỏi"):
            curation.add_faq_entry(session, "Câu hỏi mới?", "  ", [], actor="canbo")
        with pytest.raises(Conflict, match="đã có"):
            curation.add_faq_entry(session, first.question, "Trả lời khác.", [], actor="canbo")
        curation.delete_faq_entry(session, first.id, actor="canbo")
    sync_defaults(kb)
    with session_scope(kb) as session:
        assert first.question not in {f.question for f in list_faq(session)}
        assert session.scalar(select(func.count()).select_from(FaqRow).where(FaqRow.question == first.question)) == 1


# --- legal documents ---------------------------------------------------------------------------


def _legal_counts(url: str) -> tuple[int, int, int]:
    with session_scope(url) as session:
        return (session.scalar(select(func.count()).select_from(LegalDocumentRow)),
                session.scalar(select(func.count()).select_from(LegalUnitRow)),
                session.scalar(select(func.count()).select_from(KbRevision)))


def test_an_uploaded_markdown_document_is_stored_article_by_article_and_replaced_on_upload_again(database_url):
    with session_scope(database_url) as session:
        report = curation.upload_legal_document(session, SAMPLE.encode(), "nghi-dinh.md", actor="canbo")
    assert report.created and report.document.number == "99/2025/NĐ-CP"
    assert (report.articles, report.document.articles) == (2, 2) and report.units == report.document.units > 2
    assert "Đã thêm văn bản 99/2025/NĐ-CP" in report.describe()
    with session_scope(database_url) as session:
        again = curation.upload_legal_document(session, SAMPLE.encode(), "../../etc/nghi-dinh.md", actor="lan")
    assert not again.created and again.document.id == report.document.id
    assert again.document.source_file == "tải lên: nghi-dinh.md"
    with session_scope(database_url) as session:
        history = curation.list_revisions(session, "legal", str(report.document.id))
    assert [(r.actor, r.action) for r in history] == [("lan", "update"), ("canbo", "create")]
    assert _legal_counts(database_url)[:2] == (1, report.units)


@pytest.mark.parametrize(("content", "filename", "kind", "message"), [
    (b"", "trong.md", "empty", "trống"),
    (b"Dieu 1. abc", "van-ban.exe", "unsupported", "Không hỗ trợ định dạng"),
    (SAMPLE.encode() * 40, "lon.md", "too_large", "quá lớn"),
    (b"Thong bao lich tiep dan.", "thong-bao.txt", "unreadable", "Không tìm thấy Điều"),
    (b"%PDF-1.4 day khong phai PDF " * 20, "hong.pdf", "unreadable", "Không đọc được"),
])
def test_a_bad_upload_is_refused_clearly_and_stores_nothing(database_url, content, filename, kind, message):
    with session_scope(database_url) as session:
        curation.upload_legal_document(session, SAMPLE.encode(), "99-2025-ND-CP.md", actor="canbo")
    before = _legal_counts(database_url)
    with session_scope(database_url) as session, pytest.raises(UploadRefused, match=message) as refused:
        curation.upload_legal_document(session, content, filename, actor="canbo", max_bytes=10_000)
    assert refused.value.kind == kind
    assert filename.split("/")[-1] in str(refused.value)
    assert _legal_counts(database_url) == before


def test_a_scanned_pdf_is_refused_as_scanned(database_url):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 120, 80, style="F")
    with session_scope(database_url) as session, pytest.raises(UploadRefused, match="bản quét") as refused:
        curation.upload_legal_document(session, bytes(pdf.output()), "ban-scan.pdf", actor="canbo")
    assert refused.value.kind == "scanned"
    assert _legal_counts(database_url) == (0, 0, 0)


def test_legal_metadata_is_edited_validated_and_reverted(database_url):
    with session_scope(database_url) as session:
        document = curation.upload_legal_document(session, SAMPLE.encode(), "nd.md", actor="canbo").document
        changed = curation.update_legal_metadata(session, document.id, {
            "title": "Nghị định thử nghiệm (đã hợp nhất)", "replaced_by": "100/2026/NĐ-CP",
            "replaced_from": "2026-07-01", "status_note": "Hết hiệu lực từ 01/7/2026"}, actor="lan")
    assert changed.changed and changed.version == 2
    with session_scope(database_url) as session:
        row = session.get(LegalDocumentRow, document.id)
        assert (row.title, row.replaced_by, row.replaced_from) == ("Nghị định thử nghiệm (đã hợp nhất)",
                                                                  "100/2026/NĐ-CP", "2026-07-01")
        assert row.meta["status_note"] == "Hết hiệu lực từ 01/7/2026" and row.meta["staff_edited"]
        with pytest.raises(Invalid, match="NNNN-TT-NN"):
            curation.update_legal_metadata(session, document.id, {"effective": "01/03/2025"}, actor="lan")
        with pytest.raises(Invalid, match="số hiệu"):
            curation.update_legal_metadata(session, document.id, {"number": "1/2000/NĐ-CP"}, actor="lan")
        history = curation.list_revisions(session, "legal", str(document.id))
        curation.revert(session, "legal", str(document.id), history[0].id, actor="canbo", to="before")
    with session_scope(database_url) as session:
        row = session.get(LegalDocumentRow, document.id)
        assert (row.title, row.replaced_by, row.replaced_from) == ("Nghị định thử nghiệm", "", "")
        assert [r.version for r in curation.recent_revisions(session, "legal")] == [3, 2, 1]
