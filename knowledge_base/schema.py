"""What the knowledge base knows, declared once.

These are the shapes every part of Một Cửa agrees on: the editable YAML files
under ``knowledge_base/procedures/``, the national portal importer, staff edits,
the database rows and the retrieval index all convert to and from them.

A procedure and its parts are pydantic dataclasses: each field states its type and
its constraint here, and nowhere else. Building one (``Procedure(...)``,
:meth:`Procedure.from_dict`, :func:`parse_procedure`) checks it against that
declaration; :class:`InvalidProcedure` then says, in Vietnamese, which field is wrong.
They stay dataclasses (``dataclasses.replace``, ``asdict`` and ``fields`` work), and
no web framework is imported here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic.dataclasses import dataclass

from knowledge_base.messages import render

_RECORD = ConfigDict(extra="forbid")


class ChannelKind(StrEnum):
    """How a dossier may be submitted (hình thức nộp)."""

    IN_PERSON = "truc_tiep"
    ONLINE = "truc_tuyen"
    POST = "buu_chinh"

    @property
    def label(self) -> str:
        """«Trực tiếp», «Trực tuyến», «Dịch vụ bưu chính» (the catalogue's ``fact.channel.*``)."""
        return render(f"fact.channel.{self.value}")


class TimeUnit(StrEnum):
    WORKING_DAY = "ngay_lam_viec"
    DAY = "ngay"
    HOUR = "gio"
    MONTH = "thang"
    UNSPECIFIED = "khong_ro"

    @property
    def label(self) -> str:
        """«ngày làm việc», «giờ»… (the catalogue's ``fact.unit.*``); nothing when the unit is not stated."""
        return "" if self is TimeUnit.UNSPECIFIED else render(f"fact.unit.{self.value}")


# --- field types --------------------------------------------------------------------------------


def _as_text(value: Any) -> Any:
    """``None`` is no text; a number or a date YAML read unquoted is its written form."""
    if value is None:
        return ""
    if isinstance(value, int | float | date) and not isinstance(value, bool):
        return str(value)
    return value


def _as_list(value: Any) -> Any:
    return [] if value is None else value


def _absent_if_empty(value: Any) -> Any:
    return value or None


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number is needed, not true/false")
    return value


def _visible(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Text = Annotated[str, BeforeValidator(_as_text)]
Texts = Annotated[list[Text], BeforeValidator(_as_list)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), BeforeValidator(_as_text)]
"""A code or a name: trimmed, never empty."""
Label = Annotated[str, AfterValidator(_visible), BeforeValidator(_as_text)]
"""A text that must show something (kept as written)."""
Amount = Annotated[int, Field(ge=0), BeforeValidator(_no_bool)]


# --- the records --------------------------------------------------------------------------------


@dataclass(frozen=True, config=_RECORD)
class ProcessingTime:
    value: Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(_no_bool)]
    unit: TimeUnit = TimeUnit.WORKING_DAY
    note: Text = ""

    def describe(self) -> str:
        number = f"{self.value:g}".replace(".", ",")
        text = render("fact.time", number=number, unit=self.unit.label) if self.unit.label else number
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True, config=_RECORD)
class Fee:
    """A fee in Vietnamese đồng. ``amount`` is ``None`` when the source gives none."""

    amount: Amount | None = None
    free: bool = False
    currency: Text = "VND"
    note: Text = ""

    def describe(self) -> str:
        if self.free:
            base = render("fact.fee.free")
        elif self.amount is None:
            base = render("fact.fee.unknown")
        else:
            amount = f"{self.amount:,}".replace(",", ".")
            base = render("fact.fee.amount_vnd", amount=amount) if self.currency == "VND" else f"{amount} {self.currency}"
        return f"{base} ({self.note})" if self.note else base


@dataclass(frozen=True, config=_RECORD)
class SubmissionChannel:
    kind: ChannelKind
    time: Annotated[ProcessingTime | None, BeforeValidator(_absent_if_empty)] = None
    fee: Annotated[Fee | None, BeforeValidator(_absent_if_empty)] = None
    description: Text = ""


@dataclass(frozen=True, config=_RECORD)
class RequiredDocument:
    name: Label
    copies: Amount = 1  # 0: a line of the portal's list that explains, nothing to hand in
    original: StrictBool | None = None  # True: bản chính, False: bản sao, None: not stated
    form: Text = ""  # mẫu đơn, tờ khai (template name), if any
    note: Text = ""

    def describe(self) -> str:
        kind = {True: "original", False: "copy", None: "unspecified"}[self.original]
        text = render(f"fact.document.{kind}", name=self.name, copies=self.copies)
        return render("fact.document.form", document=text, form=self.form) if self.form else text


