"""The dossier store (hồ sơ): file, change status, look up, attach documents, print the receipt.

No web or dialogue framework here: the Rasa form action, the citizen API and the staff desk
all call :class:`DossierService`.

Filing (:meth:`DossierService.file_dossier`) gives the dossier its code
``<agency code>-<yymmdd>-<4-digit daily sequence>``. The sequence comes from one counter row
per (agency, day), incremented by an atomic upsert in the same transaction as the dossier
insert: two filings never get the same number, and a filing rolled back (or a process
killed half-way) gives its number back, so the numbers of a day have no gaps. Every filing
and every status change writes its portal outbox row in that same transaction.

The due date (ngày hẹn trả) is computed with :mod:`motcua.workdays` from the procedure's
processing time for the way it was submitted (weekends, holidays and the 15:00 cut-off
count); when a requested supplement arrives, the time starts again from that moment
(Nghị định 118/2025/NĐ-CP: the time runs from receipt of a complete dossier).

Lookup shows a citizen only the status and the dates unless they give a second factor: the
lookup PIN made at filing (told in the chat, printed on the receipt), or the CCCD number AND
the phone number recorded on the dossier together (one number alone, or the code
alone, let anyone read someone's procedure). Links to the declaration PDF are random tokens
stored hashed (:mod:`motcua.dossiers.links`), expiring and revocable.

Staff belong to a center: methods taking ``center`` treat a dossier of another center
(``agency_code``) as not found; ``None`` (an admin) sees every center.
"""

from __future__ import annotations

import hmac
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from knowledge_base.schema import ChannelKind, Procedure, ProcessingTime, TimeUnit
from knowledge_base.store import get_procedure
from motcua.db import as_utc, session_scope, utcnow
from motcua.dossier_code import DossierCodeError, format_dossier_code, parse_dossier_code
from motcua.dossiers.attachments import PreparedAttachment
from motcua.dossiers.errors import DossierError, DossierNotFound, InvalidApplication, VerificationFailed
from motcua.dossiers.links import DECLARATION, hash_pin, hash_token, is_pin, new_pin, new_token
from motcua.dossiers.models import (
    DossierAttachment,
    DossierCounter,
    DossierLink,
    DossierRow,
    DossierStatusChange,
    PortalOutboxRow,
)
from motcua.dossiers.notifications import DossierNotice, Notifier, RecordingNotifier
from motcua.dossiers.outbox import add_outbox_row
from motcua.dossiers.receipt import ReceiptData, mask_number, render_receipt_pdf
from motcua.dossiers.status import TERMINAL, TRANSITIONS, DossierStatus, check_transition, parse_status
from motcua.dossiers.transactions import write_session
from motcua.identity import CccdError, validate_cccd_number
from motcua.validators import validate_person_name, validate_phone
from motcua.workdays import VIETNAM_TZ, HolidayCalendar, compute_due_date

__all__ = [
    "Applicant",
    "AttachmentInfo",
    "DossierApplication",
    "DossierDetail",
    "DossierService",
    "DossierSummary",
    "DossierView",
    "FiledDossier",
    "HistoryEntry",
    "OutboxEntry",
    "is_second_factor",
    "parse_lookup_payload",
]

log = logging.getLogger(__name__)

IN_PERSON_CHANNELS = frozenset({"kiosk", "counter", "desk"})
"""Channels where the citizen stands in the center: the in-person processing time applies."""
CLOSED = frozenset({DossierStatus.COMPLETED, DossierStatus.RESULT_RETURNED, DossierStatus.REJECTED})
"""Statuses for which a due date no longer matters."""


