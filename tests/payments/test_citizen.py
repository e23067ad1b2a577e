"""What the citizen sees of a fee: after filing in the chat, behind the payment link, with the PIN;
the QR code as SVG/PNG; the receipt; and nothing at all when there is nothing to pay by QR."""

from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ActionFinishDeclaration, DeclarationFiler
from bot.app import create_app
from motcua.db import Database, shared_database, upgrade_database
from motcua.dossiers.service import DossierService
from motcua.payments.citizen import PAYMENT_LINK, payment_message, payment_notice
from motcua.payments.qr_image import vietqr_png
from motcua.payments.service import PaymentService
from motcua.payments.vietqr import decode_payload
from tests.dossiers.support import AGENCY, STAFF_PASSWORD, add_staff, application, gateway_settings
from tests.payments.conftest import ACCOUNT, seed_payment_procedures

LATE = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2020, 5, 1)}
ON_TIME = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2026, 3, 1)}


def file(db: Database, dossiers: DossierService, values: dict, channel: str = "counter") -> str:
    return db.run(dossiers.file_dossier, application(values=values, form_id="birth_registration", channel=channel,
                                             sender_id="")).code


# --- after filing in the chat ---------------------------------------------------------------------


def test_a_late_birth_filed_in_the_chat_tells_the_fee_and_sends_the_qr(dossiers, db, payments):
    filer = DeclarationFiler(dossiers, db, "https://motcua.example", payments)
    outcome = filer.file(application(values=LATE, form_id="birth_registration"))
    owed = db.run(payments.payment, outcome["code"]).amount
    assert owed == 4000  # filed online: the fee table's online amount
    card = outcome["payment"]
    assert (card["amount"], card["amount_text"], card["note"]) == (owed, "4.000 đồng", outcome["code"])
    assert card["qr"].startswith("https://motcua.example/api/v1/dossiers/") and "token=" in card["qr"]
    assert outcome["code"] not in card["qr"].split("token=")[1]  # keyed by a random token, not by the code

    dispatcher = CollectingDispatcher()
    tracker = Tracker("telegram:42", {"form_outcome": outcome}, {}, [], False, None, {}, "")
    asyncio.run(ActionFinishDeclaration().run(dispatcher, tracker, {}))
    fee = dispatcher.messages[-1]
    assert "4.000 đồng" in fee["text"] and outcome["code"] in fee["text"] and "ông/bà" in fee["text"]
    assert fee["image"] == card["qr_png"] and fee["custom"]["payment"]["note"] == outcome["code"]


def test_a_free_dossier_or_payments_switched_off_say_nothing_about_a_qr(dossiers, db, payments, catalogue, clock):
    free = DeclarationFiler(dossiers, db, "https://motcua.example", payments).file(
        application(values=ON_TIME, form_id="birth_registration"))
    assert "payment" not in free
    off = PaymentService(agency_code=AGENCY, account=None, clock=clock)
    late = DeclarationFiler(dossiers, db, "https://motcua.example", off).file(
        application(values=LATE, form_id="birth_registration"))
    assert "payment" not in late and db.run(off.payment, late["code"]).state == "unpaid"  # cash still possible
    assert payment_message(None) is None and payment_message({"amount": 0}) is None

    dispatcher = CollectingDispatcher()
    tracker = Tracker("t", {"form_outcome": free}, {}, [], False, None, {}, "")
    asyncio.run(ActionFinishDeclaration().run(dispatcher, tracker, {}))
    assert len(dispatcher.messages) == 1 and "image" not in {k for k, v in dispatcher.messages[0].items() if v}


def test_no_notice_for_a_settled_dossier(dossiers, db, payments):
    code = file(db, dossiers, LATE)
    db.run(payments.mark_cash, code, actor="staff:thuha")
    assert payment_notice(payments, dossiers, db, code) is None


# --- the routes -----------------------------------------------------------------------------------


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'citizen.sqlite3'}"
    upgrade_database(url)
    seed_payment_procedures(url)
    add_staff(url)
    return url


@pytest.fixture
def client(tmp_path, url):
    app = create_app(gateway_settings(tmp_path, url, payment_bank_bin=ACCOUNT.bank_bin,
                                      payment_account_number=ACCOUNT.account_number,
                                      payment_account_name=ACCOUNT.account_name))
    with TestClient(app) as client:
        yield client


def linked(url: str, values: dict = LATE) -> tuple[str, str, DossierService]:
    db = shared_database(url)
    dossiers = DossierService(agency_code=AGENCY)
    code = file(db, dossiers, values)
    return code, db.run(dossiers.issue_link, code, purpose=PAYMENT_LINK), dossiers


