"""Legal documents: staff edit their metadata and upload new texts."""

from __future__ import annotations

import logging
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge_base.curation.results import (
    ChangeResult,
    EntityKind,
    Invalid,
    LegalDocumentItem,
    UploadRefused,
    UploadReport,
)
from knowledge_base.curation.rows import clean, current_version, entity_row, iso, record_revision
from knowledge_base.ingest import store_legal_document
from knowledge_base.legal_files import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, LegalFileError, read_legal_file
from knowledge_base.legal_metadata import apply_metadata, load_metadata
from knowledge_base.store import LegalDocumentRow, LegalUnitRow

log = logging.getLogger(__name__)


LEGAL_FIELDS = (
    "doc_type",
    "title",
    "issuer",
    "issued",
    "effective",
    "replaced_by",
    "replaced_from",
    "status_note",
)
"""The metadata staff may edit; the number (which citations and keys use) is not among them."""
_LEGAL_DATES = ("issued", "effective", "replaced_from")


def legal_state(row: LegalDocumentRow) -> dict[str, Any]:
    meta = row.meta or {}
    return {
        "number": row.number,
        "doc_type": row.doc_type,
        "title": row.title,
        "issuer": row.issuer,
        "issued": row.issued,
        "effective": row.effective,
        "replaced_by": row.replaced_by,
        "replaced_from": row.replaced_from,
        "status_note": str(meta.get("status_note") or ""),
    }


def _legal_item(session: Session, row: LegalDocumentRow) -> LegalDocumentItem:
    counts = dict(
        session.execute(
            select(LegalUnitRow.kind, func.count())
            .where(LegalUnitRow.document_id == row.id)
            .group_by(LegalUnitRow.kind)
        ).all()
    )
    state = legal_state(row)
    return LegalDocumentItem(
        row.id,
        row.number,
        row.doc_type,
        row.title,
        row.issuer,
        row.issued,
        row.effective,
        row.replaced_by,
        row.replaced_from,
        state["status_note"],
        row.source_file,
        int(counts.get("article", 0)),
        int(sum(counts.values())),
        iso(row.updated_at),
    )


def list_legal_documents(session: Session) -> list[LegalDocumentItem]:
    return [
        _legal_item(session, row)
        for row in session.scalars(select(LegalDocumentRow).order_by(LegalDocumentRow.number))
    ]


def get_legal_document(session: Session, document_id: int) -> LegalDocumentItem:
    return _legal_item(session, entity_row(session, EntityKind.LEGAL, document_id))


def _legal_fields(changes: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(LEGAL_FIELDS) - {"number"})
    if unknown:
        raise Invalid(f"Không sửa được các trường: {', '.join(unknown)}.")
    if "number" in changes and clean(changes["number"]) != current["number"]:
        raise Invalid("Không đổi được số hiệu văn bản (trích dẫn dùng số hiệu); hãy tải lên văn bản mới.")
    state = dict(current)
    for name in LEGAL_FIELDS:
        if name in changes:
            state[name] = clean(changes[name])
    for name in _LEGAL_DATES:
        if state[name]:
            try:
                date.fromisoformat(state[name])
            except ValueError:
                raise Invalid(
                    f"Ngày «{state[name]}» ở trường {name} không hợp lệ; viết theo dạng NNNN-TT-NN."
                ) from None
    if state["replaced_from"] and not state["replaced_by"]:
        raise Invalid("Có ngày bị thay thế thì cần số hiệu văn bản thay thế (replaced_by).")
    if len(state["title"]) > 2000 or any(len(state[n]) > 255 for n in ("doc_type", "issuer", "replaced_by")):
        raise Invalid("Thông tin văn bản quá dài.")
    return state


def update_legal_metadata(
    session: Session, document_id: int, changes: dict[str, Any], *, actor: str, reason: str = ""
) -> ChangeResult:
    """Change the metadata of legal document ``document_id`` (title, dates, replacement, note)."""
    row = entity_row(session, EntityKind.LEGAL, document_id)
    if not isinstance(changes, dict):
        raise Invalid("Dữ liệu văn bản phải là một đối tượng JSON.")
    return apply_legal_metadata(
        session,
        document_id,
        _legal_fields(changes, legal_state(row)),
        actor=actor,
        reason=reason or "cán bộ sửa thông tin văn bản",
    )


