"""Reading a legal document from a file: .md/.txt, .pdf, .docx or .html/.htm.

:func:`read_legal_file` checks the file (format, size, emptiness) before reading it, gets
its text (a PDF's wrapped lines re-joined, an HTML page one line per block) and parses it
with :func:`~knowledge_base.legal_parser.parse_legal_text`. Whatever goes wrong is a
:class:`LegalFileError` with a Vietnamese message fit to show staff. The PDF, Word and
HTML libraries are imported when a file of that kind is read, not at import.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from knowledge_base.legal import LegalDocument
from knowledge_base.legal_parser import parse_legal_text

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Default size limit of :func:`read_legal_file` (20 MB)."""

SUPPORTED_SUFFIXES = (".md", ".txt", ".pdf", ".docx", ".html", ".htm")


class LegalFileError(ValueError):
    """A legal document file cannot be read. The message is Vietnamese, fit to show staff."""


def read_legal_file(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> LegalDocument:
    """Read and parse a legal document from .md/.txt, .pdf, .docx or .html/.htm.

    Raises :class:`LegalFileError` (Vietnamese message) for a missing, empty, too large,
    unsupported or unreadable file, a scanned PDF without a text layer, or a text with no
    ``Điều``. The size is checked before anything is read.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LegalFileError(
            f"Không hỗ trợ định dạng tệp “{path.name}”. Chỉ nhận: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    if not path.is_file():
        raise LegalFileError(f"Không tìm thấy tệp “{path}”.")
    size = path.stat().st_size
    if size > max_bytes:
        raise LegalFileError(
            f"Tệp “{path.name}” quá lớn ({_format_mb(size)}); giới hạn là {_format_mb(max_bytes)}. "
            "Vui lòng tách văn bản thành các tệp nhỏ hơn."
        )
    if size == 0:
        raise LegalFileError(f"Tệp “{path.name}” trống, không có nội dung.")

    if suffix == ".pdf":
        text = _read_pdf(path)
    elif suffix == ".docx":
        text = _read_docx(path)
    elif suffix in (".html", ".htm"):
        text = _html_to_text(_decode(path.read_bytes(), path))
    else:
        text = _decode(path.read_bytes(), path)
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise LegalFileError(f"Tệp “{path.name}” trống, không có nội dung văn bản.")
    fallback = _number_from_filename(path.stem)
    document = parse_legal_text(text)
    if not document.number and fallback:
        document = parse_legal_text(text, {"number": fallback})
    if not document.articles:
        raise LegalFileError(
            f"Không tìm thấy Điều nào trong tệp “{path.name}”: đây có phải là văn bản quy phạm pháp luật không?"
        )
    return document


def _format_mb(size: int) -> str:
    """``52428800`` → ``"50 MB"``; below 1 MB in KB (``"12,3 KB"``), Vietnamese decimal comma."""
    value, unit = (size / (1024 * 1024), "MB") if size >= 1024 * 1024 else (size / 1024, "KB")
    return f"{value:.1f}".removesuffix(".0").replace(".", ",") + f" {unit}"


def _decode(data: bytes, path: Path) -> str:
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise LegalFileError(
            f"Tệp “{path.name}” không phải văn bản mã UTF-8; vui lòng lưu lại với mã UTF-8 rồi tải lên."
        ) from error


def _number_from_filename(stem: str) -> str:
    """``"123-2015-ND-CP"`` → ``"123/2015/NĐ-CP"``."""
    m = re.fullmatch(r"(\d{1,4})-(\d{4})-([A-Z]{1,10}\d{0,3}(?:-[A-Z0-9]+)*)", stem.strip())
    if not m:
        return ""
    suffix = re.sub(r"^ND\b", "NĐ", m.group(3).replace("QD-", "QĐ-"))
    return f"{m.group(1)}/{m.group(2)}/{suffix}"


_STRUCTURE_START_RE = re.compile(
    r"^(?:(?i:chương|mục|điều)\s+[0-9IVXLCDM]|\d+[a-zđ]?\.(?:\s|$)|[a-zđ]\)\s|[“\"])"
)
_BARE_HEADING_RE = re.compile(r"^(?:(?i:chương)(?:\s+[IVXLCDM\d]+)?|(?i:mục)\s+[IVXLCDM\d]+)$")
_PAGE_NUMBER_RE = re.compile(r"^(?:(?i:trang)\s*)?\d{1,4}(?:\s*/\s*\d{1,4})?$")


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LegalFileError(f"Tệp PDF “{path.name}” có mật khẩu; vui lòng gỡ mật khẩu rồi tải lên lại.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LegalFileError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as error:
        raise LegalFileError(
            f"Không đọc được tệp PDF “{path.name}” (tệp hỏng hoặc không phải PDF): {error}"
        ) from error
    text = _join_layout_lines([unicodedata.normalize("NFC", page) for page in pages])
    if not text.strip():
        raise LegalFileError(
            f"Tệp PDF “{path.name}” là bản quét (scan, ảnh chụp) không có lớp chữ, nên không đọc được nội dung. "
            "Vui lòng dùng bản PDF có chữ (bản điện tử) hoặc nhận dạng chữ (OCR) trước khi tải lên."
        )
    return text


def _join_layout_lines(pages: list[str]) -> str:
    """Re-join lines a PDF wrapped because they reached the right margin, also across pages.

    A line is joined to the one before when it does not start a structure element, and
    the one before is nearly as long as the longest line on its page (it filled the width)
    and is not a bare ``Chương``/``Mục`` heading. Lone page numbers are dropped.
    """
    out: list[str] = []
    previous = ""  # the last physical line read
    previous_full = 0  # the longest line on its page
    for page_text in pages:
        lines = [line.strip() for line in page_text.split("\n")]
        lines = [line for line in lines if line and not _PAGE_NUMBER_RE.match(line)]
        full = max((len(line) for line in lines), default=0)
        for line in lines:
            if (
                out
                and previous_full >= 40
                and len(previous) >= 0.7 * previous_full
                and not _STRUCTURE_START_RE.match(line)
                and not _BARE_HEADING_RE.match(out[-1])
            ):
                out[-1] = f"{out[-1]} {line}"
            else:
                out.append(line)
            previous, previous_full = line, full
    return "\n".join(out)


def _read_docx(path: Path) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as error:
        raise LegalFileError(
            f"Không đọc được tệp Word “{path.name}” (tệp hỏng hoặc không phải .docx)."
        ) from error
    except Exception as error:  # zipfile.BadZipFile and lxml errors vary by version
        raise LegalFileError(f"Không đọc được tệp Word “{path.name}”: {error}") from error
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "blockquote", "pre", "header", "footer", "dd", "dt", "td", "th",
)  # fmt: skip
_BREAK = "\u2029"


def _html_to_text(html: str) -> str:
    """Visible text with one line per block element; inline tags (``<b>Điều 1.</b>``) stay in line."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(_BREAK)
        tag.insert_after(_BREAK)
    text = soup.get_text()
    return "\n".join(" ".join(part.split()) for part in text.split(_BREAK))