def test_the_payment_link_shows_the_fee_and_the_qr_and_later_the_receipt(client, url):
    code, token, _ = linked(url)
    base = f"/api/v1/dossiers/{code}/payment"
    shown = client.get(base, params={"token": token})
    assert shown.status_code == 200, shown.text
    data = shown.json()
    assert (data["state"], data["amount_text"], data["note"]) == ("unpaid", "8.000 đồng", code)
    assert "Nguyễn" not in shown.text and "receipt_pdf" not in data
    svg = client.get(data["qr_svg"])
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    png = client.get(data["qr_png"])
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    payload = shared_database(url).run(PaymentService(agency_code=AGENCY, account=ACCOUNT).vietqr, code).payload
    assert png.content == vietqr_png(payload) and decode_payload(payload).amount == 8000
    assert client.get(f"{base}/receipt.pdf", params={"token": token}).status_code == 409  # nothing paid yet

    staff = client.post("/api/v1/staff/login", json={"username": "thuha", "password": STAFF_PASSWORD})
    client.headers["X-CSRF-Token"] = staff.cookies["motcua_csrf"]
    assert client.post(f"/api/v1/staff/payments/{code}/cash").status_code == 200
    after = client.get(base, params={"token": token}).json()
    assert after["state"] == "paid" and "qr_svg" not in after and after["method"] == "cash"
    assert client.get(data["qr_png"]).status_code == 404  # nothing left to pay: no QR
    receipt = client.get(after["receipt_pdf"])
    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.content)).pages)
    assert "Tám nghìn đồng" in text and "8.000" in text and code in text and "tiền mặt" in text
    staff_copy = client.get(f"/api/v1/staff/payments/{code}/receipt.pdf")
    assert staff_copy.status_code == 200 and staff_copy.content[:5] == b"%PDF-"


def test_every_refused_payment_link_answers_the_same_404(client, url):
    db = shared_database(url)
    code, token, dossiers = linked(url)
    other, other_token, _ = linked(url)
    declaration = db.run(dossiers.issue_link, code)  # a declaration link is not a payment link
    base = f"/api/v1/dossiers/{code}/payment"
    answers = [client.get(base, params={"token": t}) for t in ("", "x" * 80, "guess", other_token, declaration)]
    answers += [client.get(f"{base}/vietqr.png"), client.get(f"/api/v1/dossiers/{other}/payment/receipt.pdf",
                                                             params={"token": token})]
    assert {r.status_code for r in answers} == {404}
    assert len({r.text for r in answers}) == 1
    db.run(dossiers.revoke_links, code, actor="staff:thuha")
    assert client.get(base, params={"token": token}).status_code == 404


def test_with_the_lookup_pin_the_citizen_gets_a_payment_link(client, url):
    db = shared_database(url)
    dossiers = DossierService(agency_code=AGENCY)
    filed = db.run(dossiers.file_dossier, application(values=LATE, form_id="birth_registration", channel="counter",
                                              sender_id=""))
    base = f"/api/v1/dossiers/{filed.code}/payment"
    assert client.post(base, json={"pin": "000000" if filed.lookup_pin != "000000" else "111111"}).status_code == 403
    shown = client.post(base, json={"pin": filed.lookup_pin})
    assert shown.status_code == 200, shown.text
    assert shown.json()["state"] == "unpaid" and client.get(shown.json()["qr_svg"]).status_code == 200


def test_a_free_dossier_link_shows_no_qr(client, url):
    code, token, _ = linked(url, {**ON_TIME, "birth_child_birth_date": date.today() - timedelta(days=3)})
    data = client.get(f"/api/v1/dossiers/{code}/payment", params={"token": token}).json()
    assert data["state"] == "none_due" and "qr_svg" not in data
    assert client.get(f"/api/v1/dossiers/{code}/payment/vietqr.svg", params={"token": token}).status_code == 404


def test_late_birth_filed_shown_qr_paid_by_statement_then_receipt(client, url):
    """The fee story end to end: a late birth registration filed (a fee is due), the QR shown, a bank
    statement line imported that pays it, the dossier paid and the receipt given."""
    from motcua.payments.statement import read_statement

    dossiers = DossierService(agency_code=AGENCY)
    payments = PaymentService(agency_code=AGENCY, account=ACCOUNT)
    outcome = DeclarationFiler(dossiers, shared_database(url), "", payments).file(
        application(values=LATE, form_id="birth_registration", channel="kiosk", sender_id="kiosk:s1"))
    code, card = outcome["code"], outcome["payment"]
    assert card["amount_text"] == "8.000 đồng"
    assert client.get(card["qr"]).status_code == 200
    bank_note = "CT DEN:0123 " + code.replace(".", "").replace("-", " ") + " NOP LE PHI"  # dots dropped by the bank
    report = payments.import_statement(shared_database(url),
                                       read_statement(f"ngày,số tiền,nội dung\n06/12/2026,8.000,{bank_note}\n"),
                                       actor="staff:thuha", source="sao-ke.csv")
    assert [line.outcome.value for line in report.lines] == ["matched"]
    shown = client.get(card["status"]).json()
    assert (shown["state"], shown["method"]) == ("paid", "vietqr") and "qr_svg" not in shown
    receipt = client.get(shown["receipt_pdf"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.content)).pages)
    assert "Tám nghìn đồng" in text and "chuyển khoản (VietQR)" in text and code in text
