"""The center's fee table as staff edit it: list the rules, change an amount, see and revert the history.

``knowledge_base/fees.yaml`` is the default seed: it says which procedures' fees the center sets
(a fee the catalogue gives only as «theo quy định của HĐND tỉnh», a late registration) and their
first amounts. What staff change is kept as revisions in ``kb_revisions`` (entity ``fee``, key
:func:`~knowledge_base.fee_table.rule_key`; the state is :func:`~knowledge_base.fee_table.rule_amounts`),
like synonyms and FAQ entries: who, when, before and after, any state restorable. The live table is
the seed with each rule's latest revision laid over it (:func:`effective_fee_table`); no other
table holds it. A rule staff edited and later took out of the YAML is no longer shown or used.

Only amounts are edited here (whole đồng, an integer ≥ 0, optionally one per way of submission);
which procedures have a rule, and under which condition, stays in the YAML.
Errors are :class:`~knowledge_base.curation.results.CurationError` with a Vietnamese message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import desc, select
from sqlalchemy.orm import Session

from knowledge_base.curation.results import ChangeResult, Conflict, EntityKind, Invalid, NotFound
from knowledge_base.fee_table import (
    FeeRule,
    FeeTable,
    check_amounts,
    default_fee_table,
    rule_amounts,
    rule_key,
)
from knowledge_base.store import KbRevision, ProcedureRow

__all__ = ["FeeItem", "effective_fee_table", "fee_edits", "list_fee_items", "restore_fee", "update_fee"]

ENTITY = EntityKind.FEE.value


@dataclass(frozen=True)
class FeeItem:
    """One rule of the fee table as the curation page lists it (amounts in whole đồng)."""

    key: str
    procedure: str
    procedure_name: str
    name: str
    condition: str  # «nộp quá hạn: quá 60 ngày kể từ …», or ""
    basis: str
    amount: int
    amounts: dict[str, int]  # per way of submission (truc_tiep, truc_tuyen, buu_chinh) when it differs
    seed: dict[str, int]  # the amounts in knowledge_base/fees.yaml
    staff_edited: bool
    version: int  # 0: never edited


def _latest(session: Session) -> dict[str, KbRevision]:
    """The newest revision of every fee rule staff edited."""
    rows = session.scalars(select(KbRevision).where(KbRevision.entity == ENTITY)
                           .order_by(KbRevision.entity_id, desc(KbRevision.version), desc(KbRevision.id)))
    latest: dict[str, KbRevision] = {}
    for row in rows:
        latest.setdefault(row.entity_id, row)
    return latest


def fee_edits(session: Session) -> dict[str, dict[str, int]]:
    """What staff set, rule by rule: key → amounts (the latest revision of each edited rule)."""
    return {key: dict(row.after) for key, row in _latest(session).items() if isinstance(row.after, Mapping)}


def effective_fee_table(session: Session, seed: FeeTable | None = None) -> FeeTable:
    """The fee table in force: ``seed`` (default ``knowledge_base/fees.yaml``) with staff edits laid over."""
    return (seed or default_fee_table()).with_amounts(fee_edits(session))


def _condition(rule: FeeRule) -> str:
    if rule.when_late is None:
        return ""
    return (f"nộp quá hạn: quá {rule.when_late.days} ngày kể từ ngày ghi ở trường "  # staff-facing
            f"«{rule.when_late.field}» của tờ khai")


def _item(rule: FeeRule, names: Mapping[str, str], latest: KbRevision | None) -> FeeItem:
    seed = rule_amounts(rule)
    state = dict(latest.after) if latest is not None and isinstance(latest.after, Mapping) else seed
    amounts = {key.removeprefix("amount_"): int(value) for key, value in state.items() if key != "amount"}
    return FeeItem(key=rule_key(rule), procedure=rule.procedure, procedure_name=names.get(rule.procedure, ""),
                   name=rule.name, condition=_condition(rule), basis=rule.basis, amount=int(state["amount"]),
                   amounts=amounts, seed=seed, staff_edited=state != seed,
                   version=latest.version if latest is not None else 0)


def _names(session: Session, codes: list[str]) -> dict[str, str]:
    rows = session.execute(select(ProcedureRow.code, ProcedureRow.name).where(ProcedureRow.code.in_(codes)))
    return {code: name for code, name in rows}


def list_fee_items(session: Session, seed: FeeTable | None = None) -> list[FeeItem]:
    """Every rule of the fee table, in the YAML's order, with the amounts in force."""
    table = seed or default_fee_table()
    latest = _latest(session)
    names = _names(session, sorted({rule.procedure for rule in table.rules}))
    return [_item(rule, names, latest.get(rule_key(rule))) for rule in table.rules]


