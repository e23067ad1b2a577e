"""Electronic forms (tờ khai điện tử) as data: one YAML file per form in ``knowledge_base/forms/``.

A form is a list of sections (one per person the declaration speaks of: người yêu cầu, người
được khai sinh, mẹ, cha…), each a list of fields in the order of the paper declaration.
This module loads and checks those files (their layout is declared once, as pydantic
models, in :mod:`knowledge_base.form_files`; what spans several fields is checked here) and
validates one answer for one field by dispatching to :mod:`motcua.validators` by the field's
type. No framework here: the Rasa form action calls :func:`validate_field` from its
``validate_<slot>`` methods.

YAML layout::

    id: birth_registration            # = file name, snake_case
    title: Tờ khai đăng ký khai sinh
    procedures: ["1.001193"]          # mã thủ tục in the national catalogue
    addressee: Ủy ban nhân dân xã/phường   # optional, "Kính gửi"
    description: …                    # optional
    signers: [{title: NGƯỜI YÊU CẦU, field: birth_requester_name}]
    sections:
      - title: Người yêu cầu
        person: requester             # optional; fields of one person share a CCCD
        fields:
          - name: birth_requester_name   # slot name, unique across all forms
            label: Họ, chữ đệm và tên
            type: name                # text|name|date|birth_date|birth_date_or_year|cccd|phone|choice|address|number
            prompt: Xin cho biết …    # the question asked
            help: …                   # optional hint
            required: true            # default true
            cccd_field: full_name     # optional: number|full_name|birth_date|sex|address|issued
            choices: [Nam, Nữ]        # choice only
            max_length: 100           # text, name, address
            when: past                # date only: any|past|future
            min_value: 1              # number only
            max_value: 10
            unit: month               # number only: counted in months, «2 năm» is read as 24
            ask_if: {younger_than: 18, birth_date: permanent_birth_date}
                                      # optional: asked only of a person that young today (by a
                                      # birth date asked before it); otherwise left empty
            aliases: [tên cháu]       # optional: other words citizens use for this field
                                      # (for "sửa lại tên cháu"); sections may have aliases too

Public API: :class:`FormDefinition`, :class:`FormField`, :class:`FormSigner`, :class:`AskIf`,
:func:`load_forms`, :func:`load_form`, :func:`validate_field`, :func:`format_value`, :func:`applies`,
:func:`values_from_card`, :func:`find_fields`, :data:`FIELD_TYPES`, :data:`VALIDATORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge_base.form_files import (
    CCCD_FIELDS,
    FIELD_TYPES,
    FieldFile,
    FormFile,
    SectionFile,
    describe_error,
)
from knowledge_base.messages import render
from knowledge_base.text import fold
from motcua.accents import (
    ETHNIC_GROUP_WORDS,
    NATIONALITY_WORDS,
    is_unaccented,
    known_value,
    readings,
    restore,
)
from motcua.identity import CccdCard, CccdError, validate_cccd_number
from motcua.validators import (
    Validation,
    is_skip_answer,
    validate_address,
    validate_birth_date,
    validate_birth_date_or_year,
    validate_choice,
    validate_date,
    validate_number,
    validate_person_name,
    validate_phone,
    validate_text,
)

__all__ = [
    "CCCD_FIELDS",
    "FIELD_TYPES",
    "AskIf",
    "FORMS_DIR",
    "VALIDATORS",
    "FormDefinition",
    "FormDefinitionError",
    "FormField",
    "FormSigner",
    "applies",
    "find_fields",
    "format_value",
    "load_form",
    "load_forms",
    "proposed_readings",
    "proposed_value",
    "validate_field",
    "values_from_card",
]

FORMS_DIR = Path(__file__).resolve().parent / "forms"
_DATE_TYPES = {"date", "birth_date", "birth_date_or_year"}
_BIRTH_TYPES = {"birth_date", "birth_date_or_year"}
DEFAULT_COMMITMENT = render("print.official.commitment")


PARENT_PERSONS = frozenset({"mother", "father"})
CHILD_PERSON = "child"
PARENT_MIN_YEARS = 12
"""A parent's birth date is at least this many years before the child's (a mother «born» the same day
as her child is a slip of the date)."""

KNOWN_VALUES: dict[str, tuple[str, ...]] = {"dan toc": ETHNIC_GROUP_WORDS, "quoc tich": NATIONALITY_WORDS}
"""Text fields (by their label, folded) whose usual answers are a list: an answer that is one of them,
typed with or without diacritics, is taken as the list writes it («kinh» → «Kinh»)."""

RESTORED_TYPES = frozenset({"name", "address", "text"})
"""Free-text fields whose unaccented answer gets its accented form proposed (:func:`proposed_value`)."""
READING_TYPES = frozenset({"name", "address"})
"""Fields whose unaccented answer, when the restorer is unsure, gets a few readings to choose from
(:func:`proposed_readings`): a person's name and an address must be written as on their papers."""


