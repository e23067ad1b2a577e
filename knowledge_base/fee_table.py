"""The center's fee table (``knowledge_base/fees.yaml``): what the catalogue leaves to the province.

A procedure's fee in the catalogue is often a number, or «miễn»; but many say only «theo quy định
của Hội đồng nhân dân tỉnh», and some are free only when filed in time (khai sinh within 60 days).
The center writes those amounts here. Each rule names a procedure, an amount in whole đồng (with
optional amounts per way of submission), and optionally ``when_late``: it applies only when the
dossier is filed more than ``days`` days after the date in one of its form fields.

Staff edit the YAML; :func:`load_fee_table` reads it with ``yaml.safe_load`` and raises
:class:`ValueError` naming the file, the rule and the field that is wrong (staff read it). Plain
Python, no framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.schema import ChannelKind

DEFAULT_FEE_TABLE = Path(__file__).resolve().parent / "fees.yaml"

__all__ = ["DEFAULT_FEE_TABLE", "FeeRule", "FeeTable", "LateCondition", "load_fee_table", "parse_fee_table"]


@dataclass(frozen=True)
class LateCondition:
    """The rule applies when the dossier is filed more than ``days`` days after the date in ``field``."""

    field: str
    days: int


@dataclass(frozen=True)
class FeeRule:
    procedure: str
    name: str
    amount: int
    amounts: dict[ChannelKind, int] = field(default_factory=dict)
    when_late: LateCondition | None = None
    basis: str = ""

    def amount_for(self, kind: ChannelKind) -> int:
        return self.amounts.get(kind, self.amount)


@dataclass(frozen=True)
class FeeTable:
    rules: tuple[FeeRule, ...] = ()
    source: str = ""

    def rules_for(self, procedure_code: str) -> list[FeeRule]:
        """The rules of one procedure, those with a condition first (the most specific wins)."""
        mine = [r for r in self.rules if r.procedure == procedure_code]
        return [r for r in mine if r.when_late] + [r for r in mine if not r.when_late]


def _amount(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: số tiền phải là số đồng nguyên, không âm (viết liền, không dấu chấm), "  # staff-facing
                         f"không phải «{value}»")
    return value


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _rule(item: Any, where: str) -> FeeRule:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: mỗi mục phải có procedure, name, amount")  # staff-facing
    known = {"procedure", "name", "amount", "amounts", "when_late", "basis"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise ValueError(f"{where}: không hiểu khóa {', '.join(unknown)} (chỉ dùng {', '.join(sorted(known))})")  # staff-facing
    procedure = _text(item.get("procedure"))
    if not procedure:
        raise ValueError(f"{where}: thiếu mã thủ tục (procedure)")  # staff-facing
    where = f"{where} (thủ tục {procedure})"  # staff-facing
    name = _text(item.get("name"))
    if not name:
        raise ValueError(f"{where}: thiếu tên mức phí (name)")  # staff-facing
    if "amount" not in item:
        raise ValueError(f"{where}: thiếu số tiền (amount)")  # staff-facing
    amount = _amount(item["amount"], f"{where}, amount")
    amounts: dict[ChannelKind, int] = {}
    for kind, value in (item.get("amounts") or {}).items():
        try:
            channel = ChannelKind(str(kind))
        except ValueError:
            kinds = ", ".join(k.value for k in ChannelKind)
            raise ValueError(f"{where}, amounts: cách nộp «{kind}» không có; dùng {kinds}") from None  # staff-facing
        amounts[channel] = _amount(value, f"{where}, amounts.{kind}")
    late = item.get("when_late")
    condition = None
    if late is not None:
        if not isinstance(late, dict) or not _text(late.get("field")) or "days" not in late:
            raise ValueError(f"{where}, when_late: cần {{field: <tên trường tờ khai>, days: <số ngày>}}")  # staff-facing
        days = late["days"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError(f"{where}, when_late.days: phải là số ngày nguyên, không âm")  # staff-facing
        condition = LateCondition(_text(late["field"]), days)
    return FeeRule(procedure, name, amount, amounts, condition, _text(item.get("basis")))


def parse_fee_table(data: Any, source: str = "") -> FeeTable:
    """A fee table from what YAML read; raises ValueError (Vietnamese) naming the wrong rule."""
    where = source or "bảng phí"  # staff-facing
    if data is None:
        return FeeTable((), source)
    if not isinstance(data, dict) or not isinstance(data.get("fees", []), list):
        raise ValueError(f"{where}: cần một danh sách «fees:»")  # staff-facing
    rules = tuple(_rule(item, f"{where}, mục {n}") for n, item in enumerate(data.get("fees") or [], 1))  # staff-facing
    seen: set[tuple[str, LateCondition | None]] = set()
    for rule in rules:
        key = (rule.procedure, rule.when_late)
        if key in seen:
            raise ValueError(f"{where}: thủ tục {rule.procedure} có hai mục cùng điều kiện; giữ một")  # staff-facing
        seen.add(key)
    return FeeTable(rules, source)


def load_fee_table(path: Path | None = None) -> FeeTable:
    """The fee table in ``path`` (default ``knowledge_base/fees.yaml``)."""
    path = path or DEFAULT_FEE_TABLE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"không đọc được bảng phí {path}: {exc.strerror or exc}") from exc  # staff-facing
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: YAML sai cú pháp ({exc})") from exc  # staff-facing
    return parse_fee_table(data, str(path))
