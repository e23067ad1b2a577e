"""Staff curation of the knowledge base: search, edit, version and revert; upload legal texts.

Every function takes an open SQLAlchemy session (the caller owns the transaction) and
the acting staff member's name. Every change writes a revision — who, when, the state
before and after — and any revision can be restored, the restoration being one more
revision. What staff change is marked as theirs, so loading the defaults or importing
the national catalogue again keeps it.

Histories live in two tables: procedures in ``procedure_revisions`` (with the importer's
and the defaults' revisions), synonyms, FAQ entries and legal documents' metadata in
``kb_revisions``. A deleted synonym or FAQ entry stays as a row marked ``deleted``.

Errors are :class:`CurationError` subclasses whose message is Vietnamese, fit to show
staff: :class:`NotFound`, :class:`Conflict`, :class:`Invalid`, :class:`UploadRefused`.
Plain Python: no framework.
"""

from __future__ import annotations

import logging
import re
import tempfile
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session

from knowledge_base.ingest import store_legal_document
from knowledge_base.legal import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, LegalFileError, read_legal_file
from knowledge_base.legal_metadata import apply_metadata, load_metadata
from knowledge_base.schema import ChannelKind, Procedure, TimeUnit
from knowledge_base.store import (
    FaqRow,
    KbRevision,
    LegalDocumentRow,
    LegalUnitRow,
    ProcedureRevision,
    ProcedureRow,
    SynonymRow,
    save_procedure,
)
from knowledge_base.text import fold as text_fold

SEARCH_LIMIT = 50
log = logging.getLogger(__name__)


class EntityKind(StrEnum):
    PROCEDURE = "procedure"
    SYNONYM = "synonym"
    FAQ = "faq"
    LEGAL = "legal"

    @property
    def label(self) -> str:
        return {EntityKind.PROCEDURE: "thủ tục", EntityKind.SYNONYM: "từ đồng nghĩa",
                EntityKind.FAQ: "câu hỏi thường gặp", EntityKind.LEGAL: "văn bản pháp luật"}[self]


class CurationError(ValueError):
    """A change staff asked for that cannot be made; the message says why, in Vietnamese."""


class NotFound(CurationError):
    pass


class Conflict(CurationError):
    """The change clashes with the current state (someone else's edit, a duplicate)."""


class Invalid(CurationError):
    pass


class UploadRefused(CurationError):
    """An uploaded legal document was not stored. ``kind``: empty, too_large, unsupported, scanned, unreadable."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Revision:
    id: int
    kind: EntityKind
    key: str  # procedure code, or the row id of a synonym / FAQ entry / legal document
    version: int
    actor: str
    reason: str
    created_at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def action(self) -> str:
        if self.before is None:  # created, or brought back after a deletion
            return "create" if self.version == 1 else "restore"
        return "delete" if self.after is None else "update"

    @property
    def changes(self) -> list[FieldChange]:
        """The fields that differ, in the order of the newer state."""
        before, after = self.before or {}, self.after or {}
        keys = list(after) + [k for k in before if k not in after]
        return [FieldChange(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": str(self.kind), "key": self.key, "version": self.version,
                "actor": self.actor, "reason": self.reason, "created_at": self.created_at.isoformat(),
                "action": self.action, "before": self.before, "after": self.after,
                "changes": [asdict(c) for c in self.changes]}


@dataclass(frozen=True)
class ChangeResult:
    kind: EntityKind
    key: str
    version: int
    changed: bool
    revision_id: int | None
    current: dict[str, Any] | None  # the state now; None once deleted

    def to_dict(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "key": self.key, "version": self.version, "changed": self.changed,
                "revision_id": self.revision_id, "current": self.current}


@dataclass(frozen=True)
class ProcedureSummary:
    code: str
    name: str
    field: str
    levels: str
    source: str
    staff_edited: bool
    version: int
    updated_at: str


@dataclass(frozen=True)
class ProcedureDetail:
    procedure: dict[str, Any]
    version: int
    staff_edited: bool
    source: str
    updated_at: str


@dataclass(frozen=True)
class SynonymItem:
    id: int
    phrase: str
    canonical: str
    staff_edited: bool


@dataclass(frozen=True)
class FaqItem:
    id: int
    question: str
    answer: str
    procedures: list[str]
    staff_edited: bool


@dataclass(frozen=True)
class LegalDocumentItem:
    id: int
    number: str
    doc_type: str
    title: str
    issuer: str
    issued: str
    effective: str
    replaced_by: str
    replaced_from: str
    status_note: str
    source_file: str
    articles: int
    units: int
    updated_at: str


@dataclass(frozen=True)
class UploadReport:
    document: LegalDocumentItem
    created: bool  # False: an earlier text of the same number was replaced
    articles: int
    units: int
    revision_id: int

    def describe(self) -> str:
        what = "Đã thêm" if self.created else "Đã thay thế nội dung"
        title = f" — {self.document.title}" if self.document.title else ""
        return (f"{what} văn bản {self.document.number}{title}: {self.articles} điều, "
                f"{self.units} đơn vị (chương, điều, khoản, điểm).")

    def to_dict(self) -> dict[str, Any]:
        return {"document": asdict(self.document), "created": self.created, "articles": self.articles,
                "units": self.units, "revision_id": self.revision_id, "message": self.describe()}


# --- helpers -----------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case, without diacritics, single spaces, dots kept: 'Đăng ký  Khai sinh' -> 'dang ky khai sinh'."""
    return text_fold(text, keep=".")