@dataclass(frozen=True)
class AskIf:
    """A field asked only of a person younger than ``younger_than`` years today, by the birth date
    ``birth_date`` (a guardian's consent for a minor); for anyone older it is left empty."""

    younger_than: int
    birth_date: str


@dataclass(frozen=True)
class DateCheck:
    """This date field against another one of the form: ``earlier`` says which of the two comes first,
    by at least ``years`` years (0: the same day is fine)."""

    field: str
    this_is_earlier: bool
    years: int = 0
    title: str = ""  # the other field's label with its section


class FormDefinitionError(ValueError):
    """A form file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: str
    prompt: str
    help: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()
    cccd_field: str | None = None
    max_length: int | None = None
    when: str = "any"
    min_value: int | None = None
    max_value: int | None = None
    unit: str | None = None  # number: "month" reads «2 năm» as 24
    section: str = ""
    person: str = ""
    birth_date_field: str | None = None  # cccd: the field holding the same person's birth date
    aliases: tuple[str, ...] = ()  # other words for this field ("tên cháu")
    section_aliases: tuple[str, ...] = ()  # words naming the section's person ("cháu", "con")
    date_checks: tuple[DateCheck, ...] = ()  # dates of the same form this one is checked against
    titled: str = ""  # the label with its section, to name the field in a message
    ask_if: AskIf | None = None  # asked only of a minor (:func:`applies`)


@dataclass(frozen=True)
class FormSigner:
    title: str  # e.g. "NGƯỜI YÊU CẦU"
    field: str  # the name field printed under the signature


@dataclass(frozen=True)
class FormDefinition:
    id: str
    title: str
    procedures: tuple[str, ...]
    fields: tuple[FormField, ...]
    addressee: str = ""
    description: str = ""
    signers: tuple[FormSigner, ...] = ()
    commitment: str = DEFAULT_COMMITMENT
    source: Path | None = field(default=None, compare=False)

    def field(self, name: str) -> FormField:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(f"form {self.id!r} has no field {name!r}; fields: {[f.name for f in self.fields]}")

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def sections(self) -> list[tuple[str, list[FormField]]]:
        """(section title, its fields) in order."""
        grouped: list[tuple[str, list[FormField]]] = []
        for item in self.fields:
            if not grouped or grouped[-1][0] != item.section:
                grouped.append((item.section, []))
            grouped[-1][1].append(item)
        return grouped

    @property
    def persons(self) -> list[str]:
        """Persons whose identity card can fill some fields."""
        seen: list[str] = []
        for item in self.fields:
            if item.cccd_field and item.person and item.person not in seen:
                seen.append(item.person)
        return seen


# --- loading ------------------------------------------------------------------------------


def _fail(path: Path, where: str, message: str) -> FormDefinitionError:
    return FormDefinitionError(f"{path}: {where}: {message}" if where else f"{path}: {message}")


def _form_field(spec: FieldFile, section: SectionFile) -> FormField:
    return FormField(
        name=spec.name,
        label=spec.label,
        type=spec.type,
        prompt=spec.prompt,
        help=spec.help or "",
        required=spec.required,
        choices=tuple(spec.choices or ()),
        cccd_field=spec.cccd_field,
        max_length=spec.max_length,
        when=spec.when or "any",
        min_value=spec.min_value,
        max_value=spec.max_value,
        unit=spec.unit,
        section=section.title,
        person=section.person or "",
        birth_date_field=spec.birth_date_field,
        aliases=spec.aliases,
        section_aliases=section.aliases,
        ask_if=AskIf(spec.ask_if.younger_than, spec.ask_if.birth_date) if spec.ask_if else None,
    )


def load_form(path: str | Path) -> FormDefinition:
    """Load and check one form file; raises :class:`FormDefinitionError` naming file and field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for dates like 2026-02-30
        raise _fail(path, "", f"not valid YAML: {exc}") from exc
    try:
        spec = FormFile.model_validate(data)
    except ValidationError as exc:
        raise _fail(path, *describe_error(exc, data)) from None
    if spec.id != path.stem:
        raise _fail(path, "id", f"{spec.id!r} must equal the file name {path.stem!r}")

    fields = [_form_field(item, section) for section in spec.sections for item in section.fields]
    names = [f.name for f in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(path, "fields", f"duplicate field name(s) {duplicates}")
    _check_ask_if(path, fields)
    fields = _link_birth_dates(path, fields)
    fields = _link_date_checks(fields)
    _check_person_cccd_fields(path, fields)

    for i, signer in enumerate(spec.signers):
        if signer.field not in names:
            raise _fail(path, f"signers[{i}]", f"field {signer.field!r} is not a field of this form")
        if fields[names.index(signer.field)].type != "name":
            raise _fail(path, f"signers[{i}]", f"field {signer.field!r} must be of type name")

    return FormDefinition(
        id=spec.id,
        title=spec.title,
        procedures=tuple(spec.procedures),
        fields=tuple(fields),
        addressee=spec.addressee or "",
        description=spec.description or "",
        signers=tuple(FormSigner(signer.title, signer.field) for signer in spec.signers),
        commitment=spec.commitment or DEFAULT_COMMITMENT,
        source=path,
    )


def _check_ask_if(path: Path, fields: list[FormField]) -> None:
    """An ``ask_if`` names a birth date of the form asked before its field."""
    earlier: dict[str, FormField] = {}
    for item in fields:
        if item.ask_if is not None:
            target = earlier.get(item.ask_if.birth_date)
            if target is None or target.type not in _BIRTH_TYPES:
                raise _fail(path, f"field '{item.name}'",
                            f"ask_if.birth_date {item.ask_if.birth_date!r} is not a birth date asked before this field")
        earlier[item.name] = item


def _link_birth_dates(path: Path, fields: list[FormField]) -> list[FormField]:
    """Give each cccd field the birth-date field of the same person (or check the given one)."""
    by_name = {f.name: f for f in fields}
    linked = []
    for item in fields:
        if item.type == "cccd":
            target = item.birth_date_field
            if target is None and item.person:
                candidates = [f.name for f in fields if f.person == item.person and f.type in _BIRTH_TYPES]
                if len(candidates) > 1:
                    raise _fail(
                        path,
                        f"field '{item.name}'",
                        f"person {item.person!r} has several birth dates {candidates}; set birth_date_field",
                    )
                target = candidates[0] if candidates else None
            elif target is not None and (target not in by_name or by_name[target].type not in _DATE_TYPES):
                raise _fail(
                    path,
                    f"field '{item.name}'",
                    f"birth_date_field {target!r} is not a date field of this form",
                )
            item = replace(item, birth_date_field=target)
        linked.append(item)
    return linked


def _link_date_checks(fields: list[FormField]) -> list[FormField]:
    """Checks across fields: a parent's birth date at least :data:`PARENT_MIN_YEARS` before the child's;
    any other date of a person (the death date) not before that person's birth date."""
    births = {f.person: f.name for f in fields if f.person and f.type in _BIRTH_TYPES}
    checks: dict[str, list[DateCheck]] = {f.name: [] for f in fields}

    titles = {f.name: _titled(f) for f in fields}

    def link(earlier: str, later: str, years: int) -> None:
        checks[earlier].append(DateCheck(later, True, years, titles[later]))
        checks[later].append(DateCheck(earlier, False, years, titles[earlier]))

    child = births.get(CHILD_PERSON)
    if child is not None:
        for person in sorted(PARENT_PERSONS & set(births)):
            link(births[person], child, PARENT_MIN_YEARS)
    for item in fields:
        if item.type == "date" and item.person in births:
            link(births[item.person], item.name, 0)
    return [replace(f, date_checks=tuple(checks[f.name]), titled=_titled(f)) for f in fields]


def _titled(item: FormField) -> str:
    return f"{item.label} ({item.section})" if item.section and item.section.lower() not in item.label.lower() \
        else item.label


def _check_person_cccd_fields(path: Path, fields: list[FormField]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for item in fields:
        if item.cccd_field:
            key = (item.person, item.cccd_field)
            if key in seen:
                raise _fail(
                    path,
                    f"field '{item.name}'",
                    f"cccd_field {item.cccd_field!r} already fills '{seen[key]}' for person {item.person or '(none)'!r}",
                )
            seen[key] = item.name


def load_forms(directory: str | Path | None = None) -> dict[str, FormDefinition]:
    """Every ``*.yaml`` form in ``directory`` (default ``knowledge_base/forms``), by id.

    Field names double as dialogue slot names, so they must be unique across all forms.
    """
    directory = Path(directory) if directory else FORMS_DIR
    if not directory.is_dir():
        raise FileNotFoundError(f"form directory not found: {directory}")
    forms: dict[str, FormDefinition] = {}
    owners: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        form = load_form(path)
        for name in form.field_names:
            if name in owners:
                raise _fail(
                    path,
                    f"field '{name}'",
                    f"name already used by form '{owners[name]}'; field names are slot names and must be unique across forms",
                )
            owners[name] = form.id
        forms[form.id] = form
    return forms


# --- validation ---------------------------------------------------------------------------


def _context_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _validate_cccd(item: FormField, raw: Any, context: Mapping[str, Any], today: date | None) -> Validation:
    birth_date = _context_date(context.get(item.birth_date_field)) if item.birth_date_field else None
    try:
        return Validation.valid(validate_cccd_number(str(raw), birth_date, today=today))
    except CccdError as exc:
        return Validation.invalid(str(exc))


Validator = Callable[[FormField, Any, Mapping[str, Any], "date | None"], Validation]

def _validate_text(item: FormField, raw: Any, context: Mapping[str, Any], today: date | None) -> Validation:
    known = KNOWN_VALUES.get(fold(item.label))
    value = known_value(str(raw), known) if known else None
    return Validation.valid(value) if value else validate_text(str(raw), max_length=item.max_length or 200)


VALIDATORS: dict[str, Validator] = {
    "text": _validate_text,
    "name": lambda f, raw, ctx, today: validate_person_name(str(raw), max_length=f.max_length or 100),
    "date": lambda f, raw, ctx, today: validate_date(raw, today, when=f.when),  # type: ignore[arg-type]
    "birth_date": lambda f, raw, ctx, today: validate_birth_date(raw, today),
    # a full date, or the year alone where the law asks only for «năm sinh» (kept as an int)
    "birth_date_or_year": lambda f, raw, ctx, today: validate_birth_date_or_year(raw, today),
    "cccd": _validate_cccd,
    "phone": lambda f, raw, ctx, today: validate_phone(str(raw)),
    "choice": lambda f, raw, ctx, today: validate_choice(str(raw), f.choices),
    "address": lambda f, raw, ctx, today: validate_address(str(raw), max_length=f.max_length or 300),
    "number": lambda f, raw, ctx, today: validate_number(
        str(raw), min_value=f.min_value, max_value=f.max_value, unit=f.unit
    ),
}
"""One validator per field type: ``(field, raw answer, known values, today) -> Validation``."""


def validate_field(
    item: FormField, raw_text: Any, context: Mapping[str, Any] | None = None, *, today: date | None = None
) -> Validation:
    """Check one answer for one field.

    ``context`` holds the values already collected (field name → value, dates as ``date``
    or ISO strings), used e.g. to check a CCCD number against the same person's birth date.
    An optional field left empty or declined (``không có``, ``bỏ qua``) gives
    ``Validation(None, "")``.
    """
    if not isinstance(item, FormField):
        raise TypeError(f"expected a FormField, got {type(item).__name__}")
    validator = VALIDATORS.get(item.type)
    if validator is None:
        raise ValueError(f"no validator for field type {item.type!r}")
    empty = raw_text is None or (isinstance(raw_text, str) and not raw_text.strip())
    if not item.required and (empty or (isinstance(raw_text, str) and is_skip_answer(raw_text))):
        return Validation(None, "")
    if empty:
        return Validation.invalid(render("validate.required", label=item.label, prompt=item.prompt))
    result = validator(item, raw_text, context or {}, today)
    if result.ok and result.value is not None and item.date_checks:
        return _check_dates(item, result, context or {})
    return result


def _as_day(value: Any, *, end_of_year: bool = False) -> date | None:
    """A date value, or a year alone (``birth_date_or_year``) as its first — or last — day."""
    if isinstance(value, int) and not isinstance(value, bool):
        return date(value, 12, 31) if end_of_year else date(value, 1, 1)
    return _context_date(value)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check_dates(item: FormField, result: Validation, context: Mapping[str, Any]) -> Validation:
    """The date checks of ``item`` against the dates already declared (:func:`_link_date_checks`)."""
    for check in item.date_checks:
        other = context.get(check.field)
        if other is None:
            continue
        mine = (result.value, item.titled or item.label)
        theirs = (other, check.title)
        (early, early_title), (late, late_title) = (mine, theirs) if check.this_is_earlier else (theirs, mine)
        first, last = _as_day(early), _as_day(late, end_of_year=True)  # a year alone: its widest reading
        if first is None or last is None or _years_later(first, check.years) <= last:
            continue
        fields = {"earlier": early_title, "earlier_date": _shown_day(early), "later": late_title,
                  "later_date": _shown_day(late)}
        if check.years:
            return Validation.invalid(render("validate.dates_too_close", years=check.years, **fields))
        return Validation.invalid(render("validate.dates_in_order", **fields))
    return result


def _shown_day(value: Any) -> str:
    day = _as_day(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{day:%d/%m/%Y}" if day is not None else str(value)


def proposed_value(item: FormField, value: Any) -> str | None:
    """The accented form of an answer typed without diacritics, to propose before it goes into the
    declaration («nguyen minh an» → «Nguyễn Minh An»); None when there is nothing to propose (an answer
    with diacritics, a value from a list, a field that is not free text, or the restorer is unsure)."""
    if item.type not in RESTORED_TYPES or not isinstance(value, str) or not is_unaccented(value):
        return None
    known = KNOWN_VALUES.get(fold(item.label))
    if known and value in known:
        return None
    proposal = restore(value, "name" if item.type == "name" else "address" if item.type == "address" else "text")
    if proposal is None:
        return None
    checked = validate_field(item, proposal)
    return checked.value if checked.ok and isinstance(checked.value, str) and checked.value != value else None


def proposed_readings(item: FormField, value: Any) -> list[str]:
    """A few accented readings of a name or an address typed without diacritics, for the citizen to choose
    from when :func:`proposed_value` is unsure («Pham Thi Hoa» → Phạm Thị Hoa, Phạm Thị Hòa, Phạm Thị Hoà);
    each a valid answer for the field. Empty for other fields and answers with diacritics."""
    if item.type not in READING_TYPES or not isinstance(value, str) or not is_unaccented(value):
        return []
    found: list[str] = []
    for reading in readings(value, item.type):
        checked = validate_field(item, reading)
        if checked.ok and isinstance(checked.value, str) and checked.value != value and checked.value not in found:
            found.append(checked.value)
    return found


def applies(item: FormField, values: Mapping[str, Any], today: date | None = None) -> bool:
    """Whether ``item`` is asked, given the answers so far: a field with ``ask_if`` only of a person younger
    than its age on ``today`` (a year of birth alone: when the person may be that young); when the birth
    date is not known, it is asked."""
    condition = item.ask_if
    if condition is None:
        return True
    born = _as_day(values.get(condition.birth_date), end_of_year=True)
    if born is None:
        return True
    return (today or date.today()) < _years_later(born, condition.younger_than)


# --- values -------------------------------------------------------------------------------


def format_value(item: FormField, value: Any) -> str:
    """A collected value as a citizen reads it (dates dd/mm/yyyy); ``""`` when missing."""
    if value is None or value == "":
        return ""
    if item.type in _DATE_TYPES:
        day = _context_date(value)
        if day is not None:
            return f"{day:%d/%m/%Y}"
    return str(value)


def values_from_card(form: FormDefinition, card: CccdCard, person: str | None = None) -> dict[str, Any]:
    """Values for ``person``'s fields taken from a scanned identity card, each validated.

    ``person`` may be left out when only one person's fields can be filled from a card.
    Values that do not pass the field's validator (say, an address too long) are left out.
    """
    persons = form.persons
    if person is None:
        if len(persons) > 1:
            raise ValueError(f"form {form.id!r} has several persons with card fields {persons}; say which")
        person = persons[0] if persons else ""
    elif person not in persons:
        raise ValueError(f"form {form.id!r} has no card fields for person {person!r}; persons: {persons}")
    raw = {
        "number": card.number,
        "full_name": card.full_name,
        "birth_date": card.birth_date,
        "sex": card.sex,
        "address": card.address,
        "issued": card.issued,
    }
    values: dict[str, Any] = {}
    for item in form.fields:
        if item.person != person or not item.cccd_field or raw[item.cccd_field] is None:
            continue
        result = validate_field(item, raw[item.cccd_field], values)
        if result.ok and result.value is not None:
            values[item.name] = result.value
    return values


# --- naming a field ----------------------------------------------------------------------

TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "name": ("ho ten", "ho va ten", "ten"),
    "birth_date": ("ngay sinh", "sinh ngay", "nam sinh", "ngay thang nam sinh"),
    "birth_date_or_year": ("ngay sinh", "sinh ngay", "nam sinh", "ngay thang nam sinh"),
    "date": ("ngay",),
    "cccd": ("can cuoc", "cccd", "so dinh danh", "cmnd", "chung minh", "so the"),
    "phone": ("dien thoai", "sdt", "so dt", "di dong"),
    "address": ("dia chi", "noi o", "cho o"),
    "choice": (),
    "text": (),
    "number": (),
}
"""Words citizens use for a field of each type, without diacritics; forms add their own
``aliases`` per field and per section."""


def _contains(haystack: str, phrase: str) -> bool:
    return bool(phrase) and f" {phrase} " in f" {haystack} "


def find_fields(form: FormDefinition, text: str) -> list[FormField]:
    """The fields of ``form`` that ``text`` names («sửa lại tên cháu», «ngày sinh của mẹ sai»).

    A field is named by its label, its ``aliases`` or the usual words for its type
    (:data:`TYPE_WORDS`); the longest phrase found wins, and naming the field's section
    (its title or the section's ``aliases``, «cháu», «mẹ») breaks ties. Returns the best
    fields in form order: one when the text is clear, several when it is ambiguous
    («ngày sinh» in a form with three birth dates), none when no field is named.
    """
    key = fold(text or "")
    if not key:
        return []
    scored: list[tuple[tuple[int, int], FormField]] = []
    for item in form.fields:
        phrases = [fold(item.label), *(fold(a) for a in item.aliases), *TYPE_WORDS.get(item.type, ())]
        words = max((len(p.split()) for p in phrases if _contains(key, p)), default=0)
        if not words:
            continue
        section_words = [fold(item.section), *(fold(a) for a in item.section_aliases)]
        section_hit = int(any(_contains(key, p) for p in section_words))
        scored.append(((words, section_hit), item))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [item for score, item in scored if score == best]
