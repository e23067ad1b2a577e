"""The history of every entity, newest first, and going back to any of its states."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import desc, select
from sqlalchemy.orm import Session

from knowledge_base.curation.faq import restore_faq
from knowledge_base.curation.fees import fee_rule_exists, restore_fee
from knowledge_base.curation.legal import apply_legal_metadata
from knowledge_base.curation.results import ChangeResult, Conflict, EntityKind, Invalid, NotFound, Revision
from knowledge_base.curation.rows import entity_row, procedure_result, procedure_row
from knowledge_base.curation.synonyms import restore_synonym
from knowledge_base.schema import Procedure, RequiredDocument, SubmissionChannel
from knowledge_base.store import KbRevision, ProcedureRevision, save_procedure
from motcua.workdays import VIETNAM_TZ


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
    if kind is EntityKind.FEE:
        fee_rule_exists(str(key))
    else:
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
    if kind is EntityKind.FEE:
        return restore_fee(session, str(key), state, actor=actor, reason=reason)
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


# --- readable changes ----------------------------------------------------------------------------
# What staff read in a history or the audit log: «Lệ phí: Miễn phí → 15.000 đồng», not JSON.

FIELD_LABELS: dict[str, str] = {
    # procedures
    "code": "Mã thủ tục", "name": "Tên thủ tục", "aliases": "Tên gọi khác", "field": "Lĩnh vực",
    "levels": "Cấp thực hiện", "applicants": "Đối tượng thực hiện", "competent_agency": "Cơ quan có thẩm quyền",
    "receiving_agency": "Nơi tiếp nhận", "steps": "Các bước", "channels": "Cách nộp, thời hạn, lệ phí",
    "documents": "Giấy tờ", "conditions": "Điều kiện", "result": "Kết quả", "legal_basis": "Căn cứ pháp lý",
    "related": "Thủ tục liên quan", "source": "Nguồn", "updated": "Ngày cập nhật",
    # synonyms, FAQ
    "phrase": "Cụm từ", "canonical": "Tên gọi chuẩn", "question": "Câu hỏi", "answer": "Câu trả lời",
    "procedures": "Thủ tục",
    # legal documents
    "number": "Số hiệu", "doc_type": "Loại văn bản", "title": "Tên văn bản", "issuer": "Cơ quan ban hành",
    "issued": "Ngày ban hành", "effective": "Ngày hiệu lực", "replaced_by": "Thay thế bởi",
    "replaced_from": "Thay thế từ ngày", "status_note": "Ghi chú hiệu lực", "file": "Tệp", "units": "Số đơn vị",
    # the center's fee table (đồng)
    "amount": "Số tiền", "amount_truc_tiep": "Số tiền khi nộp trực tiếp",
    "amount_truc_tuyen": "Số tiền khi nộp trực tuyến", "amount_buu_chinh": "Số tiền khi nộp qua bưu chính",
}
EMPTY = "(trống)"
LONG_TEXT = 160  # longer values are cut in a line; the whole text stays under «Chi tiết»
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LONG_TEXT else text[: LONG_TEXT - 1].rstrip() + "…"


def _moment(text: str) -> str:
    """An ISO date as dd/mm/yyyy; an ISO moment as dd/mm/yyyy HH:MM in Vietnam time."""
    if _ISO_DATE.match(text):
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(VIETNAM_TZ):%d/%m/%Y %H:%M}"


def _item(value: Any) -> str:
    """One element of a list: a channel, a required document, a legal reference, or a plain value."""
    if isinstance(value, dict):
        if "kind" in value and ("time" in value or "fee" in value):
            try:
                channel = SubmissionChannel(**value)
                parts = [channel.kind.label]
                if channel.time is not None:
                    parts.append(channel.time.describe())
                if channel.fee is not None:
                    parts.append(channel.fee.describe())
                return ", ".join(p for p in parts if p)
            except (TypeError, ValueError):
                pass
        if "name" in value and "copies" in value:
            try:
                return RequiredDocument(**value).describe()
            except (TypeError, ValueError):
                pass
        if "number" in value:
            return f"{value['number']} — {value['title']}" if value.get("title") else str(value["number"])
        return "; ".join(f"{FIELD_LABELS.get(k, k)}: {describe_value(v)}" for k, v in value.items()
                         if v not in (None, "", [], {}))
    return describe_value(value)


def describe_value(value: Any) -> str:
    """A stored value as staff read it: «(trống)», «Có»/«Không», dd/mm/yyyy, list items joined by «; »."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, int | float):
        return f"{value:,}".replace(",", ".") if isinstance(value, int) else f"{value:g}".replace(".", ",")
    if isinstance(value, str):
        return _moment(value) if _ISO_MOMENT.match(value) or _ISO_DATE.match(value) else value
    if isinstance(value, list | tuple):
        return "; ".join(_item(v) for v in value)
    return _item(value)


