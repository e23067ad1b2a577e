"""The payment receipt (biên lai thu phí, lệ phí) of a dossier as a PDF, with the amount in words.

Drawn like the declaration (:mod:`motcua.declaration`): fpdf2, DejaVu Sans embedded so every
Vietnamese letter prints and can be read back; a QR code of the dossier code in the corner. The
words come from the catalogue (``print.payment.*``, ``payment.method.*``); the amount in words from
:func:`motcua.payments.words.amount_in_words`. Given to staff (desk) and to the citizen holding the
dossier's payment link.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from knowledge_base.messages import render
from motcua.declaration import FONT_DIR, _new_pdf, _qr_image
from motcua.payments.citizen import format_amount
from motcua.payments.models import PaymentMethod, PaymentState
from motcua.payments.service import ReceiptData
from motcua.payments.words import amount_in_words
from motcua.workdays import VIETNAM_TZ

__all__ = ["render_payment_receipt"]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def render_payment_receipt(data: ReceiptData, *, center_name: str, font_dir: str | Path | None = None) -> bytes:
    """The receipt of a paid or waived dossier as PDF bytes."""
    view = data.payment
    if view.state not in (PaymentState.PAID, PaymentState.WAIVED):
        raise ValueError(f"dossier {view.code} is {view.state.value}: no receipt")
    pdf = _new_pdf(Path(font_dir) if font_dir else FONT_DIR)
    pdf.set_title(_nfc(render("print.payment.title")))
    pdf.set_subject(_nfc(render("print.payment.subject", code=view.code)))
    pdf.set_creator(render("print.creator"))
    pdf.set_lang("vi")
    pdf.add_page()
    width = pdf.epw
    top = pdf.get_y()
    size = 24
    pdf.image(_qr_image(view.code), x=pdf.w - pdf.r_margin - size + 4, y=top - 5, w=size, h=size)

    pdf.set_font("DejaVu", "B", 11.5)
    pdf.cell(width - size, 6, _nfc(render("print.official.nation")), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width - size, 6, _nfc(render("print.official.motto")), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y() + 8, top + size))
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(width, 9, _nfc(render("print.payment.title")), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    paid = view.state == PaymentState.PAID
    amount = view.paid_amount if view.paid_amount is not None else view.amount  # 0 when waived
    lines = [render("print.payment.center", center=center_name or "…………"),
             render("print.payment.code", code=view.code),
             render("print.payment.payer", name=data.applicant_name or "…………"),
             render("print.payment.procedure", procedure=data.procedure_name)]
    if view.fee_note:
        lines.append(render("print.payment.fee_note", note=view.fee_note))
    emphasised = [render("print.payment.amount", amount=format_amount(amount)),
                  render("print.payment.words", words=amount_in_words(amount))]
    lines += emphasised
    if paid and view.method is not None:
        lines.append(render("print.payment.method", method=render(f"payment.method.{view.method.value}")))
    if view.paid_at is not None:
        lines.append(render("print.payment.paid_at", at=f"{view.paid_at.astimezone(VIETNAM_TZ):%H:%M %d/%m/%Y}"))
    if paid and view.method == PaymentMethod.CASH:  # the cashier's name, or staff number: never their login
        if data.collector:
            lines.append(render("print.payment.collector", collector=data.collector))
        elif data.collector_number is not None:
            lines.append(render("print.payment.collector_number", number=data.collector_number))
    if not paid:
        lines.append(render("print.payment.waived", reason=view.waiver_reason))
    for line in lines:
        pdf.set_font("DejaVu", "B" if line in emphasised else "", 11)
        pdf.multi_cell(width, 7, _nfc(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("DejaVu", "I", 9)
    pdf.multi_cell(width, 5, _nfc(render("print.payment.footer")), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
