"""Legal documents are read from .md/.txt, .pdf, .docx and .html files, or refused clearly.

The PDF, DOCX and HTML cases use a short fictional decree written for these tests.
"""

from __future__ import annotations

import inspect
import unicodedata
from datetime import date

import pytest

from knowledge_base.legal import LegalDocument, UnitKind
from knowledge_base.legal_files import MAX_FILE_BYTES, LegalFileError, read_legal_file
from knowledge_base.legal_parser import parse_legal_text
from tests.knowledge_base.legal_samples import (
    fictional_decree_lines,
    fictional_decree_text,
    make_fpdf,
    write_pdf,
)


def _assert_fictional_decree(doc: LegalDocument) -> None:
    expected = parse_legal_text(fictional_decree_text())
    assert doc.number == "99/2030/NĐ-CP"
    assert (doc.doc_type, doc.issuer, doc.issued, doc.effective) == (
        "Nghị định",
        "Chính phủ",
        date(2030, 3, 5),
        date(2030, 5, 1),
    )
    assert [a.number for a in doc.articles] == [str(n) for n in range(1, 14)]
    assert [(u.kind, u.key, u.title, u.text) for u in doc.units] == [
        (u.kind, u.key, u.title, u.text) for u in expected.units
    ]
    assert [c.title for c in doc.units if c.kind is UnitKind.CHAPTER] == [
        "QUY ĐỊNH CHUNG",
        "TIẾP NHẬN VÀ TRẢ KẾT QUẢ",
        "ĐIỀU KHOẢN THI HÀNH",
    ]
    point = doc.find_unit("2", "1", "đ")
    assert point.text == unicodedata.normalize("NFC", "Người dân tộc thiểu số ở vùng đặc biệt khó khăn.")
    assert point.citation() == "Điểm đ khoản 1 Điều 2 Nghị định 99/2030/NĐ-CP"


def test_multi_page_vietnamese_pdf_parses_back_into_the_same_tree(tmp_path):
    path = tmp_path / "nghi-dinh-thu-nghiem.pdf"
    pages = write_pdf(path, fictional_decree_lines())
    assert pages >= 3
    _assert_fictional_decree(read_legal_file(path))


def test_pdf_without_a_text_layer_is_reported_as_scanned(tmp_path):
    pdf = make_fpdf()
    pdf.add_page()
    pdf.rect(20, 20, 120, 80, style="F")
    path = tmp_path / "trang-1.pdf"
    pdf.output(str(path))
    with pytest.raises(LegalFileError, match="scan") as caught:
        read_legal_file(path)
    assert "không có lớp chữ" in str(caught.value)


def test_file_just_over_the_given_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "nho.pdf"
    write_pdf(path, fictional_decree_lines()[:12])
    size = path.stat().st_size
    assert read_legal_file(path, max_bytes=size).number == "99/2030/NĐ-CP"
    with pytest.raises(LegalFileError, match="quá lớn"):
        read_legal_file(path, max_bytes=size - 1)


def test_default_limit_is_20_mb_and_a_50_mb_pdf_gets_a_clear_message(tmp_path):
    assert MAX_FILE_BYTES == 20 * 1024 * 1024
    assert inspect.signature(read_legal_file).parameters["max_bytes"].default == MAX_FILE_BYTES
    path = tmp_path / "qua-lon.pdf"
    with path.open("wb") as handle:  # sparse: costs no disk space, and is not a valid PDF
        handle.seek(50 * 1024 * 1024 - 1)
        handle.write(b"\0")
    with pytest.raises(LegalFileError) as caught:
        read_legal_file(path)
    message = str(caught.value)
    assert "quá lớn" in message and "50 MB" in message and "20 MB" in message


@pytest.mark.parametrize("suffix", [".pdf", ".md", ".docx", ".html", ".txt"])
def test_empty_file_is_refused(tmp_path, suffix):
    path = tmp_path / f"trong{suffix}"
    path.write_bytes(b"")
    with pytest.raises(LegalFileError, match="trống"):
        read_legal_file(path)


def test_whitespace_only_text_file_is_refused(tmp_path):
    path = tmp_path / "trang.txt"
    path.write_text(" \n\n\t\n", encoding="utf-8")
    with pytest.raises(LegalFileError, match="trống"):
        read_legal_file(path)


def test_text_without_any_article_is_refused(tmp_path):
    path = tmp_path / "thong-bao.txt"
    path.write_text("Thông báo lịch tiếp dân tháng 3.\nSáng thứ Hai hằng tuần.", encoding="utf-8")
    with pytest.raises(LegalFileError, match="Không tìm thấy Điều"):
        read_legal_file(path)


@pytest.mark.parametrize("suffix", [".pdf", ".docx"])
def test_corrupt_file_is_refused_with_a_clear_message(tmp_path, suffix):
    path = tmp_path / f"hong{suffix}"
    path.write_bytes(b"day khong phai tep hop le " * 40)
    with pytest.raises(LegalFileError, match="Không đọc được"):
        read_legal_file(path)


def test_unsupported_format_and_missing_file_are_refused(tmp_path):
    with pytest.raises(LegalFileError, match="Không hỗ trợ"):
        read_legal_file(tmp_path / "van-ban.odt")
    with pytest.raises(LegalFileError, match="Không tìm thấy tệp"):
        read_legal_file(tmp_path / "khong-co.pdf")


def test_docx_round_trip_keeps_the_tree(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for line in fictional_decree_lines():
        document.add_paragraph(line)
    path = tmp_path / "nghi-dinh.docx"
    document.save(str(path))
    _assert_fictional_decree(read_legal_file(path))


def test_html_round_trip_keeps_inline_markup_on_one_line(tmp_path):
    parts = ["<html><head><title>x</title><style>p{}</style></head><body>"]
    for line in fictional_decree_lines():
        if line.startswith("Điều "):
            marker, title = line.split(". ", 1)
            parts.append(f"<p><b>{marker}.</b>\n  {title}</p>")
        elif line.startswith("Chương"):
            parts.append(f"<h2>{line}</h2>")
        else:
            parts.append(f"<div>{line}</div>")
    parts.append("<script>var a = 'Điều 99. Không phải điều';</script></body></html>")
    path = tmp_path / "nghi-dinh.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    _assert_fictional_decree(read_legal_file(path))


def test_markdown_file_without_number_takes_it_from_the_file_name(tmp_path):
    text = fictional_decree_text().replace("Số: 99/2030/NĐ-CP\n", "")
    path = tmp_path / "98-2030-ND-CP.md"
    path.write_text(text, encoding="utf-8")
    doc = read_legal_file(path)
    assert doc.number == "98/2030/NĐ-CP"
    assert doc.get_unit("98/2030/NĐ-CP#d2.k1.a").text == "Người cao tuổi, người khuyết tật;"