def apply_legal_metadata(
    session: Session, document_id: int, state: dict[str, Any], *, actor: str, reason: str
) -> ChangeResult:
    row = entity_row(session, EntityKind.LEGAL, document_id)
    before = legal_state(row)
    state = _legal_fields({k: v for k, v in state.items() if k in LEGAL_FIELDS}, before)
    if before == state:
        version = current_version(session, EntityKind.LEGAL, row.id)
        return ChangeResult(EntityKind.LEGAL, str(row.id), version, False, None, before)
    row.doc_type, row.title, row.issuer = state["doc_type"], state["title"], state["issuer"]
    row.issued, row.effective = state["issued"], state["effective"]
    row.replaced_by, row.replaced_from = state["replaced_by"], state["replaced_from"]
    row.meta = {**(row.meta or {}), "status_note": state["status_note"], "staff_edited": True}
    revision = record_revision(
        session, EntityKind.LEGAL, row.id, before, legal_state(row), actor=actor, reason=reason
    )
    return ChangeResult(EntityKind.LEGAL, str(row.id), revision.version, True, revision.id, legal_state(row))


def _safe_filename(filename: str) -> str:
    name = Path(str(filename or "").replace("\\", "/")).name.strip()
    return re.sub(r"[^\w.\-() ]+", "_", name)[:120] or "van-ban"


def upload_legal_document(
    session: Session, content: bytes, filename: str, *, actor: str, max_bytes: int = MAX_FILE_BYTES
) -> UploadReport:
    """Parse an uploaded legal document and store it with its articles, clauses and points.

    Checks the type, emptiness and size before parsing; a scanned PDF, an unreadable or
    article-less text raises :class:`UploadRefused` with a Vietnamese message, and nothing
    is written. A document whose number is already stored is replaced (units and metadata),
    recorded as one revision of that document.
    """
    name = _safe_filename(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadRefused(
            "unsupported", f"Không hỗ trợ định dạng tệp «{name}». Chỉ nhận: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    if not content:
        raise UploadRefused("empty", f"Tệp «{name}» trống, không có nội dung.")
    if len(content) > max_bytes:
        raise UploadRefused(
            "too_large",
            f"Tệp «{name}» quá lớn ({_megabytes(len(content))}); giới hạn là "
            f"{_megabytes(max_bytes)}. Vui lòng tách văn bản thành các tệp nhỏ hơn.",
        )
    with tempfile.TemporaryDirectory(prefix="motcua-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            document = read_legal_file(path, max_bytes=max_bytes)
        except LegalFileError as exc:
            message = str(exc).replace(f"“{path}”", f"“{name}”")
            kind = (
                "scanned" if "bản quét" in message else "too_large" if "quá lớn" in message else "unreadable"
            )
            raise UploadRefused(kind, message) from exc
    try:  # the facts people recorded about documents, as ``motcua kb ingest`` applies them
        document = apply_metadata([document], load_metadata())[0]
    except ValueError as exc:
        log.warning("knowledge_base/legal_documents.yaml not applied to %s: %s", name, exc)
    if not document.number:
        raise UploadRefused(
            "unreadable",
            "Không xác định được số hiệu văn bản. Hãy thêm khối tiêu đề "
            "--- number: ... --- ở đầu tệp, hoặc đặt tên tệp theo số hiệu "
            "(ví dụ 123-2015-ND-CP.md).",
        )
    existing = session.scalar(select(LegalDocumentRow).where(LegalDocumentRow.number == document.number))
    before = legal_state(existing) if existing is not None else None
    # Everything was read and parsed above; the writes below share the caller's transaction.
    units = store_legal_document(session, document, f"tải lên: {name}")
    session.flush()
    row = session.scalar(select(LegalDocumentRow).where(LegalDocumentRow.number == document.number))
    assert row is not None
    revision = record_revision(
        session, EntityKind.LEGAL, row.id, before, legal_state(row), actor=actor, reason=f"tải lên tệp {name}"
    )
    return UploadReport(
        _legal_item(session, row), existing is None, len(document.articles), units, revision.id
    )


def _megabytes(size: int) -> str:
    value, unit = (size / (1024 * 1024), "MB") if size >= 1024 * 1024 else (size / 1024, "KB")
    return f"{value:.1f}".removesuffix(".0").replace(".", ",") + f" {unit}"
