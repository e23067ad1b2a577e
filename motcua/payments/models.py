"""Tables of payments (migration ``0015_dossier_payments``).

- ``dossier_payments``: one row per dossier that has been priced: the fee owed (whole đồng),
  where it came from, and the payment state (:class:`PaymentState`) with how, when and by whom
  it was paid or why it was waived.
- ``dossier_payment_events``: the payment history of a dossier; every change of state (and the
  pricing itself) is one row, never updated.
- ``payment_statement_lines``: every line of every bank statement imported, with what became of
  it (:class:`LineOutcome`): a transfer that matched no dossier, paid the wrong amount or paid a
  dossier twice stays here for staff, never lost. ``line_key`` makes importing a file again harmless.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import Base, EnumText, utcnow


class PaymentState(StrEnum):
    """Where a dossier's fee stands."""

    NONE_DUE = "none_due"  # a free procedure (or a fee of 0): nothing to pay
    UNPAID = "unpaid"
    PAID = "paid"
    WAIVED = "waived"  # miễn: hộ nghèo, người có công, người khuyết tật… with a reason

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


class PaymentMethod(StrEnum):
    VIETQR = "vietqr"  # a bank transfer, the one the dossier's VietQR code asked for
    CASH = "cash"  # tiền mặt at the counter
    WAIVED = "waived"

    @property
    def label(self) -> str:
        return _METHOD_LABELS[self]


class LineOutcome(StrEnum):
    """What an imported bank-statement line did."""

    MATCHED = "matched"  # paid the dossier named in its note, the right amount
    UNMATCHED = "unmatched"  # no dossier code in the note, or no such dossier
    WRONG_AMOUNT = "wrong_amount"  # the dossier owes another amount: left unpaid for staff
    ALREADY_PAID = "already_paid"  # the dossier was paid, waived or owes nothing: to refund
    INVALID = "invalid"  # a line that could not be read (date, amount)
    DUPLICATE = "duplicate"  # the same line was imported before: nothing done again

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]


_STATE_LABELS = {
    PaymentState.NONE_DUE: "Không phải nộp phí",  # staff-facing
    PaymentState.UNPAID: "Chưa nộp phí",  # staff-facing
    PaymentState.PAID: "Đã nộp phí",  # staff-facing
    PaymentState.WAIVED: "Được miễn phí",  # staff-facing
}
_METHOD_LABELS = {
    PaymentMethod.VIETQR: "chuyển khoản (VietQR)",  # staff-facing
    PaymentMethod.CASH: "tiền mặt",  # staff-facing
    PaymentMethod.WAIVED: "miễn",  # staff-facing
}
_OUTCOME_LABELS = {
    LineOutcome.MATCHED: "khớp, đã ghi nộp phí",  # staff-facing
    LineOutcome.UNMATCHED: "không khớp hồ sơ nào",  # staff-facing
    LineOutcome.WRONG_AMOUNT: "sai số tiền",  # staff-facing
    LineOutcome.ALREADY_PAID: "hồ sơ đã nộp/miễn phí trước đó",  # staff-facing
    LineOutcome.INVALID: "dòng không đọc được",  # staff-facing
    LineOutcome.DUPLICATE: "đã nhập trước đây",  # staff-facing
}


class DossierPayment(Base):
    __tablename__ = "dossier_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), unique=True)
    dossier_code: Mapped[str] = mapped_column(String(48), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # whole đồng owed
    fee_source: Mapped[str] = mapped_column(String(16))  # "catalogue" | "center_table"
    fee_note: Mapped[str] = mapped_column(Text, default="")
    channel_kind: Mapped[str] = mapped_column(String(16), default="")  # truc_tiep | truc_tuyen | buu_chinh
    state: Mapped[PaymentState] = mapped_column(EnumText(PaymentState, 16), index=True)
    method: Mapped[PaymentMethod | None] = mapped_column(EnumText(PaymentMethod, 16), default=None)
    paid_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    paid_by: Mapped[str] = mapped_column(String(128), default="")
    waiver_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DossierPaymentEvent(Base):
    __tablename__ = "dossier_payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str] = mapped_column(String(16), default="")  # "" when the fee is set
    to_state: Mapped[PaymentState] = mapped_column(EnumText(PaymentState, 16))
    method: Mapped[str] = mapped_column(String(16), default="")
    amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatementLineRow(Base):
    __tablename__ = "payment_statement_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(255), default="")  # the file's name
    line_number: Mapped[int] = mapped_column(Integer)
    booked_at: Mapped[datetime | None] = mapped_column(default=None)
    amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[LineOutcome] = mapped_column(EnumText(LineOutcome, 16), index=True)
    dossier_code: Mapped[str] = mapped_column(String(48), default="", index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    imported_by: Mapped[str] = mapped_column(String(128))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
