"""A form file as declared: the layout of ``knowledge_base/forms/*.yaml`` as pydantic models.

Each key's type and constraint is stated once here, with the rules that tie a field's keys
to its type (choices only for a choice, ``cccd_field`` only where the card can fill it…).
:func:`describe_error` says what pydantic found wrong the way a form author reads it,
naming the section and field. :mod:`knowledge_base.forms` turns a valid file into a
:class:`~knowledge_base.forms.FormDefinition` and checks what spans fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "AskIfFile",
    "CCCD_FIELDS",
    "FIELD_TYPES",
    "LENGTH_TYPES",
    "FieldFile",
    "FormFile",
    "SectionFile",
    "describe_error",
]

FieldType = Literal[
    "text", "name", "date", "birth_date", "birth_date_or_year", "cccd", "phone", "choice", "address", "number"
]
CccdField = Literal["number", "full_name", "birth_date", "sex", "address", "issued"]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
CCCD_FIELDS: tuple[str, ...] = get_args(CccdField)
_CCCD_COMPATIBLE = {
    "number": {"cccd"},
    "full_name": {"name"},
    "birth_date": {"birth_date", "birth_date_or_year", "date"},
    "sex": {"choice"},
    "address": {"address", "text"},
    "issued": {"date"},
}
LENGTH_TYPES = {"text", "name", "address"}
_DEFAULT_MAX_LENGTH = {"text": 200, "name": 100, "address": 300}
_SNAKE_CASE = r"^[a-z][a-z0-9_]{1,63}$"
_SLOT_NAME = re.compile(_SNAKE_CASE)
_RESERVED_SLOTS = {"requested_slot", "session_started_metadata", "context", "flow_hashes", "dialogue_stack"}


def _filled(value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise PydanticCustomError("blank", "must not be blank")
    return text


def _stripped(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be blank")
    return value.strip()


def _listed(value: Any) -> Any:
    """One string stands for a list of one; nothing for an empty list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def _rule(message: str) -> PydanticCustomError:
    return PydanticCustomError("form_rule", "{message}", {"message": message})


_Required = Annotated[StrictStr, AfterValidator(_filled)]
_Optional = Annotated[StrictStr | None, AfterValidator(lambda value: " ".join((value or "").split()))]
_Snake = Annotated[StrictStr, StringConstraints(pattern=_SNAKE_CASE)]
_Aliases = Annotated[tuple[_Required, ...], BeforeValidator(_listed)]
_Choice = Annotated[StrictStr, AfterValidator(_stripped)]
_ProcedureCode = Annotated[StrictStr, StringConstraints(pattern=r"^\d\.\d{6}$")]


class AskIfFile(BaseModel):
    """``ask_if: {younger_than: 18, birth_date: permanent_birth_date}``: the field is asked only when the person
    born on that date (a birth date asked earlier in the form) is younger than that many years today."""

    model_config = ConfigDict(extra="forbid")

    younger_than: Annotated[StrictInt, Field(ge=1, le=150)]
    birth_date: _Snake


class FieldFile(BaseModel):
    """One field as written in a form file."""

    model_config = ConfigDict(extra="forbid")

    name: _Snake
    label: _Required
    type: FieldType
    prompt: _Required
    help: _Optional = ""
    required: StrictBool = True
    choices: list[_Choice] | None = None
    cccd_field: CccdField | None = None
    max_length: Annotated[StrictInt, Field(ge=1)] | None = None
    when: Literal["any", "past", "future"] | None = None
    min_value: StrictInt | None = None
    max_value: StrictInt | None = None
    unit: Literal["month"] | None = None  # a number counted in months: «2 năm» is read as 24
    birth_date_field: StrictStr | None = None
    aliases: _Aliases = ()
    ask_if: AskIfFile | None = None

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name in _RESERVED_SLOTS:
            raise _rule("this name is reserved by Rasa")
        return name

    @model_validator(mode="after")
    def _fits_its_type(self) -> FieldFile:
        problem = self._type_problem()
        if problem:
            raise _rule(problem)
        if self.max_length is None and self.type in LENGTH_TYPES:
            self.max_length = _DEFAULT_MAX_LENGTH[self.type]
        return self

    def _type_problem(self) -> str:
        """What does not fit the field's type, or ""."""
        kind = self.type
        if kind == "choice" and not self.choices:
            return "a choice field needs 'choices': a non-empty list of strings"
        if kind == "choice" and self.choices and len(set(self.choices)) != len(self.choices):
            return f"duplicate choices in {self.choices}"
        if kind != "choice" and self.choices is not None:
            return f"'choices' is only for type choice, not {kind}"
        if self.cccd_field is not None and kind not in _CCCD_COMPATIBLE[self.cccd_field]:
            return f"cccd_field {self.cccd_field!r} cannot fill a field of type {kind!r}"
        if self.cccd_field == "sex" and not {"Nam", "Nữ"} <= set(self.choices or ()):
            return "cccd_field 'sex' needs the choices 'Nam' and 'Nữ'"
        if self.max_length is not None and kind not in LENGTH_TYPES:
            return f"'max_length' is only for {sorted(LENGTH_TYPES)}, not {kind}"
        if self.when is not None and kind != "date":
            return "'when' is only for type date (a birth_date is always in the past)"
        if self.unit is not None and kind != "number":
            return "'unit' is only for type number"
        if (self.min_value is not None or self.max_value is not None) and kind != "number":
            return "'min_value'/'max_value' are only for type number"
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            return f"min_value {self.min_value} is greater than max_value {self.max_value}"
        if self.birth_date_field is not None and kind != "cccd":
            return "'birth_date_field' is only for type cccd"
        return ""


class SectionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: _Required
    person: StrictStr | None = None
    fields: Annotated[list[FieldFile], Field(min_length=1)]
    aliases: _Aliases = ()

    @field_validator("person")
    @classmethod
    def _snake_case(cls, person: str | None) -> str:
        if person and not _SLOT_NAME.fullmatch(person):
            raise _rule(f"person {person!r} must be snake_case")
        return person or ""


class SignerFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: _Required
    field: StrictStr


class FormFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: _Snake
    title: _Required
    procedures: Annotated[list[_ProcedureCode], Field(min_length=1), BeforeValidator(_listed)]
    addressee: _Optional = ""
    description: _Optional = ""
    signers: Annotated[list[SignerFile], BeforeValidator(_listed)] = []
    sections: Annotated[list[SectionFile], Field(min_length=1)]
    commitment: _Optional = ""


# How a wrong value reads, by key; a list key has one text for the list and one for an item.
_LIST_PROBLEMS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "procedures": (
        'needs a list of procedure codes such as "1.001193"',
        lambda value: f'{value!r} is not a procedure code like "1.001193" (quote it in YAML)',
    ),
    "sections": (
        "needs a non-empty list of sections",
        lambda value: "a section must be a mapping with title and fields",
    ),
    "fields": (
        "needs a non-empty list of fields",
        lambda value: f"a field must be a mapping, got {type(value).__name__}",
    ),
    "signers": ("'signers' must be a list", lambda value: "a signer must be a mapping with title and field"),
    "choices": (
        "a choice field needs 'choices': a non-empty list of strings",
        lambda value: "a choice field needs 'choices': a non-empty list of strings",
    ),
    "aliases": (
        "'aliases' must be a list of non-empty strings",
        lambda value: "'aliases' must be a list of non-empty strings",
    ),
}
_VALUE_PROBLEMS: dict[str, Callable[[Any], str]] = {
    "id": lambda value: f"{value!r} must be snake_case",
    "name": lambda value: (
        f"field name {value!r} must be snake_case (a-z, 0-9, _; 2–64 chars, starts with a letter)"
    ),
    "type": lambda value: f"type {value!r} is not one of {', '.join(FIELD_TYPES)}",
    "cccd_field": lambda value: f"cccd_field {value!r} is not one of {', '.join(CCCD_FIELDS)}",
    "when": lambda value: f"'when' must be any, past or future, got {value!r}",
    "required": lambda value: f"'required' must be true or false, got {value!r}",
    "max_length": lambda value: (
        "'max_length' must be positive"
        if isinstance(value, int) and not isinstance(value, bool)
        else f"'max_length' must be an integer, got {value!r}"
    ),
    "min_value": lambda value: f"'min_value' must be an integer, got {value!r}",
    "max_value": lambda value: f"'max_value' must be an integer, got {value!r}",
}
_MODEL_UNDER: dict[str, type[BaseModel]] = {
    "": FormFile,
    "sections": SectionFile,
    "fields": FieldFile,
    "signers": SignerFile,
    "ask_if": AskIfFile,
}


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """``sections[0].fields[2]``, with the field's name in front when it has a usable one."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    if len(loc) == 4 and loc[2] == "fields":
        try:
            name = data["sections"][loc[1]]["fields"][loc[3]].get("name")
        except (KeyError, IndexError, TypeError, AttributeError):
            name = None
        if isinstance(name, str) and _SLOT_NAME.fullmatch(name):
            return f"field '{name}' ({text})"
    return text


def describe_error(error: ValidationError, data: Any) -> tuple[str, str]:
    """The first problem pydantic found in ``data``, as a form author reads it: ``(where, what)``."""
    errors = error.errors()
    loc, kind, value = tuple(errors[0]["loc"]), errors[0]["type"], errors[0].get("input")
    if not loc:
        return ("", "a form file must be a mapping with id, title, procedures and sections")
    if kind == "extra_forbidden":
        container = loc[:-1]
        unknown = sorted(
            str(e["loc"][-1]) for e in errors if e["type"] == kind and tuple(e["loc"][:-1]) == container
        )
        owner = next((p for p in reversed(container) if isinstance(p, str)), "")
        allowed = sorted(_MODEL_UNDER[owner].model_fields)
        return _where(container, data), f"unknown key(s) {unknown}; allowed: {allowed}"
    if isinstance(loc[-1], int) and kind == "form_rule":  # a rule about a whole field
        return _where(loc, data), errors[0]["msg"]
    at = max(i for i, part in enumerate(loc) if isinstance(part, str))
    key, item = str(loc[at]), loc[at + 1 :]
    where = _where(loc if key in ("sections", "fields", "signers") and item else loc[:at], data)
    if kind == "form_rule":
        message = errors[0]["msg"]
    elif key in _LIST_PROBLEMS:
        whole, one = _LIST_PROBLEMS[key]
        message = one(value) if item else whole
    elif key in _VALUE_PROBLEMS:
        message = _VALUE_PROBLEMS[key](value)
    elif kind in ("missing", "blank") or value is None:
        message = f"'{key}' is required and must be a non-empty string"
    elif kind == "string_type":
        message = f"'{key}' must be a string, got {type(value).__name__}"
    else:
        message = f"'{key}': {errors[0]['msg']}"
    return where or (key if key in _LIST_PROBLEMS or key == "id" else ""), message
