"""How a payment gateway plugs in: the :class:`PaymentProvider` protocol, and :class:`FakeProvider`.

A gateway (VNPay, MoMo, a bank's collection API…) does two things for the center: it takes a payment
for a dossier (:meth:`PaymentProvider.checkout`: where to send the citizen, or a QR to show) and tells
the center, later, that the money came — a webhook the gateway signs. The gateway's webhook route
(``POST /api/v1/payments/webhook/<provider>``, :mod:`bot.routes.payments`) hands the raw body and its
headers to :meth:`PaymentProvider.verify`, which answers a :class:`ProviderEvent` or raises
:class:`WebhookRejected`; the event is recorded by
:meth:`~motcua.payments.service.PaymentService.record_provider_payment` (a replayed event id changes
nothing; a wrong amount or an unknown dossier is kept for staff).

:class:`FakeProvider` is a real implementation of the protocol against no real gateway: its webhook is
signed with HMAC-SHA256 over the raw body under a shared secret (``MOTCUA_PAYMENT_WEBHOOK_SECRET``),
sent in ``X-Motcua-Signature: sha256=<hex>``, with a timestamp inside the body so an old delivery is
refused. :meth:`FakeProvider.pay` plays the gateway: it builds, signs and delivers the event through
whatever ``deliver`` the caller gives (a test client, an HTTP post).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from motcua.payments.service import PaymentRequest

__all__ = ["SIGNATURE_HEADER", "Checkout", "FakeProvider", "PaymentProvider", "ProviderEvent", "WebhookRejected",
           "sign_body"]

SIGNATURE_HEADER = "x-motcua-signature"
MAX_AGE = timedelta(minutes=10)
MIN_SECRET = 16


class WebhookRejected(ValueError):
    """A webhook delivery that is not believed: bad or missing signature, malformed, too old."""


@dataclass(frozen=True)
class Checkout:
    """Where the gateway takes the citizen's payment for a dossier."""

    provider: str
    reference: str  # the gateway's id of the payment
    code: str
    amount: int
    url: str = ""


@dataclass(frozen=True)
class ProviderEvent:
    """A payment the gateway reports: its own event id (unique), the dossier and the amount."""

    provider: str
    event_id: str
    code: str
    amount: int
    paid_at: datetime


@runtime_checkable
class PaymentProvider(Protocol):
    name: str

    def checkout(self, request: PaymentRequest) -> Checkout:
        """Start a payment of ``request`` (a dossier's fee) at the gateway."""
        ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """The event a webhook delivery carries, once its signature and freshness are checked."""
        ...


def sign_body(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``: ``sha256=`` and the hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeProvider:
    """A gateway that takes every payment at once and reports it by a signed webhook."""

    name = "fake"

    def __init__(self, secret: str, *, deliver: Callable[[bytes, dict[str, str]], Any] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), max_age: timedelta = MAX_AGE) -> None:
        if len(secret or "") < MIN_SECRET:
            raise ValueError(f"the webhook secret must have at least {MIN_SECRET} characters")
        self.secret = secret
        self.deliver = deliver
        self.clock = clock
        self.max_age = max_age
        self._checkouts: dict[str, Checkout] = {}

    def checkout(self, request: PaymentRequest) -> Checkout:
        reference = "fake-" + secrets.token_hex(8)
        checkout = Checkout(self.name, reference, request.code, request.amount)
        self._checkouts[reference] = checkout
        return checkout

    def event_body(self, checkout: Checkout, *, event_id: str = "", amount: int | None = None,
                   at: datetime | None = None) -> bytes:
        """The webhook's raw body for a payment of ``checkout`` (``amount`` overrides what was paid)."""
        data = {"id": event_id or "evt-" + secrets.token_hex(8), "reference": checkout.reference,
                "dossier_code": checkout.code, "amount": checkout.amount if amount is None else amount,
                "paid_at": (at or self.clock()).astimezone(UTC).isoformat()}
        return json.dumps(data, separators=(",", ":")).encode()

    def pay(self, checkout: Checkout, **kwargs: Any) -> Any:
        """Play the gateway: sign the payment's event and deliver it; answers what ``deliver`` answers."""
        if self.deliver is None:
            raise RuntimeError("FakeProvider.pay needs a deliver function (where the webhook goes)")
        body = self.event_body(checkout, **kwargs)
        return self.deliver(body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(self.secret, body)})

    def verify(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
        if not given or not hmac.compare_digest(given.strip().encode(), sign_body(self.secret, body).encode()):
            raise WebhookRejected("bad or missing signature")
        try:
            data = json.loads(body)
            event_id, code, amount = str(data["id"]), str(data["dossier_code"]), data["amount"]
            paid_at = datetime.fromisoformat(str(data["paid_at"]))
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("malformed event") from None
        if not event_id or not code or isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise WebhookRejected("malformed event")
        if paid_at.tzinfo is None:
            raise WebhookRejected("paid_at without a time zone")
        if abs(self.clock() - paid_at) > self.max_age:
            raise WebhookRejected("event too old (or from the future)")
        return ProviderEvent(self.name, event_id[:128], code[:64], amount, paid_at.astimezone(UTC))
