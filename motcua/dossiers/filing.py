"""Filing a dossier: the application checked, then the dossier written in one transaction.

The code is ``<agency code>-<yymmdd>-<4-digit daily sequence>``, the agency code of the centre the
dossier is filed at (:meth:`~motcua.dossiers.service.DossierService.agency_for`). The sequence comes from one
counter row per (agency, day), incremented by an atomic upsert in the same transaction as
the dossier insert: two filings never get the same number, and a filing rolled back (or a
process killed half-way) gives its number back, so the numbers of a day have no gaps. The
filing's first history entry and its portal outbox row are written in that same transaction.

The due date (ngày hẹn trả) is computed with :mod:`motcua.workdays` from the procedure's
processing time for the way it was submitted (weekends, holidays and the 15:00 cut-off count).

A filing may carry a *filing key* (the chat's form session, the desk's filing form): the
dossier keeps the key's SHA-256 under a unique index, so a retried filing — Rasa calling the
action server again, a second tap on «Nộp hồ sơ» — finds the dossier of the first instead of
filing a second one, in the same transaction; two filings racing with the same key meet at
the index and the loser answers with the winner's dossier. The retry repeats the first
answer, lookup PIN included, for :data:`FILING_PIN_KEPT`: the PIN is kept that long sealed
with the key (only the key's hash is stored, so the database alone does not give it back),
then deleted; later the answer says the PIN cannot be shown again.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge_base.messages import render
from knowledge_base.schema import ChannelKind, Procedure, ProcessingTime, TimeUnit
from knowledge_base.store import get_procedure
from motcua.db import as_utc
from motcua.dossier_code import format_dossier_code
from motcua.dossiers.attachments import PreparedAttachment
from motcua.dossiers.errors import DossierError, InvalidApplication
from motcua.dossiers.links import PIN_DIGITS, hash_pin
from motcua.dossiers.models import (
    DossierAttachment,
    DossierCounter,
    DossierFilingPin,
    DossierRow,
    DossierStatusChange,
    PortalEvent,
)
from motcua.dossiers.outbox import add_outbox_row
from motcua.dossiers.records import Applicant, DossierApplication, FiledDossier, local_day
from motcua.dossiers.status import DossierStatus
from motcua.identity import CccdError, validate_cccd_number
from motcua.validators import validate_person_name, validate_phone
from motcua.workdays import HolidayCalendar, compute_due_date

IN_PERSON_CHANNELS = frozenset({"kiosk", "counter", "desk"})
"""Channels where the citizen stands in the center: the in-person processing time applies."""
FILING_PIN_KEPT = timedelta(hours=1)
"""How long a keyed filing's lookup PIN is kept (sealed) so that a retry can repeat the first answer."""


class FilingKeyReused(DossierError):
    """The filing key of a dossier already filed came back with a different application (``code``: that dossier)."""

    kind = "conflict"

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CheckedApplication:
    """An application whose applicant, form values and way of submission passed the checks."""

    application: DossierApplication
    applicant: Applicant
    values: dict[str, Any]
    kind: ChannelKind


def check_application(application: DossierApplication, *, today: date,
                      forms: Mapping[str, Any] | None = None) -> CheckedApplication:
    """Raise :class:`InvalidApplication` (Vietnamese) for a bad applicant; ``ValueError`` or
    ``TypeError`` for mistakes of the calling code (values of an unknown form or field, a value
    that cannot be stored, an unknown ``submission_kind``). ``forms`` is needed when the
    application names a form."""
    applicant = clean_applicant(application.applicant, today)
    values = jsonable(dict(application.values))
    if application.form_id:
        check_form(forms or {}, application.form_id, values)
    kind = application.submission_kind or (
        ChannelKind.IN_PERSON if application.channel in IN_PERSON_CHANNELS else ChannelKind.ONLINE
    )
    try:
        kind = ChannelKind(kind)
    except ValueError:
        raise ValueError(f"submission_kind must be one of {[k.value for k in ChannelKind]}, got {kind!r}") from None
    return CheckedApplication(application, applicant, values, kind)


def clean_applicant(applicant: Applicant, today: date) -> Applicant:
    name = validate_person_name(applicant.name or "")
    if not name.ok:
        raise InvalidApplication(name.reason)
    cccd = ""
    if (applicant.cccd or "").strip():
        try:
            cccd = validate_cccd_number(applicant.cccd, today=today)
        except CccdError as exc:
            raise InvalidApplication(str(exc)) from None
    phone = ""
    if (applicant.phone or "").strip():
        checked = validate_phone(applicant.phone)
        if not checked.ok:
            raise InvalidApplication(checked.reason)
        phone = checked.value or ""
    if not cccd and not phone:
        raise InvalidApplication(render("dossier.contact_needed"))
    return Applicant(name.value or "", cccd, phone)


