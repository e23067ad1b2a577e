"""Shared by every kind of entity: tidy text, find a row, record a revision."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session

from knowledge_base.curation.results import ChangeResult, EntityKind, NotFound
from knowledge_base.store import (
    FaqRow,
    KbRevision,
    LegalDocumentRow,
    ProcedureRevision,
    ProcedureRow,
    SynonymRow,
)
from knowledge_base.text import fold as text_fold


def fold(text: str) -> str:
    """Lower case, without diacritics, single spaces, dots kept: 'Đăng ký  Khai sinh' -> 'dang ky khai sinh'."""
    return text_fold(text, keep=".")


def clean(text: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text or "")).split())


def iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def unique_texts(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        text = clean(value)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def procedure_row(session: Session, code: str) -> ProcedureRow:
    row = session.scalar(select(ProcedureRow).where(ProcedureRow.code == code))
    if row is None:
        raise NotFound(f"Không tìm thấy thủ tục mã «{code}».")
    return row


def procedure_result(session: Session, code: str, changed: bool) -> ChangeResult:
    session.flush()
    row = procedure_row(session, code)
    revision_id = None
    if changed:
        revision_id = session.scalar(
            select(ProcedureRevision.id)
            .where(ProcedureRevision.procedure_code == code)
            .order_by(desc(ProcedureRevision.version))
            .limit(1)
        )
    return ChangeResult(EntityKind.PROCEDURE, code, row.version, changed, revision_id, row.data)


def entity_row(session: Session, kind: EntityKind, key: str | int):
    model = {EntityKind.SYNONYM: SynonymRow, EntityKind.FAQ: FaqRow, EntityKind.LEGAL: LegalDocumentRow}[kind]
    try:
        row = session.get(model, int(key))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise NotFound(f"Không tìm thấy {kind.label} số {key}.")
    return row


def record_revision(
    session: Session,
    kind: EntityKind,
    row_id: int,
    before: dict | None,
    after: dict | None,
    *,
    actor: str,
    reason: str,
) -> KbRevision:
    session.flush()
    last = session.scalar(
        select(func.max(KbRevision.version)).where(
            KbRevision.entity == kind.value, KbRevision.entity_id == str(row_id)
        )
    )
    revision = KbRevision(
        entity=kind.value,
        entity_id=str(row_id),
        version=(last or 0) + 1,
        actor=actor,
        reason=reason,
        before=before,
        after=after,
    )
    session.add(revision)
    session.flush()
    return revision


def current_version(session: Session, kind: EntityKind, row_id: int) -> int:
    return (
        session.scalar(
            select(func.max(KbRevision.version)).where(
                KbRevision.entity == kind.value, KbRevision.entity_id == str(row_id)
            )
        )
        or 0
    )
