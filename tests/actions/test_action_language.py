"""The citizen's language reaches the actions: an action call whose latest message says
``metadata.language: en`` (what the gateway sends Rasa for a REST ``lang: en``) is answered
with the catalogue's English — headings, buttons, and the responses the actions name."""

from __future__ import annotations

from datetime import date

from rasa_sdk.executor import ActionExecutor
from starlette.concurrency import run_in_threadpool

from actions.answering import ABSTAIN, ActionAnswer
from actions.answers import Aspect, answer
from actions.language import call_locale, run_in_language, translate_responses
from knowledge_base.messages import render, speaking
from retrieval.decision import Decision
from tests.actions.fakes import BIRTH, FakeKnowledge
from tests.actions.test_answering import FakeLegal, FakeSearch


def executor(search: FakeSearch | None = None) -> ActionExecutor:
    runner = ActionExecutor()
    runner.register_action(ActionAnswer(FakeKnowledge([BIRTH], search), FakeLegal(), today=lambda: date(2026, 12, 6)))
    return runner


def action_call(text: str, intent: str, *, language: str | None, entities: list | None = None) -> dict:
    metadata = {"channel": "rest", **({"language": language} if language else {})}
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities or [],
              "intent_ranking": [], "metadata": metadata}
    return {"next_action": "action_answer", "sender_id": "rest:lang", "version": "3.16.0", "domain": {},
            "tracker": {"sender_id": "rest:lang", "slots": {}, "latest_message": latest, "events": [],
                        "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen"}}


TAP = [{"entity": "procedure_code", "value": BIRTH.code}]


async def test_an_english_turn_gets_english_headings_and_buttons_and_a_vietnamese_one_vietnamese():
    english = await run_in_language(executor(), action_call("/ask_documents", "ask_documents", language="en",
                                                            entities=TAP))
    vietnamese = await run_in_language(executor(), action_call("/ask_documents", "ask_documents", language=None,
                                                               entities=TAP))
    (said_en,), (said_vi,) = english["responses"], vietnamese["responses"]
    with speaking("en"):
        expected = answer(BIRTH, Aspect.DOCUMENTS)
    assert said_en["text"] == expected.text and said_vi["text"] == answer(BIRTH, Aspect.DOCUMENTS).text
    assert said_en["text"].startswith(render("answer.documents_all", locale="en", name=BIRTH.name))
    assert said_en["text"].startswith("Documents for «Đăng ký khai sinh»:")  # the name is the catalogue's
    assert said_vi["text"].startswith("Hồ sơ «Đăng ký khai sinh» gồm:")
    assert "Fee" in [b["title"] for b in said_en["buttons"]]
    assert "Lệ phí" in [b["title"] for b in said_vi["buttons"]]
    assert [b["payload"] for b in said_en["buttons"]] == [b["payload"] for b in said_vi["buttons"]]
    assert render("answer.documents_all", name="x") == "Hồ sơ «x» gồm:"  # outside the call: Vietnamese again


async def test_an_english_abstain_is_sent_as_english_text_with_the_domains_buttons():
    search = FakeSearch(Decision("abstain", (), 0.05), Decision("abstain", (), 0.1))
    english = await run_in_language(executor(search), action_call("gold price today", "nlu_fallback", language="en"))
    (said,) = english["responses"]
    assert not said.get("response") and not said.get("template")  # Rasa will not put its Vietnamese in
    assert said["text"] == render("response.utter_answer_abstain", locale="en") != render("response.utter_answer_abstain")
    assert said["text"].startswith("Sorry, I have not found")
    assert said["buttons"] == [{"title": "Talk to staff", "payload": "/request_human"},
                               {"title": "Take a queue number", "payload": "/request_queue_number"}]
    assert said["custom"]["move"] == "abstain"  # the gateway still sees the miss; REST clients never do
    search = FakeSearch(Decision("abstain", (), 0.05), Decision("abstain", (), 0.1))
    vietnamese = await run_in_language(executor(search), action_call("giá vàng", "nlu_fallback", language="vi"))
    assert vietnamese["responses"][0]["response"] == ABSTAIN  # Rasa says the domain's Vietnamese response


def test_a_response_the_catalogue_does_not_translate_is_left_to_rasa():
    kept = {"response": "utter_greet_nobody_translated", "text": None, "buttons": []}
    assert translate_responses([kept], "en") == [kept]
    assert call_locale({"tracker": {"latest_message": {"metadata": {"language": "en-GB"}}}}) == "en"
    assert call_locale({"tracker": {"latest_message": {}}}) == call_locale({}) == "vi"


async def test_the_language_follows_the_call_into_worker_threads():
    with speaking("en"):
        said = await run_in_threadpool(render, "action.queue.issued", label="A012", service="Tư pháp")
    assert said == "Your queue number is A012 — Tư pháp."


def test_the_action_servers_webhook_answers_in_the_calls_language(tmp_path):
    """The real action server (SQLite knowledge base, the hashing embedder): the same tap, twice."""
    from fastapi.testclient import TestClient

    from actions.server import create_app
    from knowledge_base.sync import sync_defaults
    from motcua.db import upgrade_database
    from motcua.settings import Settings

    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade_database(url)
    sync_defaults(url)  # the centre's default knowledge base
    settings = Settings(data_dir=tmp_path, database_url=url, embedding_model="hashing")
    tap = [{"entity": "procedure_code", "value": "1.001193"}]
    with TestClient(create_app(settings)) as server:
        english = server.post("/webhook", json=action_call("/ask_fee", "ask_fee", language="en", entities=tap))
        vietnamese = server.post("/webhook", json=action_call("/ask_fee", "ask_fee", language=None, entities=tap))
    assert english.status_code == vietnamese.status_code == 200, english.text
    said_en, said_vi = english.json()["responses"][0]["text"], vietnamese.json()["responses"][0]["text"]
    assert said_en.startswith(("Fee for «", "Fees for «", "There is no information yet on the fee")), said_en
    assert said_vi.startswith(("Lệ phí «", "Chưa có thông tin lệ phí")), said_vi
