"""The fee a dossier owes, in whole đồng. Plain Python.

:func:`quote_fee` looks, in order, at:

1. the center's fee table (:mod:`knowledge_base.fee_table`): a rule of the procedure whose
   condition holds (filed late: more than N days after a date of the form), then a rule without
   condition — the center's own amounts win, since they are what its cashier collects;
2. the procedure's fee for the way the dossier was submitted (catalogue): «miễn» owes 0, a
   number owes that number.

A fee the catalogue states only in words («theo quy định của HĐND tỉnh») with no rule in the
table cannot be priced: :class:`FeeUndetermined` says so, and which file to complete.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from knowledge_base.fee_table import FeeRule, FeeTable
from knowledge_base.schema import ChannelKind, Procedure

__all__ = ["FeeQuote", "FeeUndetermined", "form_date", "quote_fee"]

CATALOGUE = "catalogue"
CENTER_TABLE = "center_table"
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


class FeeUndetermined(ValueError):
    """No amount for this dossier: the catalogue gives none and the center's table has no rule (staff-facing)."""


@dataclass(frozen=True)
class FeeQuote:
    amount: int  # whole đồng; 0 = nothing to pay
    source: str  # "catalogue" | "center_table"
    note: str  # what the amount is (the rule's name, or the catalogue's note)


def form_date(value: Any) -> date | None:
    """A date a form value holds: a ``date``, ISO ``2026-03-01`` (how dossiers store them) or ``01/03/2026``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    match = _DAY_MONTH_YEAR.fullmatch(text)
    if match:
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            return None
    return None


def _applies(rule: FeeRule, values: Mapping[str, Any], filed_on: date) -> bool:
    if rule.when_late is None:
        return True
    since = form_date(values.get(rule.when_late.field))
    return since is not None and (filed_on - since).days > rule.when_late.days


def quote_fee(procedure: Procedure, kind: ChannelKind | str, *, values: Mapping[str, Any], filed_on: date,
              table: FeeTable) -> FeeQuote:
    """What a dossier of ``procedure`` submitted as ``kind`` on ``filed_on`` with form ``values`` owes."""
    kind = ChannelKind(kind)
    for rule in table.rules_for(procedure.code):
        if _applies(rule, values, filed_on):
            note = f"{rule.name} ({rule.basis})" if rule.basis else rule.name
            return FeeQuote(rule.amount_for(kind), CENTER_TABLE, note)
    channel = next((c for c in procedure.channels if c.kind == kind), None)
    fee = channel.fee if channel else None
    if fee is not None and fee.free:
        return FeeQuote(0, CATALOGUE, fee.note)
    if fee is not None and fee.amount is not None:
        return FeeQuote(fee.amount, CATALOGUE, fee.note)
    said = f": «{fee.note}»" if fee is not None and fee.note else ""
    where = table.source or "knowledge_base/fees.yaml"
    raise FeeUndetermined(
        f"Chưa có mức phí cho thủ tục {procedure.code} ({procedure.name}) khi nộp «{kind.label}»"  # staff-facing
        f"{said}. Thêm mức phí của tỉnh vào bảng phí của Trung tâm ({where})."
    )