def readable_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                     labels: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Each field that differs as ``{field, label, before, after, line}``; ``line`` is one sentence:
    «Lệ phí: Miễn phí → 15.000 đồng», or for lists «Tên gọi khác: thêm «…»; bỏ «…»»."""
    names = {**FIELD_LABELS, **(labels or {})}
    old, new = before or {}, after or {}
    keys = list(new) + [k for k in old if k not in new]
    found: list[dict[str, str]] = []
    for key in keys:
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        label = names.get(key, key)
        shown_before, shown_after = describe_value(was), describe_value(now)
        if isinstance(was, list | type(None)) and isinstance(now, list | type(None)) and (was or now):
            old_items, new_items = [_item(v) for v in was or []], [_item(v) for v in now or []]
            added = [x for x in new_items if x not in old_items]
            removed = [x for x in old_items if x not in new_items]
            if len(added) == len(removed) == 1:  # one item edited: before → after reads best
                found.append({"field": key, "label": label, "before": shown_before, "after": shown_after,
                              "line": f"{label}: {_cut(removed[0])} → {_cut(added[0])}"})
                continue
            parts = ([f"thêm {', '.join(f'«{_cut(x)}»' for x in added)}"] if added else []) + (
                [f"bỏ {', '.join(f'«{_cut(x)}»' for x in removed)}"] if removed else [])
            line = f"{label}: {'; '.join(parts) if parts else 'đổi thứ tự'}"
        else:
            line = f"{label}: {_cut(shown_before)} → {_cut(shown_after)}"
        found.append({"field": key, "label": label, "before": shown_before, "after": shown_after, "line": line})
    return found


ACTION_WORDS = {"create": "Tạo mới", "restore": "Khôi phục mục đã xóa", "delete": "Đã xóa", "update": "Sửa"}


def revision_lines(revision: Revision) -> list[str]:
    """A revision as lines to read: what was done, then each field «trước → sau»."""
    if revision.action == "delete":
        before = revision.before or {}
        what = before.get("phrase") or before.get("question") or before.get("name") or revision.key
        return [f"{ACTION_WORDS['delete']}: {_cut(str(what))}"]
    changes = [c["line"] for c in readable_changes(revision.before, revision.after)]
    if revision.action == "update":
        return changes or ["Không đổi nội dung"]
    if revision.kind is EntityKind.PROCEDURE:  # a whole new procedure: its name says enough
        return [f"{ACTION_WORDS[revision.action]}: {(revision.after or {}).get('name', revision.key)}"]
    return [ACTION_WORDS[revision.action], *changes]


def readable_revision(revision: Revision) -> dict[str, Any]:
    """:meth:`Revision.to_dict` with ``lines`` (see :func:`revision_lines`) and each change's labels."""
    body = revision.to_dict()
    body["lines"] = revision_lines(revision)
    body["readable"] = readable_changes(revision.before, revision.after)
    return body
