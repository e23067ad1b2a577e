"""A dossier's payment as the national portal hears it (the ``payment`` block of the outbox payloads).

Every change of a dossier's payment state (priced, paid, waived) adds a ``dossier.payment_changed``
row to the portal outbox in the same transaction (:meth:`PaymentService._apply`), and every
``dossier.status_changed`` row carries the block as it stands. The block holds no personal data:
amounts, state, method, when, and who recorded it (a staff account, an import, a gateway).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.db import as_utc
from motcua.payments.models import DossierPayment

__all__ = ["payment_block", "payment_payload"]


def payment_payload(payment: DossierPayment) -> dict[str, Any]:
    paid_at = as_utc(payment.paid_at)
    return {"amount": payment.amount, "currency": "VND", "fee_source": payment.fee_source,
            "state": payment.state.value, "method": payment.method.value if payment.method else None,
            "paid_amount": payment.paid_amount, "paid_at": paid_at.isoformat() if paid_at else None,
            "recorded_by": payment.paid_by or None, "waived": payment.state.value == "waived"}
    # the waiver's reason is staff's free text (it may name a disability, poverty, a person): kept at the
    # centre, in the payment history and the audit log, never sent to the portal


def payment_block(session: Session, dossier_id: int) -> dict[str, Any] | None:
    """The dossier's payment block, or None when it was never priced."""
    payment = session.scalar(select(DossierPayment).where(DossierPayment.dossier_id == dossier_id))
    return payment_payload(payment) if payment is not None else None