def _clean(text: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text or "")).split())


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


# --- procedures --------------------------------------------------------------------------------


def search_procedures(session: Session, query: str, limit: int = SEARCH_LIMIT) -> list[ProcedureSummary]:
    """Procedures by code, name or alias, with or without diacritics; best first.

    An empty query lists the procedures staff edited first, then the rest, by name.
    """
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    rows = session.execute(select(ProcedureRow.code, ProcedureRow.name, ProcedureRow.field, ProcedureRow.levels,
                                  ProcedureRow.source, ProcedureRow.staff_edited, ProcedureRow.version,
                                  ProcedureRow.updated_at, ProcedureRow.data["aliases"].label("aliases"))).all()

    def summary(row) -> ProcedureSummary:
        return ProcedureSummary(row.code, row.name, row.field, row.levels, row.source, bool(row.staff_edited),
                                row.version, _iso(row.updated_at))

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


def _procedure_row(session: Session, code: str) -> ProcedureRow:
    row = session.scalar(select(ProcedureRow).where(ProcedureRow.code == code))
    if row is None:
        raise NotFound(f"Không tìm thấy thủ tục mã «{code}».")
    return row


def get_procedure_detail(session: Session, code: str) -> ProcedureDetail:
    row = _procedure_row(session, code)
    return ProcedureDetail(row.data, row.version, bool(row.staff_edited), row.source, _iso(row.updated_at))


_PROCEDURE_FIELDS = frozenset(f.name for f in Procedure.__dataclass_fields__.values())


