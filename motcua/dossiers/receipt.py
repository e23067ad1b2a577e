"""The receipt (Giấy tiếp nhận hồ sơ và hẹn trả kết quả) as a PDF. Plain Python.

A4, DejaVu Sans embedded so every Vietnamese letter prints and can be extracted again,
with a QR code holding the dossier code: the kiosk's scanner reads it to look the dossier up.
Personal numbers are printed masked; the full numbers stay in the dossier. The lookup PIN is
printed only when the receipt hands one over (the desk's print makes a new one).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import qrcode
from fpdf import FPDF
from qrcode.constants import ERROR_CORRECT_M

from motcua.declaration import FONT_DIR
from motcua.workdays import VIETNAM_TZ

__all__ = ["ReceiptData", "mask_number", "render_receipt_pdf"]

_FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}


def mask_number(value: str, keep_start: int = 3, keep_end: int = 2) -> str:
    """``001234567845`` → ``001*******45``; short values are masked entirely."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


@dataclass(frozen=True)
class ReceiptData:
    code: str
    center_name: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    applicant_cccd: str
    applicant_phone: str
    received_at: datetime
    due_date: date | None
    processing_time: str
    submission: str
    documents: tuple[str, ...] = ()
    received_by: str = ""
    lookup_pin: str = ""  # printed only on a receipt that hands a (new) PIN over


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _qr(text: str):
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def render_receipt_pdf(data: ReceiptData, *, font_dir: str | Path | None = None) -> bytes:
    """The receipt for ``data`` as PDF bytes."""
    font_dir = Path(font_dir) if font_dir else FONT_DIR
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(18, 15, 18)
    pdf.set_auto_page_break(auto=True, margin=15)
    for style, name in _FONTS.items():
        path = font_dir / name
        if not path.is_file():
            raise FileNotFoundError(f"font {path} not found; install fonts-dejavu-core or pass font_dir")
        pdf.add_font("DejaVu", style, str(path))
    pdf.set_title(_nfc(f"Giấy tiếp nhận hồ sơ {data.code}"))
    pdf.set_creator("Một Cửa")
    pdf.set_lang("vi")
    pdf.add_page()
    width = pdf.epw
    top = pdf.get_y()

    left = width * 0.45
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(left, 5, _nfc(data.center_name.upper()), align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(left, 5, _nfc(f"Mã số hồ sơ: {data.code}"), align="C")
    pdf.set_xy(pdf.l_margin + left, top)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(width - left, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LEFT", new_y="NEXT")
    pdf.cell(width - left, 5, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LEFT", new_y="NEXT")
    received_local = data.received_at.astimezone(VIETNAM_TZ)
    pdf.set_font("DejaVu", "I", 9)
    pdf.cell(width - left, 6, _nfc(f"ngày {received_local:%d} tháng {received_local:%m} năm {received_local:%Y}"),
             align="C")
    pdf.set_y(top + 24)

    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(width, 7, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    qr_size = 32
    qr_top = pdf.get_y()
    pdf.image(_qr(data.code), x=pdf.l_margin + width - qr_size, y=qr_top, w=qr_size, h=qr_size)
    text_width = width - qr_size - 4

    def line(label: str, value: str) -> None:
        pdf.set_x(pdf.l_margin)
        pdf.set_font("DejaVu", "", 10.5)
        pdf.write(6, _nfc(f"{label}: "))
        pdf.set_font("DejaVu", "B", 10.5)
        right = pdf.l_margin + (text_width if pdf.get_y() < qr_top + qr_size else width)
        pdf.multi_cell(right - pdf.get_x(), 6, _nfc(value or "—"), new_x="LMARGIN", new_y="NEXT")

    line("Mã số hồ sơ", data.code)
    line("Thủ tục", f"{data.procedure_name} (mã {data.procedure_code})")
    line("Người nộp hồ sơ", data.applicant_name)
    if data.applicant_cccd:
        line("Số định danh cá nhân", mask_number(data.applicant_cccd))
    if data.applicant_phone:
        line("Số điện thoại", mask_number(data.applicant_phone))
    if data.lookup_pin:
        line("Mã tra cứu (giữ kín)", data.lookup_pin)
    line("Hình thức nộp", data.submission)
    line("Thời điểm tiếp nhận", f"{received_local:%H} giờ {received_local:%M}, ngày {received_local:%d/%m/%Y}")
    if data.processing_time:
        line("Thời hạn giải quyết", data.processing_time)
    if data.due_date:
        line("Ngày hẹn trả kết quả", f"ngày {data.due_date:%d/%m/%Y}")
    else:
        line("Ngày hẹn trả kết quả", "cán bộ sẽ thông báo")
    pdf.set_y(max(pdf.get_y(), qr_top + qr_size) + 2)

    pdf.set_font("DejaVu", "B", 10.5)
    pdf.cell(width, 6, "Giấy tờ đã nhận:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10.5)
    for i, document in enumerate(data.documents or ("(chưa có giấy tờ đính kèm)",), start=1):
        prefix = f"{i}. " if data.documents else ""
        pdf.multi_cell(width, 6, _nfc(prefix + document), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "I", 9.5)
    pdf.multi_cell(
        width, 5,
        _nfc("Tra cứu tình trạng hồ sơ: nhắn mã số hồ sơ cho trợ lý Một Cửa, hoặc quét mã QR trên giấy này tại "
             "kiosk của Trung tâm; để xem chi tiết, cho thêm mã tra cứu (hoặc cả số căn cước và số điện thoại "
             "đã khai). Khi nhận kết quả, xin mang theo giấy này và thẻ căn cước."),
        new_x="LMARGIN", new_y="NEXT",
    )
    pdf.ln(6)
    y0 = pdf.get_y()
    half = width / 2
    for i, (title, name) in enumerate((("NGƯỜI NỘP HỒ SƠ", data.applicant_name),
                                       ("NGƯỜI TIẾP NHẬN HỒ SƠ", data.received_by))):
        x = pdf.l_margin + i * half
        pdf.set_xy(x, y0)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.cell(half, 6, title, align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font("DejaVu", "I", 9)
        pdf.cell(half, 5, "(Ký, ghi rõ họ tên)", align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_xy(x, pdf.get_y() + 18)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.cell(half, 6, _nfc(name), align="C")
    return bytes(pdf.output())
