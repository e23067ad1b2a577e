"""What a REST chat client receives: what it can show (text, buttons, images, the cards it draws),
never the assistant's own bookkeeping (the answering move, its confidence, fallback marks, reasons)."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from bot.app import create_app
from channels.base import BotMessage, Button, for_client
from tests.bot.test_gateway import gateway_settings, migrated_sqlite  # noqa: F401  (fixture)
from tests.servers import serve_in_thread

TICKET = {"token": "t0k3n", "label": "A012", "service": "Tư pháp - Hộ tịch", "new": True}
LEGAL = {"document": "60/2014/QH13", "article": "15", "citation": "Điều 15 Luật Hộ tịch 2014",
         "key": "60/2014/QH13#15.1", "url": "https://motcua.example/legal/60-2014-QH13#dieu-15", "in_force": True}


def rasa_answering(replies: list[dict]) -> FastAPI:
    """A fake Rasa whose REST webhook answers ``replies`` as Rasa does: a custom payload is its own
    message with no text (Rasa's CollectingOutputChannel sends ``json_message`` separately)."""
    app = FastAPI()

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        body = await request.json()
        return [{"recipient_id": body["sender"], **reply} for reply in replies]

    return app


ABSTAIN = [
    {"text": "Xin lỗi, tôi chưa tìm thấy thủ tục hay quy định nào phù hợp…",
     "buttons": [{"title": "Gặp cán bộ", "payload": "/request_human"}]},
    {"custom": {"fallback": True, "move": "abstain", "kind": "procedure", "confidence": 0.412}},
    {"text": "Ông/bà đã lấy số thành công: A012 — Tư pháp - Hộ tịch."},
    {"custom": {"queue_ticket": TICKET}},
    {"custom": {"handoff": True, "reason": "citizen_request"}},
    {"custom": {"legal": LEGAL}},
    {"custom": {"fallback": True, "legal": None}},
    {"custom": {"dossier_code": "000.00.04.H51-261206-0001", "declaration_pdf": "https://motcua.example/x.pdf",
                "due_date": "2026-12-10"}},
    {"image": "https://motcua.example/qr.png"},
]


def test_a_rest_client_gets_the_cards_it_draws_and_none_of_the_internal_data(tmp_path, migrated_sqlite):  # noqa: F811
    with serve_in_thread(rasa_answering(ABSTAIN)) as rasa_url, \
            TestClient(create_app(gateway_settings(tmp_path, rasa_url))) as client:
        body = client.post("/api/v1/messages", json={"sender": "strip", "text": "thủ tục gì đó"}).json()
    raw = json.dumps(body, ensure_ascii=False)
    for internal in ("move", "confidence", "fallback", "abstain", "reason", "citizen_request", "kind",
                     "60/2014/QH13#15.1"):
        assert internal not in raw, internal
    messages = body["messages"]
    assert all(m.get("text") or m.get("buttons") or m.get("image") or m.get("custom") for m in messages)
    assert messages[0]["buttons"] == [{"title": "Gặp cán bộ", "payload": "/request_human"}]
    customs = [m["custom"] for m in messages if "custom" in m]
    assert customs == [
        {"queue_ticket": TICKET},
        {"handoff": True},
        {"legal": {k: v for k, v in LEGAL.items() if k != "key"}},
        {"dossier_code": "000.00.04.H51-261206-0001", "declaration_pdf": "https://motcua.example/x.pdf",
         "due_date": "2026-12-10"},
    ]
    assert messages[-1] == {"text": "", "image": "https://motcua.example/qr.png"}
    assert len(messages) == len(ABSTAIN) - 2  # the two internal-only messages are gone, nothing else


def test_a_message_with_text_keeps_its_text_and_buttons_and_loses_only_the_internal_keys():
    message = BotMessage("Chọn thủ tục:", (Button("Đăng ký khai sinh", "/ask_procedure"),),
                         custom={"move": "offer", "confidence": 0.6, "kind": "procedure"})
    assert for_client(message) == {"text": "Chọn thủ tục:",
                                   "buttons": [{"title": "Đăng ký khai sinh", "payload": "/ask_procedure"}]}
    assert for_client(BotMessage(custom={"staff": "thuha"})) is None
    assert for_client(BotMessage("Dạ, tôi xem giúp ông/bà.", custom={"staff": "thuha"})) == {
        "text": "Dạ, tôi xem giúp ông/bà.", "custom": {"staff": True}}  # that staff wrote it, never who
    assert for_client(BotMessage("Đã chuyển tới cán bộ.", custom={"handoff_ack": True})) == {
        "text": "Đã chuyển tới cán bộ.", "custom": {"handoff_ack": True}}


def test_a_rest_clients_language_goes_to_rasa_in_the_metadata_the_actions_read(tmp_path, migrated_sqlite):  # noqa: F811
    """``lang: en`` → ``metadata.language`` → ``tracker.latest_message.metadata`` → the actions speak
    English (tests/actions/test_action_language.py); no ``lang``: Vietnamese, no language sent."""
    rasa = rasa_answering([{"text": "Documents for «Đăng ký khai sinh»:"}])
    received: list[dict] = []

    @rasa.middleware("http")
    async def record(request, call_next):
        received.append(json.loads(await request.body()))
        return await call_next(request)

    with serve_in_thread(rasa) as rasa_url, TestClient(create_app(gateway_settings(tmp_path, rasa_url))) as client:
        english = client.post("/api/v1/messages", json={"sender": "en", "text": "birth papers", "lang": "en"})
        by_header = client.post("/api/v1/messages", json={"sender": "en2", "text": "birth papers"},
                                headers={"Accept-Language": "en-GB,en;q=0.9"})
        vietnamese = client.post("/api/v1/messages", json={"sender": "vi", "text": "giấy tờ khai sinh"})
    assert english.json()["messages"] == [{"text": "Documents for «Đăng ký khai sinh»:"}]
    assert [r["metadata"].get("language") for r in received] == ["en", "en", None]
    assert by_header.status_code == vietnamese.status_code == 200
