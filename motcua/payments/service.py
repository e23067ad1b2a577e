"""Payments of dossiers: the fee, the VietQR request, cash at the counter, waivers, bank statements.

:class:`PaymentService` works like :class:`~motcua.dossiers.service.DossierService`: each method takes
the caller's ``Session`` first, starts its writes with :func:`motcua.db.write_transaction`, never commits
(callers use ``database.run(payments.method, …)``), and locks the dossier row, so two cashiers, or a
cashier and a statement import, never both mark the same dossier paid. A bank statement is the one
exception: :meth:`PaymentService.import_statement` is handed the :class:`~motcua.db.Database` and commits
each line in a transaction of its own, so a bad line never undoes the lines before it.

A dossier is priced when it is filed (:meth:`PaymentService.price_filed`, called by
:class:`~motcua.dossiers.service.DossierService` in the filing's own transaction), from the procedure
as the knowledge base holds it then and the fee table in force then (:func:`motcua.payments.fees.quote_fee`;
the seed ``knowledge_base/fees.yaml`` with staff edits, :func:`knowledge_base.curation.fees.effective_fee_table`).
The amount is kept on the dossier and does not move when the catalogue or the fee table changes later.
A dossier that could not be priced at filing (a fee the center had not set yet) is priced the first
time its payment is asked for. Every change of the payment
state is one row of the payment history (``dossier_payment_events``) and, when a person or an import
made it, one row of the audit log.

::

    (priced) ──► none_due                 a free procedure: nothing to pay
        └─────► unpaid ──► paid           VietQR transfer (statement import) or cash (counter)
                   └─────► waived         exemption, with a reason (hộ nghèo, người có công…)
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.fee_table import FeeTable, default_fee_table
from knowledge_base.schema import ChannelKind
from knowledge_base.store import get_procedure
from knowledge_base.text import clean_text
from motcua.db import Database, as_utc, utcnow, write_transaction
from motcua.dossier_code import find_dossier_codes
from motcua.dossiers.access import check_center, normal_code
from motcua.dossiers.errors import DossierError, DossierNotFound
from motcua.dossiers.models import DossierRow
from motcua.dossiers.receipt import ReceiptFee
from motcua.dossiers.records import local_day
from motcua.payments.fees import FeeUndetermined, quote_fee
from motcua.payments.models import (
    DossierPayment,
    DossierPaymentEvent,
    LineOutcome,
    PaymentMethod,
    PaymentState,
    StatementLineRow,
)
from motcua.payments.statement import StatementLine
from motcua.payments.vietqr import ReceivingAccount, build_payload
from motcua.workdays import VIETNAM_TZ

log = logging.getLogger(__name__)

__all__ = ["LineResult", "PaymentError", "PaymentEventView", "PaymentRequest", "PaymentService", "PaymentView",
           "ReceiptData", "StatementReport", "codes_in_note", "format_dong"]

MIN_WAIVER_REASON = 5


class PaymentError(DossierError):
    """A payment action refused; the message is for staff (Vietnamese), ``kind`` picks the HTTP status."""

    def __init__(self, message: str, kind: str = "conflict"):
        super().__init__(message)
        self.kind = kind


def format_dong(amount: int) -> str:
    """``8000`` → ``8.000 đồng``."""
    return f"{amount:,}".replace(",", ".") + " đồng"  # staff-facing


@dataclass(frozen=True)
class PaymentEventView:
    from_state: str
    to_state: PaymentState
    method: str
    amount: int | None
    actor: str
    note: str
    at: datetime


@dataclass(frozen=True)
class PaymentView:
    """A dossier's fee and where its payment stands (for staff)."""

    code: str
    amount: int
    fee_source: str
    fee_note: str
    channel_kind: str
    state: PaymentState
    state_label: str
    method: PaymentMethod | None
    paid_amount: int | None
    paid_at: datetime | None
    paid_by: str
    waiver_reason: str
    history: tuple[PaymentEventView, ...] = ()
    vietqr_enabled: bool = False

    def describe(self) -> str:
        """One line for staff: «Đã nộp phí: 8.000 đồng, tiền mặt, 10/03/2026 09:45, staff:thuha»."""
        text = f"{self.code}: {self.state_label}"
        if self.state == PaymentState.NONE_DUE:
            return text
        text += f", {format_dong(self.amount)}"
        if self.state == PaymentState.PAID and self.method and self.paid_at:
            text += f", {self.method.label}, {self.paid_at.astimezone(VIETNAM_TZ):%d/%m/%Y %H:%M}, {self.paid_by}"
        if self.state == PaymentState.WAIVED:
            text += f", lý do: {self.waiver_reason} ({self.paid_by})"  # staff-facing
        return text