@dataclass(frozen=True, config=_RECORD)
class LegalReference:
    number: Label  # e.g. "123/2015/NĐ-CP"
    title: Text = ""


@dataclass(config=_RECORD)
class Procedure:
    code: Key  # mã thủ tục, e.g. "1.001193"
    name: Key
    levels: Texts = dataclasses.field(default_factory=list)  # "Cấp xã", "Cấp tỉnh", "Cấp bộ"
    field: Text = ""  # lĩnh vực
    applicants: Text = ""  # đối tượng thực hiện
    competent_agency: Text = ""
    receiving_agency: Text = ""
    steps: Texts = dataclasses.field(default_factory=list)
    channels: Annotated[list[SubmissionChannel], BeforeValidator(_as_list)] = dataclasses.field(
        default_factory=list
    )
    documents: Annotated[list[RequiredDocument], BeforeValidator(_as_list)] = dataclasses.field(
        default_factory=list
    )
    conditions: Text = ""
    result: Text = ""
    legal_basis: Annotated[list[LegalReference], BeforeValidator(_as_list)] = dataclasses.field(
        default_factory=list
    )
    related: Texts = dataclasses.field(default_factory=list)  # codes of related procedures
    aliases: Texts = dataclasses.field(default_factory=list)  # how citizens name it
    source: Text = ""  # "dichvucong", "default", "staff"
    updated: Text = ""  # ISO date of the last update at the source

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Procedure:
        """Build from a stored mapping (YAML, JSON column); keys it does not know are ignored.

        Raises ValueError naming the procedure and the wrong field.
        """
        try:
            return parse_procedure(data, unknown_fields="ignore")
        except InvalidProcedure as exc:
            first = exc.problems[0]
            code = str(data.get("code") or "").strip() if isinstance(data, dict) else ""
            if first.field == "code":
                raise ValueError("thủ tục thiếu mã (code)") from exc  # staff-facing
            if first.field == "name" and not str(data.get("name") or "").strip():
                raise ValueError(f"thủ tục {code} thiếu tên (name)") from exc  # staff-facing
            raise ValueError(f"thủ tục {code}: {first.message}" if code else first.message) from exc  # staff-facing


# --- parsing and its errors ---------------------------------------------------------------------
# Staff read these messages when they edit a procedure (a citizen never does): their lines carry
# ``# staff-facing``. What citizens read of a procedure (labels, describe()) is the catalogue's ``fact.*``.

_PROCEDURE = TypeAdapter(Procedure)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One wrong field: where (``"channels.1.fee.amount"``, counting from 1) and what, in Vietnamese."""

    field: str
    message: str


class InvalidProcedure(ValueError):
    """A mapping that is not a procedure; ``problems`` lists every wrong field, the first is the message."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].message)
        self.problems = problems


def parse_procedure(data: Any, *, unknown_fields: Literal["forbid", "ignore"] = "forbid") -> Procedure:
    """``data`` checked against the declaration above, or :class:`InvalidProcedure`.

    ``unknown_fields="ignore"`` reads a mapping written by an older version without complaint.
    """
    try:
        return _PROCEDURE.validate_python(data, extra=unknown_fields)
    except ValidationError as exc:
        raise InvalidProcedure(describe_errors(exc, data)) from None


_LISTS = ("levels", "steps", "channels", "documents", "legal_basis", "related", "aliases")
_KINDS = ", ".join(k.value for k in ChannelKind)
_UNITS = ", ".join(u.value for u in TimeUnit)
_UNKNOWN = ("unexpected_keyword_argument", "extra_forbidden")
_WHAT = {
    "string_type": "phải là chữ",  # staff-facing
    "list_type": "phải là một danh sách",  # staff-facing
    "bool_type": "phải là true hoặc false",  # staff-facing
    "bool_parsing": "phải là true hoặc false",  # staff-facing
    "int_type": "phải là số nguyên",  # staff-facing
    "int_parsing": "phải là số nguyên",  # staff-facing
    "int_from_float": "phải là số nguyên",  # staff-facing
    "float_type": "phải là một số",  # staff-facing
    "float_parsing": "phải là một số",  # staff-facing
    "greater_than_equal": "không được âm",  # staff-facing
    "missing": "bị thiếu",  # staff-facing
    "dataclass_type": "phải là một đối tượng",  # staff-facing
    "enum": "không nằm trong danh sách cho phép",  # staff-facing
}


