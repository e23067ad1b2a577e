"""The receipt printed at filing (giấy tiếp nhận) shows a fee still owed: the amount in figures and words,
the transfer note and a VietQR code read back from the PDF and decoded tag by tag; nothing once the fee
is paid or waived, for a free dossier, or when the center takes no VietQR."""

from __future__ import annotations

import io
import unicodedata
from datetime import date

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.app import create_app
from motcua.db import Database, shared_database, upgrade_database
from motcua.dossiers.notifications import MemoryNotifier
from motcua.dossiers.service import DossierService
from motcua.payments.models import DossierPayment, DossierPaymentEvent
from motcua.payments.service import PaymentService
from motcua.payments.vietqr import decode_payload
from tests.dossiers.support import AGENCY, STAFF_PASSWORD, add_staff, application
from tests.payments.conftest import ACCOUNT, seed_payment_procedures

LATE = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2020, 5, 1)}
ON_TIME = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2026, 3, 1)}
CENTER = "Trung tâm Phục vụ hành chính công xã Hòa Bình"


def read(pdf: bytes) -> tuple[str, list[str]]:
    """The text of the receipt and what every QR code drawn on it says."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(unicodedata.normalize("NFC", " ".join(page.extract_text() for page in pages)).split())
    codes = [result.text for page in pages for image in page.images
             for result in zxingcpp.read_barcodes(image.image)]
    return text, codes


@pytest.fixture
def filing(clock, payments) -> DossierService:
    """The dossier store as the gateway builds it: fees priced at filing, printed on the receipt."""
    return DossierService(agency_code=AGENCY, notifier=MemoryNotifier(), clock=clock, fees=payments)


def file(db: Database, dossiers: DossierService, values: dict) -> str:
    return db.run(dossiers.file_dossier, application(values=values, form_id="birth_registration", channel="counter",
                                             sender_id=""), actor="staff:thuha").code


def test_the_receipt_of_a_late_birth_carries_the_fee_and_a_vietqr_code_that_decodes_to_it(filing, db):
    code = file(db, filing, LATE)
    text, codes = read(db.run(filing.receipt_pdf, code, center_name=CENTER, received_by="Đỗ Thu Hà"))
    assert "Lệ phí phải nộp" in text
    assert "Số tiền: 8.000 đồng (bằng chữ: Tám nghìn đồng)" in text
    assert f"Nội dung chuyển khoản: {code}" in text and f"Người nhận: {ACCOUNT.account_name}" in text
    assert len(codes) == 2 and codes[0] == code  # the lookup QR first, then the VietQR
    decoded = decode_payload(codes[1])  # tag by tag, the CRC recomputed
    assert (decoded.bank_bin, decoded.account_number, decoded.amount, decoded.note) == \
        (ACCOUNT.bank_bin, ACCOUNT.account_number, 8000, code)


def test_no_fee_box_once_paid_or_waived_or_when_free(filing, payments, db):
    paid, waived, free = file(db, filing, LATE), file(db, filing, LATE), file(db, filing, ON_TIME)
    db.run(payments.mark_cash, paid, actor="staff:thuha")
    db.run(payments.waive, waived, "hộ nghèo, sổ hộ nghèo số 12/2026", actor="staff:thuha")
    for code in (paid, waived, free):
        text, codes = read(db.run(filing.receipt_pdf, code, center_name=CENTER))
        assert "Lệ phí phải nộp" not in text and "Nội dung chuyển khoản" not in text, code
        assert codes == [code]  # only the lookup QR


def test_a_fee_that_fails_half_priced_on_the_receipt_undoes_only_itself(dossiers, payments, catalogue, clock, db,
                                                                          monkeypatch):
    """The receipt reads the fee in its own session: a dossier filed unpriced is priced there; when that
    fails half-way (the payment row added, its portal row not), only the pricing is undone (a savepoint):
    the receipt prints without the fee and nothing half-written is committed with it."""
    code = file(db, dossiers, LATE)  # filed by a store without fees: not priced
    printing = DossierService(agency_code=AGENCY, notifier=MemoryNotifier(), clock=clock, fees=payments)

    def broken(*args, **kwargs):
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(payments, "_tell_portal", broken)
    text, codes = read(db.run(printing.receipt_pdf, code, center_name=CENTER))
    assert "Lệ phí phải nộp" not in text and codes == [code]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(DossierPayment)) == 0
        assert session.scalar(select(func.count()).select_from(DossierPaymentEvent)) == 0
    monkeypatch.undo()
    text, codes = read(db.run(printing.receipt_pdf, code, center_name=CENTER))  # priced now, whole
    assert "Số tiền: 8.000 đồng" in text and len(codes) == 2
    assert [event.to_state for event in db.run(payments.payment, code).history] == ["unpaid"]


def test_without_a_receiving_account_the_receipt_has_no_vietqr(catalogue, clock):
    cash_only = PaymentService(agency_code=AGENCY, account=None, clock=clock)
    db = shared_database(catalogue)
    dossiers = DossierService(agency_code=AGENCY, notifier=MemoryNotifier(), clock=clock, fees=cash_only)
    code = file(db, dossiers, LATE)
    text, codes = read(db.run(dossiers.receipt_pdf, code, center_name=CENTER))
    assert "Lệ phí phải nộp" not in text and codes == [code]
    assert db.run(cash_only.payment, code).amount == 8000  # priced all the same: cash at the counter


def test_the_desk_prints_the_fee_on_the_receipt_it_hands_over_at_filing(tmp_path):
    """Through the gateway as deployed: the desk files, then prints the receipt with the new PIN."""
    from tests.dossiers.support import gateway_settings

    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    upgrade_database(url)
    seed_payment_procedures(url)
    add_staff(url)
    app = create_app(gateway_settings(tmp_path, url, payment_bank_bin=ACCOUNT.bank_bin,
                                      payment_account_number=ACCOUNT.account_number,
                                      payment_account_name=ACCOUNT.account_name))
    with TestClient(app) as client:
        login = client.post("/api/v1/staff/login", json={"username": "thuha", "password": STAFF_PASSWORD})
        client.headers["X-CSRF-Token"] = login.cookies["motcua_csrf"]
        filed = client.post("/api/v1/staff/dossiers", json={
            "procedure_code": "1.001193", "applicant_name": "Nguyễn Thị Lan", "applicant_cccd": "001190012345",
            "applicant_phone": "0912345678", "form_id": "birth_registration",
            "values": {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": "2020-05-01"}},
            headers={"Idempotency-Key": "desk-form-0001"})
        assert filed.status_code == 201, filed.text
        code = filed.json()["code"]
        receipt = client.post(f"/api/v1/staff/dossiers/{code}/receipt.pdf")
        assert receipt.status_code == 200, receipt.text
        text, codes = read(receipt.content)
        assert "Số tiền: 8.000 đồng" in text and f"Nội dung chuyển khoản: {code}" in text
        assert decode_payload(codes[1]).amount == 8000 and decode_payload(codes[1]).note == code
        assert client.post(f"/api/v1/staff/payments/{code}/cash").status_code == 200
        text, codes = read(client.get(f"/api/v1/staff/dossiers/{code}/receipt.pdf").content)
        assert "Lệ phí phải nộp" not in text and codes == [code]
