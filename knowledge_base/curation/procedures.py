"""Procedures: search, read, validate and save staff edits (every save is a revision)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import desc, select
from sqlalchemy.orm import Session

from knowledge_base.curation.results import ChangeResult, Conflict, Invalid, ProcedureDetail, ProcedureSummary
from knowledge_base.curation.rows import clean, fold, iso, procedure_result, procedure_row, unique_texts
from knowledge_base.schema import InvalidProcedure, Procedure, parse_procedure
from knowledge_base.store import ProcedureRevision, ProcedureRow, save_procedure

SEARCH_LIMIT = 50
MAX_NAME_LENGTH = 500


def search_procedures(session: Session, query: str, limit: int = SEARCH_LIMIT) -> list[ProcedureSummary]:
    """Procedures by code, name or alias, with or without diacritics; best first.

    An empty query lists the procedures staff edited first, then the rest, by name.
    """
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    rows = session.execute(
        select(
            ProcedureRow.code,
            ProcedureRow.name,
            ProcedureRow.field,
            ProcedureRow.levels,
            ProcedureRow.source,
            ProcedureRow.staff_edited,
            ProcedureRow.version,
            ProcedureRow.updated_at,
            ProcedureRow.data["aliases"].label("aliases"),
        )
    ).all()

    def summary(row) -> ProcedureSummary:
        return ProcedureSummary(
            row.code,
            row.name,
            row.field,
            row.levels,
            row.source,
            bool(row.staff_edited),
            row.version,
            iso(row.updated_at),
        )

    wanted = fold(query)
    if not wanted:
        ordered = sorted(rows, key=lambda r: (not r.staff_edited, fold(r.name)))
        return [summary(r) for r in ordered[:limit]]
    words = wanted.split()
    scored = []
    for row in rows:
        name = fold(row.name)
        aliases = " | ".join(fold(str(a)) for a in row.aliases) if isinstance(row.aliases, list) else ""
        code = row.code.lower()
        if code == wanted:
            score = 100
        elif code.startswith(wanted):
            score = 90
        elif f" {wanted} " in f" {name} ":
            score = 80 - min(len(name) // 20, 20)
        elif all(f" {w}" in f" {name}" for w in words):
            score = 60 - min(len(name) // 20, 20)
        elif f" {wanted} " in f" {aliases} ":
            score = 40
        elif all(f" {w}" in f" {name} {aliases}" for w in words):
            score = 20
        else:
            continue
        scored.append((-score, len(row.name), row.name, row))
    scored.sort(key=lambda item: item[:3])
    return [summary(item[3]) for item in scored[:limit]]


def get_procedure_detail(session: Session, code: str) -> ProcedureDetail:
    row = procedure_row(session, code)
    return ProcedureDetail(row.data, row.version, bool(row.staff_edited), row.source, iso(row.updated_at))


def validate_procedure(data: Any) -> Procedure:
    """``data`` (a procedure's mapping, as staff edited it) checked and cleaned, or :class:`Invalid`.

    The shape is the schema's (:func:`knowledge_base.schema.parse_procedure`: unknown fields,
    a missing name, an unknown channel or time unit, a negative fee or time are refused); a
    staff edit also keeps names under :data:`MAX_NAME_LENGTH` and asks at least one copy of
    each document. Texts are trimmed, empty and repeated aliases dropped.
    """
    try:
        procedure = parse_procedure(data)
    except InvalidProcedure as exc:
        raise Invalid(str(exc)) from exc
    procedure.name = clean(procedure.name)
    if len(procedure.name) > MAX_NAME_LENGTH:
        raise Invalid(f"Tên thủ tục quá dài (tối đa {MAX_NAME_LENGTH} ký tự).")
    for document in procedure.documents:
        if document.copies < 1:
            raise Invalid(f"Số bản của giấy tờ «{clean(document.name)}» phải từ 1 trở lên.")
    procedure.aliases = unique_texts(procedure.aliases)
    procedure.levels = unique_texts(procedure.levels)
    procedure.related = unique_texts(procedure.related)
    procedure.steps = [s.strip() for s in procedure.steps if s.strip()]
    for text_field in ("field", "applicants", "competent_agency", "receiving_agency"):
        setattr(procedure, text_field, clean(getattr(procedure, text_field)))
    return procedure


def update_procedure(
    session: Session,
    code: str,
    data: Any,
    *,
    actor: str,
    reason: str = "",
    expected_version: int | None = None,
) -> ChangeResult:
    """Replace procedure ``code`` with ``data`` (validated), as a staff edit.

    ``expected_version``: the version the editor started from; :class:`Conflict` when
    someone changed the procedure since.
    """
    row = procedure_row(session, code)
    if expected_version is not None and row.version != expected_version:
        raise Conflict(
            f"Thủ tục «{code}» vừa được {_last_actor(session, code)} sửa (nay là phiên bản "
            f"{row.version}, bạn sửa từ phiên bản {expected_version}). Hãy tải lại rồi sửa tiếp."
        )
    if isinstance(data, dict) and clean(data.get("code", code)) != code:
        raise Invalid("Không đổi được mã thủ tục; hãy tạo thủ tục mới nếu cần.")
    procedure = validate_procedure({**data, "code": code} if isinstance(data, dict) else data)
    if not procedure.source:
        procedure.source = row.source
    result = save_procedure(session, procedure, actor=actor, reason=reason or "cán bộ sửa", staff_edit=True)
    return procedure_result(session, code, result.changed)


def create_procedure(session: Session, data: Any, *, actor: str, reason: str = "") -> ChangeResult:
    procedure = validate_procedure(data)
    if session.scalar(select(ProcedureRow.id).where(ProcedureRow.code == procedure.code)) is not None:
        raise Conflict(f"Đã có thủ tục mã «{procedure.code}».")
    procedure.source = procedure.source or "staff"
    save_procedure(session, procedure, actor=actor, reason=reason or "cán bộ tạo mới", staff_edit=True)
    return procedure_result(session, procedure.code, True)


def _last_actor(session: Session, code: str) -> str:
    actor = session.scalar(
        select(ProcedureRevision.actor)
        .where(ProcedureRevision.procedure_code == code)
        .order_by(desc(ProcedureRevision.version))
        .limit(1)
    )
    return actor or "người khác"
