"""The center's fee table (``knowledge_base/fees.yaml``): what the catalogue leaves to the province.

A procedure's fee in the catalogue is often a number, or «miễn»; but many say only «theo quy định
của Hội đồng nhân dân tỉnh», and some are free only when filed in time (khai sinh within 60 days).
The center writes those amounts here. Each rule names a procedure, an amount in whole đồng (with
optional amounts per way of submission), and optionally ``when_late``: it applies only when the
dossier is filed more than ``days`` days after the date in one of its form fields.

The YAML is the default seed: :func:`load_fee_table` reads it with ``yaml.safe_load`` and raises
:class:`ValueError` naming the file, the rule and the field that is wrong (staff read it). Staff
change the amounts on the curation page (``/staff/kb``, tab «Lệ phí»); those edits are versioned in
the database (:mod:`knowledge_base.curation.fees`) and laid over the seed with
:meth:`FeeTable.with_amounts`. Each rule is named by :func:`rule_key`; its amounts, as the history
keeps them, by :func:`rule_amounts`, and :func:`check_amounts` reads what staff typed. Plain Python,
no framework.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.schema import ChannelKind

DEFAULT_FEE_TABLE = Path(__file__).resolve().parent / "fees.yaml"
MAX_AMOUNT = 1_000_000_000
"""No fee the center sets is this large (whole đồng): a larger amount is a typing mistake."""
KEY_LENGTH = 64

__all__ = ["DEFAULT_FEE_TABLE", "MAX_AMOUNT", "FeeRule", "FeeTable", "LateCondition", "check_amounts",
           "default_fee_table", "load_fee_table", "parse_fee_table", "rule_amounts", "rule_key"]


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

    def rule(self, key: str) -> FeeRule | None:
        """The rule named ``key`` (:func:`rule_key`), or None."""
        return next((r for r in self.rules if rule_key(r) == key), None)

    def with_amounts(self, edits: Mapping[str, Mapping[str, int]]) -> FeeTable:
        """This table with the amounts of the rules named in ``edits`` (key → :func:`rule_amounts`)
        replaced; an edit of a rule this table does not have is ignored."""
        if not edits:
            return self
        rules = []
        for rule in self.rules:
            edit = edits.get(rule_key(rule))
            if edit is not None and "amount" in edit:
                amounts = {kind: int(edit[f"amount_{kind.value}"]) for kind in ChannelKind
                           if edit.get(f"amount_{kind.value}") is not None}
                rule = replace(rule, amount=int(edit["amount"]), amounts=amounts)
            rules.append(rule)
        return FeeTable(tuple(rules), self.source)


def rule_key(rule: FeeRule) -> str:
    """A rule's name in URLs and in the history: ``1.004884``, or ``1.001193~birth_child_birth_date~60``
    for a rule that applies when filed late (a procedure has one rule per condition)."""
    if rule.when_late is None:
        key = rule.procedure
    else:
        key = f"{rule.procedure}~{rule.when_late.field}~{rule.when_late.days}"
    if len(key) > KEY_LENGTH or not re.fullmatch(r"[\w.~-]+", key):
        key = f"{rule.procedure[:40]}~{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    return key


def rule_amounts(rule: FeeRule) -> dict[str, int]:
    """A rule's amounts as the history keeps them: ``{"amount": 8000, "amount_truc_tuyen": 4000}``."""
    amounts = {"amount": rule.amount}
    amounts.update({f"amount_{kind.value}": rule.amounts[kind] for kind in ChannelKind if kind in rule.amounts})
    return amounts


_DIGITS = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?:[.,\s][0-9]{3})+")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
"""Fullwidth digits (from an East Asian keyboard) read as ASCII; other digit-like characters (², ٣) are refused."""
_SHOWN = 24  # at most this many characters of what was typed are quoted back


def _quoted(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _typed_amount(value: Any, label: str) -> int | None:
    """What staff typed as an amount in whole đồng: ``8000``, ``"8000"``, ``"8.000"``; None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    wrong = (f"{label}: cần một số đồng nguyên, không âm, ví dụ 8000 hoặc 8.000 "  # staff-facing
             f"(không phải «{_quoted(value)}»).")
    if isinstance(value, bool):
        raise ValueError(wrong)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{label} phải là số đồng nguyên, không có phần lẻ "  # staff-facing
                             f"(không phải «{_quoted(f'{value:g}')}»).")
        value = int(value)
    if isinstance(value, str):
        text = value.strip().removesuffix("đồng").removesuffix("đ").strip().translate(_FULLWIDTH)
        if _DIGITS.fullmatch(text) or _GROUPED.fullmatch(text):
            digits = re.sub(r"[^0-9]", "", text).lstrip("0") or "0"
            value = int(digits) if len(digits) <= len(str(MAX_AMOUNT)) else MAX_AMOUNT + 1
        elif text.startswith("-"):
            raise ValueError(f"{label} không được âm (không phải «{_quoted(value)}»).")  # staff-facing
        else:
            raise ValueError(wrong)
    if not isinstance(value, int):
        raise ValueError(wrong)
    if value < 0:
        raise ValueError(f"{label} không được âm (không phải «{_quoted(value)}»).")  # staff-facing
    if value > MAX_AMOUNT:
        limit = f"{MAX_AMOUNT:,}".replace(",", ".")
        raise ValueError(f"{label} quá lớn (hơn {limit} đồng); hãy kiểm tra lại.")  # staff-facing
    return value


_KIND_LABELS = {ChannelKind.IN_PERSON: "nộp trực tiếp", ChannelKind.ONLINE: "nộp trực tuyến",  # staff-facing
                ChannelKind.POST: "nộp qua bưu chính"}  # staff-facing


def check_amounts(amount: Any, amounts: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Amounts staff typed for one rule, checked: ``{"amount": …, "amount_<cách nộp>": …}``.

    ``amount`` is required (0 = nothing to collect); ``amounts`` may give one per way of submission
    (``truc_tiep``, ``truc_tuyen``, ``buu_chinh``; empty = the same as ``amount``). Raises
    :class:`ValueError` with a Vietnamese message saying which box is wrong.
    """
    main = _typed_amount(amount, "Số tiền")  # staff-facing
    if main is None:
        raise ValueError("Số tiền: chưa nhập; ghi 0 nếu không thu.")  # staff-facing
    checked = {"amount": main}
    for kind_name, value in (amounts or {}).items():
        try:
            kind = ChannelKind(str(kind_name))
        except ValueError:
            kinds = ", ".join(k.value for k in ChannelKind)
            raise ValueError(f"Cách nộp «{kind_name}» không có; dùng {kinds}.") from None  # staff-facing
        typed = _typed_amount(value, f"Số tiền khi {_KIND_LABELS[kind]}")  # staff-facing
        if typed is not None:
            checked[f"amount_{kind.value}"] = typed
    return checked


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


@cache
def default_fee_table() -> FeeTable:
    """The seed table ``knowledge_base/fees.yaml``, read once per process."""
    return load_fee_table()


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
