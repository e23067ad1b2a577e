"""Synonyms staff add, change, delete (a deleted one stays as a row marked ``deleted``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.curation.results import ChangeResult, Conflict, EntityKind, Invalid, NotFound, SynonymItem
from knowledge_base.curation.rows import clean, current_version, entity_row, fold, record_revision
from knowledge_base.store import KbRevision, SynonymRow


def _synonym_state(row: SynonymRow) -> dict[str, Any] | None:
    return None if row.deleted else {"phrase": row.phrase, "canonical": row.canonical}


def _synonym_item(row: SynonymRow) -> SynonymItem:
    return SynonymItem(row.id, row.phrase, row.canonical, bool(row.staff_edited))


def list_synonym_items(session: Session, query: str = "") -> list[SynonymItem]:
    rows = session.scalars(
        select(SynonymRow).where(SynonymRow.deleted.is_(False)).order_by(SynonymRow.phrase)
    )
    wanted = fold(query)
    return [_synonym_item(r) for r in rows if not wanted or wanted in fold(f"{r.phrase} {r.canonical}")]


def _synonym_fields(phrase: str, canonical: str) -> tuple[str, str]:
    phrase, canonical = clean(phrase), clean(canonical)
    if not fold(phrase) or not fold(canonical):
        raise Invalid("Cần nhập cả cụm từ người dân dùng và tên gọi chuẩn (có chữ hoặc số).")
    if len(phrase) > 255 or len(canonical) > 255:
        raise Invalid("Cụm từ và tên gọi chuẩn tối đa 255 ký tự.")
    if fold(phrase) == fold(canonical):
        raise Invalid("Cụm từ và tên gọi chuẩn giống nhau; không cần thêm.")
    return phrase, canonical


def _phrase_owner(session: Session, phrase: str) -> SynonymRow | None:
    return session.scalar(select(SynonymRow).where(SynonymRow.phrase == phrase))


def _synonym_result(row: SynonymRow, revision: KbRevision | None, version: int) -> ChangeResult:
    return ChangeResult(
        EntityKind.SYNONYM,
        str(row.id),
        version,
        revision is not None,
        revision.id if revision else None,
        _synonym_state(row),
    )


def add_synonym(
    session: Session, phrase: str, canonical: str, *, actor: str, reason: str = ""
) -> ChangeResult:
    """A new phrase; a phrase staff deleted before is brought back (its history continues)."""
    phrase, canonical = _synonym_fields(phrase, canonical)
    row = _phrase_owner(session, phrase)
    if row is not None and not row.deleted:
        raise Conflict(f"Cụm từ «{phrase}» đã có (nghĩa là «{row.canonical}»).")
    before = None
    if row is None:
        row = SynonymRow(phrase=phrase, canonical=canonical, staff_edited=True, deleted=False)
        session.add(row)
        session.flush()
    else:
        row.canonical, row.deleted, row.staff_edited = canonical, False, True
    revision = record_revision(
        session,
        EntityKind.SYNONYM,
        row.id,
        before,
        _synonym_state(row),
        actor=actor,
        reason=reason or "cán bộ thêm",
    )
    return _synonym_result(row, revision, revision.version)


def update_synonym(
    session: Session, synonym_id: int, phrase: str, canonical: str, *, actor: str, reason: str = ""
) -> ChangeResult:
    row = entity_row(session, EntityKind.SYNONYM, synonym_id)
    if row.deleted:
        raise NotFound(f"Từ đồng nghĩa số {synonym_id} đã bị xóa; hãy khôi phục trước khi sửa.")
    phrase, canonical = _synonym_fields(phrase, canonical)
    return _set_synonym(
        session, row, {"phrase": phrase, "canonical": canonical}, actor=actor, reason=reason or "cán bộ sửa"
    )


def delete_synonym(session: Session, synonym_id: int, *, actor: str, reason: str = "") -> ChangeResult:
    row = entity_row(session, EntityKind.SYNONYM, synonym_id)
    if row.deleted:
        raise NotFound(f"Từ đồng nghĩa số {synonym_id} đã bị xóa.")
    return _set_synonym(session, row, None, actor=actor, reason=reason or "cán bộ xóa")


def restore_synonym(
    session: Session, synonym_id: int, state: dict | None, *, actor: str, reason: str
) -> ChangeResult:
    row = entity_row(session, EntityKind.SYNONYM, synonym_id)
    if state is not None:
        state = dict(
            zip(("phrase", "canonical"), _synonym_fields(state["phrase"], state["canonical"]), strict=True)
        )
    return _set_synonym(session, row, state, actor=actor, reason=reason)


def _set_synonym(
    session: Session, row: SynonymRow, state: dict | None, *, actor: str, reason: str
) -> ChangeResult:
    before = _synonym_state(row)
    if before == state:
        return _synonym_result(row, None, current_version(session, EntityKind.SYNONYM, row.id))
    if state is None:
        row.deleted = True
    else:
        owner = _phrase_owner(session, state["phrase"])
        if owner is not None and owner.id != row.id:
            hint = " (một mục đã xóa — hãy khôi phục mục đó)" if owner.deleted else ""
            raise Conflict(f"Cụm từ «{state['phrase']}» đã thuộc một mục khác{hint}.")
        row.phrase, row.canonical, row.deleted = state["phrase"], state["canonical"], False
    row.staff_edited = True
    revision = record_revision(
        session, EntityKind.SYNONYM, row.id, before, _synonym_state(row), actor=actor, reason=reason
    )
    return _synonym_result(row, revision, revision.version)