def validate_procedure(data: Any) -> Procedure:
    """``data`` (a procedure's mapping, as staff edited it) checked and cleaned, or :class:`Invalid`.

    Texts are trimmed, empty and repeated aliases dropped; unknown fields, a missing name,
    an unknown channel or time unit, a negative fee or time and fewer than one copy are refused.
    """
    if not isinstance(data, dict):
        raise Invalid("Dữ liệu thủ tục phải là một đối tượng JSON.")
    unknown = sorted(set(data) - _PROCEDURE_FIELDS)
    if unknown:
        raise Invalid(f"Trường không có trong thủ tục: {', '.join(unknown)}.")
    if not _clean(data.get("code")):
        raise Invalid("Mã thủ tục không được để trống.")
    if not _clean(data.get("name")):
        raise Invalid("Tên thủ tục không được để trống.")
    for name in ("levels", "steps", "channels", "documents", "legal_basis", "related", "aliases"):
        if data.get(name) is not None and not isinstance(data[name], list):
            raise Invalid(f"Trường «{name}» phải là một danh sách.")
    kinds = ", ".join(k.value for k in ChannelKind)
    units = ", ".join(u.value for u in TimeUnit)
    for number, channel in enumerate(data.get("channels") or [], start=1):
        if not isinstance(channel, dict) or "kind" not in channel:
            raise Invalid(f"Cách nộp thứ {number} thiếu hình thức (kind).")
        if channel["kind"] not in {k.value for k in ChannelKind}:
            raise Invalid(f"Hình thức nộp «{channel['kind']}» không hợp lệ; chọn một trong: {kinds}.")
        time, fee = channel.get("time"), channel.get("fee")
        if time:
            if not isinstance(time, dict) or "value" not in time:
                raise Invalid(f"Thời hạn của cách nộp thứ {number} thiếu số (value).")
            if time.get("unit", TimeUnit.WORKING_DAY.value) not in {u.value for u in TimeUnit}:
                raise Invalid(f"Đơn vị thời hạn «{time.get('unit')}» không hợp lệ; chọn một trong: {units}.")
            if not _number(time["value"]) or float(time["value"]) < 0:
                raise Invalid(f"Thời hạn của cách nộp thứ {number} phải là một số không âm.")
        if fee:
            if not isinstance(fee, dict):
                raise Invalid(f"Lệ phí của cách nộp thứ {number} không hợp lệ.")
            amount = fee.get("amount")
            if amount is not None and (not _number(amount) or float(amount) < 0 or float(amount) != int(float(amount))):
                raise Invalid(f"Lệ phí của cách nộp thứ {number} phải là số đồng nguyên, không âm.")
    for number, document in enumerate(data.get("documents") or [], start=1):
        if not isinstance(document, dict) or not _clean(document.get("name")):
            raise Invalid(f"Giấy tờ thứ {number} thiếu tên.")
        copies = document.get("copies", 1)
        if not _number(copies) or int(float(copies)) < 1:
            raise Invalid(f"Số bản của giấy tờ «{_clean(document.get('name'))}» phải từ 1 trở lên.")
        if document.get("original") not in (True, False, None):
            raise Invalid(f"«original» của giấy tờ «{_clean(document.get('name'))}» phải là true, false hoặc null.")
    for reference in data.get("legal_basis") or []:
        if not isinstance(reference, dict) or not _clean(reference.get("number")):
            raise Invalid("Mỗi căn cứ pháp lý cần số hiệu văn bản (number).")
    try:
        procedure = Procedure.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise Invalid(f"Dữ liệu thủ tục không hợp lệ: {exc}") from exc
    procedure.name = _clean(procedure.name)
    if len(procedure.name) > 500:
        raise Invalid("Tên thủ tục quá dài (tối đa 500 ký tự).")
    procedure.aliases = _unique_texts(procedure.aliases)
    procedure.levels = _unique_texts(procedure.levels)
    procedure.related = _unique_texts(procedure.related)
    procedure.steps = [s.strip() for s in procedure.steps if s.strip()]
    for text_field in ("field", "applicants", "competent_agency", "receiving_agency"):
        setattr(procedure, text_field, _clean(getattr(procedure, text_field)))
    return procedure


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _unique_texts(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        text = _clean(value)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def _procedure_result(session: Session, code: str, changed: bool) -> ChangeResult:
    session.flush()
    row = _procedure_row(session, code)
    revision_id = None
    if changed:
        revision_id = session.scalar(select(ProcedureRevision.id).where(ProcedureRevision.procedure_code == code)
                                     .order_by(desc(ProcedureRevision.version)).limit(1))
    return ChangeResult(EntityKind.PROCEDURE, code, row.version, changed, revision_id, row.data)


def update_procedure(session: Session, code: str, data: Any, *, actor: str, reason: str = "",
                     expected_version: int | None = None) -> ChangeResult:
    """Replace procedure ``code`` with ``data`` (validated), as a staff edit.

    ``expected_version``: the version the editor started from; :class:`Conflict` when
    someone changed the procedure since.
    """
    row = _procedure_row(session, code)
    if expected_version is not None and row.version != expected_version:
        raise Conflict(f"Thủ tục «{code}» vừa được {_last_actor(session, code)} sửa (nay là phiên bản "
                       f"{row.version}, bạn sửa từ phiên bản {expected_version}). Hãy tải lại rồi sửa tiếp.")
    if isinstance(data, dict) and _clean(data.get("code", code)) != code:
        raise Invalid("Không đổi được mã thủ tục; hãy tạo thủ tục mới nếu cần.")
    procedure = validate_procedure({**data, "code": code} if isinstance(data, dict) else data)
    if not procedure.source:
        procedure.source = row.source
    result = save_procedure(session, procedure, actor=actor, reason=reason or "cán bộ sửa", staff_edit=True)
    return _procedure_result(session, code, result.changed)


def create_procedure(session: Session, data: Any, *, actor: str, reason: str = "") -> ChangeResult:
    procedure = validate_procedure(data)
    if session.scalar(select(ProcedureRow.id).where(ProcedureRow.code == procedure.code)) is not None:
        raise Conflict(f"Đã có thủ tục mã «{procedure.code}».")
    procedure.source = procedure.source or "staff"
    save_procedure(session, procedure, actor=actor, reason=reason or "cán bộ tạo mới", staff_edit=True)
    return _procedure_result(session, procedure.code, True)


def _last_actor(session: Session, code: str) -> str:
    actor = session.scalar(select(ProcedureRevision.actor).where(ProcedureRevision.procedure_code == code)
                           .order_by(desc(ProcedureRevision.version)).limit(1))
    return actor or "người khác"


# --- revisions ---------------------------------------------------------------------------------


def _procedure_revision(row: ProcedureRevision) -> Revision:
    return Revision(row.id, EntityKind.PROCEDURE, row.procedure_code, row.version, row.actor, row.reason or "",
                    row.created_at, row.before, row.after)


def _kb_revision(row: KbRevision) -> Revision:
    return Revision(row.id, EntityKind(row.entity), row.entity_id, row.version, row.actor, row.reason or "",
                    row.created_at, row.before, row.after)


def _kind(kind: EntityKind | str) -> EntityKind:
    try:
        return EntityKind(kind)
    except ValueError:
        raise NotFound(f"Không có loại dữ liệu «{kind}».") from None


def list_revisions(session: Session, kind: EntityKind | str, key: str) -> list[Revision]:
    """The history of one entity, newest first."""
    kind = _kind(kind)
    if kind is EntityKind.PROCEDURE:
        _procedure_row(session, key)
        query = (select(ProcedureRevision).where(ProcedureRevision.procedure_code == key)
                 .order_by(desc(ProcedureRevision.version), desc(ProcedureRevision.id)))
        return [_procedure_revision(r) for r in session.scalars(query)]
    _entity_row(session, kind, key)
    query = (select(KbRevision).where(KbRevision.entity == kind.value, KbRevision.entity_id == str(key))
             .order_by(desc(KbRevision.version), desc(KbRevision.id)))
    return [_kb_revision(r) for r in session.scalars(query)]


def recent_revisions(session: Session, kind: EntityKind | str | None = None, limit: int = 50) -> list[Revision]:
    """The latest changes, newest first, of one kind or of all (procedures: staff changes only)."""
    kinds = [_kind(kind)] if kind else list(EntityKind)
    found: list[Revision] = []
    if EntityKind.PROCEDURE in kinds:
        query = (select(ProcedureRevision).where(~ProcedureRevision.actor.startswith("system:"))
                 .order_by(desc(ProcedureRevision.id)).limit(limit))
        found += [_procedure_revision(r) for r in session.scalars(query)]
    others = [k.value for k in kinds if k is not EntityKind.PROCEDURE]
    if others:
        query = select(KbRevision).where(KbRevision.entity.in_(others)).order_by(desc(KbRevision.id)).limit(limit)
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


def revert(session: Session, kind: EntityKind | str, key: str, revision_id: int, *, actor: str,
           to: str = "after") -> ChangeResult:
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
    reason = (f"khôi phục phiên bản {revision.version}" if to == "after"
              else f"khôi phục trạng thái trước phiên bản {revision.version}")
    if kind is EntityKind.SYNONYM:
        return _restore_synonym(session, int(key), state, actor=actor, reason=reason)
    if kind is EntityKind.FAQ:
        return _restore_faq(session, int(key), state, actor=actor, reason=reason)
    if state is None:
        raise Conflict(f"Không có nội dung {kind.label} ở trạng thái này để khôi phục "
                       f"({kind.label} không bị xóa bằng cách khôi phục).")
    if kind is EntityKind.PROCEDURE:
        try:  # the state as it was, not re-validated by today's rules
            procedure = Procedure.from_dict(state)
        except (ValueError, KeyError, TypeError) as exc:
            raise Conflict(f"Phiên bản {revision.version} không đọc được để khôi phục: {exc}") from exc
        result = save_procedure(session, procedure, actor=actor, reason=reason, staff_edit=True)
        return _procedure_result(session, str(key), result.changed)
    return _apply_legal_metadata(session, int(key), state, actor=actor, reason=reason)


def _entity_row(session: Session, kind: EntityKind, key: str | int):
    model = {EntityKind.SYNONYM: SynonymRow, EntityKind.FAQ: FaqRow, EntityKind.LEGAL: LegalDocumentRow}[kind]
    try:
        row = session.get(model, int(key))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise NotFound(f"Không tìm thấy {kind.label} số {key}.")
    return row


def _record(session: Session, kind: EntityKind, row_id: int, before: dict | None, after: dict | None, *,
            actor: str, reason: str) -> KbRevision:
    session.flush()
    last = session.scalar(select(func.max(KbRevision.version))
                          .where(KbRevision.entity == kind.value, KbRevision.entity_id == str(row_id)))
    revision = KbRevision(entity=kind.value, entity_id=str(row_id), version=(last or 0) + 1, actor=actor,
                          reason=reason, before=before, after=after)
    session.add(revision)
    session.flush()
    return revision


def _current_version(session: Session, kind: EntityKind, row_id: int) -> int:
    return session.scalar(select(func.max(KbRevision.version))
                          .where(KbRevision.entity == kind.value, KbRevision.entity_id == str(row_id))) or 0


# --- synonyms ----------------------------------------------------------------------------------


def _synonym_state(row: SynonymRow) -> dict[str, Any] | None:
    return None if row.deleted else {"phrase": row.phrase, "canonical": row.canonical}


def _synonym_item(row: SynonymRow) -> SynonymItem:
    return SynonymItem(row.id, row.phrase, row.canonical, bool(row.staff_edited))


def list_synonym_items(session: Session, query: str = "") -> list[SynonymItem]:
    rows = session.scalars(select(SynonymRow).where(SynonymRow.deleted.is_(False)).order_by(SynonymRow.phrase))
    wanted = fold(query)
    return [_synonym_item(r) for r in rows if not wanted or wanted in fold(f"{r.phrase} {r.canonical}")]


def _synonym_fields(phrase: str, canonical: str) -> tuple[str, str]:
    phrase, canonical = _clean(phrase), _clean(canonical)
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
    return ChangeResult(EntityKind.SYNONYM, str(row.id), version, revision is not None,
                        revision.id if revision else None, _synonym_state(row))


def add_synonym(session: Session, phrase: str, canonical: str, *, actor: str, reason: str = "") -> ChangeResult:
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
    revision = _record(session, EntityKind.SYNONYM, row.id, before, _synonym_state(row), actor=actor,
                       reason=reason or "cán bộ thêm")
    return _synonym_result(row, revision, revision.version)


def update_synonym(session: Session, synonym_id: int, phrase: str, canonical: str, *, actor: str,
                   reason: str = "") -> ChangeResult:
    row = _entity_row(session, EntityKind.SYNONYM, synonym_id)
    if row.deleted:
        raise NotFound(f"Từ đồng nghĩa số {synonym_id} đã bị xóa; hãy khôi phục trước khi sửa.")
    phrase, canonical = _synonym_fields(phrase, canonical)
    return _set_synonym(session, row, {"phrase": phrase, "canonical": canonical}, actor=actor,
                        reason=reason or "cán bộ sửa")


def delete_synonym(session: Session, synonym_id: int, *, actor: str, reason: str = "") -> ChangeResult:
    row = _entity_row(session, EntityKind.SYNONYM, synonym_id)
    if row.deleted:
        raise NotFound(f"Từ đồng nghĩa số {synonym_id} đã bị xóa.")
    return _set_synonym(session, row, None, actor=actor, reason=reason or "cán bộ xóa")


def _restore_synonym(session: Session, synonym_id: int, state: dict | None, *, actor: str,
                     reason: str) -> ChangeResult:
    row = _entity_row(session, EntityKind.SYNONYM, synonym_id)
    if state is not None:
        state = dict(zip(("phrase", "canonical"), _synonym_fields(state["phrase"], state["canonical"]), strict=True))
    return _set_synonym(session, row, state, actor=actor, reason=reason)


def _set_synonym(session: Session, row: SynonymRow, state: dict | None, *, actor: str, reason: str) -> ChangeResult:
    before = _synonym_state(row)
    if before == state:
        return _synonym_result(row, None, _current_version(session, EntityKind.SYNONYM, row.id))
    if state is None:
        row.deleted = True
    else:
        owner = _phrase_owner(session, state["phrase"])
        if owner is not None and owner.id != row.id:
            hint = " (một mục đã xóa — hãy khôi phục mục đó)" if owner.deleted else ""
            raise Conflict(f"Cụm từ «{state['phrase']}» đã thuộc một mục khác{hint}.")
        row.phrase, row.canonical, row.deleted = state["phrase"], state["canonical"], False
    row.staff_edited = True
    revision = _record(session, EntityKind.SYNONYM, row.id, before, _synonym_state(row), actor=actor, reason=reason)
    return _synonym_result(row, revision, revision.version)


# --- FAQ ---------------------------------------------------------------------------------------


def _faq_state(row: FaqRow) -> dict[str, Any] | None:
    return None if row.deleted else {"question": row.question, "answer": row.answer,
                                     "procedures": list(row.procedure_codes or [])}


def _faq_item(row: FaqRow) -> FaqItem:
    return FaqItem(row.id, row.question, row.answer, list(row.procedure_codes or []), bool(row.staff_edited))


def list_faq_items(session: Session, query: str = "") -> list[FaqItem]:
    rows = session.scalars(select(FaqRow).where(FaqRow.deleted.is_(False)).order_by(FaqRow.id))
    wanted = fold(query)
    return [_faq_item(r) for r in rows if not wanted or wanted in fold(f"{r.question} {r.answer}")]


def _faq_fields(session: Session, question: str, answer: str, procedures: list[str] | tuple[str, ...]) -> dict:
    question, answer = _clean(question), str(answer or "").strip()
    if not question or not answer:
        raise Invalid("Cần nhập cả câu hỏi và câu trả lời.")
    if len(question) > 1000 or len(answer) > 5000:
        raise Invalid("Câu hỏi tối đa 1.000 ký tự, câu trả lời tối đa 5.000 ký tự.")
    codes = _unique_texts(list(procedures or []))
    if codes:
        known = set(session.scalars(select(ProcedureRow.code).where(ProcedureRow.code.in_(codes))))
        missing = [c for c in codes if c not in known]
        if missing:
            raise Invalid(f"Không có thủ tục mã: {', '.join(missing)}.")
    return {"question": question, "answer": answer, "procedures": codes}


def _question_owner(session: Session, question: str) -> FaqRow | None:
    return session.scalars(select(FaqRow).where(FaqRow.question == question).order_by(FaqRow.deleted)).first()


def _faq_result(row: FaqRow, revision: KbRevision | None, version: int) -> ChangeResult:
    return ChangeResult(EntityKind.FAQ, str(row.id), version, revision is not None,
                        revision.id if revision else None, _faq_state(row))


def add_faq_entry(session: Session, question: str, answer: str, procedures: list[str] | tuple[str, ...] = (), *,
                  actor: str, reason: str = "") -> ChangeResult:
    state = _faq_fields(session, question, answer, procedures)
    row = _question_owner(session, state["question"])
    if row is not None and not row.deleted:
        raise Conflict(f"Câu hỏi «{state['question']}» đã có trong mục hỏi đáp.")
    if row is None:
        row = FaqRow(question=state["question"], answer=state["answer"], procedure_codes=state["procedures"],
                     staff_edited=True, deleted=False)
        session.add(row)
        session.flush()
    else:
        row.answer, row.procedure_codes, row.deleted, row.staff_edited = (state["answer"], state["procedures"],
                                                                          False, True)
    revision = _record(session, EntityKind.FAQ, row.id, None, _faq_state(row), actor=actor,
                       reason=reason or "cán bộ thêm")
    return _faq_result(row, revision, revision.version)


def update_faq_entry(session: Session, faq_id: int, question: str, answer: str,
                     procedures: list[str] | tuple[str, ...] = (), *, actor: str, reason: str = "") -> ChangeResult:
    row = _entity_row(session, EntityKind.FAQ, faq_id)
    if row.deleted:
        raise NotFound(f"Câu hỏi thường gặp số {faq_id} đã bị xóa; hãy khôi phục trước khi sửa.")
    return _set_faq(session, row, _faq_fields(session, question, answer, procedures), actor=actor,
                    reason=reason or "cán bộ sửa")


def delete_faq_entry(session: Session, faq_id: int, *, actor: str, reason: str = "") -> ChangeResult:
    row = _entity_row(session, EntityKind.FAQ, faq_id)
    if row.deleted:
        raise NotFound(f"Câu hỏi thường gặp số {faq_id} đã bị xóa.")
    return _set_faq(session, row, None, actor=actor, reason=reason or "cán bộ xóa")


def _restore_faq(session: Session, faq_id: int, state: dict | None, *, actor: str, reason: str) -> ChangeResult:
    row = _entity_row(session, EntityKind.FAQ, faq_id)
    if state is not None:
        state = _faq_fields(session, state["question"], state["answer"], state.get("procedures") or [])
    return _set_faq(session, row, state, actor=actor, reason=reason)


def _set_faq(session: Session, row: FaqRow, state: dict | None, *, actor: str, reason: str) -> ChangeResult:
    before = _faq_state(row)
    if before == state:
        return _faq_result(row, None, _current_version(session, EntityKind.FAQ, row.id))
    if state is None:
        row.deleted = True
    else:
        owner = _question_owner(session, state["question"])
        if owner is not None and owner.id != row.id and not owner.deleted:
            raise Conflict(f"Câu hỏi «{state['question']}» đã có trong mục hỏi đáp.")
        row.question, row.answer, row.procedure_codes = state["question"], state["answer"], state["procedures"]
        row.deleted = False
    row.staff_edited = True
    revision = _record(session, EntityKind.FAQ, row.id, before, _faq_state(row), actor=actor, reason=reason)
    return _faq_result(row, revision, revision.version)


# --- legal documents ---------------------------------------------------------------------------

LEGAL_FIELDS = ("doc_type", "title", "issuer", "issued", "effective", "replaced_by", "replaced_from", "status_note")
"""The metadata staff may edit; the number (which citations and keys use) is not among them."""
_LEGAL_DATES = ("issued", "effective", "replaced_from")


def _legal_state(row: LegalDocumentRow) -> dict[str, Any]:
    meta = row.meta or {}
    return {"number": row.number, "doc_type": row.doc_type, "title": row.title, "issuer": row.issuer,
            "issued": row.issued, "effective": row.effective, "replaced_by": row.replaced_by,
            "replaced_from": row.replaced_from, "status_note": str(meta.get("status_note") or "")}


def _legal_item(session: Session, row: LegalDocumentRow) -> LegalDocumentItem:
    counts = dict(session.execute(select(LegalUnitRow.kind, func.count()).where(LegalUnitRow.document_id == row.id)
                                  .group_by(LegalUnitRow.kind)).all())
    state = _legal_state(row)
    return LegalDocumentItem(row.id, row.number, row.doc_type, row.title, row.issuer, row.issued, row.effective,
                             row.replaced_by, row.replaced_from, state["status_note"], row.source_file,
                             int(counts.get("article", 0)), int(sum(counts.values())), _iso(row.updated_at))


def list_legal_documents(session: Session) -> list[LegalDocumentItem]:
    return [_legal_item(session, row)
            for row in session.scalars(select(LegalDocumentRow).order_by(LegalDocumentRow.number))]


def get_legal_document(session: Session, document_id: int) -> LegalDocumentItem:
    return _legal_item(session, _entity_row(session, EntityKind.LEGAL, document_id))


def _legal_fields(changes: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(LEGAL_FIELDS) - {"number"})
    if unknown:
        raise Invalid(f"Không sửa được các trường: {', '.join(unknown)}.")
    if "number" in changes and _clean(changes["number"]) != current["number"]:
        raise Invalid("Không đổi được số hiệu văn bản (trích dẫn dùng số hiệu); hãy tải lên văn bản mới.")
    state = dict(current)
    for name in LEGAL_FIELDS:
        if name in changes:
            state[name] = _clean(changes[name])
    for name in _LEGAL_DATES:
        if state[name]:
            try:
                date.fromisoformat(state[name])
            except ValueError:
                raise Invalid(f"Ngày «{state[name]}» ở trường {name} không hợp lệ; viết theo dạng NNNN-TT-NN.") from None
    if state["replaced_from"] and not state["replaced_by"]:
        raise Invalid("Có ngày bị thay thế thì cần số hiệu văn bản thay thế (replaced_by).")
    if len(state["title"]) > 2000 or any(len(state[n]) > 255 for n in ("doc_type", "issuer", "replaced_by")):
        raise Invalid("Thông tin văn bản quá dài.")
    return state


def update_legal_metadata(session: Session, document_id: int, changes: dict[str, Any], *, actor: str,
                          reason: str = "") -> ChangeResult:
    """Change the metadata of legal document ``document_id`` (title, dates, replacement, note)."""
    row = _entity_row(session, EntityKind.LEGAL, document_id)
    if not isinstance(changes, dict):
        raise Invalid("Dữ liệu văn bản phải là một đối tượng JSON.")
    return _apply_legal_metadata(session, document_id, _legal_fields(changes, _legal_state(row)), actor=actor,
                                 reason=reason or "cán bộ sửa thông tin văn bản")


def _apply_legal_metadata(session: Session, document_id: int, state: dict[str, Any], *, actor: str,
                          reason: str) -> ChangeResult:
    row = _entity_row(session, EntityKind.LEGAL, document_id)
    before = _legal_state(row)
    state = _legal_fields({k: v for k, v in state.items() if k in LEGAL_FIELDS}, before)
    if before == state:
        version = _current_version(session, EntityKind.LEGAL, row.id)
        return ChangeResult(EntityKind.LEGAL, str(row.id), version, False, None, before)
    row.doc_type, row.title, row.issuer = state["doc_type"], state["title"], state["issuer"]
    row.issued, row.effective = state["issued"], state["effective"]
    row.replaced_by, row.replaced_from = state["replaced_by"], state["replaced_from"]
    row.meta = {**(row.meta or {}), "status_note": state["status_note"], "staff_edited": True}
    revision = _record(session, EntityKind.LEGAL, row.id, before, _legal_state(row), actor=actor, reason=reason)
    return ChangeResult(EntityKind.LEGAL, str(row.id), revision.version, True, revision.id, _legal_state(row))


def _safe_filename(filename: str) -> str:
    name = Path(str(filename or "").replace("\\", "/")).name.strip()
    return re.sub(r"[^\w.\-() ]+", "_", name)[:120] or "van-ban"


def upload_legal_document(session: Session, content: bytes, filename: str, *, actor: str,
                          max_bytes: int = MAX_FILE_BYTES) -> UploadReport:
    """Parse an uploaded legal document and store it with its articles, clauses and points.

    Checks the type, emptiness and size before parsing; a scanned PDF, an unreadable or
    article-less text raises :class:`UploadRefused` with a Vietnamese message, and nothing
    is written. A document whose number is already stored is replaced (units and metadata),
    recorded as one revision of that document.
    """
    name = _safe_filename(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadRefused("unsupported", f"Không hỗ trợ định dạng tệp «{name}». "
                                           f"Chỉ nhận: {', '.join(SUPPORTED_SUFFIXES)}.")
    if not content:
        raise UploadRefused("empty", f"Tệp «{name}» trống, không có nội dung.")
    if len(content) > max_bytes:
        raise UploadRefused("too_large", f"Tệp «{name}» quá lớn ({_megabytes(len(content))}); giới hạn là "
                                         f"{_megabytes(max_bytes)}. Vui lòng tách văn bản thành các tệp nhỏ hơn.")
    with tempfile.TemporaryDirectory(prefix="motcua-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            document = read_legal_file(path, max_bytes=max_bytes)
        except LegalFileError as exc:
            message = str(exc).replace(f"“{path}”", f"“{name}”")
            kind = "scanned" if "bản quét" in message else "too_large" if "quá lớn" in message else "unreadable"
            raise UploadRefused(kind, message) from exc
    try:  # the facts people recorded about documents, as ``motcua kb ingest`` applies them
        document = apply_metadata([document], load_metadata())[0]
    except ValueError as exc:
        log.warning("knowledge_base/legal_documents.yaml not applied to %s: %s", name, exc)
    if not document.number:
        raise UploadRefused("unreadable", "Không xác định được số hiệu văn bản. Hãy thêm khối tiêu đề "
                                          "--- number: ... --- ở đầu tệp, hoặc đặt tên tệp theo số hiệu "
                                          "(ví dụ 123-2015-ND-CP.md).")
    existing = session.scalar(select(LegalDocumentRow).where(LegalDocumentRow.number == document.number))
    before = _legal_state(existing) if existing is not None else None
    # Everything was read and parsed above; the writes below share the caller's transaction.
    units = store_legal_document(session, document, f"tải lên: {name}")
    session.flush()
    row = session.scalar(select(LegalDocumentRow).where(LegalDocumentRow.number == document.number))
    assert row is not None
    revision = _record(session, EntityKind.LEGAL, row.id, before, _legal_state(row), actor=actor,
                       reason=f"tải lên tệp {name}")
    return UploadReport(_legal_item(session, row), existing is None, len(document.articles), units, revision.id)


def _megabytes(size: int) -> str:
    value, unit = (size / (1024 * 1024), "MB") if size >= 1024 * 1024 else (size / 1024, "KB")
    return f"{value:.1f}".removesuffix(".0").replace(".", ",") + f" {unit}"


__all__ = [
    "ChangeResult", "Conflict", "CurationError", "EntityKind", "FaqItem", "FieldChange", "Invalid",
    "LegalDocumentItem", "NotFound", "ProcedureDetail", "ProcedureSummary", "Revision", "SynonymItem",
    "UploadRefused", "UploadReport", "add_faq_entry", "add_synonym", "create_procedure", "delete_faq_entry",
    "delete_synonym", "fold", "get_legal_document", "get_procedure_detail", "list_faq_items",
    "list_legal_documents", "list_revisions", "list_synonym_items", "recent_revisions", "revert",
    "search_procedures", "update_faq_entry", "update_legal_metadata", "update_procedure", "update_synonym",
    "upload_legal_document", "validate_procedure",
]