def check_form(forms: Mapping[str, Any], form_id: str, values: Mapping[str, Any]) -> None:
    form = forms.get(form_id)
    if form is None:
        raise ValueError(f"unknown form id {form_id!r}; known: {sorted(forms)}")
    unknown = set(values) - set(form.field_names)
    if unknown:
        raise ValueError(f"values for fields not in form {form_id!r}: {sorted(unknown)}")


def jsonable(value: Any, path: str = "values") -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{path}: {type(value).__name__} cannot be stored as JSON")


def pick_time(procedure: Procedure, kind: str) -> ProcessingTime | None:
    """The procedure's processing time for ``kind`` of submission, else its first one."""
    usable = [c for c in procedure.channels if c.time is not None and c.time.unit != TimeUnit.UNSPECIFIED]
    for channel in usable:
        if channel.kind == kind:
            return channel.time
    return usable[0].time if usable else None


_UPSERTS: dict[str, Callable[..., Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
"""The ``INSERT … ON CONFLICT`` of each supported database."""


def next_sequence(session: Session, agency_code: str, day: date) -> int:
    """The next number of the agency's day, from the atomic upsert of its counter row."""
    dialect = session.get_bind().dialect.name
    insert = _UPSERTS.get(dialect)
    if insert is None:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(f"dossier counters need PostgreSQL or SQLite, not {dialect}")
    statement = (
        insert(DossierCounter)
        .values(agency_code=agency_code, day=day, last_seq=1)
        .on_conflict_do_update(index_elements=["agency_code", "day"], set_={"last_seq": DossierCounter.last_seq + 1})
        .returning(DossierCounter.last_seq)
    )
    return session.execute(statement).scalar_one()


def insert_dossier(
    session: Session,
    checked: CheckedApplication,
    *,
    agency_code: str,
    received: datetime,
    calendar: HolidayCalendar,
    pin: str,
    attachments: Sequence[PreparedAttachment] = (),
    actor: str,
    filing_key: str = "",
) -> FiledDossier:
    """Write the dossier, its first history entry, its attachments and its outbox row in ``session``
    (a write transaction). :class:`InvalidApplication` for a procedure not in the catalogue.
    With a ``filing_key``, the dossier keeps its hash and the PIN is kept sealed (:func:`file_once`)."""
    application = checked.application
    procedure = get_procedure(session, application.procedure_code)
    if procedure is None:
        raise InvalidApplication(render("dossier.unknown_procedure", code=application.procedure_code))
    time = pick_time(procedure, checked.kind)
    due = compute_due_date(received, time.value, time.unit, calendar) if time else None
    day = local_day(received)
    seq = next_sequence(session, agency_code, day)
    try:
        code = format_dossier_code(agency_code, day, seq)
    except ValueError:
        raise DossierError(render("dossier.day_full")) from None
    applicant = checked.applicant
    row = DossierRow(
        code=code, agency_code=agency_code, center_code=application.center, day=day, seq=seq,
        procedure_code=procedure.code, procedure_name=procedure.name, form_id=application.form_id,
        values=checked.values, applicant_name=applicant.name, applicant_cccd=applicant.cccd,
        applicant_phone=applicant.phone, channel=application.channel, sender_id=application.sender_id,
        submission_kind=checked.kind.value, status=DossierStatus.RECEIVED, received_at=received,
        processing_value=time.value if time else None, processing_unit=time.unit.value if time else "",
        due_date=due, supplement_note="", event_count=0, updated_at=received, lookup_pin_hash=hash_pin(pin),
        filing_key=filing_key_hash(filing_key) if filing_key else None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    if filing_key:
        session.add(DossierFilingPin(dossier_id=row.id, sealed_pin=seal_pin(pin, filing_key),
                                     expires_at=received + FILING_PIN_KEPT))
    session.add(DossierStatusChange(dossier_id=row.id, from_status="", to_status=row.status, actor=actor,
                                    note="", created_at=received))
    for prepared in attachments:
        session.add(attachment_row(row, prepared, actor, received))
    add_outbox_row(session, row, PortalEvent.CREATED, created_payload(row, attachments), received)
    return FiledDossier(
        code=code, procedure_code=procedure.code, procedure_name=procedure.name, status=row.status,
        received_at=received, due_date=due, processing_time=time.describe() if time else "", lookup_pin=pin,
    )


def file_once(session: Session, checked: CheckedApplication, *, filing_key: str, received: datetime,
              **insert: Any) -> FiledDossier:
    """:func:`insert_dossier` once per ``filing_key``: the dossier filed with that key already, or a new one.

    Repeating a filing answers what the first answer said (the PIN while it is kept, else none);
    :class:`FilingKeyReused` when the key comes back with another application. A concurrent filing
    with the same key that commits first makes the insert hit the unique index: the savepoint
    rolls it back (its number too) and the winner's dossier is the answer.
    """
    if not filing_key:
        raise ValueError("file_once needs a filing key")
    session.execute(delete(DossierFilingPin).where(DossierFilingPin.expires_at <= received))
    row = filed_with(session, filing_key)
    if row is None:
        try:
            with session.begin_nested():
                return insert_dossier(session, checked, received=received, filing_key=filing_key, **insert)
        except IntegrityError:
            row = filed_with(session, filing_key)
            if row is None:  # another constraint
                raise
    return repeated_filing(session, row, checked, filing_key, received)


def filed_with(session: Session, filing_key: str) -> DossierRow | None:
    """The dossier filed with ``filing_key``, if any."""
    return session.scalar(select(DossierRow).where(DossierRow.filing_key == filing_key_hash(filing_key)))


def repeated_filing(session: Session, row: DossierRow, checked: CheckedApplication, filing_key: str,
                    now: datetime) -> FiledDossier:
    """The first answer of the filing ``row``, again, for a retry of the same application."""
    if not same_application(row, checked):
        raise FilingKeyReused(render("dossier.filing_key_reused", code=row.code), row.code)
    kept = session.get(DossierFilingPin, row.id)
    pin = unseal_pin(kept.sealed_pin, filing_key) if kept is not None and as_utc(kept.expires_at) > now else ""
    time = (ProcessingTime(row.processing_value, TimeUnit(row.processing_unit))
            if row.processing_value is not None and row.processing_unit else None)
    return FiledDossier(
        code=row.code, procedure_code=row.procedure_code, procedure_name=row.procedure_name, status=row.status,
        received_at=as_utc(row.received_at), due_date=row.due_date,
        processing_time=time.describe() if time else "", lookup_pin=pin,
    )


def same_application(row: DossierRow, checked: CheckedApplication) -> bool:
    """Whether ``row`` was filed from what ``checked`` asks to file (a retry, not a changed declaration)."""
    application, applicant = checked.application, checked.applicant
    return (row.procedure_code, row.form_id, row.values, row.submission_kind,
            row.applicant_name, row.applicant_cccd, row.applicant_phone) == (
        application.procedure_code, application.form_id, checked.values, checked.kind.value,
        applicant.name, applicant.cccd, applicant.phone)


def filing_key_hash(filing_key: str) -> str:
    """What a dossier keeps of its filing key: the SHA-256 in hex."""
    return hashlib.sha256(filing_key.encode()).hexdigest()


def _pin_pad(filing_key: str) -> int:
    digest = hmac.new(filing_key.encode(), b"motcua filing lookup pin", hashlib.sha256).digest()
    return int.from_bytes(digest, "big") % 10 ** PIN_DIGITS


def seal_pin(pin: str, filing_key: str) -> str:
    """``pin`` plus a pad drawn from the key, digit-wise modulo: only a holder of the key can take it off."""
    return f"{(int(pin) + _pin_pad(filing_key)) % 10 ** PIN_DIGITS:0{PIN_DIGITS}d}"


def unseal_pin(sealed: str, filing_key: str) -> str:
    return f"{(int(sealed) - _pin_pad(filing_key)) % 10 ** PIN_DIGITS:0{PIN_DIGITS}d}"


def created_payload(row: DossierRow, attachments: Sequence[PreparedAttachment]) -> dict[str, Any]:
    """What the portal hears about a new dossier."""
    return {
        "code": row.code,
        "agency_code": row.agency_code,
        "procedure_code": row.procedure_code,
        "procedure_name": row.procedure_name,
        "form_id": row.form_id,
        "values": row.values,
        "applicant": {"name": row.applicant_name, "cccd": row.applicant_cccd, "phone": row.applicant_phone},
        "submission_kind": row.submission_kind,
        "channel": row.channel,
        "status": row.status.value,
        "received_at": as_utc(row.received_at).isoformat(),
        "due_date": row.due_date.isoformat() if row.due_date else None,
        "attachments": [{"label": a.label, "sha256": a.sha256, "size": a.size, "pages": a.pages}
                        for a in attachments],
    }


def attachment_row(row: DossierRow, prepared: PreparedAttachment, actor: str, now: datetime) -> DossierAttachment:
    return DossierAttachment(
        dossier_id=row.id, label=prepared.label, filename=prepared.filename,
        content_type=prepared.content_type, size=prepared.size, sha256=prepared.sha256, pages=prepared.pages,
        sources=[asdict(s) for s in prepared.sources], content=prepared.data, actor=actor, created_at=now,
    )  # fmt: skip
