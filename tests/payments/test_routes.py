"""The staff payment API through FastAPI's TestClient: fee, VietQR, cash, waiver; signed-in staff only."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from motcua.db import shared_database, upgrade_database
from motcua.dossiers.service import DossierService
from motcua.payments.vietqr import decode_payload
from tests.dossiers.support import AGENCY, STAFF_PASSWORD, add_staff, application, gateway_settings
from tests.payments.conftest import ACCOUNT, seed_payment_procedures

PAYMENTS = "/api/v1/staff/payments"


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'payments.sqlite3'}"
    upgrade_database(url)
    seed_payment_procedures(url)
    add_staff(url)
    return url


@pytest.fixture
def app(tmp_path, url):
    return create_app(gateway_settings(tmp_path, url, payment_bank_bin=ACCOUNT.bank_bin,
                                       payment_account_number=ACCOUNT.account_number,
                                       payment_account_name=ACCOUNT.account_name))


@pytest.fixture
def staff(app):
    with TestClient(app) as client:
        response = client.post("/api/v1/staff/login", json={"username": "thuha", "password": STAFF_PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.cookies["motcua_csrf"]
        yield client


def late_birth(url: str) -> str:
    values = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2020, 5, 1)}
    return shared_database(url).run(DossierService(agency_code=AGENCY).file_dossier,
        application(values=values, form_id="birth_registration", channel="counter", sender_id="")).code


def test_staff_see_the_fee_and_the_vietqr_then_take_cash(staff, url):
    code = late_birth(url)
    state = staff.get(f"{PAYMENTS}/{code}")
    assert state.status_code == 200, state.text
    assert (state.json()["state"], state.json()["amount"], state.json()["vietqr_enabled"]) == ("unpaid", 8000, True)
    request = staff.get(f"{PAYMENTS}/{code}/vietqr").json()
    decoded = decode_payload(request["payload"])
    assert (decoded.amount, decoded.note, request["account_name"]) == (8000, code, ACCOUNT.account_name)
    image = staff.get(f"{PAYMENTS}/{code}/vietqr.svg")
    assert image.status_code == 200 and image.headers["content-type"] == "image/svg+xml"
    assert image.content.startswith(b"<?xml") and b"<path" in image.content
    paid = staff.post(f"{PAYMENTS}/{code}/cash")
    assert paid.status_code == 200 and (paid.json()["state"], paid.json()["paid_by"]) == ("paid", "staff:thuha")
    again = staff.post(f"{PAYMENTS}/{code}/cash")
    assert again.status_code == 409 and "đã nộp phí" in again.json()["detail"]
    assert staff.get(f"{PAYMENTS}/{code}/vietqr").status_code == 409


def test_a_waiver_without_a_reason_is_refused_and_with_one_is_recorded(staff, url):
    code = late_birth(url)
    assert staff.post(f"{PAYMENTS}/{code}/waive", json={"reason": " "}).status_code == 422
    waived = staff.post(f"{PAYMENTS}/{code}/waive", json={"reason": "Người khuyết tật nặng"})
    assert waived.status_code == 200 and waived.json()["state"] == "waived"
    assert waived.json()["history"][-1]["actor"] == "staff:thuha"


def test_unknown_dossiers_are_404_and_anonymous_callers_401(app, staff, url):
    assert staff.get(f"{PAYMENTS}/{AGENCY}-260310-0099").status_code == 404
    code = late_birth(url)
    with TestClient(app) as anonymous:
        for method, path in (("GET", f"{PAYMENTS}/{code}"), ("GET", f"{PAYMENTS}/{code}/vietqr"),
                             ("GET", f"{PAYMENTS}/{code}/vietqr.svg"),
                             ("POST", f"{PAYMENTS}/{code}/cash"), ("POST", f"{PAYMENTS}/{code}/waive")):
            assert anonymous.request(method, path).status_code == 401, (method, path)