@dataclass(frozen=True)
class PaymentRequest:
    """What a citizen's banking app needs: the VietQR payload, and what to show beside the code."""

    code: str
    amount: int
    note: str  # the transfer note: the dossier code
    payload: str
    bank_bin: str
    account_number: str
    account_name: str


@dataclass(frozen=True)
class ReceiptData:
    """What the payment receipt (biên lai) prints: the payment and whose dossier it was."""

    payment: PaymentView
    applicant_name: str
    procedure_name: str
    collector: str = ""  # who took the cash: the staff member's full name (never a login)
    collector_number: int | None = None  # their staff number, printed when no full name is recorded


@dataclass(frozen=True)
class LineResult:
    line_number: int
    outcome: LineOutcome
    amount: int | None
    note: str
    dossier_code: str = ""
    message: str = ""
    booked_at: datetime | None = None

    def describe(self) -> str:
        amount = format_dong(self.amount) if self.amount is not None else "?"
        code = f" → {self.dossier_code}" if self.dossier_code else ""
        detail = f": {self.message}" if self.message else ""
        return f"dòng {self.line_number}: {self.outcome.label}{code} ({amount}, «{self.note}»){detail}"  # staff-facing


@dataclass(frozen=True)
class StatementReport:
    lines: tuple[LineResult, ...] = field(default_factory=tuple)

    def count(self, outcome: LineOutcome) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    def summary(self) -> str:
        parts = [f"{outcome.label}: {self.count(outcome)}" for outcome in LineOutcome if self.count(outcome)]
        return f"{len(self.lines)} dòng — " + ("; ".join(parts) or "không có dòng nào")  # staff-facing


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def codes_in_note(note: str, agencies: str | Sequence[str]) -> list[str]:
    """Dossier codes in a transfer note, in order: written in full, or as banks often pass them on
    with the dots and dashes dropped or replaced (``0000004H51 260310 0001``) for any of ``agencies``
    (the deployment's and every centre's own)."""
    found = [str(code) for code in find_dossier_codes(note)]
    squeezed = _alnum(note)
    for agency_code in [agencies] if isinstance(agencies, str) else agencies:
        agency = _alnum(agency_code)
        if not agency:
            continue
        for match in re.finditer(re.escape(agency) + r"(\d{6})(\d{4})", squeezed):
            code = f"{agency_code.strip().upper()}-{match[1]}-{match[2]}"
            if code not in found:
                found.append(code)
    return found


def agency_codes(session: Session, deployment: str) -> list[str]:
    """The agency codes dossier codes of this deployment may start with: the deployment's, then each
    centre's own (a centre's dossiers carry its agency code, ``DossierService.agency_for``)."""
    from motcua.centers import list_centers

    codes = [deployment.upper()] if deployment else []
    for center in list_centers(session):
        own = center.agency_code.strip().upper()
        if own and own not in codes:
            codes.append(own)
    return codes


