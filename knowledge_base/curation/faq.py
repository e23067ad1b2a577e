"""FAQ entries staff add, change, delete (a deleted one stays as a row marked ``deleted``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.curation.results import ChangeResult, Conflict, EntityKind, FaqItem, Invalid, NotFound
from knowledge_base.curation.rows import (
    clean,
    current_version,
    entity_row,
    fold,
    record_revision,
    unique_texts,
)
from knowledge_base.store import FaqRow, KbRevision, ProcedureRow


def _faq_state(row: FaqRow) -> dict[str, Any] | None:
    return (
        None
        if row.deleted
        else {"question": row.question, "answer": row.answer, "procedures": list(row.procedure_codes or [])}
    )


def _faq_item(row: FaqRow) -> FaqItem:
    return FaqItem(row.id, row.question, row.answer, list(row.procedure_codes or []), bool(row.staff_edited))


def list_faq_items(session: Session, query: str = "") -> list[FaqItem]:
    rows = session.scalars(select(FaqRow).where(FaqRow.deleted.is_(False)).order_by(FaqRow.id))
    wanted = fold(query)
    return [_faq_item(r) for r in rows if not wanted or wanted in fold(f"{r.question} {r.answer}")]


def _faq_fields(
    session: Session, question: str, answer: str, procedures: list[str] | tuple[str, ...]
) -> dict:
    question, answer = clean(question), str(answer or "").strip()
    if not question or not answer:
        raise Invalid("Cần nhập cả câu hỏi và câu trả lời.")
    if len(question) > 1000 or len(answer) > 5000:
        raise Invalid("Câu hỏi tối đa 1.000 ký tự, câu trả lời tối đa 5.000 ký tự.")
    codes = unique_texts(list(procedures or []))
    if codes:
        known = set(session.scalars(select(ProcedureRow.code).where(ProcedureRow.code.in_(codes))))
        missing = [c for c in codes if c not in known]
        if missing:
            raise Invalid(f"Không có thủ tục mã: {', '.join(missing)}.")
    return {"question": question, "answer": answer, "procedures": codes}


def _question_owner(session: Session, question: str) -> FaqRow | None:
    return session.scalars(select(FaqRow).where(FaqRow.question == question).order_by(FaqRow.deleted)).first()


def _faq_result(row: FaqRow, revision: KbRevision | None, version: int) -> ChangeResult:
    return ChangeResult(
        EntityKind.FAQ,
        str(row.id),
        version,
        revision is not None,
        revision.id if revision else None,
        _faq_state(row),
    )


def add_faq_entry(
    session: Session,
    question: str,
    answer: str,
    procedures: list[str] | tuple[str, ...] = (),
    *,
    actor: str,
    reason: str = "",
) -> ChangeResult:
    state = _faq_fields(session, question, answer, procedures)
    row = _question_owner(session, state["question"])
    if row is not None and not row.deleted:
        raise Conflict(f"Câu hỏi «{state['question']}» đã có trong mục hỏi đáp.")
    if row is None:
        row = FaqRow(
            question=state["question"],
            answer=state["answer"],
            procedure_codes=state["procedures"],
            staff_edited=True,
            deleted=False,
        )
        session.add(row)
        session.flush()
    else:
        row.answer, row.procedure_codes, row.deleted, row.staff_edited = (
            state["answer"],
            state["procedures"],
            False,
            True,
        )
    revision = record_revision(
        session, EntityKind.FAQ, row.id, None, _faq_state(row), actor=actor, reason=reason or "cán bộ thêm"
    )
    return _faq_result(row, revision, revision.version)


def update_faq_entry(
    session: Session,
    faq_id: int,
    question: str,
    answer: str,
    procedures: list[str] | tuple[str, ...] = (),
    *,
    actor: str,
    reason: str = "",
) -> ChangeResult:
    row = entity_row(session, EntityKind.FAQ, faq_id)
    if row.deleted:
        raise NotFound(f"Câu hỏi thường gặp số {faq_id} đã bị xóa; hãy khôi phục trước khi sửa.")
    return _set_faq(
        session,
        row,
        _faq_fields(session, question, answer, procedures),
        actor=actor,
        reason=reason or "cán bộ sửa",
    )


def delete_faq_entry(session: Session, faq_id: int, *, actor: str, reason: str = "") -> ChangeResult:
    row = entity_row(session, EntityKind.FAQ, faq_id)
    if row.deleted:
        raise NotFound(f"Câu hỏi thường gặp số {faq_id} đã bị xóa.")
    return _set_faq(session, row, None, actor=actor, reason=reason or "cán bộ xóa")


def restore_faq(
    session: Session, faq_id: int, state: dict | None, *, actor: str, reason: str
) -> ChangeResult:
    row = entity_row(session, EntityKind.FAQ, faq_id)
    if state is not None:
        state = _faq_fields(session, state["question"], state["answer"], state.get("procedures") or [])
    return _set_faq(session, row, state, actor=actor, reason=reason)


def _set_faq(session: Session, row: FaqRow, state: dict | None, *, actor: str, reason: str) -> ChangeResult:
    before = _faq_state(row)
    if before == state:
        return _faq_result(row, None, current_version(session, EntityKind.FAQ, row.id))
    if state is None:
        row.deleted = True
    else:
        owner = _question_owner(session, state["question"])
        if owner is not None and owner.id != row.id and not owner.deleted:
            raise Conflict(f"Câu hỏi «{state['question']}» đã có trong mục hỏi đáp.")
        row.question, row.answer, row.procedure_codes = (
            state["question"],
            state["answer"],
            state["procedures"],
        )
        row.deleted = False
    row.staff_edited = True
    revision = record_revision(
        session, EntityKind.FAQ, row.id, before, _faq_state(row), actor=actor, reason=reason
    )
    return _faq_result(row, revision, revision.version)
