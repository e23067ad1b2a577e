"""The PaymentProvider protocol and the fake gateway: a signed webhook marks the dossier paid; a bad
signature, an old event or a replayed event id changes nothing; a wrong amount is kept for staff."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from motcua.db import session_scope, shared_database, upgrade_database
from motcua.dossiers.service import DossierService
from motcua.payments.models import LineOutcome, StatementLineRow
from motcua.payments.provider import (
    SIGNATURE_HEADER,
    FakeProvider,
    PaymentProvider,
    WebhookRejected,
    sign_body,
)
from motcua.payments.service import PaymentService
from tests.dossiers.support import AGENCY, application, gateway_settings
from tests.payments.conftest import ACCOUNT, seed_payment_procedures
from tests.payments.test_citizen import LATE, file

SECRET = "s3cret-for-the-fake-gateway-0123456789"
WEBHOOK = "/api/v1/payments/webhook/fake"


def test_the_fake_provider_is_a_payment_provider_and_checks_its_signature():
    provider = FakeProvider(SECRET)
    assert isinstance(provider, PaymentProvider)
    with pytest.raises(ValueError):
        FakeProvider("short")
    request = type("R", (), {"code": "X-1", "amount": 8000})()
    checkout = provider.checkout(request)
    body = provider.event_body(checkout, event_id="evt-1")
    event = provider.verify(body, {SIGNATURE_HEADER: sign_body(SECRET, body)})
    assert (event.event_id, event.code, event.amount) == ("evt-1", "X-1", 8000)
    for headers in ({}, {SIGNATURE_HEADER: "sha256=00"}, {SIGNATURE_HEADER: sign_body("another-secret-0123456", body)},
                    {SIGNATURE_HEADER: sign_body(SECRET, body + b" ")}):
        with pytest.raises(WebhookRejected):
            provider.verify(body, headers)
    old = provider.event_body(checkout, at=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(WebhookRejected, match="old"):
        provider.verify(old, {SIGNATURE_HEADER: sign_body(SECRET, old)})
    forged = json.dumps({"id": "e", "dossier_code": "X-1", "amount": -5, "paid_at": datetime.now(UTC).isoformat()})
    with pytest.raises(WebhookRejected):
        provider.verify(forged.encode(), {SIGNATURE_HEADER: sign_body(SECRET, forged.encode())})


def test_a_provider_payment_is_recorded_once(dossiers, payments, db):
    code = file(db, dossiers, LATE)
    first = db.run(payments.record_provider_payment, "fake", "evt-9", code, 8000)
    assert first.outcome == LineOutcome.MATCHED and db.run(payments.payment, code).state == "paid"
    assert db.run(payments.record_provider_payment, "fake", "evt-9", code, 8000).outcome == LineOutcome.DUPLICATE
    assert db.run(payments.record_provider_payment, "fake", "evt-10", code, 8000).outcome == LineOutcome.ALREADY_PAID
    view = db.run(payments.payment, code)
    assert view.method == "vietqr" and "Cổng thanh toán fake" in view.history[-1].note


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'provider.sqlite3'}"
    upgrade_database(url)
    seed_payment_procedures(url)
    return url


def client_for(tmp_path, url, secret: str = SECRET) -> TestClient:
    return TestClient(create_app(gateway_settings(
        tmp_path, url, payment_bank_bin=ACCOUNT.bank_bin, payment_account_number=ACCOUNT.account_number,
        payment_account_name=ACCOUNT.account_name, payment_webhook_secret=secret)))


def test_the_signed_webhook_pays_the_dossier_and_refuses_forgeries_and_replays(tmp_path, url):
    db = shared_database(url)
    dossiers = DossierService(agency_code=AGENCY)
    code = file(db, dossiers, LATE)
    payments = PaymentService(agency_code=AGENCY, account=ACCOUNT)
    with client_for(tmp_path, url) as client:
        def deliver(body: bytes, headers: dict[str, str]):
            return client.post(WEBHOOK, content=body, headers=headers)

        gateway = FakeProvider(SECRET, deliver=deliver)
        checkout = gateway.checkout(db.run(payments.vietqr, code))
        wrong = gateway.pay(checkout, event_id="evt-1", amount=5000)
        assert wrong.status_code == 200 and wrong.json()["outcome"] == "wrong_amount"
        assert db.run(payments.payment, code).state == "unpaid"  # kept for staff, not paid

        body = gateway.event_body(checkout, event_id="evt-2")
        forged = client.post(WEBHOOK, content=body, headers={SIGNATURE_HEADER: sign_body("not-the-secret-012345", body)})
        unsigned = client.post(WEBHOOK, content=body)
        assert (forged.status_code, unsigned.status_code) == (401, 401)
        assert db.run(payments.payment, code).state == "unpaid"

        paid = gateway.pay(checkout, event_id="evt-2")
        assert paid.status_code == 200 and paid.json() == {"outcome": "matched", "dossier_code": code}
        assert db.run(payments.payment, code).state == "paid"
        replay = client.post(WEBHOOK, content=paid.request.content, headers=dict(paid.request.headers))
        assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
        assert client.post("/api/v1/payments/webhook/vnpay", content=body).status_code == 404
    with session_scope(url) as session:
        kept = {row.outcome for row in session.query(StatementLineRow).filter_by(dossier_code=code)}
    assert kept == {LineOutcome.WRONG_AMOUNT, LineOutcome.MATCHED}
    assert len(db.run(payments.payment, code).history) == 2  # priced, then paid once


def test_without_a_secret_the_webhook_is_off(tmp_path, url):
    db = shared_database(url)
    dossiers = DossierService(agency_code=AGENCY)
    code = db.run(dossiers.file_dossier, application(values=LATE, form_id="birth_registration", sender_id="")).code
    body = json.dumps({"id": "e", "dossier_code": code, "amount": 4000,
                       "paid_at": datetime.now(UTC).isoformat()}).encode()
    with client_for(tmp_path, url, secret="") as client:
        assert client.post(WEBHOOK, content=body, headers={SIGNATURE_HEADER: sign_body("", body)}).status_code == 404