def describe_errors(error: ValidationError, data: Any) -> list[Problem]:
    """Pydantic's errors for a procedure, as staff read them: unknown fields first, then in field order."""
    errors = error.errors()
    problems: list[Problem] = []
    unknown: dict[tuple, list[str]] = {}
    for item in errors:
        if item["type"] in _UNKNOWN:
            unknown.setdefault(tuple(item["loc"][:-1]), []).append(str(item["loc"][-1]))
    for where, names in sorted(unknown.items(), key=lambda group: len(group[0])):
        owner = _place(where) if where else "thủ tục"  # staff-facing
        names.sort()
        problems.append(
            Problem(_path((*where, names[0])), f"Trường không có trong {owner}: {', '.join(names)}.")  # staff-facing
        )
    for item in errors:
        if item["type"] not in _UNKNOWN:
            loc = tuple(item["loc"])
            problems.append(Problem(_path(loc), _message(loc, item["type"], item.get("input"), data)))
    return problems


def _path(loc: tuple) -> str:
    return ".".join(str(part + 1) if isinstance(part, int) else str(part) for part in loc)


def _place(loc: tuple) -> str:
    names = {"channels": "cách nộp", "documents": "giấy tờ", "legal_basis": "căn cứ pháp lý"}  # staff-facing
    text = f"{names.get(loc[0], loc[0])} thứ {loc[1] + 1}" if len(loc) > 1 else str(loc[0])  # staff-facing
    return f"{text}, {loc[2]}" if len(loc) > 2 else text


def _document_name(data: Any, index: int) -> str:
    try:
        name = data["documents"][index].get("name")
    except (TypeError, KeyError, IndexError, AttributeError):
        return ""
    return " ".join(str(name or "").split())


def _message(loc: tuple, kind: str, value: Any, data: Any) -> str:
    if not loc:
        return "Dữ liệu thủ tục phải là một đối tượng (mapping)."  # staff-facing
    top, rest = loc[0], loc[1:]
    if top == "code":
        return (
            "Mã thủ tục không được để trống."  # staff-facing
            if kind in ("missing", "string_too_short")
            else ("Mã thủ tục phải là chữ.")  # staff-facing
        )
    if top == "name":
        return (
            "Tên thủ tục không được để trống."  # staff-facing
            if kind in ("missing", "string_too_short")
            else ("Tên thủ tục phải là chữ.")  # staff-facing
        )
    if top in _LISTS and not rest:
        return f"Trường «{top}» phải là một danh sách."  # staff-facing
    if top == "channels" and rest:
        number, part = rest[0] + 1, rest[1:]
        if not part or part == ("kind",) and kind == "missing":
            return f"Cách nộp thứ {number} thiếu hình thức (kind)."  # staff-facing
        if part == ("kind",):
            return f"Hình thức nộp «{value}» không hợp lệ; chọn một trong: {_KINDS}."  # staff-facing
        if part[0] == "time" and (len(part) == 1 or part[1:] == ("value",) and kind == "missing"):
            return f"Thời hạn của cách nộp thứ {number} thiếu số (value)."  # staff-facing
        if part == ("time", "value"):
            return f"Thời hạn của cách nộp thứ {number} phải là một số không âm."  # staff-facing
        if part == ("time", "unit"):
            return f"Đơn vị thời hạn «{value}» không hợp lệ; chọn một trong: {_UNITS}."  # staff-facing
        if part == ("fee", "amount"):
            return f"Lệ phí của cách nộp thứ {number} phải là số đồng nguyên, không âm."  # staff-facing
        if part[0] == "fee":
            return f"Lệ phí của cách nộp thứ {number} không hợp lệ."  # staff-facing
    if top == "documents" and rest:
        number, part = rest[0] + 1, rest[1:]
        name = _document_name(data, rest[0])
        if not part or part == ("name",):
            return f"Giấy tờ thứ {number} thiếu tên."  # staff-facing
        if part == ("copies",):
            return f"Số bản của giấy tờ «{name}» phải là một số nguyên không âm."  # staff-facing
        if part == ("original",):
            return f"«original» của giấy tờ «{name}» phải là true, false hoặc null."  # staff-facing
    if top == "legal_basis" and rest and (len(rest) == 1 or rest[1:] == ("number",)):
        return "Mỗi căn cứ pháp lý cần số hiệu văn bản (number)."  # staff-facing
    return f"Trường «{_path(loc)}» {_WHAT.get(kind, 'không hợp lệ')}."  # staff-facing


# --- what citizens say, and what they ask often --------------------------------------------------
# Text here is never converted: a number where a phrase or a code belongs is refused, not written
# out (an unquoted code in YAML has lost its leading zeros already).

Phrase = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
"""A text that says something: trimmed, never empty, never a number read for text."""


@dataclass(frozen=True, config=_RECORD)
class Synonym:
    """A phrase citizens use and the canonical wording it stands for."""

    phrase: Phrase  # "sổ đỏ"
    canonical: Phrase  # "giấy chứng nhận quyền sử dụng đất"


@dataclass(frozen=True, config=_RECORD)
class FaqEntry:
    question: Phrase
    answer: Phrase
    procedures: tuple[Phrase, ...] = ()  # procedure codes it points at
