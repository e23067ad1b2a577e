"""What is printed, spoken and told on upload comes from ``documents.po``, in one voice.

The ticket, the receipt, the declaration PDF, the call-out and the upload errors name message
ids (``print.*``, ``speak.*``, ``upload.*``); these tests check the ids and the catalogue agree,
that the official wording is marked as such, and that changing a sentence in the catalogue
changes what the citizen gets.
"""

from __future__ import annotations

import ast
import io
import re
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from PIL import Image

import knowledge_base.messages as messages
from devices.printer import MemoryPrinter, TicketPrint, print_ticket, render_ticket
from devices.voice import spoken_call
from knowledge_base.messages import LOCALE_DIR, MessageCatalogue, render, template_fields
from motcua.dossier_code import DossierCodeError, parse_dossier_code
from motcua.dossiers.attachments import Upload, prepare_attachment
from motcua.dossiers.errors import AttachmentRejected
from motcua.dossiers.upload_stream import read_multipart
from tests.test_one_voice import other_register

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = LOCALE_DIR / "vi" / "LC_MESSAGES" / "documents.po"
MODULES = [
    "devices/printer.py", "devices/voice.py", "motcua/declaration.py", "motcua/dossier_code.py",
    "motcua/dossiers/attachments.py", "motcua/dossiers/receipt.py", "motcua/dossiers/upload_stream.py",
    "knowledge_base/forms.py",  # the default commitment printed on a declaration
]
NAMESPACES = ("print.", "speak.", "upload.")
EXEMPT_NAME = re.compile(r".*(_WORDS|_PATTERNS|_PATTERN|_RE|_KEYWORDS|_SYNONYMS)$")
OFFICIAL_NOTE = "wording fixed by the official form; do not reword"
TICKET = TicketPrint(center_name="Trung tâm Demo", label="A012", service_name="Hộ tịch",
                     issued_at=datetime(2026, 11, 25, 8, 12), people_ahead=0, estimated_wait_min=0,
                     status_url="http://127.0.0.1:8000/queue/ticket/tok-1")


def _entries() -> dict[str, tuple[str, list[str]]]:
    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    return {m.id: (m.string, list(m.auto_comments)) for m in catalog if m.id}


