"""The history of every entity, newest first, and going back to any of its states."""

from __future__ import annotations

from sqlalchemy import desc, select
from sqlalchemy.orm import Session

from knowledge_base.curation.faq import restore_faq
from knowledge_base.curation.legal import apply_legal_metadata
from knowledge_base.curation.results import ChangeResult, Conflict, EntityKind, Invalid, NotFound, Revision
from knowledge_base.curation.rows import entity_row, procedure_result, procedure_row
from knowledge_base.curation.synonyms import restore_synonym
from knowledge_base.schema import Procedure
from knowledge_base.store import KbRevision, ProcedureRevision, save_procedure


def _procedure_revision(row: ProcedureRevision) -> Revision:
    return Revision(
        row.id,
        EntityKind.PROCEDURE,
        row.procedure_code,
        row.version,
        row.actor,
        row.reason or "",
        row.created_at,
        row.before,
        row.after,
    )


def _kb_revision(row: KbRevision) -> Revision:
    return Revision(
        row.id,
        EntityKind(row.entity),
        row.entity_id,
        row.version,
        row.actor,
        row.reason or "",
        row.created_at,
        row.before,
        row.after,
    )


def _kind(kind: EntityKind | str) -> EntityKind:
    try:
        return EntityKind(kind)
    except ValueError:
        raise NotFound(f"Không có loại dữ liệu «{kind}».") from None


def list_revisions(session: Session, kind: EntityKind | str, key: str) -> list[Revision]:
    """The history of one entity, newest first."""
    kind = _kind(kind)
    if kind is EntityKind.PROCEDURE:
        procedure_row(session, key)
        query = (
            select(ProcedureRevision)
            .where(ProcedureRevision.procedure_code == key)
            .order_by(desc(ProcedureRevision.version), desc(ProcedureRevision.id))
        )
        return [_procedure_revision(r) for r in session.scalars(query)]
    entity_row(session, kind, key)
    query = (
        select(KbRevision)
        .where(KbRevision.entity == kind.value, KbRevision.entity_id == str(key))
        .order_by(desc(KbRevision.version), desc(KbRevision.id))
    )
    return [_kb_revision(r) for r in session.scalars(query)]


def recent_revisions(
    session: Session, kind: EntityKind | str | None = None, limit: int = 50
) -> list[Revision]:
    """The latest changes, newest first, of one kind or of all (procedures: staff changes only)."""
    kinds = [_kind(kind)] if kind else list(EntityKind)
    found: list[Revision] = []
    if EntityKind.PROCEDURE in kinds:
        query = (
            select(ProcedureRevision)
            .where(~ProcedureRevision.actor.startswith("system:"))
            .order_by(desc(ProcedureRevision.id))
            .limit(limit)
        )
        found += [_procedure_revision(r) for r in session.scalars(query)]
    others = [k.value for k in kinds if k is not EntityKind.PROCEDURE]
    if others:
        query = (
            select(KbRevision).where(KbRevision.entity.in_(others)).order_by(desc(KbRevision.id)).limit(limit)
        )
        found += [_kb_revision(r) for r in session.scalars(query)]
    found.sort(key=lambda r: r.created_at, reverse=True)
    return found[:limit]


def _get_revision(session: Session, kind: EntityKind, key: str, revision_id: int) -> Revision:
    if kind is EntityKind.PROCEDURE:
        row = session.get(ProcedureRevision, revision_id)
        revision = _procedure_revision(row) if row is not None else None
    else:
        kb_row = session.get(KbRevision, revision_id)
        revision = _kb_revision(kb_row) if kb_row is not None else None
    if revision is None or revision.kind is not kind or revision.key != str(key):
        raise NotFound(f"Không tìm thấy phiên bản này của {kind.label} «{key}».")
    return revision


def revert(
    session: Session, kind: EntityKind | str, key: str, revision_id: int, *, actor: str, to: str = "after"
) -> ChangeResult:
    """Restore the state revision ``revision_id`` left (``to="after"``: back to that version) or
    found (``to="before"``: undo that change). The restoration is itself a new revision.

    Restoring "no state" deletes a synonym or FAQ entry; a procedure or a legal document is
    never deleted this way (:class:`Conflict`).
    """
    kind = _kind(kind)
    if to not in ("after", "before"):
        raise Invalid("Chỉ khôi phục được trạng thái sau (after) hoặc trước (before) một phiên bản.")
    revision = _get_revision(session, kind, str(key), revision_id)
    state = revision.after if to == "after" else revision.before
    reason = (
        f"khôi phục phiên bản {revision.version}"
        if to == "after"
        else f"khôi phục trạng thái trước phiên bản {revision.version}"
    )
    if kind is EntityKind.SYNONYM:
        return restore_synonym(session, int(key), state, actor=actor, reason=reason)
    if kind is EntityKind.FAQ:
        return restore_faq(session, int(key), state, actor=actor, reason=reason)
    if state is None:
        raise Conflict(
            f"Không có nội dung {kind.label} ở trạng thái này để khôi phục "
            f"({kind.label} không bị xóa bằng cách khôi phục)."
        )
    if kind is EntityKind.PROCEDURE:
        try:  # the state as it was, not re-validated by today's rules
            procedure = Procedure.from_dict(state)
        except (ValueError, KeyError, TypeError) as exc:
            raise Conflict(f"Phiên bản {revision.version} không đọc được để khôi phục: {exc}") from exc
        result = save_procedure(session, procedure, actor=actor, reason=reason, staff_edit=True)
        return procedure_result(session, str(key), result.changed)
    return apply_legal_metadata(session, int(key), state, actor=actor, reason=reason)
