"""What the dossier store asks of the fees: price a dossier as it is filed, and the fee its receipt prints.

:class:`~motcua.dossiers.service.DossierService` takes a :class:`DossierFees` (in production the
:class:`~motcua.payments.service.PaymentService`), so a dossier's fee is fixed in the filing's own
transaction — a later edit of the fee table or of the catalogue does not change what it owes — and
the receipt (giấy tiếp nhận) shows the amount, the transfer note and the VietQR code while it is unpaid,
read in the receipt's own session. Both take the caller's ``Session``; neither commits.
Without one (tests, tools) dossiers are filed and printed as before fees existed.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from motcua.dossiers.receipt import ReceiptFee

__all__ = ["DossierFees"]


class DossierFees(Protocol):
    def price_filed(self, session: Session, code: str, *, actor: str) -> None:
        """Fix the fee of the dossier ``code`` just filed, in ``session`` (the filing's transaction).
        A fee that cannot be priced yet is left for later; anything raised rolls back only the pricing."""
        ...

    def receipt_fee(self, session: Session, code: str, *, center: str | None = None) -> ReceiptFee | None:
        """The unpaid fee to print on the dossier's receipt, or None (nothing to pay by VietQR), read in
        ``session`` (the receipt's transaction); a failure there undoes nothing of the caller's."""
        ...
