"""The filled declaration (tờ khai) as a PDF to print or attach, and as text to confirm.

- :func:`summarize_values` — a plain-text summary the assistant shows before filing, so the
  citizen can check every answer.
- :func:`render_declaration_pdf` — an A4 PDF with the national motto, the form's title,
  one "label: value" line per field grouped by section, the commitment, the place and
  date line, the signature block(s), and a QR code of the dossier code when one is given.

fpdf2 with the DejaVu Sans font, embedded (subset) so every Vietnamese letter prints and
can be extracted back as text. Plain Python: no framework. The words around the form's own
fields come from the message catalogue (``print.declaration.*``; the motto, date line and
signature wording under ``print.official.*``); the form's title, sections, labels and
commitment come from its definition.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import qrcode
from fpdf import FPDF
from qrcode.constants import ERROR_CORRECT_M

from knowledge_base.forms import FormDefinition, format_value
from knowledge_base.messages import render

__all__ = ["FONT_DIR", "render_declaration_pdf", "summarize_values"]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
_BLANK = "…" * 20


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def summarize_values(form: FormDefinition, values: Mapping[str, Any]) -> str:
    """Every field of ``form`` with the value given, section by section, in plain text."""
    lines = [form.title.upper()]
    for title, fields in form.sections:
        lines.append("")
        if title:
            lines.append(f"{title}:")
        for item in fields:
            shown = format_value(item, values.get(item.name))
            if not shown:
                shown = render("print.declaration.missing" if item.required else "print.declaration.not_given")
            lines.append(f"- {item.label}: {shown}")
    missing = [
        item.label for item in form.fields if item.required and not format_value(item, values.get(item.name))
    ]
    if missing:
        lines += ["", render("print.declaration.missing_count", count=len(missing), labels=", ".join(missing))]
    return _nfc("\n".join(lines))


def _new_pdf(font_dir: Path) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(20, 15, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    for style, name in _FONT_FILES.items():
        path = font_dir / name
        if not path.is_file():
            raise FileNotFoundError(
                f"font {path} not found; install the DejaVu fonts (Debian/Ubuntu: fonts-dejavu-core) "
                "or pass font_dir"
            )
        pdf.add_font("DejaVu", style, str(path))
    return pdf


def _qr_image(text: str):  # -> PIL.Image.Image
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def _date_line(place: str, signed_on: date) -> str:
    return render("print.official.declaration_date", place=place.strip() or "…………",
                  day=f"{signed_on.day:02d}", month=f"{signed_on.month:02d}", year=signed_on.year)


def render_declaration_pdf(
    form: FormDefinition,
    values: Mapping[str, Any],
    dossier_code: str | None = None,
    out_path: str | Path | None = None,
    *,
    place: str = "",
    signed_on: date | None = None,
    font_dir: str | Path | None = None,
) -> bytes:
    """Render the declaration filled with ``values`` (field name → value) and return the PDF.

    Missing optional values are left as a dotted line for the citizen to fill by hand.
    ``place`` is the commune named in the date line; ``signed_on`` defaults to today.
    When ``out_path`` is given the PDF is also written there.
    """
    if not isinstance(form, FormDefinition):
        raise TypeError(f"expected a FormDefinition, got {type(form).__name__}")
    unknown = set(values) - set(form.field_names)
    if unknown:
        raise ValueError(f"values for fields not in form {form.id!r}: {sorted(unknown)}")
    signed_on = signed_on or date.today()
    pdf = _new_pdf(Path(font_dir) if font_dir else FONT_DIR)
    pdf.set_title(_nfc(form.title))
    pdf.set_subject(_nfc(render("print.declaration.subject", codes=", ".join(form.procedures))))
    pdf.set_creator(render("print.creator"))
    pdf.set_lang("vi")
    pdf.add_page()
    width = pdf.epw

    top = pdf.get_y()
    if dossier_code:
        size = 26
        pdf.image(_qr_image(dossier_code), x=pdf.l_margin - 4, y=top - 5, w=size, h=size)
        pdf.set_xy(pdf.l_margin - 4, top - 5 + size)
        pdf.set_font("DejaVu", "", 6.5)
        pdf.cell(size + 20, 3.5, _nfc(render("print.declaration.code", code=dossier_code)))
        pdf.set_xy(pdf.l_margin, top)

    nation, motto = render("print.official.nation"), render("print.official.motto")
    pdf.set_font("DejaVu", "B", 11.5)
    pdf.cell(width, 6, nation, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 11.5)
    pdf.cell(width, 6, motto, align="C", new_x="LMARGIN", new_y="NEXT")
    motto_width = pdf.get_string_width(motto)
    line_y = pdf.get_y() + 0.5
    pdf.line(
        pdf.l_margin + (width - motto_width) / 2, line_y, pdf.l_margin + (width + motto_width) / 2, line_y
    )
    pdf.set_y(max(pdf.get_y() + 10, top + 30 if dossier_code else 0))

    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(width, 7, _nfc(form.title.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if form.addressee:
        pdf.set_font("DejaVu", "", 11)
        addressee = render("print.official.declaration_addressee", addressee=form.addressee)
        pdf.multi_cell(width, 6, _nfc(addressee), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    for title, fields in form.sections:
        if title:
            pdf.ln(1.5)
            pdf.set_font("DejaVu", "B", 11)
            pdf.multi_cell(width, 6.5, _nfc(title.upper()), new_x="LMARGIN", new_y="NEXT")
        for item in fields:
            shown = format_value(item, values.get(item.name))
            pdf.set_font("DejaVu", "", 10.5)
            pdf.write(6.2, _nfc(f"{item.label}: "))
            if shown:
                pdf.set_font("DejaVu", "B", 10.5)
                pdf.write(6.2, _nfc(shown))
            else:
                pdf.write(6.2, _BLANK)
            pdf.ln(6.6)

    pdf.ln(3)
    pdf.set_font("DejaVu", "", 10.5)
    pdf.multi_cell(width, 6, _nfc(form.commitment), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    titles = [s.title for s in form.signers] or [render("print.official.declaration_signer")]
    names = [format_value(form.field(s.field), values.get(s.field)) for s in form.signers] or [""]
    block = 80 if len(titles) == 1 else width / len(titles)
    x0 = pdf.l_margin + width - block if len(titles) == 1 else pdf.l_margin
    if pdf.get_y() > pdf.h - 70:
        pdf.add_page()
    pdf.set_font("DejaVu", "I", 10.5)
    pdf.set_x(x0)
    pdf.cell(width + pdf.l_margin - x0, 6, _nfc(_date_line(place, signed_on)), align="C",
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    y0 = pdf.get_y()
    for i, (title, name) in enumerate(zip(titles, names, strict=True)):
        x = x0 + i * block
        pdf.set_xy(x, y0)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.cell(block, 6, _nfc(title), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font("DejaVu", "I", 9)
        pdf.cell(block, 5, render("print.official.declaration_sign"), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_xy(x, pdf.get_y() + 22)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.cell(block, 6, _nfc(name), align="C")

    data = bytes(pdf.output())
    if out_path is not None:
        Path(out_path).write_bytes(data)
    return data
