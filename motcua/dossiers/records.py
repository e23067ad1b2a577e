"""What goes in and comes out of the dossier store: the application, and the records built
from the rows for a citizen (:class:`DossierView`), for the desk (:class:`DossierSummary`,
:class:`DossierDetail`) and for the assistant (:class:`FiledDossier`).

The ``*_record`` functions read a dossier's rows in the caller's session and build them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.messages import render
from knowledge_base.schema import ProcessingTime, TimeUnit
from motcua.centers import DEFAULT_CENTER
from motcua.db import as_utc
from motcua.dossiers.access import ASK_SECOND_FACTOR
from motcua.dossiers.models import (
    DossierAttachment,
    DossierRow,
    DossierStatusChange,
    PortalEvent,
    PortalOutboxRow,
)
from motcua.dossiers.receipt import mask_number
from motcua.dossiers.status import TRANSITIONS, DossierStatus
from motcua.workdays import VIETNAM_TZ

CLOSED = frozenset({DossierStatus.COMPLETED, DossierStatus.RESULT_RETURNED, DossierStatus.REJECTED})
"""Statuses for which a due date no longer matters."""


def local_day(moment: datetime) -> date:
    """The calendar day of ``moment`` in Vietnam."""
    return as_utc(moment).astimezone(VIETNAM_TZ).date()


# --- what goes in --------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """The person filing: full name, and the CCCD number and/or phone used to check lookups."""

    name: str
    cccd: str = ""
    phone: str = ""


@dataclass(frozen=True)
class DossierApplication:
    """A dossier to file.

    ``values`` are the form's answers (field name → value; dates may be ``date`` objects).
    ``channel`` and ``sender_id`` say where to send notices (the Rasa ``tracker.sender_id``).
    ``submission_kind`` (``truc_tiep``, ``truc_tuyen``, ``buu_chinh``) picks the procedure's
    processing time; empty means in person for the kiosk and the counter, online otherwise.
    ``center`` is the centre it is filed at (:mod:`motcua.centers`): the desk's staff member's, the
    kiosk's of a chat, else the default centre; its agency code prefixes the dossier's code.
    """

    procedure_code: str
    applicant: Applicant
    values: Mapping[str, Any] = field(default_factory=dict)
    form_id: str = ""
    channel: str = ""
    sender_id: str = ""
    submission_kind: str = ""
    center: str = DEFAULT_CENTER


# --- what comes out ------------------------------------------------------------------------


@dataclass(frozen=True)
class FiledDossier:
    code: str
    procedure_code: str
    procedure_name: str
    status: DossierStatus
    received_at: datetime
    due_date: date | None
    processing_time: str
    lookup_pin: str = ""  # given out once, here; only its hash is stored

    def confirmation_text(self) -> str:
        """What the assistant tells the citizen once the dossier is filed (``dossier.filed.*``)."""
        received = self.received_at.astimezone(VIETNAM_TZ)
        lines = [
            render("dossier.filed.received", procedure=self.procedure_name, time=f"{received:%H:%M}",
                   date=f"{received:%d/%m/%Y}"),
            render("dossier.filed.code", code=self.code),
        ]
        if self.lookup_pin:
            lines.append(render("dossier.filed.pin", pin=self.lookup_pin))
        if self.due_date:  # from the working-day calendar and the procedure's processing time
            lines.append(render("dossier.filed.due", date=f"{self.due_date:%d/%m/%Y}"))
        else:  # the procedure states no processing time: the counter sets the date
            lines.append(render("dossier.filed.due_at_counter"))
        if self.lookup_pin:
            lines.append(render("dossier.filed.keep_code_and_pin"))
        else:
            lines.append(render("dossier.filed.keep_code"))
        return "\n".join(lines)


@dataclass(frozen=True)
class HistoryEntry:
    status: DossierStatus
    status_label: str
    at: datetime
    note: str = ""
    actor: str = ""  # empty in what citizens see


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    label: str
    filename: str
    content_type: str
    size: int
    sha256: str
    pages: int
    created_at: datetime
    sources: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class DossierView:
    """What a citizen may see. Personal fields are filled only when ``verified``."""

    code: str
    procedure_code: str
    procedure_name: str
    status: DossierStatus
    status_label: str
    received_at: datetime
    due_date: date | None
    updated_at: datetime
    overdue: bool
    verified: bool = False
    applicant_name: str = ""
    applicant_cccd: str = ""  # masked
    applicant_phone: str = ""  # masked
    supplement_note: str = ""
    history: tuple[HistoryEntry, ...] = ()
    attachments: tuple[str, ...] = ()  # labels only
    notice: str = ""

    def describe(self) -> str:
        """The answer as the assistant says it (the catalogue's ``dossier.view.*`` lines)."""
        received = self.received_at.astimezone(VIETNAM_TZ)
        lines = [
            render("dossier.view.title", code=self.code, procedure=self.procedure_name) if self.procedure_name
            else render("dossier.view.title_code_only", code=self.code),
            render("dossier.view.status", status=self.status_label),
            render("dossier.view.received", date=f"{received:%d/%m/%Y}"),
        ]
        if self.status == DossierStatus.SUPPLEMENT_REQUESTED:
            lines.append(render("dossier.view.deadline_restarts"))
        elif self.due_date and self.status in (DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING):
            due = f"{self.due_date:%d/%m/%Y}"
            lines.append(render("dossier.view.due_overdue", date=due) if self.overdue
                         else render("dossier.view.due", date=due))
        if self.status == DossierStatus.COMPLETED:
            lines.append(render("dossier.view.come_for_result"))
        if self.verified:
            lines.append(render("dossier.view.applicant", name=self.applicant_name))
            if self.supplement_note and self.status == DossierStatus.SUPPLEMENT_REQUESTED:
                lines.append(render("dossier.view.supplement", note=self.supplement_note))
            rejected = next((h for h in reversed(self.history) if h.status == DossierStatus.REJECTED), None)
            if rejected and rejected.note:
                lines.append(render("dossier.view.rejected_reason", note=rejected.note))
            if self.attachments:
                lines.append(render("dossier.view.attachments", papers="; ".join(self.attachments)))
            if len(self.history) > 1:
                lines.append(render("dossier.view.steps"))
                for entry in self.history:
                    at = entry.at.astimezone(VIETNAM_TZ)
                    lines.append(f"- {at:%d/%m/%Y %H:%M}: {entry.status_label}")
        else:
            lines.append(ASK_SECOND_FACTOR)
        if self.notice:
            lines.append(self.notice)
        return "\n".join(lines)


@dataclass(frozen=True)
class OutboxEntry:
    position: int
    event: PortalEvent
    idempotency_key: str
    attempts: int
    delivered_at: datetime | None
    last_error: str


@dataclass(frozen=True)
class DossierSummary:
    code: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    applicant_phone: str
    status: DossierStatus
    status_label: str
    received_at: datetime
    due_date: date | None
    overdue: bool
    channel: str
    center_code: str = DEFAULT_CENTER


@dataclass(frozen=True)
class DossierDetail:
    """Everything about a dossier, for staff."""

    code: str
    agency_code: str
    seq: int
    procedure_code: str
    procedure_name: str
    form_id: str
    values: dict[str, Any]
    applicant_name: str
    applicant_cccd: str
    applicant_phone: str
    channel: str
    sender_id: str
    submission_kind: str
    status: DossierStatus
    status_label: str
    received_at: datetime
    due_date: date | None
    processing_time: str
    supplement_note: str
    overdue: bool
    updated_at: datetime
    history: tuple[HistoryEntry, ...]
    attachments: tuple[AttachmentInfo, ...]
    outbox: tuple[OutboxEntry, ...]
    next_statuses: tuple[dict[str, str], ...]  # [{"status": …, "label": …}] the desk may offer
    center_code: str = DEFAULT_CENTER  # the centre it was filed at


def is_overdue(row: DossierRow, today: date) -> bool:
    """Past its due date and still open."""
    return row.due_date is not None and row.status not in CLOSED and today > row.due_date


def attachment_record(row: DossierAttachment) -> AttachmentInfo:
    return AttachmentInfo(
        id=row.id, label=row.label, filename=row.filename, content_type=row.content_type, size=row.size,
        sha256=row.sha256, pages=row.pages, created_at=as_utc(row.created_at), sources=tuple(row.sources or ()),
    )  # fmt: skip


def history_records(session: Session, row: DossierRow, *, with_actor: bool) -> tuple[HistoryEntry, ...]:
    changes = session.scalars(
        select(DossierStatusChange).where(DossierStatusChange.dossier_id == row.id)
        .order_by(DossierStatusChange.id)
    ).all()
    return tuple(
        HistoryEntry(c.to_status, c.to_status.label, as_utc(c.created_at), c.note, c.actor if with_actor else "")
        for c in changes
    )


def attachment_records(session: Session, row: DossierRow) -> tuple[AttachmentInfo, ...]:
    rows = session.scalars(
        select(DossierAttachment).where(DossierAttachment.dossier_id == row.id).order_by(DossierAttachment.id)
    ).all()
    return tuple(attachment_record(a) for a in rows)


def view_record(session: Session, row: DossierRow, today: date, *, verified: bool, notice: str = "") -> DossierView:
    """What a citizen sees: the status and the dates, and the rest only when ``verified``."""
    public = DossierView(
        code=row.code, procedure_code="", procedure_name="",
        status=row.status, status_label=row.status.label, received_at=as_utc(row.received_at),
        due_date=row.due_date, updated_at=as_utc(row.updated_at), overdue=is_overdue(row, today), notice=notice,
    )  # fmt: skip
    if not verified:  # status and dates only: the procedure alone can say too much about a person
        return public
    return replace(
        public,
        procedure_code=row.procedure_code,
        procedure_name=row.procedure_name,
        verified=True,
        applicant_name=row.applicant_name,
        applicant_cccd=mask_number(row.applicant_cccd),
        applicant_phone=mask_number(row.applicant_phone),
        supplement_note=row.supplement_note,
        history=history_records(session, row, with_actor=False),
        attachments=tuple(a.label for a in attachment_records(session, row)),
    )


def summary_record(row: DossierRow, today: date) -> DossierSummary:
    return DossierSummary(
        code=row.code, procedure_code=row.procedure_code, procedure_name=row.procedure_name,
        applicant_name=row.applicant_name, applicant_phone=row.applicant_phone, status=row.status,
        status_label=row.status.label, received_at=as_utc(row.received_at),
        due_date=row.due_date, overdue=is_overdue(row, today), channel=row.channel, center_code=row.center_code,
    )  # fmt: skip


def detail_record(session: Session, row: DossierRow, today: date) -> DossierDetail:
    """Everything about a dossier, for staff."""
    status = row.status
    outbox = session.scalars(
        select(PortalOutboxRow).where(PortalOutboxRow.dossier_id == row.id).order_by(PortalOutboxRow.position)
    ).all()
    time = (
        ProcessingTime(row.processing_value, TimeUnit(row.processing_unit)).describe()
        if row.processing_value is not None and row.processing_unit else ""
    )
    return DossierDetail(
        code=row.code, agency_code=row.agency_code, seq=row.seq, procedure_code=row.procedure_code,
        procedure_name=row.procedure_name, form_id=row.form_id, values=dict(row.values or {}),
        applicant_name=row.applicant_name, applicant_cccd=row.applicant_cccd,
        applicant_phone=row.applicant_phone, channel=row.channel, sender_id=row.sender_id,
        submission_kind=row.submission_kind, status=status, status_label=status.label,
        received_at=as_utc(row.received_at), due_date=row.due_date, processing_time=time,
        supplement_note=row.supplement_note, overdue=is_overdue(row, today), updated_at=as_utc(row.updated_at),
        history=history_records(session, row, with_actor=True), attachments=attachment_records(session, row),
        outbox=tuple(
            OutboxEntry(o.position, o.event, o.idempotency_key, o.attempts,
                        as_utc(o.delivered_at) if o.delivered_at else None, o.last_error)
            for o in outbox
        ),
        next_statuses=tuple({"status": s.value, "label": s.action_label}
                            for s in DossierStatus if s in TRANSITIONS[status]),
        center_code=row.center_code,
    )  # fmt: skip
