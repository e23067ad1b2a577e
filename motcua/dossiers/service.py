"""The dossier store (hồ sơ): file, change status, look up, attach documents, print the receipt.

No web or dialogue framework here: the Rasa form action, the citizen API and the staff desk
all call :class:`DossierService` inside their own transaction: each method takes the caller's
``Session`` (writes start with :func:`motcua.db.write_transaction`; the caller commits, as with the
queue's service), and does the work with the modules of each step:

- :mod:`.filing` — the application checked; the gap-free daily code, the due date, the
  first history entry and the portal outbox row, in one transaction;
- :mod:`.changes` — a status change (history, outbox) and the citizen's notice about it;
- :mod:`.access` — the code in what a citizen typed or scanned, the second factor, centers;
- :mod:`.records` — the application and the records a citizen, the desk or the assistant reads.

Links to the declaration PDF are random tokens stored hashed (:mod:`motcua.dossiers.links`),
expiring and revocable. A dossier's fee is fixed as it is filed, and its receipt shows the fee
still owed, through the :class:`~motcua.dossiers.pricing.DossierFees` the service is given
(:meth:`DossierService.from_settings` gives the :class:`~motcua.payments.service.PaymentService`). This module also answers with the records it takes and returns
(:class:`Applicant`, :class:`DossierApplication`, :class:`DossierView` …), so callers import
them from here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from knowledge_base.messages import render
from knowledge_base.schema import ChannelKind
from knowledge_base.text import clean_text
from motcua.centers import DEFAULT_CENTER, find_center
from motcua.db import as_utc, utcnow, write_transaction
from motcua.dossier_code import format_dossier_code
from motcua.dossiers.access import (
    ONE_NUMBER_ONLY,
    WRONG_SECOND_FACTOR,
    check_center,
    digits,
    is_second_factor,
    is_verified,
    normal_code,
    normal_phone,
    not_found,
    parse_lookup_payload,
)
from motcua.dossiers.attachments import PreparedAttachment
from motcua.dossiers.changes import apply_change, change_notice
from motcua.dossiers.errors import DossierError, DossierNotFound, VerificationFailed
from motcua.dossiers.filing import attachment_row, check_application, file_once, insert_dossier
from motcua.dossiers.links import DECLARATION, hash_pin, hash_token, new_pin, new_token
from motcua.dossiers.models import DossierAttachment, DossierLink, DossierRow
from motcua.dossiers.notifications import Notifier, RecordingNotifier
from motcua.dossiers.pricing import DossierFees
from motcua.dossiers.receipt import ReceiptData, ReceiptFee, render_receipt_pdf
from motcua.dossiers.records import (
    Applicant,
    AttachmentInfo,
    DossierApplication,
    DossierDetail,
    DossierSummary,
    DossierView,
    FiledDossier,
    HistoryEntry,
    OutboxEntry,
    attachment_record,
    detail_record,
    local_day,
    summary_record,
    view_record,
)
from motcua.dossiers.status import TERMINAL, DossierStatus, parse_status
from motcua.workdays import HolidayCalendar

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


class DossierService:
    """Dossiers, read and written in the caller's ``session``: each method runs in the caller's
    transaction (writes start with :func:`motcua.db.write_transaction`) and the caller commits.

    ``agency_code`` prefixes the codes of the default centre's dossiers (``Settings.agency_code``), and of
    another centre's when it has no agency code of its own (:meth:`agency_for`); ``notifier`` records each
    status change's notice in the change's own transaction; ``calendar`` and ``clock`` may be injected in tests.
    ``fees`` prices each dossier in its filing's transaction and gives its receipt the fee still owed
    (None: no fee is priced at filing nor printed). A dossier belongs to the centre it was filed at
    (``DossierApplication.center``); methods taking ``center`` (a centre's code, :mod:`motcua.centers`)
    treat a dossier of another centre as not found (``None``: any, for admins).
    """

    def __init__(
        self,
        *,
        agency_code: str,
        notifier: Notifier | None = None,
        calendar: HolidayCalendar | None = None,
        clock: Callable[[], datetime] = utcnow,
        forms: Mapping[str, Any] | None = None,
        link_ttl: timedelta = timedelta(days=30),
        fees: DossierFees | None = None,
    ) -> None:
        format_dossier_code(agency_code, date(2000, 1, 1), 1)  # fails early on a malformed agency code
        if link_ttl <= timedelta(0):
            raise ValueError(f"link_ttl must be positive, got {link_ttl}")
        self.link_ttl = link_ttl
        self.agency_code = agency_code.upper()
        self.notifier: Notifier = notifier or RecordingNotifier()
        self.calendar = calendar
        self.clock = clock
        self._forms = forms
        self.fees = fees

    @classmethod
    def from_settings(cls, settings, **kwargs) -> DossierService:
        """The service for ``settings``; its dossiers are priced at filing by a
        :class:`~motcua.payments.service.PaymentService` unless ``fees`` is given."""
        kwargs.setdefault("link_ttl", timedelta(days=getattr(settings, "dossier_link_days", 30)))
        if "fees" not in kwargs:
            from motcua.payments.service import PaymentService

            kwargs["fees"] = PaymentService.from_settings(settings)
        return cls(agency_code=settings.agency_code, **kwargs)

    def _now(self) -> datetime:
        return as_utc(self.clock()).astimezone(UTC)

    def _today(self) -> date:
        return local_day(self._now())

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

    # -- filing and status changes -----------------------------------------------------

    def file_dossier(
        self,
        session: Session,
        application: DossierApplication,
        *,
        attachments: Sequence[PreparedAttachment] = (),
        actor: str = "assistant",
        filing_key: str = "",
    ) -> FiledDossier:
        """File a dossier: code, due date, first history entry and outbox row, in the caller's transaction.

        With a ``filing_key`` (one per form session or desk form, made by the caller), filing again
        with that key files nothing more and answers the first filing's dossier (its lookup PIN only
        within :data:`~motcua.dossiers.filing.FILING_PIN_KEPT`; after that ``lookup_pin`` is empty).

        Raises :class:`InvalidApplication` (Vietnamese message) for an unknown procedure or a
        bad applicant, :class:`~motcua.dossiers.filing.FilingKeyReused` for a key that filed a
        different application; ``ValueError``/``TypeError`` for mistakes of the calling code.
        """
        checked = check_application(application, today=self._today(),
                                    forms=self.forms if application.form_id else None)
        calendar = self._calendar()
        received = self._now()
        pin = new_pin()
        write_transaction(session)
        agency_code = self.agency_for(session, application.center)
        if filing_key:
            filed = file_once(session, checked, filing_key=filing_key, agency_code=agency_code,
                              received=received, calendar=calendar, pin=pin, attachments=attachments, actor=actor)
        else:
            filed = insert_dossier(session, checked, agency_code=agency_code, received=received,
                                   calendar=calendar, pin=pin, attachments=attachments, actor=actor)
        self._price(session, filed.code, actor)
        return filed

    def agency_for(self, session: Session, center: str) -> str:
        """The agency code prefixing the codes of dossiers filed at ``center``: the centre's own agency code,
        else (none, or one that is not a valid agency code) the deployment's; the default centre's is always
        the deployment's. ``ValueError`` for a centre that does not exist (a mistake of the calling code)."""
        if center == DEFAULT_CENTER:
            return self.agency_code
        found = find_center(session, center)
        if found is None:
            raise ValueError(f"no centre {center!r}: a dossier is filed at a centre that exists")
        own = found.agency_code.strip().upper()
        if not own:
            return self.agency_code
        try:
            format_dossier_code(own, date(2000, 1, 1), 1)
        except ValueError:
            log.warning("centre %s has a malformed agency code %r: its dossiers take %s", center, own,
                        self.agency_code)
            return self.agency_code
        return own

    def _price(self, session: Session, code: str, actor: str) -> None:
        """Fix the dossier's fee in the filing's transaction; a failure there never fails the filing
        (the fee is then priced when it is first asked for)."""
        if self.fees is None:
            return
        try:
            with session.begin_nested():
                self.fees.price_filed(session, code, actor=actor)
        except Exception:
            log.exception("pricing a dossier at filing failed")

    def change_status(self, session: Session, code: str, to: str | DossierStatus, *, actor: str,
                      note: str = "") -> DossierDetail:
        """Move a dossier to ``to``: history entry, portal outbox row and the citizen's notice
        (:attr:`notifier`, given ``session``) are written in the caller's transaction, so they are
        committed together or not at all.

        Raises :class:`~motcua.dossiers.status.InvalidTransition` for a change the rules
        refuse (or a supplement request/rejection without a note), :class:`DossierNotFound`.
        """
        if not actor.strip():
            raise ValueError("actor must name who made the change")
        code = normal_code(code)
        note = " ".join(clean_text(note or "").split())
        now = self._now()
        write_transaction(session)
        row = self._locked(session, code)
        previous = apply_change(session, row, to, actor=actor, note=note, now=now, calendar=self._calendar)
        notice = change_notice(row, previous, note, now)
        if notice is not None:  # in the change's transaction: a failure here rolls the change back
            self.notifier.notify(notice, session)
        return detail_record(session, row, self._today())

    def receive(self, session: Session, code: str, *, actor: str) -> DossierDetail:
        """Staff take the dossier into processing (tiếp nhận xử lý)."""
        return self.change_status(session, code, DossierStatus.IN_PROCESSING, actor=actor)

    def request_supplement(self, session: Session, code: str, note: str, *, actor: str) -> DossierDetail:
        """Ask the citizen for more documents; ``note`` says what, and is sent to them."""
        return self.change_status(session, code, DossierStatus.SUPPLEMENT_REQUESTED, actor=actor, note=note)

    @staticmethod
    def _locked(session: Session, code: str) -> DossierRow:
        row = session.scalar(select(DossierRow).where(DossierRow.code == code).with_for_update())
        if row is None:
            raise DossierNotFound(not_found(code))
        return row

    @staticmethod
    def _row(session: Session, code: str, center: str | None = None) -> DossierRow:
        row = session.scalar(select(DossierRow).where(DossierRow.code == code))
        if row is None:
            raise DossierNotFound(not_found(code))
        check_center(row, center)
        return row

    # -- attachments -------------------------------------------------------------------

    def add_attachment(
        self,
        session: Session,
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
        code = normal_code(code)
        now = self._now()
        write_transaction(session)
        row = self._locked(session, code)
        check_center(row, center)
        if verify and not is_verified(row, cccd, phone, pin):
            raise VerificationFailed(render("dossier.verification_failed"))
        if row.status in TERMINAL:
            raise DossierError(render("dossier.closed", code=code, status=row.status.label))
        attachment = attachment_row(row, prepared, actor, now)
        session.add(attachment)
        row.updated_at = now
        session.flush()
        return attachment_record(attachment)

    def attachment_content(self, session: Session, code: str, attachment_id: int, *,
                           center: str | None = None) -> tuple[AttachmentInfo, bytes]:
        code = normal_code(code)
        query = (
            select(DossierAttachment)
            .join(DossierRow, DossierRow.id == DossierAttachment.dossier_id)
            .where(DossierRow.code == code, DossierAttachment.id == attachment_id)
        )
        if center is not None:
            query = query.where(DossierRow.center_code == center)
        found = session.execute(query).scalar_one_or_none()
        if found is None:
            raise DossierNotFound(f"Hồ sơ {code} không có giấy tờ số {attachment_id}.")  # staff-facing (desk)
        return attachment_record(found), found.content

    # -- reading -----------------------------------------------------------------------

    def lookup(self, session: Session, payload: str, *, cccd: str = "", phone: str = "", pin: str = "",
               scanned: bool = False) -> DossierView:
        """A dossier by its code (typed, or ``scanned`` from the receipt's QR code).

        Without the ``pin``, or the ``cccd`` and ``phone`` together, only the status and dates
        are filled. Raises :class:`DossierError` for a malformed code or QR payload,
        :class:`DossierNotFound`.
        """
        code = parse_lookup_payload(payload, scanned=scanned)
        row = self._row(session, code)
        tried = is_second_factor(cccd=cccd, phone=phone, pin=pin)
        verified = tried and is_verified(row, cccd, phone, pin)
        notice = WRONG_SECOND_FACTOR if tried and not verified else ""
        if not tried and ((cccd or "").strip() or (phone or "").strip()):
            notice = ONE_NUMBER_ONLY
        return view_record(session, row, self._today(), verified=verified, notice=notice)

    def find_for_applicant(self, session: Session, *, cccd: str = "", phone: str = "", sender_id: str = "",
                           limit: int = 5) -> list[DossierView]:
        """Recent dossiers of one applicant, for a citizen who has lost the code.

        Both the CCCD number and the phone must match. Anything else finds nothing, so a
        number alone never reveals someone's dossiers; ``sender_id`` no longer helps, since
        a REST or kiosk client chooses its own, and is kept for the callers.
        """
        del sender_id
        cccd, phone = digits(cccd), normal_phone(phone) if (phone or "").strip() else ""
        if not cccd or not phone:
            return []
        query: Select = select(DossierRow).where(DossierRow.applicant_cccd == cccd,
                                                 DossierRow.applicant_phone == phone)
        rows = session.scalars(query.order_by(DossierRow.received_at.desc()).limit(limit)).all()
        return [view_record(session, row, self._today(), verified=True) for row in rows]

    def get(self, session: Session, code: str, *, center: str | None = None) -> DossierDetail:
        """Everything about a dossier (staff only; ``center`` limits it to that center's dossiers)."""
        return detail_record(session, self._row(session, normal_code(code), center), self._today())

    def check_center(self, session: Session, code: str, center: str | None) -> str:
        """The normalized ``code`` when the dossier exists in ``center`` (None: any); else :class:`DossierNotFound`."""
        code = normal_code(code)
        self._row(session, code, center)
        return code

    def list_dossiers(self, session: Session, *, status: str = "", search: str = "", limit: int = 50,
                      offset: int = 0, center: str | None = None) -> list[DossierSummary]:
        """Dossiers for the desk, newest first; ``search`` matches code, name, phone or CCCD.

        ``center`` limits the list to that centre's dossiers (None: every centre, for admins).
        """
        if not 1 <= limit <= 500:
            raise ValueError(f"limit must be 1–500, got {limit}")
        query: Select = select(DossierRow)
        if center is not None:
            query = query.where(DossierRow.center_code == center)
        if status:
            query = query.where(DossierRow.status == parse_status(status))
        text = " ".join((search or "").split())
        if text:
            pattern = f"%{text.upper()}%"
            numbers = digits(text)
            conditions = [DossierRow.code.like(pattern), DossierRow.applicant_name.ilike(f"%{text}%")]
            if numbers and len(numbers) >= 4:
                conditions += [DossierRow.applicant_phone.like(f"%{numbers}%"),
                               DossierRow.applicant_cccd.like(f"%{numbers}%")]
            query = query.where(or_(*conditions))
        query = query.order_by(DossierRow.received_at.desc(), DossierRow.id.desc()).limit(limit).offset(offset)
        today = self._today()
        return [summary_record(row, today) for row in session.scalars(query)]

    def verify_applicant(self, session: Session, code: str, *, cccd: str = "", phone: str = "",
                         pin: str = "") -> bool:
        """True when the PIN, or the CCCD and the phone together, match the dossier."""
        return is_verified(self._row(session, normal_code(code)), cccd, phone, pin)

    def record_view(self, session: Session, code: str, *, actor: str, what: str, detail: Mapping[str,
                                                                                                 Any] | None = None) -> None:
        """Write to the audit log that ``actor`` saw ``what`` (detail, attachment, receipt…) of a dossier.

        Every staff view of personal data is recorded, so a center can answer a citizen who
        asks who read their file.
        """
        from motcua.staff.accounts import record_audit

        write_transaction(session)
        record_audit(session, actor, f"dossier.view.{what}", f"dossier:{normal_code(code)}", None,
                     dict(detail or {}) or None)

    # -- links and the lookup PIN --------------------------------------------------------

    def issue_link(self, session: Session, code: str, *, purpose: str = DECLARATION) -> str:
        """A new random token for a link to the dossier's ``purpose`` document; only its hash is stored."""
        code = normal_code(code)
        token = new_token()
        now = self._now()
        write_transaction(session)
        row = self._row(session, code)
        session.add(DossierLink(dossier_id=row.id, purpose=purpose, token_hash=hash_token(token),
                                created_at=now, expires_at=now + self.link_ttl, revoked_by=""))
        session.flush()
        return token

    def linked_dossier(self, session: Session, code: str, token: str, *,
                       purpose: str = DECLARATION) -> DossierDetail | None:
        """The dossier when ``token`` is a live link of ``purpose`` to ``code``; None for every refusal.

        Unknown, malformed, expired or revoked tokens, unknown codes and tokens of another
        dossier all answer None, so a caller cannot tell one from another.
        """
        if not token or len(token) > 64 or not code:
            return None
        try:
            code = normal_code(code)
        except DossierError:
            return None
        now = self._now()
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
        return detail_record(session, row, self._today())

    def revoke_links(self, session: Session, code: str, *, actor: str, center: str | None = None) -> int:
        """Revoke every live link to the dossier's documents (audited); answers how many."""
        from motcua.staff.accounts import record_audit

        code = normal_code(code)
        now = self._now()
        write_transaction(session)
        row = self._locked(session, code)
        check_center(row, center)
        links = session.scalars(
            select(DossierLink).where(DossierLink.dossier_id == row.id, DossierLink.revoked_at.is_(None))
        ).all()
        for link in links:
            link.revoked_at, link.revoked_by = now, actor
        record_audit(session, actor, "dossier.links_revoked", f"dossier:{code}", None,
                     {"revoked": len(links)})
        return len(links)

    def reissue_pin(self, session: Session, code: str, *, actor: str, center: str | None = None) -> str:
        """A new lookup PIN for the dossier (the old one stops working), audited; for a printed receipt."""
        from motcua.staff.accounts import record_audit

        code = normal_code(code)
        pin = new_pin()
        write_transaction(session)
        row = self._locked(session, code)
        check_center(row, center)
        row.lookup_pin_hash = hash_pin(pin)
        record_audit(session, actor, "dossier.pin_reissued", f"dossier:{code}", None, None)
        return pin

    # -- receipt -----------------------------------------------------------------------

    def receipt_pdf(self, session: Session, code: str, *, center_name: str, received_by: str = "",
                    lookup_pin: str = "",
                    center: str | None = None) -> bytes:
        """The receipt (Giấy tiếp nhận hồ sơ và hẹn trả kết quả) as PDF bytes.

        ``received_by`` is the name printed under «người tiếp nhận» (the staff member handing
        it over); left empty, the line stays blank for a handwritten name. ``lookup_pin`` is
        printed when given (the PIN is stored hashed, so only its maker can print it). The name printed is
        that of the centre the dossier was filed at; ``center_name`` is the default centre's (the settings').
        """
        detail = self.get(session, code, center=center)
        if detail.center_code != DEFAULT_CENTER:
            found = find_center(session, detail.center_code)
            center_name = found.display_name if found is not None else center_name
        return render_receipt_pdf(ReceiptData(
            code=detail.code, center_name=center_name, procedure_code=detail.procedure_code,
            procedure_name=detail.procedure_name, applicant_name=detail.applicant_name,
            applicant_cccd=detail.applicant_cccd, applicant_phone=detail.applicant_phone,
            received_at=detail.received_at, due_date=detail.due_date, processing_time=detail.processing_time,
            submission=_SUBMISSION_LABELS.get(detail.submission_kind, detail.submission_kind),
            documents=tuple(f"{a.label} ({a.pages} trang)" for a in detail.attachments),
            received_by=received_by, lookup_pin=lookup_pin, fee=self._receipt_fee(session, detail.code, center),
        ))  # fmt: skip

    def _receipt_fee(self, session: Session, code: str, center: str | None) -> ReceiptFee | None:
        """The unpaid fee the receipt prints (amount, note, VietQR), read by the fees
        (:class:`~motcua.payments.service.PaymentService`) in the receipt's session; the receipt prints
        without it when there is none or it cannot be had."""
        if self.fees is None:
            return None
        try:
            return self.fees.receipt_fee(session, code, center=center)
        except Exception:
            log.exception("the fee of a dossier's receipt could not be read")
            return None


_SUBMISSION_LABELS = {k.value: k.label for k in ChannelKind}
