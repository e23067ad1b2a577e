"""The receipt: Vietnamese text that can be extracted, masked numbers, a QR code of the dossier code."""

from __future__ import annotations

import io
import unicodedata

import zxingcpp
from pypdf import PdfReader

from motcua.dossiers.attachments import Upload, prepare_attachment
from motcua.dossiers.receipt import mask_number
from tests.dossiers.support import application, jpeg


def test_the_receipt_names_the_dossier_and_its_qr_code_reads_back_as_the_code(sqlite_service, sqlite_db):
    prepared = prepare_attachment([Upload("cs.jpg", jpeg())], label="Giấy chứng sinh")
    filed = sqlite_db.run(sqlite_service.file_dossier, application(channel="counter", sender_id=""), attachments=[prepared],
                                       actor="staff:thuha")
    data = sqlite_db.run(sqlite_service.receipt_pdf, filed.code, center_name="Trung tâm Phục vụ hành chính công xã Hòa Bình",
                                      received_by="Đỗ Thu Hà")
    page = PdfReader(io.BytesIO(data)).pages[0]
    text = " ".join(unicodedata.normalize("NFC", page.extract_text()).split())
    for expected in ("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", filed.code, "Đăng ký khai sinh (mã 1.001193)",
                     "Nguyễn Thị Lan", "001*******45", "Ngày hẹn trả kết quả: ngày 11/03/2026",
                     "Giấy chứng sinh (1 trang)", "Đỗ Thu Hà", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG XÃ HÒA BÌNH"):
        assert expected in text
    assert "001190012345" not in text and "0912345678" not in text
    images = [image.image for image in page.images]
    decoded = [result.text for image in images for result in zxingcpp.read_barcodes(image)]
    assert decoded == [filed.code]
    assert sqlite_db.run(sqlite_service.lookup, decoded[0], scanned=True).code == filed.code


def test_numbers_are_masked_but_keep_their_ends():
    assert mask_number("001190012345") == "001*******45"
    assert mask_number("0912345678") == "091*****78"
    assert mask_number("1234") == "****"
    assert mask_number("") == ""
