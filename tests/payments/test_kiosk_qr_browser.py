"""The kiosk draws the fee card with the VietQR code after a late birth registration is filed, in
headless Chromium; the screenshot goes to ``bench/results/screenshots/kiosk-vietqr.png`` (README).

Rasa is a fake that answers with exactly what the action server says after filing
(:class:`~actions.forms.ActionFinishDeclaration` over the real :class:`~actions.forms.DeclarationFiler`),
so the text, the image and the ``custom`` card are the real ones.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import date

import pytest
from fastapi import FastAPI, Request
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ActionFinishDeclaration, DeclarationFiler
from bot.app import create_app
from motcua.db import Database, shared_database, upgrade_database
from motcua.dossiers.service import DossierService
from motcua.payments.service import PaymentService
from motcua.payments.vietqr import decode_payload
from motcua.settings import ROOT, Settings
from tests.browser import browser  # noqa: F401 — the shared headless Chromium
from tests.dossiers.support import AGENCY, application
from tests.payments.conftest import ACCOUNT, seed_payment_procedures
from tests.servers import free_port, serve_in_thread

pytestmark = pytest.mark.integration

SCREENSHOT = ROOT / "bench" / "results" / "screenshots" / "kiosk-vietqr.png"
LATE = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2020, 5, 1)}


def filing_rasa(dossiers: DossierService, db: Database, payments: PaymentService) -> FastAPI:
    """A Rasa whose every answer is the end of a filled birth declaration: filed, then the fee."""
    app = FastAPI()
    app.state.outcomes = []

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        body = await request.json()
        filer = DeclarationFiler(dossiers, db, "", payments)  # relative links: the kiosk's own origin
        outcome = await asyncio.to_thread(filer.file, application(
            values=LATE, form_id="birth_registration", channel="kiosk", sender_id=body["sender"]))
        app.state.outcomes.append(outcome)
        dispatcher = CollectingDispatcher()
        tracker = Tracker(body["sender"], {"form_outcome": outcome}, {}, [], False, None, {}, "")
        await ActionFinishDeclaration().run(dispatcher, tracker, {})
        return [{"recipient_id": body["sender"], **{k: v for k, v in m.items() if v}} for m in dispatcher.messages]

    @app.get("/status")
    async def status():
        return {"model_file": "fake.tar.gz"}

    return app


def test_the_kiosk_shows_the_fee_and_the_vietqr_after_filing(browser, tmp_path):  # noqa: F811
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    upgrade_database(url)
    seed_payment_procedures(url)
    db = shared_database(url)
    dossiers = DossierService(agency_code=AGENCY)
    payments = PaymentService(agency_code=AGENCY, account=ACCOUNT)
    rasa = filing_rasa(dossiers, db, payments)
    with serve_in_thread(rasa) as rasa_url:
        settings = Settings(data_dir=tmp_path, database_url=url, rasa_url=rasa_url, agency_code=AGENCY,
                            action_url=f"http://127.0.0.1:{free_port()}/webhook", device_token="", cors_origins=[],
                            center_name="Trung tâm Phục vụ hành chính công xã Hòa Bình",
                            payment_bank_bin=ACCOUNT.bank_bin, payment_account_number=ACCOUNT.account_number,
                            payment_account_name=ACCOUNT.account_name)
        with serve_in_thread(create_app(settings)) as gateway:
            page = browser.new_page(viewport={"width": 1080, "height": 1600}, locale="vi-VN")
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{gateway}/kiosk")
            page.wait_for_selector("#status:has-text('Đã kết nối')", timeout=15_000)
            page.fill("#input", "Nộp hồ sơ")
            page.keyboard.press("Enter")
            card = page.wait_for_selector(".card.payment", timeout=15_000)
            img = page.wait_for_selector(".card.payment img")
            for _ in range(100):
                if page.evaluate("() => { const i = document.querySelector('.card.payment img');"
                                 " return i.complete && i.naturalWidth > 0; }"):
                    break
                page.wait_for_timeout(100)
            else:
                raise AssertionError("the QR image never loaded")
            outcome = rasa.state.outcomes[-1]
            code = outcome["code"]
            text = card.text_content() or ""
            assert "8.000 đồng" in text and code in text and ACCOUNT.account_name in text  # filed at the kiosk
            src = img.get_attribute("src") or ""
            assert src.startswith(f"/api/v1/dossiers/{code}/payment/vietqr.svg?token=")
            assert page.locator(".card.dossier").count() == 1  # the dossier card above it, as before
            assert decode_payload(db.run(payments.vietqr, code).payload).amount == 8000
            card.scroll_into_view_if_needed()
            path = tmp_path / "kiosk-vietqr.png"
            page.screenshot(path=str(path))
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, SCREENSHOT)
            assert errors == []
            page.close()
