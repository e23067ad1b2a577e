"""The filled declaration: plain-text summary and A4 PDF with the dossier-code QR."""

from __future__ import annotations

import io
import unicodedata
from datetime import date

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from knowledge_base.forms import load_forms
from motcua.declaration import render_declaration_pdf, summarize_values

CODE = "000.00.04.H51-260316-0001"
VALUES = {
    "birth_requester_name": "Nguyễn Thị Lan",
    "birth_requester_address": "Thôn Đông, xã Tân Lập, tỉnh Phú Thọ",
    "birth_requester_cccd": "025190012345",
    "birth_requester_relationship": "Mẹ",
    "birth_child_name": "Trần Minh Khang",
    "birth_child_birth_date": date(2026, 3, 15),
    "birth_child_sex": "Nam",
    "birth_child_ethnicity": "Kinh",
    "birth_child_nationality": "Việt Nam",
    "birth_child_birth_place": "Trạm y tế xã Tân Lập, tỉnh Phú Thọ",
    "birth_child_hometown": "Xã Hưng Đạo, tỉnh Hưng Yên",
    "birth_mother_name": "Nguyễn Thị Lan",
    "birth_mother_birth_date": "1990-05-02",
    "birth_mother_ethnicity": "Kinh",
    "birth_mother_nationality": "Việt Nam",
    "birth_mother_address": "Thôn Đông, xã Tân Lập, tỉnh Phú Thọ",
}


@pytest.fixture(scope="module")
def birth_form():
    return load_forms()["birth_registration"]


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in reader.pages))


def test_pdf_text_reads_back_in_vietnamese(birth_form, tmp_path):
    out = tmp_path / "to_khai.pdf"
    pdf = render_declaration_pdf(birth_form, VALUES, CODE, out, place="Tân Lập", signed_on=date(2026, 3, 16))
    assert pdf.startswith(b"%PDF") and out.read_bytes() == pdf
    text = _text(pdf)
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "TỜ KHAI ĐĂNG KÝ KHAI SINH",
        "Họ, chữ đệm và tên người yêu cầu: Nguyễn Thị Lan",
        "Ngày, tháng, năm sinh: 15/03/2026",
        "Ngày, tháng, năm sinh của người mẹ: 02/05/1990",
        "Nơi sinh: Trạm y tế xã Tân Lập, tỉnh Phú Thọ",
        "Tân Lập, ngày 16 tháng 03 năm 2026",
        "NGƯỜI YÊU CẦU",
        f"Mã hồ sơ: {CODE}",
    ]:
        assert expected in text, expected


def test_pdf_is_a4_with_embedded_dejavu(birth_form):
    reader = PdfReader(io.BytesIO(render_declaration_pdf(birth_form, VALUES, None)))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = [str(font.get_object()["/BaseFont"]) for font in fonts.values()]
    assert any("DejaVuSans" in name for name in names)
    descriptor = (
        next(iter(fonts.values())).get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    )
    assert "/FontFile2" in descriptor


def test_qr_code_decodes_to_the_dossier_code(birth_form, tmp_path):
    reader = PdfReader(io.BytesIO(render_declaration_pdf(birth_form, VALUES, CODE)))
    images = reader.pages[0].images
    assert len(images) == 1
    png = tmp_path / "qr.png"
    images[0].image.save(png)
    results = zxingcpp.read_barcodes(Image.open(png))
    assert [r.text for r in results] == [CODE]
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode


def test_no_qr_code_without_a_dossier_code(birth_form):
    reader = PdfReader(io.BytesIO(render_declaration_pdf(birth_form, VALUES, None)))
    assert not reader.pages[0].images
    assert "Mã hồ sơ" not in _text(render_declaration_pdf(birth_form, VALUES, None))


def test_two_signers_for_marriage():
    form = load_forms()["marriage_registration"]
    values = {"marriage_bride_name": "Lê Thị Hoa", "marriage_groom_name": "Phạm Văn Nam"}
    text = _text(render_declaration_pdf(form, values, None, signed_on=date(2026, 3, 16)))
    assert "BÊN NỮ" in text and "BÊN NAM" in text
    assert "Lê Thị Hoa" in text and "Phạm Văn Nam" in text


def test_every_form_renders_empty():
    for form in load_forms().values():
        assert _text(render_declaration_pdf(form, {}, None)).count(form.title.upper()[:10]) >= 1


def test_unknown_value_names_are_refused(birth_form):
    with pytest.raises(ValueError, match="not in form"):
        render_declaration_pdf(birth_form, {"nonexistent": "x"}, None)


def test_summary_lists_every_answer_and_what_is_missing(birth_form):
    summary = summarize_values(birth_form, VALUES)
    assert summary.startswith("TỜ KHAI ĐĂNG KÝ KHAI SINH")
    assert "- Họ, chữ đệm và tên: Trần Minh Khang" in summary
    assert "- Ngày, tháng, năm sinh: 15/03/2026" in summary
    assert "- Số điện thoại liên hệ: (không khai)" in summary
    assert "Còn thiếu" not in summary
    partial = summarize_values(birth_form, {"birth_child_name": "Trần Minh Khang"})
    assert "(chưa khai)" in partial and "Còn thiếu" in partial
