"""Privacy of fees: the payment receipt names the cashier by full name (or staff number), never by the
login; and a link's ``token=`` never reaches a log — uvicorn's access log of a real server included."""

from __future__ import annotations

import io
import logging
import threading
import time
from datetime import date

import httpx
import uvicorn
from pypdf import PdfReader
from uvicorn.logging import AccessFormatter

from bot.app import create_app
from motcua.db import session_scope, shared_database, upgrade_database
from motcua.dossiers.service import DossierService
from motcua.payments.citizen import PAYMENT_LINK
from motcua.payments.receipt import render_payment_receipt
from motcua.privacy import PersonalDataFilter, redact_tokens
from motcua.staff.accounts import create_user
from motcua.staff.models import StaffUser
from tests.dossiers.support import AGENCY, add_staff, application, gateway_settings
from tests.payments.conftest import ACCOUNT, seed_payment_procedures
from tests.servers import free_port

LATE = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2020, 5, 1)}


def receipt_text(db, payments, code: str) -> str:
    pdf = render_payment_receipt(db.run(payments.receipt, code), center_name="Trung tâm Phục vụ hành chính công")
    return " ".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_the_receipt_prints_the_cashiers_full_name_or_staff_number_never_the_login(dossiers, payments, catalogue, db):
    add_staff(catalogue)  # «thuha», Đỗ Thu Hà
    with session_scope(catalogue) as session:
        create_user(session, "kt.lan82", "mat-khau-thu-ngan-1", role="staff", full_name="")
    with session_scope(catalogue) as session:
        number = session.query(StaffUser).filter_by(username="kt.lan82").one().id

    def file() -> str:
        return db.run(dossiers.file_dossier, application(values=LATE, form_id="birth_registration", channel="counter",
                                                 sender_id="")).code

    named, unnamed = file(), file()
    db.run(payments.mark_cash, named, actor="staff:thuha")
    db.run(payments.mark_cash, unnamed, actor="staff:kt.lan82")
    text = receipt_text(db, payments, named)
    assert "Người thu: Đỗ Thu Hà" in text and "thuha" not in text
    text = receipt_text(db, payments, unnamed)
    assert f"Người thu: cán bộ số {number}" in text and "kt.lan82" not in text
    assert db.run(payments.payment, named).paid_by == "staff:thuha"  # staff still see who it was, on the desk


def test_token_values_are_redacted_from_log_text():
    assert redact_tokens("GET /api/v1/dossiers/X/payment/vietqr.png?token=Ab_9-z&size=2 HTTP/1.1") == \
        "GET /api/v1/dossiers/X/payment/vietqr.png?token=[redacted]&size=2 HTTP/1.1"
    assert redact_tokens("/dossiers/X/payment?TOKEN=abc#top") == "/dossiers/X/payment?TOKEN=[redacted]#top"
    assert redact_tokens("?access_token=abc") == "?access_token=[redacted]"
    assert redact_tokens("no secret here, token: none") == "no secret here, token: none"
    # a queue ticket's token is part of its path
    assert redact_tokens("GET /queue/ticket/Qz8_k2 HTTP/1.1") == "GET /queue/ticket/[redacted] HTTP/1.1"
    assert redact_tokens("/api/v1/queue/tickets/Qz8_k2/qr.svg?x=1") == "/api/v1/queue/tickets/[redacted]/qr.svg?x=1"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/dossiers/X/payment?token=s3cr3t", "1.1", 200), None)
    PersonalDataFilter().filter(record)
    assert "s3cr3t" not in AccessFormatter(use_colors=False).format(record)


def test_uvicorns_access_log_of_the_gateway_never_shows_a_links_token(tmp_path):
    url = f"sqlite:///{tmp_path / 'logs.sqlite3'}"
    upgrade_database(url)
    seed_payment_procedures(url)
    db = shared_database(url)
    dossiers = DossierService(agency_code=AGENCY)
    code = db.run(dossiers.file_dossier, application(values=LATE, form_id="birth_registration")).code
    token = db.run(dossiers.issue_link, code, purpose=PAYMENT_LINK)
    app = create_app(gateway_settings(tmp_path, url, payment_bank_bin=ACCOUNT.bank_bin,
                                      payment_account_number=ACCOUNT.account_number,
                                      payment_account_name=ACCOUNT.account_name))
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="info",
                                           access_log=True))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "test server did not start"
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        for path in (f"/dossiers/{code}/payment", f"/api/v1/dossiers/{code}/payment",
                     f"/api/v1/dossiers/{code}/payment/vietqr.png"):
            assert httpx.get(base + path, params={"token": token}).status_code == 200, path
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        access.removeHandler(handler)
    log = written.getvalue()
    assert log.count("token=[redacted]") == 3, log
    assert token not in log and f"/dossiers/{code}/payment?token=" in log
