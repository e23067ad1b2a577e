"""Documents: scans become one PDF with checksums; anything else is refused, nothing kept."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.dossiers.attachments import MAX_FILE_BYTES, Upload, detect_type, prepare_attachment
from motcua.dossiers.errors import AttachmentRejected, DossierError, VerificationFailed
from motcua.dossiers.models import DossierAttachment
from motcua.dossiers.service import DossierApplication
from tests.dossiers.support import LAN, application, jpeg, pdf, png


def test_the_file_type_is_read_from_the_first_bytes():
    assert detect_type(jpeg()) == "image/jpeg"
    assert detect_type(png()) == "image/png"
    assert detect_type(pdf()) == "application/pdf"
    assert detect_type(b"MZ\x90\x00 windows program") is None
    assert detect_type(b"<html>not a scan</html>") is None


def test_scans_and_a_pdf_become_one_pdf_in_order_with_checksums():
    files = [Upload("mat-truoc.jpg", jpeg()), Upload("mat-sau.png", png()), Upload("to-khai.pdf", pdf(2)),
             Upload("anh-ngang.jpg", jpeg((1754, 1240)))]
    prepared = prepare_attachment(files, label="Giấy chứng sinh")
    reader = PdfReader(io.BytesIO(prepared.data))
    assert prepared.pages == len(reader.pages) == 5
    assert reader.pages[4].mediabox.width > reader.pages[4].mediabox.height  # a landscape scan stays landscape
    assert prepared.sha256 == hashlib.sha256(prepared.data).hexdigest()
    assert [s.sha256 for s in prepared.sources] == [hashlib.sha256(f.data).hexdigest() for f in files]
    assert [s.content_type for s in prepared.sources] == ["image/jpeg", "image/png", "application/pdf", "image/jpeg"]
    assert prepared.filename == "giay-chung-sinh.pdf"
    assert prepared.content_type == "application/pdf"


@pytest.mark.parametrize(("upload", "kind", "message"), [
    (Upload("virus.exe", b"MZ\x90\x00" + b"\x00" * 100), "unsupported", "không phải ảnh JPEG, ảnh PNG hay tệp PDF"),
    (Upload("anh.jpg", b"GIF89a" + b"\x00" * 100), "unsupported", "không phải ảnh JPEG"),
    (Upload("rong.jpg", b""), "invalid", "không có nội dung"),
    (Upload("hong.jpg", jpeg()[:200]), "invalid", "bị hỏng hoặc không đọc được"),
    (Upload("hong.pdf", b"%PDF-1.7\n garbage"), "invalid", "Tệp PDF «hong.pdf» bị hỏng"),
    (Upload("to.jpg", b"\xff\xd8\xff" + b"\x00" * (MAX_FILE_BYTES + 1)), "too_large", "vượt quá giới hạn 10,0 MB"),
])
def test_bad_files_are_refused_with_a_clear_message(upload, kind, message):
    with pytest.raises(AttachmentRejected, match=message) as caught:
        prepare_attachment([Upload("tot.jpg", jpeg()), upload])
    assert caught.value.kind == kind


def test_no_file_at_all_is_refused():
    with pytest.raises(AttachmentRejected, match="Chưa có tệp nào"):
        prepare_attachment([])


def _attachments(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(DossierAttachment))


def test_attachments_are_stored_with_the_dossier_and_read_back(sqlite_service, sqlite_catalogue, sqlite_db):
    prepared = prepare_attachment([Upload("cs.jpg", jpeg())], label="Giấy chứng sinh")
    code = sqlite_db.run(sqlite_service.file_dossier, application(), attachments=[prepared]).code
    later = prepare_attachment([Upload("ho-khau.pdf", pdf(1))], label="Sổ hộ khẩu")
    info = sqlite_db.run(sqlite_service.add_attachment, code, later, actor="staff:Hà")
    detail = sqlite_db.run(sqlite_service.get, code)
    assert [(a.label, a.pages) for a in detail.attachments] == [("Giấy chứng sinh", 1), ("Sổ hộ khẩu", 1)]
    stored_info, data = sqlite_db.run(sqlite_service.attachment_content, code, info.id)
    assert hashlib.sha256(data).hexdigest() == stored_info.sha256 == later.sha256
    assert stored_info.sources[0]["filename"] == "ho-khau.pdf"
    assert sqlite_db.run(sqlite_service.lookup, code, cccd="001190012345", phone="0912345678").attachments == ("Giấy chứng sinh", "Sổ hộ khẩu")


def test_a_citizen_upload_needs_the_matching_numbers_and_an_open_dossier(sqlite_service, sqlite_catalogue, sqlite_db):
    code = sqlite_db.run(sqlite_service.file_dossier, application()).code
    prepared = prepare_attachment([Upload("cs.jpg", jpeg())])
    with pytest.raises(VerificationFailed) as refused:
        sqlite_db.run(sqlite_service.add_attachment, code, prepared, actor="citizen", cccd="001190012345", phone="0987654321",
                                      verify=True)
    assert str(refused.value) == render("dossier.verification_failed")
    sqlite_db.run(sqlite_service.add_attachment, code, prepared, actor="citizen", cccd="001190012345", phone="0912345678",
                                  verify=True)
    sqlite_db.run(sqlite_service.change_status, code, "rejected", actor="staff:Hà", note="Sai thẩm quyền.")
    with pytest.raises(DossierError) as closed:
        sqlite_db.run(sqlite_service.add_attachment, code, prepared, actor="staff:Hà")
    assert str(closed.value) == render("dossier.closed", code=code, status="Từ chối giải quyết")
    assert _attachments(sqlite_catalogue) == 1


def test_a_refused_filing_keeps_none_of_its_attachments(sqlite_service, sqlite_catalogue, sqlite_db):
    prepared = prepare_attachment([Upload("cs.jpg", jpeg())])
    with pytest.raises(DossierError):
        sqlite_db.run(sqlite_service.file_dossier, DossierApplication("1.234567", LAN), attachments=[prepared])
    assert _attachments(sqlite_catalogue) == 0
