"""What a citizen is shown of a dossier's fee: the amount, the transfer note, the VietQR code.

The QR code, the payment state and the receipt are reached by links keyed by a random token
(:mod:`motcua.dossiers.links`, purpose :data:`PAYMENT_LINK`: stored hashed, with an expiry, revocable
by staff with the dossier's other links), never by the dossier code alone — a code is printed and
spoken at the counter, a token is given only to the conversation that filed the dossier or to whoever
typed its lookup PIN.

Nothing is shown when payments by QR are off (no receiving account), the procedure is free, the fee
cannot be priced yet, or the dossier is already paid or waived: the citizen then sees what they saw
before fees existed. Plain Python; the words come from the catalogue (``payment.*``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from knowledge_base.messages import render
from motcua.db import Database
from motcua.dossiers.errors import DossierError
from motcua.payments.service import PaymentService

__all__ = ["PAYMENT_LINK", "PaymentNotice", "format_amount", "payment_message", "payment_notice", "payment_paths"]

log = logging.getLogger(__name__)

PAYMENT_LINK = "payment"
"""The purpose of a link to a dossier's payment (QR code, state, receipt)."""


def format_amount(amount: int) -> str:
    """``8000`` → ``8.000`` (the catalogue adds «đồng»)."""
    return f"{amount:,}".replace(",", ".")


def payment_paths(code: str, token: str) -> dict[str, str]:
    """The gateway paths of a dossier's payment for the holder of ``token``."""
    if not code or not token:
        raise ValueError("a payment link needs the dossier code and its token")
    base, query = f"/api/v1/dossiers/{quote(code)}/payment", f"?token={quote(token)}"
    return {"status": base + query, "qr_svg": f"{base}/vietqr.svg{query}", "qr_png": f"{base}/vietqr.png{query}",
            "receipt_pdf": f"{base}/receipt.pdf{query}", "page": f"/dossiers/{quote(code)}/payment{query}"}


@dataclass(frozen=True)
class PaymentNotice:
    """An unpaid dossier's fee as the citizen sees it, with the links of its token."""

    code: str
    amount: int
    note: str  # the transfer note: the dossier code
    account_name: str
    token: str

    def card(self, base_url: str = "", locale: str | None = None) -> dict[str, Any]:
        """The ``custom.payment`` of a chat message: what the kiosk draws under the dossier card."""
        paths = payment_paths(self.code, self.token)
        return {"amount": self.amount,
                "amount_text": render("payment.amount", locale=locale, amount=format_amount(self.amount)),
                "note": self.note, "account_name": self.account_name,
                "qr": base_url + paths["qr_svg"], "qr_png": base_url + paths["qr_png"],
                "status": base_url + paths["status"], "page": base_url + paths["page"]}


def payment_notice(payments: PaymentService, dossiers: Any, database: Database,
                   code: str) -> PaymentNotice | None:
    """The notice of ``code``'s fee and a fresh payment link (``dossiers``: a
    :class:`~motcua.dossiers.service.DossierService`), both in one transaction of ``database``, or None
    when there is nothing to pay by QR."""
    if payments.account is None:
        return None
    try:
        with database.session() as session:
            try:
                request = payments.vietqr(session, code)
                token = dossiers.issue_link(session, request.code, purpose=PAYMENT_LINK)
            except DossierError as exc:  # free, already settled, or a fee the center has not priced
                log.info("no VietQR for a filed dossier: %s", type(exc).__name__)
                return None  # a fee priced just now is kept (committed), as when it is asked for again
    except Exception:  # the dossier is filed whatever happens here: the citizen still gets its code
        log.exception("pricing a filed dossier failed")
        return None
    return PaymentNotice(request.code, request.amount, request.note, request.account_name, token)


def payment_message(card: Any, locale: str | None = None) -> dict[str, Any] | None:
    """The chat message telling the fee (:meth:`PaymentNotice.card`): the text, the QR code as an image
    (Telegram and Zalo send it; a channel without images gets its address) and the card for the kiosk."""
    if not isinstance(card, Mapping) or not card.get("amount") or not card.get("qr_png"):
        return None
    text = render("payment.due", locale=locale, amount=card.get("amount_text", ""), note=card.get("note", ""),
                  account=card.get("account_name", ""))
    if card.get("page"):  # the dossier's status page: the QR code again, then the receipt once paid
        text += "\n" + render("payment.page", locale=locale, url=card["page"])
    return {"text": text, "image": str(card["qr_png"]), "json_message": {"payment": dict(card)}}