def _local_day(moment: datetime) -> date:
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
    """

    procedure_code: str
    applicant: Applicant
    values: Mapping[str, Any] = field(default_factory=dict)
    form_id: str = ""
    channel: str = ""
    sender_id: str = ""
    submission_kind: str = ""


# --- what comes out ------------------------------------------------------------------------


@dataclass(frozen=True)
class FiledDossier:
    code: str
    procedure_code: str
    procedure_name: str
    status: str
    received_at: datetime
    due_date: date | None
    processing_time: str
    lookup_pin: str = ""  # given out once, here; only its hash is stored

    def confirmation_text(self) -> str:
        """What the assistant tells the citizen once the dossier is filed."""
        received = self.received_at.astimezone(VIETNAM_TZ)
        lines = [
            f"Hồ sơ «{self.procedure_name}» đã được tiếp nhận lúc {received:%H:%M} ngày {received:%d/%m/%Y}.",
            f"Mã số hồ sơ: {self.code}",
        ]
        if self.lookup_pin:
            lines.append(f"Mã tra cứu: {self.lookup_pin}")
        if self.due_date:
            lines.append(f"Ngày hẹn trả kết quả: {self.due_date:%d/%m/%Y}.")
        if self.lookup_pin:
            lines.append("Ông/bà ghi lại mã số hồ sơ và mã tra cứu, giữ kín mã tra cứu: cần cả hai để xem "
                         "chi tiết hồ sơ khi tra cứu.")
        else:
            lines.append("Ông/bà ghi lại mã số hồ sơ để tra cứu tình trạng hồ sơ khi cần.")
        return "\n".join(lines)


@dataclass(frozen=True)
class HistoryEntry:
    status: str
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
    status: str
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
        """The answer in Vietnamese, as the assistant says it."""
        received = self.received_at.astimezone(VIETNAM_TZ)
        lines = [
            f"Hồ sơ {self.code} — {self.procedure_name}" if self.procedure_name else f"Hồ sơ {self.code}",
            f"Tình trạng: {self.status_label}",
            f"Ngày tiếp nhận: {received:%d/%m/%Y}",
        ]
        if self.status == DossierStatus.SUPPLEMENT_REQUESTED:
            lines.append("Thời hạn giải quyết được tính lại từ khi nhận đủ giấy tờ bổ sung.")
        elif self.due_date and self.status in (DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING):
            lines.append(f"Ngày hẹn trả kết quả: {self.due_date:%d/%m/%Y}" + (" (đã quá hạn)" if self.overdue else ""))
        if self.status == DossierStatus.COMPLETED:
            lines.append("Mời ông/bà đến Trung tâm nhận kết quả, mang theo giấy tiếp nhận hồ sơ và thẻ căn cước.")
        if self.verified:
            lines.append(f"Người nộp: {self.applicant_name}")
            if self.supplement_note and self.status == DossierStatus.SUPPLEMENT_REQUESTED:
                lines.append(f"Cần bổ sung: {self.supplement_note}")
            rejected = next((h for h in reversed(self.history) if h.status == DossierStatus.REJECTED), None)
            if rejected and rejected.note:
                lines.append(f"Lý do: {rejected.note}")
            if self.attachments:
                lines.append("Giấy tờ đã nhận: " + "; ".join(self.attachments))
            if len(self.history) > 1:
                lines.append("Các bước:")
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
    event: str
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
    status: str
    status_label: str
    received_at: datetime
    due_date: date | None
    overdue: bool
    channel: str


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
    status: str
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


ASK_SECOND_FACTOR = (
    "Để xem nội dung chi tiết (thủ tục, người nộp, yêu cầu bổ sung), xin ông/bà cho biết mã tra cứu in trên "
    "giấy tiếp nhận hồ sơ, hoặc cả số căn cước và số điện thoại đã khai khi nộp hồ sơ."
)
ONE_NUMBER_ONLY = (
    "Một số căn cước hoặc một số điện thoại thôi chưa đủ để xem chi tiết: xin ông/bà cho biết mã tra cứu in trên "
    "giấy tiếp nhận, hoặc cả số căn cước và số điện thoại đã khai khi nộp hồ sơ."
)
WRONG_SECOND_FACTOR = (
    "Mã tra cứu hoặc số căn cước và số điện thoại vừa cho không khớp với hồ sơ, nên tôi chỉ báo được "
    "thông tin chung."
)


def is_second_factor(*, cccd: str = "", phone: str = "", pin: str = "") -> bool:
    """True when what was given is a whole second factor (a PIN, or both numbers): only such a
    try can be wrong, and only wrong tries count towards a lock-out."""
    return bool((pin or "").strip()) or (bool((cccd or "").strip()) and bool((phone or "").strip()))


# --- codes and QR payloads -----------------------------------------------------------------

_QR_KEYS = ("ma", "ma_ho_so", "mahoso", "code", "dossier", "dossier_code")


def parse_lookup_payload(text: str, *, scanned: bool = False) -> str:
    """The dossier code in what a citizen typed, or in a scanned QR payload.

    Accepts the code itself, ``MOTCUA:<code>`` and a lookup link whose query carries the
    code (``?ma=…``) or whose last path segment is the code. Raises :class:`DossierError`
    (Vietnamese) otherwise.
    """
    if not isinstance(text, str):
        raise TypeError(f"lookup payload must be a str, got {type(text).__name__}")
    cleaned = unicodedata.normalize("NFKC", text).strip().lstrip("\ufeff").strip()
    if not cleaned:
        raise DossierError(
            "Xin ông/bà cho biết mã số hồ sơ in trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả, "
            "ví dụ 000.00.04.H51-240315-0001."
        )
    candidates = [cleaned]
    if cleaned.upper().startswith("MOTCUA:"):
        candidates = [cleaned.split(":", 1)[1]]
    elif "://" in cleaned:
        parts = urlsplit(cleaned)
        query = parse_qs(parts.query)
        candidates = [query[key][0] for key in _QR_KEYS if query.get(key)]
        segment = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
        if segment:
            candidates.append(segment)
    for candidate in candidates:
        try:
            return str(parse_dossier_code(candidate))
        except DossierCodeError as exc:
            error = exc
    if scanned or len(candidates) != 1 or candidates[0] != cleaned:
        raise DossierError(
            "Mã QR vừa quét không chứa mã số hồ sơ. Xin ông/bà quét mã QR in trên Giấy tiếp nhận hồ sơ "
            "và hẹn trả kết quả, hoặc nhập mã số hồ sơ (ví dụ 000.00.04.H51-240315-0001)."
        )
    raise DossierError(str(error))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text or ""))


def _normal_phone(text: str) -> str:
    result = validate_phone(text or "")
    return result.value if result.ok else _digits(text)


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def _jsonable(value: Any, path: str = "values") -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{path}: {type(value).__name__} cannot be stored as JSON")


def _pick_time(procedure: Procedure, kind: str) -> ProcessingTime | None:
    usable = [c for c in procedure.channels if c.time is not None and c.time.unit != TimeUnit.UNSPECIFIED]
    for channel in usable:
        if channel.kind == kind:
            return channel.time
    return usable[0].time if usable else None


# --- the service ---------------------------------------------------------------------------


class DossierService:
    """Dossiers in the database at ``database_url``.

    ``agency_code`` prefixes every code (``Settings.agency_code``); ``notifier`` hears each
    status change after it is committed; ``calendar`` and ``clock`` may be injected in tests.
    """

    def __init__(
        self,
        database_url: str,
        *,
        agency_code: str,
        notifier: Notifier | None = None,
        calendar: HolidayCalendar | None = None,
        clock: Callable[[], datetime] = utcnow,
        forms: Mapping[str, Any] | None = None,
        link_ttl: timedelta = timedelta(days=30),
    ) -> None:
        format_dossier_code(agency_code, date(2000, 1, 1), 1)  # fails early on a malformed agency code
        if link_ttl <= timedelta(0):
            raise ValueError(f"link_ttl must be positive, got {link_ttl}")
        self.link_ttl = link_ttl
        self.database_url = database_url
        self.agency_code = agency_code.upper()
        self.notifier: Notifier = notifier or RecordingNotifier(database_url)
        self.calendar = calendar
        self.clock = clock
        self._forms = forms

    @classmethod
    def from_settings(cls, settings, **kwargs) -> DossierService:
        kwargs.setdefault("link_ttl", timedelta(days=getattr(settings, "dossier_link_days", 30)))
        return cls(settings.sqlalchemy_url, agency_code=settings.agency_code, **kwargs)

    def _now(self) -> datetime:
        return as_utc(self.clock()).astimezone(UTC)

    def _calendar(self) -> HolidayCalendar:
        if self.calendar is None:
            self.calendar = HolidayCalendar.load()
        return self.calendar

    @property
    def forms(self) -> Mapping[str, Any]:
        if self._forms is None:
            from knowledge_base.forms import load_forms

            self._forms = load_forms()
        return self._forms

    # -- filing ------------------------------------------------------------------------

    def _clean_applicant(self, applicant: Applicant) -> Applicant:
        name = validate_person_name(applicant.name or "")
        if not name.ok:
            raise InvalidApplication(name.reason)
        cccd = ""
        if (applicant.cccd or "").strip():
            try:
                cccd = validate_cccd_number(applicant.cccd, today=_local_day(self._now()))
            except CccdError as exc:
                raise InvalidApplication(str(exc)) from None
        phone = ""
        if (applicant.phone or "").strip():
            checked = validate_phone(applicant.phone)
            if not checked.ok:
                raise InvalidApplication(checked.reason)
            phone = checked.value
        if not cccd and not phone:
            raise InvalidApplication(
                "Cần số căn cước hoặc số điện thoại của người nộp hồ sơ, để ông/bà tra cứu và nhận thông báo về hồ sơ."
            )
        return Applicant(name.value, cccd, phone)

    def _check_form(self, form_id: str, values: Mapping[str, Any]) -> None:
        if not form_id:
            return
        form = self.forms.get(form_id)
        if form is None:
            raise ValueError(f"unknown form id {form_id!r}; known: {sorted(self.forms)}")
        unknown = set(values) - set(form.field_names)
        if unknown:
            raise ValueError(f"values for fields not in form {form_id!r}: {sorted(unknown)}")

    def _next_sequence(self, session: Session, day: date) -> int:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - only the two supported databases
            raise NotImplementedError(f"dossier counters need PostgreSQL or SQLite, not {dialect}")
        statement = (
            insert(DossierCounter)
            .values(agency_code=self.agency_code, day=day, last_seq=1)
            .on_conflict_do_update(
                index_elements=["agency_code", "day"], set_={"last_seq": DossierCounter.last_seq + 1}
            )
            .returning(DossierCounter.last_seq)
        )
        return session.execute(statement).scalar_one()

    def file_dossier(
        self,
        application: DossierApplication,
        *,
        attachments: Sequence[PreparedAttachment] = (),
        actor: str = "assistant",
    ) -> FiledDossier:
        """File a dossier: code, due date, first history entry and outbox row, in one transaction.

        Raises :class:`InvalidApplication` (Vietnamese message) for an unknown procedure or a
        bad applicant; ``ValueError``/``TypeError`` for mistakes of the calling code.
        """
        applicant = self._clean_applicant(application.applicant)
        values = _jsonable(dict(application.values))
        self._check_form(application.form_id, values)
        kind = application.submission_kind or (
            ChannelKind.IN_PERSON if application.channel in IN_PERSON_CHANNELS else ChannelKind.ONLINE
        )
        try:
            kind = ChannelKind(kind)
        except ValueError:
            raise ValueError(f"submission_kind must be one of {[k.value for k in ChannelKind]}, got {kind!r}") from None
        calendar = self._calendar()
        received = self._now()
        day = _local_day(received)
        pin = new_pin()
        with write_session(self.database_url) as session:
            procedure = get_procedure(session, application.procedure_code)
            if procedure is None:
                raise InvalidApplication(
                    f"Không tìm thấy thủ tục mã «{application.procedure_code}» trong danh mục của Trung tâm."
                )
            time = _pick_time(procedure, kind)
            due = compute_due_date(received, time.value, time.unit, calendar) if time else None
            seq = self._next_sequence(session, day)
            try:
                code = format_dossier_code(self.agency_code, day, seq)
            except ValueError:
                raise DossierError(
                    "Hôm nay Trung tâm đã tiếp nhận đủ 9999 hồ sơ, không cấp thêm mã được. Xin liên hệ cán bộ."
                ) from None
            row = DossierRow(
                code=code, agency_code=self.agency_code, day=day, seq=seq,
                procedure_code=procedure.code, procedure_name=procedure.name, form_id=application.form_id,
                values=values, applicant_name=applicant.name, applicant_cccd=applicant.cccd,
                applicant_phone=applicant.phone, channel=application.channel, sender_id=application.sender_id,
                submission_kind=kind.value, status=DossierStatus.RECEIVED.value, received_at=received,
                processing_value=time.value if time else None, processing_unit=time.unit.value if time else "",
                due_date=due, supplement_note="", event_count=0, updated_at=received, lookup_pin_hash=hash_pin(pin),
            )  # fmt: skip
            session.add(row)
            session.flush()
            session.add(DossierStatusChange(dossier_id=row.id, from_status="", to_status=row.status, actor=actor,
                                            note="", created_at=received))
            for prepared in attachments:
                session.add(self._attachment_row(row, prepared, actor, received))
            add_outbox_row(session, row, "dossier.created", self._created_payload(row, attachments), received)
        return FiledDossier(
            code=code, procedure_code=procedure.code, procedure_name=procedure.name, status=row.status,
            received_at=received, due_date=due, processing_time=time.describe() if time else "", lookup_pin=pin,
        )

    def _created_payload(self, row: DossierRow, attachments: Sequence[PreparedAttachment]) -> dict[str, Any]:
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
            "status": row.status,
            "received_at": as_utc(row.received_at).isoformat(),
            "due_date": row.due_date.isoformat() if row.due_date else None,
            "attachments": [{"label": a.label, "sha256": a.sha256, "size": a.size, "pages": a.pages}
                            for a in attachments],
        }

    @staticmethod
    def _attachment_row(row: DossierRow, prepared: PreparedAttachment, actor: str, now: datetime) -> DossierAttachment:
        return DossierAttachment(
            dossier_id=row.id, label=prepared.label, filename=prepared.filename,
            content_type=prepared.content_type, size=prepared.size, sha256=prepared.sha256, pages=prepared.pages,
            sources=[asdict(s) for s in prepared.sources], content=prepared.data, actor=actor, created_at=now,
        )  # fmt: skip

    # -- status changes ----------------------------------------------------------------

    @staticmethod
    def _code(text: str) -> str:
        try:
            return str(parse_dossier_code(text))
        except DossierCodeError as exc:
            raise DossierError(str(exc)) from None

    @staticmethod
    def _locked(session: Session, code: str) -> DossierRow:
        row = session.scalar(select(DossierRow).where(DossierRow.code == code).with_for_update())
        if row is None:
            raise DossierNotFound(_not_found(code))
        return row

    def change_status(self, code: str, to: str | DossierStatus, *, actor: str, note: str = "") -> DossierDetail:
        """Move a dossier to ``to`` (history entry + outbox row in one transaction), then notify.

        Raises :class:`~motcua.dossiers.status.InvalidTransition` for a change the rules
        refuse (or a supplement request/rejection without a note), :class:`DossierNotFound`.
        """
        if not actor.strip():
            raise ValueError("actor must name who made the change")
        code = self._code(code)
        note = " ".join((note or "").split())
        now = self._now()
        with write_session(self.database_url) as session:
            row = self._locked(session, code)
            previous = DossierStatus(row.status)
            target = check_transition(previous, to, note)
            row.status = target.value
            row.updated_at = now
            if target == DossierStatus.SUPPLEMENT_REQUESTED:
                row.supplement_note = note
            elif previous == DossierStatus.SUPPLEMENT_REQUESTED and target == DossierStatus.IN_PROCESSING:
                row.supplement_note = ""
                if row.processing_value is not None and row.processing_unit:
                    row.due_date = compute_due_date(now, row.processing_value, row.processing_unit, self._calendar())
            session.add(DossierStatusChange(dossier_id=row.id, from_status=previous.value, to_status=target.value,
                                            actor=actor, note=note, created_at=now))
            add_outbox_row(session, row, "dossier.status_changed", {
                "code": row.code, "from": previous.value, "to": target.value, "note": note, "actor": actor,
                "changed_at": now.isoformat(), "due_date": row.due_date.isoformat() if row.due_date else None,
            }, now)  # fmt: skip
            session.flush()
            notice = self._notice(row, previous, target, note, now)
            detail = self._detail(session, row)
        if notice is not None:
            try:
                self.notifier.notify(notice)
            except Exception:  # the change is committed; a lost notice must not undo it
                log.exception("notifying %s about %s failed", notice.sender_id, code)
        return detail

    def receive(self, code: str, *, actor: str) -> DossierDetail:
        """Staff take the dossier into processing (tiếp nhận xử lý)."""
        return self.change_status(code, DossierStatus.IN_PROCESSING, actor=actor)

    def request_supplement(self, code: str, note: str, *, actor: str) -> DossierDetail:
        """Ask the citizen for more documents; ``note`` says what, and is sent to them."""
        return self.change_status(code, DossierStatus.SUPPLEMENT_REQUESTED, actor=actor, note=note)

    def _notice(self, row: DossierRow, previous: DossierStatus, target: DossierStatus, note: str,
                now: datetime) -> DossierNotice | None:
        if not row.channel or not row.sender_id:
            return None
        head = f"Hồ sơ {row.code} ({row.procedure_name})"
        due = f" Ngày hẹn trả kết quả: {row.due_date:%d/%m/%Y}." if row.due_date else ""
        texts = {
            DossierStatus.IN_PROCESSING: (
                f"{head} đã nhận đủ giấy tờ bổ sung và đang được giải quyết tiếp.{due}"
                if previous == DossierStatus.SUPPLEMENT_REQUESTED
                else f"{head} đã được cán bộ tiếp nhận và đang giải quyết.{due}"
            ),
            DossierStatus.SUPPLEMENT_REQUESTED: (
                f"{head} cần bổ sung: {note} Xin ông/bà bổ sung tại quầy của Trung tâm, "
                "hoặc gửi ảnh giấy tờ qua trợ lý."
            ),
            DossierStatus.COMPLETED: (
                f"{head} đã có kết quả. Mời ông/bà đến Trung tâm nhận kết quả, "
                "mang theo giấy tiếp nhận hồ sơ và thẻ căn cước."
            ),
            DossierStatus.RESULT_RETURNED: f"{head} đã trả kết quả. Cảm ơn ông/bà.",
            DossierStatus.REJECTED: (
                f"{head} không được giải quyết. Lý do: {note} Ông/bà có thể liên hệ cán bộ tại quầy để được hướng dẫn."
            ),
        }
        text = texts.get(target)
        if text is None:
            return None
        return DossierNotice(row.code, row.channel, row.sender_id, target.value, text, now)

    # -- attachments -------------------------------------------------------------------

    def add_attachment(
        self,
        code: str,
        prepared: PreparedAttachment,
        *,
        actor: str,
        cccd: str = "",
        phone: str = "",
        pin: str = "",
        verify: bool = False,
        center: str | None = None,
    ) -> AttachmentInfo:
        """Store a prepared attachment on an open dossier.

        With ``verify=True`` (a citizen uploading), the PIN, or the CCCD and phone together,
        must match the dossier.
        """
        code = self._code(code)
        now = self._now()
        with write_session(self.database_url) as session:
            row = self._locked(session, code)
            self._check_center(row, center)
            if verify and not self._verified(row, cccd, phone, pin):
                raise VerificationFailed(
                    "Mã tra cứu hoặc số căn cước và số điện thoại không khớp với hồ sơ này, nên chưa nhận được "
                    "giấy tờ. Xin ông/bà kiểm tra lại, hoặc nộp trực tiếp tại quầy."
                )
            if DossierStatus(row.status) in TERMINAL:
                raise DossierError(
                    f"Hồ sơ {code} đã ở tình trạng «{DossierStatus(row.status).label}», không nhận thêm giấy tờ."
                )
            attachment = self._attachment_row(row, prepared, actor, now)
            session.add(attachment)
            row.updated_at = now
            session.flush()
            return _attachment_info(attachment)

    def attachment_content(self, code: str, attachment_id: int, *,
                           center: str | None = None) -> tuple[AttachmentInfo, bytes]:
        code = self._code(code)
        with session_scope(self.database_url) as session:
            query = (
                select(DossierAttachment)
                .join(DossierRow, DossierRow.id == DossierAttachment.dossier_id)
                .where(DossierRow.code == code, DossierAttachment.id == attachment_id)
            )
            if center is not None:
                query = query.where(DossierRow.agency_code == center.upper())
            found = session.execute(query).scalar_one_or_none()
            if found is None:
                raise DossierNotFound(f"Hồ sơ {code} không có giấy tờ số {attachment_id}.")
            return _attachment_info(found), found.content

    # -- reading -----------------------------------------------------------------------

    @staticmethod
    def _verified(row: DossierRow, cccd: str = "", phone: str = "", pin: str = "") -> bool:
        """The second factor: the lookup PIN, or the CCCD AND the phone recorded on the dossier."""
        if (pin or "").strip() and is_pin(row.lookup_pin_hash, pin):
            return True
        return _same(_digits(cccd), row.applicant_cccd) and _same(_normal_phone(phone), row.applicant_phone)

    @staticmethod
    def _check_center(row: DossierRow, center: str | None) -> None:
        """A dossier of another center is, for this staff member, not there."""
        if center is not None and row.agency_code.upper() != center.upper():
            raise DossierNotFound(_not_found(row.code))

    def _overdue(self, row: DossierRow) -> bool:
        return (
            row.due_date is not None
            and DossierStatus(row.status) not in CLOSED
            and _local_day(self._now()) > row.due_date
        )

    def _history(self, session: Session, row: DossierRow, *, with_actor: bool) -> tuple[HistoryEntry, ...]:
        changes = session.scalars(
            select(DossierStatusChange).where(DossierStatusChange.dossier_id == row.id)
            .order_by(DossierStatusChange.id)
        ).all()
        return tuple(
            HistoryEntry(c.to_status, DossierStatus(c.to_status).label, as_utc(c.created_at), c.note,
                         c.actor if with_actor else "")
            for c in changes
        )

    def _attachments(self, session: Session, row: DossierRow) -> tuple[AttachmentInfo, ...]:
        rows = session.scalars(
            select(DossierAttachment).where(DossierAttachment.dossier_id == row.id).order_by(DossierAttachment.id)
        ).all()
        return tuple(_attachment_info(a) for a in rows)

    def _view(self, session: Session, row: DossierRow, verified: bool, notice: str = "") -> DossierView:
        status = DossierStatus(row.status)
        base = dict(
            code=row.code, procedure_code="", procedure_name="",
            status=status.value, status_label=status.label, received_at=as_utc(row.received_at),
            due_date=row.due_date, updated_at=as_utc(row.updated_at), overdue=self._overdue(row), notice=notice,
        )  # fmt: skip
        if not verified:  # status and dates only: the procedure alone can say too much about a person
            return DossierView(**base)
        base.update(procedure_code=row.procedure_code, procedure_name=row.procedure_name)
        return DossierView(
            **base,
            verified=True,
            applicant_name=row.applicant_name,
            applicant_cccd=mask_number(row.applicant_cccd),
            applicant_phone=mask_number(row.applicant_phone),
            supplement_note=row.supplement_note,
            history=self._history(session, row, with_actor=False),
            attachments=tuple(a.label for a in self._attachments(session, row)),
        )

    def lookup(self, payload: str, *, cccd: str = "", phone: str = "", pin: str = "",
               scanned: bool = False) -> DossierView:
        """A dossier by its code (typed, or ``scanned`` from the receipt's QR code).

        Without the ``pin``, or the ``cccd`` and ``phone`` together, only the status and dates
        are filled. Raises :class:`DossierError` for a malformed code or QR payload,
        :class:`DossierNotFound`.
        """
        code = parse_lookup_payload(payload, scanned=scanned)
        with session_scope(self.database_url) as session:
            row = session.scalar(select(DossierRow).where(DossierRow.code == code))
            if row is None:
                raise DossierNotFound(_not_found(code))
            tried = is_second_factor(cccd=cccd, phone=phone, pin=pin)
            verified = tried and self._verified(row, cccd, phone, pin)
            notice = WRONG_SECOND_FACTOR if tried and not verified else ""
            if not tried and ((cccd or "").strip() or (phone or "").strip()):
                notice = ONE_NUMBER_ONLY
            return self._view(session, row, verified, notice)

    def find_for_applicant(self, *, cccd: str = "", phone: str = "", sender_id: str = "",
                           limit: int = 5) -> list[DossierView]:
        """Recent dossiers of one applicant, for a citizen who has lost the code.

        Both the CCCD number and the phone must match. Anything else finds nothing, so a
        number alone never reveals someone's dossiers; ``sender_id`` no longer helps, since
        a REST or kiosk client chooses its own, and is kept for the callers.
        """
        del sender_id
        cccd, phone = _digits(cccd), _normal_phone(phone) if (phone or "").strip() else ""
        if not cccd or not phone:
            return []
        query: Select = select(DossierRow).where(DossierRow.applicant_cccd == cccd,
                                                 DossierRow.applicant_phone == phone)
        with session_scope(self.database_url) as session:
            rows = session.scalars(query.order_by(DossierRow.received_at.desc()).limit(limit)).all()
            return [self._view(session, row, True) for row in rows]

    def get(self, code: str, *, center: str | None = None) -> DossierDetail:
        """Everything about a dossier (staff only; ``center`` limits it to that center's dossiers)."""
        with session_scope(self.database_url) as session:
            return self._detail(session, self._row_in_center(session, self._code(code), center))

    def check_center(self, code: str, center: str | None) -> str:
        """The normalized ``code`` when the dossier exists in ``center`` (None: any); else :class:`DossierNotFound`."""
        code = self._code(code)
        with session_scope(self.database_url) as session:
            self._row_in_center(session, code, center)
        return code

    def _row_in_center(self, session: Session, code: str, center: str | None) -> DossierRow:
        row = session.scalar(select(DossierRow).where(DossierRow.code == code))
        if row is None:
            raise DossierNotFound(_not_found(code))
        self._check_center(row, center)
        return row

    def record_view(self, code: str, *, actor: str, what: str, detail: Mapping[str, Any] | None = None) -> None:
        """Write to the audit log that ``actor`` saw ``what`` (detail, attachment, receipt…) of a dossier.

        Every staff view of personal data is recorded, so a center can answer a citizen who
        asks who read their file.
        """
        from motcua.staff.accounts import record_audit

        with write_session(self.database_url) as session:
            record_audit(session, actor, f"dossier.view.{what}", f"dossier:{self._code(code)}", None,
                         dict(detail or {}) or None)

    # -- links and the lookup PIN --------------------------------------------------------

    def issue_link(self, code: str, *, purpose: str = DECLARATION) -> str:
        """A new random token for a link to the dossier's ``purpose`` document; only its hash is stored."""
        code = self._code(code)
        token = new_token()
        now = self._now()
        with write_session(self.database_url) as session:
            row = session.scalar(select(DossierRow).where(DossierRow.code == code))
            if row is None:
                raise DossierNotFound(_not_found(code))
            session.add(DossierLink(dossier_id=row.id, purpose=purpose, token_hash=hash_token(token),
                                    created_at=now, expires_at=now + self.link_ttl, revoked_by=""))
        return token

    def linked_dossier(self, code: str, token: str, *, purpose: str = DECLARATION) -> DossierDetail | None:
        """The dossier when ``token`` is a live link of ``purpose`` to ``code``; None for every refusal.

        Unknown, malformed, expired or revoked tokens, unknown codes and tokens of another
        dossier all answer None, so a caller cannot tell one from another.
        """
        if not token or len(token) > 64 or not code:
            return None
        try:
            code = self._code(code)
        except DossierError:
            return None
        now = self._now()
        with session_scope(self.database_url) as session:
            found = session.execute(
                select(DossierLink, DossierRow).join(DossierRow, DossierRow.id == DossierLink.dossier_id)
                .where(DossierLink.token_hash == hash_token(token))
            ).first()
            if found is None:
                return None
            link, row = found
            if (row.code != code or link.purpose != purpose or link.revoked_at is not None
                    or as_utc(link.expires_at) <= now):
                return None
            return self._detail(session, row)

    def revoke_links(self, code: str, *, actor: str, center: str | None = None) -> int:
        """Revoke every live link to the dossier's documents (audited); answers how many."""
        from motcua.staff.accounts import record_audit

        code = self._code(code)
        now = self._now()
        with write_session(self.database_url) as session:
            row = self._locked(session, code)
            self._check_center(row, center)
            links = session.scalars(
                select(DossierLink).where(DossierLink.dossier_id == row.id, DossierLink.revoked_at.is_(None))
            ).all()
            for link in links:
                link.revoked_at, link.revoked_by = now, actor
            record_audit(session, actor, "dossier.links_revoked", f"dossier:{code}", None, {"revoked": len(links)})
            return len(links)

    def reissue_pin(self, code: str, *, actor: str, center: str | None = None) -> str:
        """A new lookup PIN for the dossier (the old one stops working), audited; for a printed receipt."""
        from motcua.staff.accounts import record_audit

        code = self._code(code)
        pin = new_pin()
        with write_session(self.database_url) as session:
            row = self._locked(session, code)
            self._check_center(row, center)
            row.lookup_pin_hash = hash_pin(pin)
            record_audit(session, actor, "dossier.pin_reissued", f"dossier:{code}", None, None)
        return pin

    def _detail(self, session: Session, row: DossierRow) -> DossierDetail:
        status = DossierStatus(row.status)
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
            submission_kind=row.submission_kind, status=status.value, status_label=status.label,
            received_at=as_utc(row.received_at), due_date=row.due_date, processing_time=time,
            supplement_note=row.supplement_note, overdue=self._overdue(row), updated_at=as_utc(row.updated_at),
            history=self._history(session, row, with_actor=True), attachments=self._attachments(session, row),
            outbox=tuple(
                OutboxEntry(o.position, o.event, o.idempotency_key, o.attempts,
                            as_utc(o.delivered_at) if o.delivered_at else None, o.last_error)
                for o in outbox
            ),
            next_statuses=tuple({"status": s.value, "label": s.action_label}
                                for s in DossierStatus if s in TRANSITIONS[status]),
        )  # fmt: skip

    def list_dossiers(self, *, status: str = "", search: str = "", limit: int = 50,
                      offset: int = 0, center: str | None = None) -> list[DossierSummary]:
        """Dossiers for the desk, newest first; ``search`` matches code, name, phone or CCCD.

        ``center`` limits the list to that center's dossiers (None: every center, for admins).
        """
        if not 1 <= limit <= 500:
            raise ValueError(f"limit must be 1–500, got {limit}")
        query: Select = select(DossierRow)
        if center is not None:
            query = query.where(DossierRow.agency_code == center.upper())
        if status:
            query = query.where(DossierRow.status == parse_status(status).value)
        text = " ".join((search or "").split())
        if text:
            pattern = f"%{text.upper()}%"
            digits = _digits(text)
            conditions = [DossierRow.code.like(pattern), DossierRow.applicant_name.ilike(f"%{text}%")]
            if digits and len(digits) >= 4:
                conditions += [DossierRow.applicant_phone.like(f"%{digits}%"),
                               DossierRow.applicant_cccd.like(f"%{digits}%")]
            query = query.where(or_(*conditions))
        query = query.order_by(DossierRow.received_at.desc(), DossierRow.id.desc()).limit(limit).offset(offset)
        with session_scope(self.database_url) as session:
            return [
                DossierSummary(
                    code=r.code, procedure_code=r.procedure_code, procedure_name=r.procedure_name,
                    applicant_name=r.applicant_name, applicant_phone=r.applicant_phone, status=r.status,
                    status_label=DossierStatus(r.status).label, received_at=as_utc(r.received_at),
                    due_date=r.due_date, overdue=self._overdue(r), channel=r.channel,
                )  # fmt: skip
                for r in session.scalars(query)
            ]

    def verify_applicant(self, code: str, *, cccd: str = "", phone: str = "", pin: str = "") -> bool:
        """True when the PIN, or the CCCD and the phone together, match the dossier."""
        code = self._code(code)
        with session_scope(self.database_url) as session:
            row = session.scalar(select(DossierRow).where(DossierRow.code == code))
            if row is None:
                raise DossierNotFound(_not_found(code))
            return self._verified(row, cccd, phone, pin)

    # -- receipt -----------------------------------------------------------------------

    def receipt_pdf(self, code: str, *, center_name: str, received_by: str = "", lookup_pin: str = "",
                    center: str | None = None) -> bytes:
        """The receipt (Giấy tiếp nhận hồ sơ và hẹn trả kết quả) as PDF bytes.

        ``received_by`` is the name printed under «người tiếp nhận» (the staff member handing
        it over); left empty, the line stays blank for a handwritten name. ``lookup_pin`` is
        printed when given (the PIN is stored hashed, so only its maker can print it).
        """
        detail = self.get(code, center=center)
        return render_receipt_pdf(ReceiptData(
            code=detail.code, center_name=center_name, procedure_code=detail.procedure_code,
            procedure_name=detail.procedure_name, applicant_name=detail.applicant_name,
            applicant_cccd=detail.applicant_cccd, applicant_phone=detail.applicant_phone,
            received_at=detail.received_at, due_date=detail.due_date, processing_time=detail.processing_time,
            submission=_SUBMISSION_LABELS.get(detail.submission_kind, detail.submission_kind),
            documents=tuple(f"{a.label} ({a.pages} trang)" for a in detail.attachments),
            received_by=received_by, lookup_pin=lookup_pin,
        ))  # fmt: skip


_SUBMISSION_LABELS = {k.value: k.label for k in ChannelKind}


def _not_found(code: str) -> str:
    return (
        f"Không tìm thấy hồ sơ mã {code} tại Trung tâm. Xin ông/bà kiểm tra lại mã số in trên "
        "Giấy tiếp nhận hồ sơ và hẹn trả kết quả."
    )


def _attachment_info(row: DossierAttachment) -> AttachmentInfo:
    return AttachmentInfo(
        id=row.id, label=row.label, filename=row.filename, content_type=row.content_type, size=row.size,
        sha256=row.sha256, pages=row.pages, created_at=as_utc(row.created_at), sources=tuple(row.sources or ()),
    )  # fmt: skip