def _rule(table: FeeTable, key: str) -> FeeRule:
    rule = table.rule(key)
    if rule is None:
        raise NotFound(f"Bảng phí không có mục «{key}».")  # staff-facing
    return rule


def _set(session: Session, rule: FeeRule, state: dict[str, int], *, actor: str, reason: str,
         expected_version: int | None = None) -> ChangeResult:
    key = rule_key(rule)
    latest = _latest_of(session, key)
    version = latest.version if latest is not None else 0
    if expected_version is not None and expected_version != version:
        raise Conflict(f"Mức phí «{rule.name}» vừa được người khác sửa (phiên bản {version}); "  # staff-facing
                       "hãy tải lại trang rồi sửa lại.")
    before = dict(latest.after) if latest is not None and isinstance(latest.after, Mapping) else rule_amounts(rule)
    if before == state:
        return ChangeResult(EntityKind.FEE, key, version, False, None, before)
    revision = KbRevision(entity=ENTITY, entity_id=key, version=version + 1, actor=actor, reason=reason,
                          before=before, after=state)
    session.add(revision)
    session.flush()
    return ChangeResult(EntityKind.FEE, key, revision.version, True, revision.id, state)


def _latest_of(session: Session, key: str) -> KbRevision | None:
    return session.scalar(select(KbRevision).where(KbRevision.entity == ENTITY, KbRevision.entity_id == key)
                          .order_by(desc(KbRevision.version), desc(KbRevision.id)).limit(1))


def update_fee(session: Session, key: str, amount: Any, amounts: Mapping[str, Any] | None = None, *,
               actor: str, reason: str = "", expected_version: int | None = None,
               seed: FeeTable | None = None) -> ChangeResult:
    """Set the amounts of the rule ``key``: ``amount`` (whole đồng, ≥ 0) and, optionally, one per way
    of submission (``amounts``: ``{"truc_tuyen": 4000}``; one left empty takes ``amount``).

    ``expected_version`` is the version the edit started from: another staff member's edit in
    between answers :class:`Conflict`. Raises :class:`Invalid` for an amount that is not one.
    """
    rule = _rule(seed or default_fee_table(), key)
    try:
        state = check_amounts(amount, amounts)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return _set(session, rule, state, actor=actor, reason=reason or "cán bộ sửa mức phí",  # staff-facing
                expected_version=expected_version)


def restore_fee(session: Session, key: str, state: Mapping[str, Any] | None, *, actor: str, reason: str,
                seed: FeeTable | None = None) -> ChangeResult:
    """Put back the amounts ``state`` of an earlier revision (itself a new revision)."""
    rule = _rule(seed or default_fee_table(), key)
    if not isinstance(state, Mapping) or "amount" not in state:
        raise Conflict("Phiên bản này không có số tiền để khôi phục.")  # staff-facing
    amounts = {name.removeprefix("amount_"): value for name, value in state.items() if name != "amount"}
    try:
        checked = check_amounts(state["amount"], amounts)
    except ValueError as exc:
        raise Conflict(f"Phiên bản này không khôi phục được: {exc}") from None  # staff-facing
    return _set(session, rule, checked, actor=actor, reason=reason)


def fee_rule_exists(key: str, seed: FeeTable | None = None) -> None:
    """:class:`NotFound` unless the fee table has the rule ``key`` (for the history routes)."""
    _rule(seed or default_fee_table(), key)
