"""Legal documents into the knowledge base: parse a file, store its article/clause tree.

One document is written in one transaction: a file that cannot be read or parsed
leaves the knowledge base as it was. Ingesting the same document again replaces
its units (idempotent), keeping staff-edited metadata unless told otherwise.

Facts recorded in ``knowledge_base/legal_documents.yaml`` (which document replaces which,
from when) are laid over what the text says; a document that says it replaces another
already stored marks that one as replaced, from its own effective date.

A .docx is a zip archive: :func:`check_docx` refuses one that would unpack into too much
(a "zip bomb" of a few kilobytes can expand to gigabytes) before any XML of it is read.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select

from knowledge_base.legal import LegalDocument
from knowledge_base.legal_files import LegalFileError, read_legal_file
from knowledge_base.legal_metadata import apply_metadata, load_metadata
from knowledge_base.store import LegalDocumentRow, LegalUnitRow
from motcua.db import session_scope

MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
"""Largest total a .docx may unpack to: the longest law in the library unpacks to a few megabytes."""
MAX_COMPRESSION_RATIO = 100
"""Largest ratio unpacked/packed of one part; Word's XML compresses about 5–20 times, bombs thousands."""
MAX_ARCHIVE_MEMBERS = 10_000
RATIO_FLOOR_BYTES = 1024 * 1024
"""Parts smaller than this unpacked are never refused for their ratio (tiny, highly repetitive XML is normal)."""


def check_docx(source: str | Path | bytes, name: str = "") -> None:
    """Raise :class:`LegalFileError` (Vietnamese) when a .docx would unpack into too much.

    Only the archive's directory is read (sizes as declared; :mod:`zipfile` never unpacks past
    a part's declared size), so the check itself costs nothing whatever the archive claims.
    A file that is not a zip archive at all is left to the parser to refuse.
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "tệp Word")
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return
    refused = (f"Tệp Word “{label}” không hợp lệ: nội dung nén giải ra quá lớn hoặc bất thường, "
               "nên không được đọc. Vui lòng lưu lại văn bản bằng Word rồi tải lên lại.")
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise LegalFileError(refused)
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > MAX_UNCOMPRESSED_BYTES or (member.file_size > RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO):
            raise LegalFileError(refused)


@dataclass(frozen=True)
class IngestOutcome:
    path: str
    number: str = ""
    articles: int = 0
    units: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def _iso(day) -> str:
    return day.isoformat() if day else ""


def store_legal_document(session, document: LegalDocument, source_file: str = "") -> int:
    """Insert or replace ``document`` and its units; returns how many units were written."""
    if not document.number:
        raise LegalFileError("Không xác định được số hiệu văn bản; hãy thêm khối tiêu đề --- number: ... ---")
    row = session.scalar(select(LegalDocumentRow).where(LegalDocumentRow.number == document.number))
    if row is None:
        row = LegalDocumentRow(number=document.number)
        session.add(row)
    row.doc_type, row.title, row.issuer = document.doc_type, document.title, document.issuer
    row.issued, row.effective = _iso(document.issued), _iso(document.effective)
    row.replaced_by, row.replaced_from = document.replaced_by or "", _iso(document.replaced_from)
    row.meta = {"label": document.label, "consolidated": document.consolidated, "text_version": document.text_version,
                "status_note": document.status_note, "expired_on": _iso(document.expired_on),
                "replaces": list(document.replaces)}
    row.source_file = source_file
    for older in document.replaces:  # the older text rarely says it was replaced
        old = session.scalar(select(LegalDocumentRow).where(LegalDocumentRow.number == older))
        if old is not None and not old.replaced_by:
            old.replaced_by, old.replaced_from = document.number, _iso(document.effective)
    if not row.replaced_by:  # ... and a newer text stored before this one may say it replaces it
        for other in session.scalars(select(LegalDocumentRow).where(LegalDocumentRow.number != document.number)):
            if document.number in ((other.meta or {}).get("replaces") or ()):
                row.replaced_by, row.replaced_from = other.number, other.effective
    session.flush()
    session.execute(delete(LegalUnitRow).where(LegalUnitRow.document_id == row.id))
    session.add_all(
        LegalUnitRow(document_id=row.id, key=unit.key.rpartition("#")[2], kind=str(unit.kind), number=unit.number,
                     title=unit.title, text=unit.text, citation=unit.citation(), chapter=unit.chapter or "",
                     section=unit.section or "", article=unit.article or "", clause=unit.clause or "",
                     position=position)
        for position, unit in enumerate(document.units)
    )
    return len(document.units)


def ingest_legal_files(database_url: str, paths: Iterable[str | Path],
                       progress: Callable[[IngestOutcome], None] | None = None) -> list[IngestOutcome]:
    """Parse and store each file; a bad file is reported and skipped, never half-written."""
    outcomes = []
    metadata = load_metadata()
    for path in paths:
        try:
            if str(path).lower().endswith(".docx"):
                check_docx(path)
            document = apply_metadata([read_legal_file(path)], metadata)[0]
            with session_scope(database_url) as session:
                units = store_legal_document(session, document, str(path))
            outcome = IngestOutcome(str(path), document.number, len(document.articles), units)
        except LegalFileError as exc:
            outcome = IngestOutcome(str(path), error=str(exc))
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    return outcomes
