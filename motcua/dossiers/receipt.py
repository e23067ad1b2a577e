"""The receipt (Giấy tiếp nhận hồ sơ và hẹn trả kết quả) as a PDF. Plain Python.

A4, DejaVu Sans embedded so every Vietnamese letter prints and can be extracted again,
with a QR code holding the dossier code: the kiosk's scanner reads it to look the dossier up.
Personal numbers are printed masked; the full numbers stay in the dossier. The lookup PIN is
printed only when the receipt hands one over (the desk's print makes a new one). A dossier that
owes a fee the center takes by VietQR gets a box with the amount (also in words), the transfer note
and a second QR code, the VietQR payload the citizen's banking app scans (:class:`ReceiptFee`);
none when it is free, paid or waived. Every word
printed comes from the message catalogue (``print.receipt.*``, the form's own wording under
``print.official.*``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import qrcode
from fpdf import FPDF
from qrcode.constants import ERROR_CORRECT_M

from knowledge_base.messages import render
from motcua.declaration import FONT_DIR
from motcua.payments.words import amount_in_words
from motcua.workdays import VIETNAM_TZ

__all__ = ["ReceiptData", "ReceiptFee", "mask_number", "render_receipt_pdf"]

_FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}


def mask_number(value: str, keep_start: int = 3, keep_end: int = 2) -> str:
    """``001234567845`` → ``001*******45``; short values are masked entirely."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


@dataclass(frozen=True)
class ReceiptFee:
    """An unpaid fee as the receipt prints it: whole đồng, the transfer note (the dossier code),
    the VietQR payload (:func:`motcua.payments.vietqr.build_payload`) and the receiving account's name."""

    amount: int
    note: str
    payload: str
    account_name: str


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
    fee: ReceiptFee | None = None  # an unpaid fee payable by VietQR


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _amount(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _fee_box(pdf: FPDF, fee: ReceiptFee, width: float) -> None:
    """The fee owed: amount (figures and words), account, transfer note, and its VietQR code at the right."""
    size = 34
    top = pdf.get_y()
    if top + size + 4 > pdf.h - pdf.b_margin:
        pdf.add_page()
        top = pdf.get_y()
    pdf.image(_qr(fee.payload), x=pdf.l_margin + width - size, y=top, w=size, h=size)
    text_width = width - size - 4
    pdf.set_font("DejaVu", "B", 10.5)
    pdf.multi_cell(text_width, 6, _nfc(render("print.receipt.fee_title")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10.5)
    for line in (render("print.receipt.fee_amount", amount=_amount(fee.amount), words=amount_in_words(fee.amount)),
                 render("print.receipt.fee_account", account=fee.account_name),
                 render("print.receipt.fee_note", note=fee.note)):
        pdf.multi_cell(text_width, 6, _nfc(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "I", 9.5)
    pdf.multi_cell(text_width, 5, _nfc(render("print.receipt.fee_scan")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + size) + 2)


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
    pdf.set_title(_nfc(render("print.receipt.document_title", code=data.code)))
    pdf.set_creator(render("print.creator"))
    pdf.set_lang("vi")
    pdf.add_page()
    width = pdf.epw
    top = pdf.get_y()

    left = width * 0.45
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(left, 5, _nfc(data.center_name.upper()), align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(left, 5, _nfc(render("print.receipt.code_heading", code=data.code)), align="C")
    pdf.set_xy(pdf.l_margin + left, top)
    pdf.set_font("DejaVu", "B", 10)
    for key in ("print.official.nation", "print.official.motto"):
        pdf.cell(width - left, 5, render(key), align="C", new_x="LEFT", new_y="NEXT")
    received_local = data.received_at.astimezone(VIETNAM_TZ)
    pdf.set_font("DejaVu", "I", 9)
    received_on = render("print.official.receipt_date", day=f"{received_local:%d}", month=f"{received_local:%m}",
                         year=f"{received_local:%Y}")
    pdf.cell(width - left, 6, _nfc(received_on), align="C")
    pdf.set_y(top + 24)

    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(width, 7, render("print.official.receipt_title"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    qr_size = 32
    qr_top = pdf.get_y()
    pdf.image(_qr(data.code), x=pdf.l_margin + width - qr_size, y=qr_top, w=qr_size, h=qr_size)
    text_width = width - qr_size - 4

    def line(key: str, value: str) -> None:
        pdf.set_x(pdf.l_margin)
        pdf.set_font("DejaVu", "", 10.5)
        pdf.write(6, _nfc(f"{render(key)}: "))
        pdf.set_font("DejaVu", "B", 10.5)
        right = pdf.l_margin + (text_width if pdf.get_y() < qr_top + qr_size else width)
        pdf.multi_cell(right - pdf.get_x(), 6, _nfc(value or "—"), new_x="LMARGIN", new_y="NEXT")

    line("print.receipt.code", data.code)
    line("print.receipt.procedure",
         render("print.receipt.procedure_value", name=data.procedure_name, code=data.procedure_code))
    line("print.receipt.applicant", data.applicant_name)
    if data.applicant_cccd:
        line("print.receipt.cccd", mask_number(data.applicant_cccd))
    if data.applicant_phone:
        line("print.receipt.phone", mask_number(data.applicant_phone))
    if data.lookup_pin:
        line("print.receipt.pin", data.lookup_pin)
    line("print.receipt.submission", data.submission)
    line("print.receipt.received_at", render("print.receipt.received_at_value", hour=f"{received_local:%H}",
                                             minute=f"{received_local:%M}", date=f"{received_local:%d/%m/%Y}"))
    if data.processing_time:
        line("print.receipt.processing_time", data.processing_time)
    if data.due_date:
        line("print.receipt.due", render("print.receipt.due_value", date=f"{data.due_date:%d/%m/%Y}"))
    else:
        line("print.receipt.due", render("print.receipt.due_unknown"))
    pdf.set_y(max(pdf.get_y(), qr_top + qr_size) + 2)

    pdf.set_font("DejaVu", "B", 10.5)
    pdf.cell(width, 6, render("print.receipt.documents"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10.5)
    for i, document in enumerate(data.documents or (render("print.receipt.no_documents"),), start=1):
        prefix = f"{i}. " if data.documents else ""
        pdf.multi_cell(width, 6, _nfc(prefix + document), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if data.fee is not None and data.fee.amount > 0:
        _fee_box(pdf, data.fee, width)
    pdf.set_font("DejaVu", "I", 9.5)
    pdf.multi_cell(
        width, 5,
        _nfc(render("print.receipt.lookup_help")),
        new_x="LMARGIN", new_y="NEXT",
    )
    pdf.ln(6)
    y0 = pdf.get_y()
    half = width / 2
    signers = (("print.official.receipt_applicant", data.applicant_name),
               ("print.official.receipt_receiver", data.received_by))
    for i, (title, name) in enumerate(signers):
        x = pdf.l_margin + i * half
        pdf.set_xy(x, y0)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.cell(half, 6, render(title), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font("DejaVu", "I", 9)
        pdf.cell(half, 5, render("print.official.receipt_sign"), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_xy(x, pdf.get_y() + 18)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.cell(half, 6, _nfc(name), align="C")
    return bytes(pdf.output())