def _has_vietnamese_letter(text: str) -> bool:
    return any(ord(ch) > 127 and unicodedata.category(ch).startswith("L") for ch in text)


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _exempt_nodes(tree: ast.Module) -> set[int]:
    """String constants under a module-level ``*_WORDS``-style name or inside ``re.compile(...)``."""
    found: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(isinstance(t, ast.Name) and EXEMPT_NAME.match(t.id) for t in targets) and node.value:
                found |= {id(sub) for sub in ast.walk(node.value)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "re.compile":
            found |= {id(sub) for sub in ast.walk(node)}
    return found


def _used_ids(path: Path) -> set[str]:
    ids: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(NAMESPACES):
            if re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", node.value):
                ids.add(node.value)
    return ids


@pytest.mark.parametrize("module", MODULES)
def test_no_citizen_sentence_is_left_in_the_code(module):
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    skipped = _docstring_nodes(tree) | _exempt_nodes(tree)
    left = [
        f"line {node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in skipped and _has_vietnamese_letter(node.value)
    ]
    assert left == []


def test_every_id_the_modules_use_is_in_documents_po_and_every_entry_is_used():
    entries = _entries()
    used = set().union(*(_used_ids(ROOT / module) for module in MODULES))
    assert used - set(entries) == set()
    assert set(entries) - used == set()
    assert all(key.startswith(NAMESPACES) for key in entries)


def test_the_catalogue_is_nfc_and_in_one_voice():
    for key, (text, _) in _entries().items():
        assert text == unicodedata.normalize("NFC", text), key
        assert not other_register(text), key  # the one rule of tests/test_one_voice.py


def test_official_wording_is_marked_and_unchanged():
    entries = _entries()
    official = {key: value for key, value in entries.items() if key.startswith("print.official.")}
    assert all(OFFICIAL_NOTE in comments for _, comments in official.values())
    assert all(OFFICIAL_NOTE not in comments for key, (_, comments) in entries.items() if key not in official)
    assert official["print.official.nation"][0] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert official["print.official.motto"][0] == "Độc lập - Tự do - Hạnh phúc"
    assert official["print.official.receipt_title"][0] == "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
    assert template_fields(official["print.official.declaration_date"][0]) == {"place", "day", "month", "year"}


@pytest.fixture
def reworded(monkeypatch):
    """The catalogue with some sentences replaced, as a translator editing the .po file would."""
    real = messages.load_catalogue("vi")
    changes = {
        "print.ticket.no_printer": "NO PRINTER {label}",
        "print.ticket.printed": "PRINTED {label}",
        "print.ticket.heading": "QUEUE NUMBER",
        "speak.call": "Call {label} to {counter}",
        "print.code.invalid": "BAD CODE {text}",
        "upload.none": "NO FILE",
        "upload.malformed": "NOT MULTIPART",
    }
    patched = MessageCatalogue({**real.templates, **changes})
    monkeypatch.setattr(messages, "load_catalogue", lambda locale="vi", locale_dir=None: patched)
    return changes


def test_what_is_printed_and_said_follows_the_catalogue(reworded):
    assert print_ticket(None, TICKET).message == "NO PRINTER A012"
    printer = MemoryPrinter()
    assert print_ticket(printer, TICKET).message == "PRINTED A012" and len(printer.images) == 1
    assert spoken_call("A012", 3) == "Call a mười hai to ba"
    with pytest.raises(DossierCodeError, match="^BAD CODE abc$"):
        parse_dossier_code("abc")
    with pytest.raises(AttachmentRejected, match="^NO FILE$"):
        prepare_attachment([])


def test_the_ticket_is_drawn_from_the_catalogue(reworded, monkeypatch):
    drawn: list[str] = []
    original = render_ticket.__globals__["_wrap"]

    def spy(draw, text, font, width):
        drawn.append(text)
        return original(draw, text, font, width)

    monkeypatch.setitem(render_ticket.__globals__, "_wrap", spy)
    render_ticket(TICKET)
    assert "QUEUE NUMBER" in drawn
    assert render("print.ticket.no_wait") in drawn and render("print.ticket.thanks") in drawn
    assert render("print.ticket.issued_at", time="08:12", date="25/11/2026") in drawn


async def _chunks(*parts: bytes):
    for part in parts:
        yield part


def _body(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += b"--XyZ\r\nContent-Disposition: " + disposition.encode() + b"\r\n\r\n" + data + b"\r\n"
    return out + b"--XyZ--\r\n"


BOUNDARY = "multipart/form-data; boundary=XyZ"


async def test_upload_errors_read_by_the_citizen_come_from_the_catalogue():
    with pytest.raises(AttachmentRejected) as malformed:
        await read_multipart("application/json", _chunks(b"{}"))
    assert str(malformed.value) == render("upload.malformed")
    with pytest.raises(AttachmentRejected) as too_long:
        await read_multipart(BOUNDARY, _chunks(_body(("ghi_chu", None, b"x" * 50))), max_field_bytes=10)
    assert str(too_long.value) == render("upload.field_too_long", name="ghi_chu")
    files = [("files", f"{n}.jpg", b"\xff\xd8\xff") for n in range(3)]
    with pytest.raises(AttachmentRejected) as too_many:
        await read_multipart(BOUNDARY, _chunks(_body(*files)), max_files=2)
    assert too_many.value.kind == "too_large"
    assert str(too_many.value) == render("upload.too_many_streamed", limit=2)
    with pytest.raises(AttachmentRejected) as whole:
        await read_multipart(BOUNDARY, _chunks(_body(*files[:1])), max_total=20)
    assert whole.value.kind == "too_large" and f"«{render('upload.whole_upload')}»" in str(whole.value)
    form = await read_multipart(BOUNDARY, _chunks(_body(("label", None, "Giấy khai sinh".encode()), *files[:1])))
    assert form.fields == {"label": "Giấy khai sinh"} and [f.filename for f in form.files] == ["0.jpg"]


def test_an_attachment_without_a_label_or_a_name_is_named_from_the_catalogue():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 60), "white").save(buffer, format="PNG")
    prepared = prepare_attachment([Upload("", buffer.getvalue())])
    assert prepared.label == render("upload.default_label")
    assert prepared.sources[0].filename == render("upload.unnamed")
    with pytest.raises(AttachmentRejected) as empty:
        prepare_attachment([Upload("", b"")])
    assert str(empty.value) == render("upload.empty", name=render("upload.unnamed"))
