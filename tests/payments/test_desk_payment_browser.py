"""The desk's fee block in headless Chromium: the fee, the VietQR code, «Đã thu tiền mặt»; «Miễn phí»
refused without a reason and recorded with one; the receipt button once settled."""

from __future__ import annotations

import pytest

from bot.app import create_app
from motcua.db import shared_database, upgrade_database
from motcua.payments.service import PaymentService
from tests.browser import wait_for_js
from tests.dossiers.support import AGENCY, STAFF_PASSWORD, add_staff, gateway_settings
from tests.payments.conftest import ACCOUNT, seed_payment_procedures
from tests.payments.test_routes import late_birth
from tests.servers import serve_in_thread

pytestmark = pytest.mark.integration


def test_the_desk_takes_cash_and_waives_with_a_reason(tmp_path, browser_page):
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    upgrade_database(url)
    seed_payment_procedures(url)
    add_staff(url)
    cash, waived = late_birth(url), late_birth(url)
    app = create_app(gateway_settings(tmp_path, url, payment_bank_bin=ACCOUNT.bank_bin,
                                      payment_account_number=ACCOUNT.account_number,
                                      payment_account_name=ACCOUNT.account_name))
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    with serve_in_thread(app) as base:
        assert page.request.post(f"{base}/api/v1/staff/login",
                                 data={"username": "thuha", "password": STAFF_PASSWORD}).ok
        page.goto(f"{base}/staff/dossiers")
        page.wait_for_selector(f"tr[data-code='{cash}']", timeout=10_000)

        page.click(f"tr[data-code='{cash}']")
        wait_for_js(page, "document.getElementById('p-fields').textContent.includes('8.000')", timeout=10_000)
        assert "Chưa nộp phí" in page.text_content("#p-fields")
        wait_for_js(page, "(() => { const i = document.getElementById('p-qr-img');"
                          " return !document.getElementById('p-qr').hidden && i.complete && i.naturalWidth > 0; })()")
        page.click("#p-cash")
        wait_for_js(page, "document.getElementById('p-fields').textContent.includes('Đã nộp phí')", timeout=10_000)
        fields = page.text_content("#p-fields")
        assert "Tiền mặt" in fields and "thuha" in fields
        assert page.is_hidden("#p-cash") and page.is_hidden("#p-qr") and page.is_visible("#p-receipt")

        page.click(f"tr[data-code='{waived}']")
        wait_for_js(page, f"document.getElementById('d-code').textContent === 'Hồ sơ {waived}'", timeout=10_000)
        wait_for_js(page, "!document.getElementById('p-waive-open').hidden", timeout=10_000)
        page.click("#p-waive-open")
        page.fill("#p-reason", "ab")
        page.click("#p-waive-form button[type=submit]")
        assert page.is_visible("#p-waive-form")  # too short: nothing sent
        page.fill("#p-reason", "Người khuyết tật nặng, giấy xác nhận số 45")
        page.click("#p-waive-form button[type=submit]")
        wait_for_js(page, "document.getElementById('p-fields').textContent.includes('Được miễn phí')", timeout=10_000)
        assert "Người khuyết tật nặng" in page.text_content("#p-fields")
    assert errors == []
    payments, db = PaymentService(agency_code=AGENCY, account=ACCOUNT), shared_database(url)
    assert (db.run(payments.payment, cash).method, db.run(payments.payment, waived).state) == ("cash", "waived")
    assert db.run(payments.payment, waived).paid_by == "staff:thuha"