class PaymentService:
    """Payments of the dossiers, in the caller's session.

    ``account`` is the center's receiving account (None: no VietQR, cash and waivers only);
    ``fee_table`` the seed of the center's fee table (default: ``knowledge_base/fees.yaml``, read on
    first use); staff edits stored in the database are laid over it when a dossier is priced;
    ``agency_code`` lets a statement's transfer note be read when the bank dropped the code's dots.
    """

    def __init__(self, *, agency_code: str, account: ReceivingAccount | None = None,
                 fee_table: FeeTable | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.agency_code = agency_code.upper()
        self.account = account
        self._fee_table = fee_table
        self.clock = clock

    @classmethod
    def from_settings(cls, settings, **kwargs) -> PaymentService:
        kwargs.setdefault("account", settings.payment_account)
        return cls(agency_code=settings.agency_code, **kwargs)

    @property
    def fee_table(self) -> FeeTable:
        if self._fee_table is None:
            self._fee_table = default_fee_table()
        return self._fee_table

    def fee_table_in_force(self, session: Session) -> FeeTable:
        """The fee table as it stands now: the seed with the amounts staff set on the curation page."""
        from knowledge_base.curation.fees import effective_fee_table

        return effective_fee_table(session, self.fee_table)

    def _now(self) -> datetime:
        return as_utc(self.clock()).astimezone(UTC)

    # -- the fee ---------------------------------------------------------------------------

    @staticmethod
    def _locked(session: Session, code: str, center: str | None = None) -> DossierRow:
        row = session.scalar(select(DossierRow).where(DossierRow.code == code).with_for_update())
        if row is None:
            raise DossierNotFound(f"Không có hồ sơ {code}.")  # staff-facing
        check_center(row, center)
        return row

    def _payment(self, session: Session, row: DossierRow, actor: str) -> DossierPayment:
        """The dossier's payment row, priced now if it has none (in the caller's transaction)."""
        payment = session.scalar(select(DossierPayment).where(DossierPayment.dossier_id == row.id))
        if payment is not None:
            return payment
        procedure = get_procedure(session, row.procedure_code)
        if procedure is None:
            raise PaymentError(f"Thủ tục {row.procedure_code} của hồ sơ {row.code} không còn trong cơ sở tri thức; "  # staff-facing
                               "không tính được lệ phí.")
        kind = ChannelKind(row.submission_kind or ChannelKind.IN_PERSON)
        try:
            quote = quote_fee(procedure, kind, values=row.values or {}, filed_on=local_day(row.received_at),
                              table=self.fee_table_in_force(session))
        except FeeUndetermined as exc:
            raise PaymentError(str(exc)) from None
        now = self._now()
        state = PaymentState.UNPAID if quote.amount > 0 else PaymentState.NONE_DUE
        payment = DossierPayment(dossier_id=row.id, dossier_code=row.code, amount=quote.amount,
                                 fee_source=quote.source, fee_note=quote.note, channel_kind=kind.value,
                                 state=state, method=None, paid_by="", waiver_reason="",
                                 created_at=now, updated_at=now)
        session.add(payment)
        self._event(session, row, "", state, "", quote.amount, actor, quote.note, now)
        if state == PaymentState.UNPAID:
            self._tell_portal(session, row, payment, now)
        session.flush()
        return payment

    @staticmethod
    def _event(session: Session, row: DossierRow, before: str, after: PaymentState, method: str,
               amount: int | None, actor: str, note: str, now: datetime) -> None:
        session.add(DossierPaymentEvent(dossier_id=row.id, from_state=before, to_state=after, method=method,
                                        amount=amount, actor=actor, note=note, created_at=now))

    @staticmethod
    def _audit(session: Session, actor: str, payment: DossierPayment, before: PaymentState, note: str) -> None:
        from motcua.staff.accounts import record_audit

        record_audit(session, actor, f"dossier.payment.{payment.state.value}", f"dossier:{payment.dossier_code}",
                     {"state": before.value},
                     {"state": payment.state.value, "method": payment.method.value if payment.method else None,
                      "amount": payment.paid_amount if payment.paid_amount is not None else payment.amount,
                      "note": note})

    def _view(self, session: Session, row: DossierRow, payment: DossierPayment) -> PaymentView:
        events = session.scalars(select(DossierPaymentEvent).where(DossierPaymentEvent.dossier_id == row.id)
                                 .order_by(DossierPaymentEvent.id)).all()
        return PaymentView(
            code=row.code, amount=payment.amount, fee_source=payment.fee_source, fee_note=payment.fee_note,
            channel_kind=payment.channel_kind, state=payment.state, state_label=payment.state.label,
            method=payment.method, paid_amount=payment.paid_amount, paid_at=as_utc(payment.paid_at),
            paid_by=payment.paid_by, waiver_reason=payment.waiver_reason,
            history=tuple(PaymentEventView(e.from_state, e.to_state, e.method, e.amount, e.actor, e.note,
                                           as_utc(e.created_at)) for e in events),
            vietqr_enabled=self.account is not None,
        )  # fmt: skip

    def price_filed(self, session: Session, code: str, *, actor: str) -> None:
        """Price a dossier being filed, in the filing's transaction (``session``): the fee is fixed now.

        A fee that cannot be priced yet (the center's table has no amount for it) is left for later,
        without failing the filing."""
        row = self._locked(session, normal_code(code))
        try:
            self._payment(session, row, actor)
        except PaymentError as exc:
            log.info("dossier not priced at filing: %s", exc)

    def payment(self, session: Session, code: str, *, actor: str = "system", center: str | None = None) -> PaymentView:
        """The dossier's fee and payment state (priced now if it was not yet)."""
        code = normal_code(code)
        write_transaction(session)
        row = self._locked(session, code, center)
        return self._view(session, row, self._payment(session, row, actor))

    def receipt(self, session: Session, code: str, *, center: str | None = None) -> ReceiptData:
        """The receipt's data of a paid (or waived) dossier; a dossier still owing has none."""
        code = normal_code(code)
        write_transaction(session)
        row = self._locked(session, code, center)
        view = self._view(session, row, self._payment(session, row, "system"))
        if view.state not in (PaymentState.PAID, PaymentState.WAIVED):
            raise PaymentError(f"Hồ sơ {code} {view.state_label.lower()}: chưa có biên lai.")  # staff-facing
        name, number = self._collector(session, view.paid_by) if view.method == PaymentMethod.CASH else ("", None)
        return ReceiptData(view, row.applicant_name, row.procedure_name, name, number)

    @staticmethod
    def _collector(session: Session, actor: str) -> tuple[str, int | None]:
        """Who ``staff:<login>`` is on paper: their full name and staff number (the account's id). The
        login itself is never printed: it is half of what signs in."""
        from motcua.staff.models import StaffUser

        if not actor.startswith("staff:"):
            return "", None
        user = session.scalar(select(StaffUser).where(StaffUser.username == actor.removeprefix("staff:")))
        if user is None:
            return "", None
        return " ".join(user.full_name.split()), user.id

    def receipt_fee(self, session: Session, code: str, *, center: str | None = None) -> ReceiptFee | None:
        """What the dossier's receipt (giấy tiếp nhận) prints of its fee: the amount, the transfer note
        and the VietQR payload, while the fee is unpaid and the center takes VietQR; None otherwise
        (free, paid, waived, not priced, or no receiving account). In the receipt's session: a dossier
        not priced yet is priced now; anything that fails undoes only this (a savepoint)."""
        if self.account is None:
            return None
        write_transaction(session)  # before the savepoint: SQLite's BEGIN IMMEDIATE opens the transaction
        try:
            with session.begin_nested():
                request = self.vietqr(session, code, center=center)
        except DossierError:
            return None
        return ReceiptFee(request.amount, request.note, request.payload, request.account_name)

    # -- asking for a transfer -------------------------------------------------------------

    def vietqr(self, session: Session, code: str, *, center: str | None = None) -> PaymentRequest:
        """The VietQR request for an unpaid dossier: its fee to the center's account, the code as note."""
        if self.account is None:
            raise PaymentError("Chưa cấu hình tài khoản nhận tiền (MOTCUA_PAYMENT_BANK_BIN, "  # staff-facing
                               "MOTCUA_PAYMENT_ACCOUNT_NUMBER, MOTCUA_PAYMENT_ACCOUNT_NAME): "
                               "không tạo được mã VietQR.")
        view = self.payment(session, code, center=center)
        if view.state != PaymentState.UNPAID:
            raise PaymentError(self._settled(view))
        return PaymentRequest(view.code, view.amount, view.code, build_payload(self.account, view.amount, view.code),
                              self.account.bank_bin, self.account.account_number, self.account.account_name)

    @staticmethod
    def _settled(view: PaymentView) -> str:
        if view.state == PaymentState.NONE_DUE:
            return f"Hồ sơ {view.code} không phải nộp phí."  # staff-facing
        if view.state == PaymentState.WAIVED:
            return f"Hồ sơ {view.code} đã được miễn phí (lý do: {view.waiver_reason})."  # staff-facing
        paid = f" lúc {view.paid_at.astimezone(VIETNAM_TZ):%d/%m/%Y %H:%M}" if view.paid_at else ""
        method = view.method.label if view.method else ""
        amount = format_dong(view.paid_amount if view.paid_amount is not None else view.amount)
        return f"Hồ sơ {view.code} đã nộp phí {amount} bằng {method}{paid} ({view.paid_by})."  # staff-facing

    # -- staff at the counter --------------------------------------------------------------

    def mark_cash(self, session: Session, code: str, *, actor: str, center: str | None = None) -> PaymentView:
        """The cashier took the fee in cash (the whole amount owed)."""
        return self._settle(session, code, PaymentState.PAID, PaymentMethod.CASH, actor=actor, center=center,
                            note="Thu tiền mặt tại quầy")  # staff-facing

    def waive(self, session: Session, code: str, reason: str, *, actor: str, center: str | None = None) -> PaymentView:
        """Exempt the dossier from its fee; ``reason`` says why (hộ nghèo, người có công, người khuyết tật…)."""
        reason = " ".join(clean_text(reason or "").split())
        if len(reason) < MIN_WAIVER_REASON:
            raise PaymentError("Miễn phí cần ghi rõ lý do (ví dụ: hộ nghèo, người có công với cách mạng, "  # staff-facing
                               "người khuyết tật) và giấy tờ chứng minh.", kind="invalid")
        return self._settle(session, code, PaymentState.WAIVED, PaymentMethod.WAIVED, actor=actor, center=center, note=reason)

    def _settle(self, session: Session, code: str, state: PaymentState, method: PaymentMethod, *, actor: str,
                note: str, center: str | None = None, amount: int | None = None,
                at: datetime | None = None) -> PaymentView:
        if not actor.strip():
            raise ValueError("actor must name who recorded the payment")
        code = normal_code(code)
        write_transaction(session)
        row = self._locked(session, code, center)
        payment = self._payment(session, row, actor)
        if payment.state != PaymentState.UNPAID:
            raise PaymentError(self._settled(self._view(session, row, payment)))
        self._apply(session, row, payment, state, method, actor=actor, note=note, amount=amount, at=at)
        return self._view(session, row, payment)

    def _apply(self, session: Session, row: DossierRow, payment: DossierPayment, state: PaymentState,
               method: PaymentMethod, *, actor: str, note: str, amount: int | None = None,
               at: datetime | None = None) -> None:
        now = self._now()
        before = payment.state
        payment.state, payment.method, payment.paid_by = state, method, actor
        payment.paid_at = as_utc(at).astimezone(UTC) if at is not None else now  # stored as UTC
        payment.paid_amount = (payment.amount if amount is None else amount) if state == PaymentState.PAID else 0
        if state == PaymentState.WAIVED:
            payment.waiver_reason = note
        payment.updated_at = now
        self._event(session, row, before.value, state, method.value, payment.paid_amount, actor, note, now)
        self._audit(session, actor, payment, before, note)
        self._tell_portal(session, row, payment, now)
        session.flush()

    @staticmethod
    def _tell_portal(session: Session, row: DossierRow, payment: DossierPayment, now: datetime) -> None:
        """The portal hears of the payment in the same transaction (outbox row ``dossier.payment_changed``)."""
        from motcua.dossiers.models import PortalEvent
        from motcua.dossiers.outbox import add_outbox_row
        from motcua.payments.outbox import payment_payload

        session.flush()
        add_outbox_row(session, row, PortalEvent.PAYMENT_CHANGED, {"code": row.code, "payment": payment_payload(payment),
                                                                   "changed_at": now.isoformat()}, now)

    # -- bank statements -------------------------------------------------------------------

    def import_statement(self, database: Database, lines: Iterable[StatementLine], *, actor: str,
                         source: str = "") -> StatementReport:
        """Match each incoming transfer to a dossier by the code in its note and its amount.

        One transaction per line (``database.run(self.import_line, …)``), committed before the next line
        is read: a line that fails (an error, not an outcome) leaves the lines before it recorded.
        """
        if not actor.strip():
            raise ValueError("actor must name who imported the statement")
        return StatementReport(tuple(database.run(self.import_line, line, actor=actor, source=source)
                                     for line in lines))

    def import_line(self, session: Session, line: StatementLine, *, actor: str, source: str = "") -> LineResult:
        """One statement line in the caller's transaction: stored with its outcome (``payment_statement_lines``);
        a matching one marks the dossier paid by VietQR transfer. A line seen before (same key) is reported
        as a duplicate and changes nothing."""
        if not actor.strip():
            raise ValueError("actor must name who imported the statement")
        return self._import_line(session, line, actor, source)

    def record_provider_payment(self, session: Session, provider: str, event_id: str, code: str, amount: int, *,
                                paid_at: datetime | None = None) -> LineResult:
        """A payment gateway reported (signed webhook, already verified) that ``code`` was paid ``amount``.

        Matched exactly like a bank-statement line (note = the dossier code), and kept with them
        (``payment_statement_lines``, key ``<provider>:<event_id>``): an event delivered again is a
        duplicate that changes nothing; a wrong amount, a paid dossier or an unknown code is kept for staff.
        """
        if not provider.strip() or not event_id.strip():
            raise ValueError("a provider payment needs the provider's name and its event id")
        key = "provider:" + hashlib.sha256(f"{provider}:{event_id}".encode()).hexdigest()[:48]
        line = StatementLine(line_number=1, booked_at=paid_at, amount=amount, note=code, ref=event_id, key=key)
        where = f"Cổng thanh toán {provider}, giao dịch {event_id[:64]}"  # staff-facing
        return self._import_line(session, line, f"provider:{provider}", f"provider:{provider}", where=where)

    def _import_line(self, session: Session, line: StatementLine, actor: str, source: str, *,
                     where: str = "") -> LineResult:
        write_transaction(session)
        earlier = session.scalar(select(StatementLineRow).where(StatementLineRow.line_key == line.key))
        if earlier is not None:
            when = as_utc(earlier.imported_at).astimezone(VIETNAM_TZ)
            return LineResult(line.line_number, LineOutcome.DUPLICATE, line.amount, line.note,
                              earlier.dossier_code, f"đã nhập {when:%d/%m/%Y %H:%M}: "  # staff-facing
                              f"{earlier.outcome.label}", line.booked_at)
        outcome, code, message = self._match(session, line, actor, source, where)
        session.add(StatementLineRow(
            line_key=line.key, source=source[:255], line_number=line.line_number,
            booked_at=line.booked_at.astimezone(UTC) if line.booked_at else None,
            amount=line.amount, note=line.note, outcome=outcome, dossier_code=code, message=message,
            imported_by=actor, imported_at=self._now(),
        ))  # fmt: skip
        session.flush()
        return LineResult(line.line_number, outcome, line.amount, line.note, code, message, line.booked_at)

    def _match(self, session: Session, line: StatementLine, actor: str,
               source: str, where: str = "") -> tuple[LineOutcome, str, str]:
        if line.problem or line.amount is None:
            return LineOutcome.INVALID, "", line.problem
        codes = codes_in_note(line.note, agency_codes(session, self.agency_code))
        if not codes:
            return LineOutcome.UNMATCHED, "", "nội dung không có mã hồ sơ"  # staff-facing
        row = None
        for code in codes:
            row = session.scalar(select(DossierRow).where(DossierRow.code == code).with_for_update())
            if row is not None:
                break
        if row is None:
            return LineOutcome.UNMATCHED, codes[0], "không có hồ sơ mang mã này"  # staff-facing
        try:
            payment = self._payment(session, row, actor)
        except PaymentError as exc:
            return LineOutcome.UNMATCHED, row.code, str(exc)
        if payment.state != PaymentState.UNPAID:
            return LineOutcome.ALREADY_PAID, row.code, self._settled(self._view(session, row, payment)) + \
                " Cần hoàn lại khoản chuyển này."  # staff-facing
        if line.amount != payment.amount:
            return LineOutcome.WRONG_AMOUNT, row.code, (f"chuyển {format_dong(line.amount)}, "  # staff-facing
                                                        f"phải nộp {format_dong(payment.amount)}; hồ sơ vẫn chưa nộp phí")
        if not where:
            where = f"Sao kê {source}, dòng {line.line_number}" if source else f"Sao kê, dòng {line.line_number}"  # staff-facing
        self._apply(session, row, payment, PaymentState.PAID, PaymentMethod.VIETQR, actor=actor,
                    note=f"{where}: «{line.note}»", at=line.booked_at)
        return LineOutcome.MATCHED, row.code, ""
