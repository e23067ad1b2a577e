"""English payment messages: a conversation in English (``metadata.language: en``, run through the action
server's language switch) is told its fee, the transfer note and the status page in English; a browser
asking for English gets the payment link's words in English; Vietnamese stays the default."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from rasa_sdk.executor import ActionExecutor

from actions.forms import ActionFinishDeclaration, DeclarationFiler
from actions.language import run_in_language
from bot.app import create_app
from knowledge_base.messages import load_catalogue, speaking
from motcua.db import shared_database, upgrade_database
from motcua.dossiers.service import DossierService
from motcua.payments.citizen import PAYMENT_LINK
from tests.dossiers.support import AGENCY, add_staff, application, gateway_settings
from tests.payments.conftest import ACCOUNT, seed_payment_procedures

LATE = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2020, 5, 1)}


def finish_call(outcome: dict, language: str | None) -> dict:
    metadata = {"channel": "telegram", **({"language": language} if language else {})}
    latest = {"text": "/affirm", "intent": {"name": "affirm", "confidence": 1.0}, "entities": [],
              "intent_ranking": [], "metadata": metadata}
    return {"next_action": "action_finish_declaration", "sender_id": "telegram:42", "version": "3.16.0",
            "domain": {}, "tracker": {"sender_id": "telegram:42", "slots": {"form_outcome": outcome},
                                      "latest_message": latest, "events": [], "paused": False,
                                      "followup_action": None, "active_loop": {},
                                      "latest_action_name": "action_listen"}}


def filed(dossiers, db, payments, locale: str) -> dict:
    with speaking(locale):  # the form's last action files the dossier in the conversation's language
        return DeclarationFiler(dossiers, db, "https://motcua.example", payments).file(
            application(values=LATE, form_id="birth_registration"))


async def test_an_english_conversation_is_told_its_fee_in_english(dossiers, db, payments):
    runner = ActionExecutor()
    runner.register_action(ActionFinishDeclaration())
    english = await run_in_language(runner, finish_call(filed(dossiers, db, payments, "en"), "en"))
    fee = english["responses"][-1]
    assert fee["text"].startswith("Your application has a fee of 4.000 VND.")
    assert f"to: {ACCOUNT.account_name}" in fee["text"] and "transfer note: " in fee["text"]
    assert "The status of your application, the VietQR code and the receipt" in fee["text"]
    assert "ông/bà" not in fee["text"] and fee["image"].startswith("https://motcua.example/api/v1/dossiers/")

    vietnamese = await run_in_language(runner, finish_call(filed(dossiers, db, payments, "vi"), None))
    assert vietnamese["responses"][-1]["text"].startswith("Hồ sơ của ông/bà cần nộp lệ phí 4.000 đồng.")


def test_every_citizen_facing_payment_message_has_its_english():
    english = load_catalogue("en")
    ids = {key for key in load_catalogue("vi").keys() if key.startswith(("payment.", "page.payment.",
                                                                         "page.kiosk.payment_"))}
    assert len(ids) > 20 and ids <= set(english.templates)  # said in English, not fallen back to Vietnamese
    for key in ids:
        assert english.fields(key) == load_catalogue("vi").fields(key), key


def test_the_payment_link_answers_in_the_browsers_language(tmp_path):
    url = f"sqlite:///{tmp_path / 'en.sqlite3'}"
    upgrade_database(url)
    seed_payment_procedures(url)
    add_staff(url)
    db = shared_database(url)
    dossiers = DossierService(agency_code=AGENCY)
    code = db.run(dossiers.file_dossier, application(values=LATE, form_id="birth_registration")).code
    token = db.run(dossiers.issue_link, code, purpose=PAYMENT_LINK)
    app = create_app(gateway_settings(tmp_path, url, payment_bank_bin=ACCOUNT.bank_bin,
                                      payment_account_number=ACCOUNT.account_number,
                                      payment_account_name=ACCOUNT.account_name))
    with TestClient(app) as client:
        english = client.get(f"/api/v1/dossiers/{code}/payment", params={"token": token},
                             headers={"Accept-Language": "en"}).json()
        vietnamese = client.get(f"/api/v1/dossiers/{code}/payment", params={"token": token}).json()
    assert (english["state_label"], english["amount_text"]) == ("Fee not paid yet", "4.000 VND")
    assert (vietnamese["state_label"], vietnamese["amount_text"]) == ("Chưa nộp phí", "4.000 đồng")
