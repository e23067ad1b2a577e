"""Documents handed in with a dossier: checked, turned into one PDF, fingerprinted. Plain Python.

Only JPEG and PNG images (scans, phone photos) and PDF files are accepted, recognised by
their first bytes (the name and the declared type are not trusted). Each file may be at most
:data:`MAX_FILE_BYTES`. Images become A4 pages of one PDF (Pillow + fpdf2); PDFs are
appended page by page (pypdf). The result carries the SHA-256 of the PDF and of every file
received, so anyone can later check that nothing was changed.

Anything refused raises :class:`~motcua.dossiers.errors.AttachmentRejected` with a message
for the citizen (catalogue ``upload.*``); nothing is stored by this module.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from fpdf import FPDF
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from knowledge_base.messages import render
from knowledge_base.text import clean_text, strip_diacritics
from motcua.dossiers.errors import AttachmentRejected

__all__ = [
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "PreparedAttachment",
    "SourceFile",
    "Upload",
    "detect_type",
    "prepare_attachment",
    "too_large",
]

MAX_FILE_BYTES = 10 * 1024 * 1024
"""The largest file accepted (10 MB): a clear A4 scan at 300 dpi is well under 2 MB."""
MAX_FILES = 20
MAX_IMAGE_SIDE = 3508  # A4 at 300 dpi; larger scans are scaled down

_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)


@dataclass(frozen=True)
class Upload:
    """One file as received: its name (as the sender called it) and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class SourceFile:
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PreparedAttachment:
    """What will be stored: one PDF and the list of files it was made from."""

    label: str
    filename: str
    data: bytes
    sha256: str
    pages: int
    sources: tuple[SourceFile, ...]
    content_type: str = "application/pdf"

    @property
    def size(self) -> int:
        return len(self.data)


def detect_type(data: bytes) -> str | None:
    """``image/jpeg``, ``image/png`` or ``application/pdf`` from the first bytes, else ``None``."""
    head = data[:1024]
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    # Some scanners put a few bytes (a BOM, whitespace) before the PDF header.
    if b"%PDF-" in head:
        return "application/pdf"
    return None


def _shown(filename: str) -> str:
    name = clean_text(filename or "").strip() or render("upload.unnamed")
    return name if len(name) <= 60 else name[:57] + "…"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + " MB"


def too_large(filename: str, size: int, max_bytes: int = MAX_FILE_BYTES) -> AttachmentRejected:
    """The error for a file of ``size`` bytes over the limit (also used before reading it whole)."""
    return AttachmentRejected(
        render("upload.too_large", name=_shown(filename), size=_megabytes(size), limit=_megabytes(max_bytes)),
        kind="too_large",
    )


def _check(upload: Upload, max_bytes: int) -> str:
    name = _shown(upload.filename)
    if not upload.data:
        raise AttachmentRejected(render("upload.empty", name=name))
    if len(upload.data) > max_bytes:
        raise too_large(upload.filename, len(upload.data), max_bytes)
    content_type = detect_type(upload.data)
    if content_type is None:
        raise AttachmentRejected(render("upload.unsupported", name=name), kind="unsupported")
    return content_type


def _image_page(pdf: FPDF, upload: Upload) -> None:
    name = _shown(upload.filename)
    try:
        with Image.open(io.BytesIO(upload.data)) as probe:
            probe.verify()  # catches truncated and corrupt files
        image = Image.open(io.BytesIO(upload.data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise AttachmentRejected(render("upload.image_broken", name=name)) from None
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    landscape = image.width > image.height
    pdf.add_page(orientation="L" if landscape else "P")
    margin = 8
    box_w, box_h = pdf.w - 2 * margin, pdf.h - 2 * margin
    scale = min(box_w / image.width, box_h / image.height)
    w, h = image.width * scale, image.height * scale
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    pdf.image(buffer, x=(pdf.w - w) / 2, y=(pdf.h - h) / 2, w=w, h=h)


def _read_pdf(upload: Upload) -> PdfReader:
    name = _shown(upload.filename)
    try:
        reader = PdfReader(io.BytesIO(upload.data))
        if reader.is_encrypted:
            raise AttachmentRejected(render("upload.pdf_encrypted", name=name))
        if len(reader.pages) == 0:
            raise PdfReadError("no pages")
    except AttachmentRejected:
        raise
    except Exception:  # pypdf raises many kinds of errors on broken files
        raise AttachmentRejected(render("upload.pdf_broken", name=name)) from None
    return reader


def _filename(label: str) -> str:
    ascii_label = strip_diacritics(label)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_label).strip("-").lower()[:80]
    return f"{slug or 'giay-to'}.pdf"


def prepare_attachment(
    uploads: Sequence[Upload], *, label: str = "", max_bytes: int = MAX_FILE_BYTES
) -> PreparedAttachment:
    """Check every file, then merge them, in order, into one PDF.

    Raises :class:`AttachmentRejected` for no file, too many files, an empty, oversized,
    unsupported or broken file. Size and type of every file are checked before any is
    converted; a broken image or PDF is found while converting. Nothing is kept on error.
    """
    label = " ".join(clean_text(label or "").split())[:255] or render("upload.default_label")
    if not uploads:
        raise AttachmentRejected(render("upload.none"))
    if len(uploads) > MAX_FILES:
        raise AttachmentRejected(render("upload.too_many", limit=MAX_FILES, count=len(uploads)))
    kinds = [_check(upload, max_bytes) for upload in uploads]

    writer = PdfWriter()
    pending_images: list[Upload] = []

    def flush_images() -> None:
        if not pending_images:
            return
        pdf = FPDF(unit="mm", format="A4")
        pdf.set_creator(render("print.creator"))
        for image_upload in pending_images:
            _image_page(pdf, image_upload)
        writer.append(PdfReader(io.BytesIO(bytes(pdf.output()))))
        pending_images.clear()

    for upload, kind in zip(uploads, kinds, strict=True):
        if kind == "application/pdf":
            flush_images()
            reader = _read_pdf(upload)
            try:
                writer.append(reader)
            except Exception:
                raise AttachmentRejected(render("upload.pdf_broken", name=_shown(upload.filename))) from None
        else:
            pending_images.append(upload)
    flush_images()
    writer.add_metadata({"/Title": label, "/Creator": render("print.creator")})
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    sources = tuple(
        SourceFile(
            filename=_shown(upload.filename),
            content_type=kind,
            size=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
        )
        for upload, kind in zip(uploads, kinds, strict=True)
    )
    return PreparedAttachment(
        label=label,
        filename=_filename(label),
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        pages=len(writer.pages),
        sources=sources,
    )
