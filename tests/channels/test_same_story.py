"""One story through every channel — ask about birth registration, then take a number — gives
the same answers everywhere, each channel keeping one identity for the citizen."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from bot.app import create_app
from tests.channels.fakes import (
    BIRTH_QUESTION,
    STORY_TEXTS,
    TELEGRAM_SECRET,
    fixture,
    received_from,
    sent_texts,
    signed,
    zalo_event,
    zalo_texts,
)


def ws_say(ws, text, payload=None) -> list[str]:
    ws.send_text(json.dumps({"type": "message", "text": text, "payload": payload}, ensure_ascii=False))
    while True:
        frame = json.loads(ws.receive_text())
        if frame["type"] == "bot":
            return [m["text"] for m in frame["messages"]]


def button(reply_buttons: list[dict], title: str) -> dict:
    return next(b for b in reply_buttons if b["title"] == title)


def test_the_same_story_gives_the_same_answers_on_every_channel(settings, fakes):
    answers: dict[str, list[list[str]]] = {}
    with TestClient(create_app(settings)) as client:
        # kiosk websocket
        with client.websocket_connect("/ws/kiosk?session=story-kiosk") as ws:
            ws.receive_text()
            answers["kiosk"] = [ws_say(ws, BIRTH_QUESTION), ws_say(ws, "Lấy số thứ tự", "/request_queue_number")]
        # REST: the button's payload is what a client posts
        first = client.post("/api/v1/messages", json={"sender": "story-rest", "text": BIRTH_QUESTION}).json()
        payload = button(first["messages"][0]["buttons"], "Lấy số thứ tự")["payload"]
        second = client.post("/api/v1/messages", json={"sender": "story-rest", "text": payload}).json()
        answers["rest"] = [[m["text"] for m in first["messages"]], [m["text"] for m in second["messages"]]]
        # web widget protocol
        with client.websocket_connect("/ws/widget?session=story-web-1") as ws:
            ws.receive_text()
            answers["web"] = [ws_say(ws, BIRTH_QUESTION), ws_say(ws, "Lấy số thứ tự", "/request_queue_number")]
        # Telegram: a text message, then the inline button's callback
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        client.post("/webhooks/telegram", json=fixture("telegram_message_text.json"), headers=headers)
        client.post("/webhooks/telegram", json=fixture("telegram_callback_query.json"), headers=headers)
        answers["telegram"] = [[t] for t in sent_texts(fakes.telegram, 5123456789)]
        # Zalo: a text, then the oa.query.show button (its payload comes back as text)
        raw, zheaders = signed(fixture("zalo_user_send_text.json"))
        client.post("/webhooks/zalo", content=raw, headers=zheaders)
        shown = fakes.zalo.state.sent[0][1]["message"]["attachment"]["payload"]["buttons"]
        tapped = next(b["payload"] for b in shown if b["title"] == "Lấy số thứ tự")
        raw, zheaders = signed(zalo_event("zalo_user_send_text.json", msg_id="story-2", text=tapped,
                                          timestamp="1741766460000"))
        client.post("/webhooks/zalo", content=raw, headers=zheaders)
        answers["zalo"] = [[t] for t in zalo_texts(fakes.zalo, "2512523625412515")]

    for channel, got in answers.items():
        assert got == STORY_TEXTS, channel
    senders = {"kiosk": "kiosk:story-kiosk", "rest": "rest:story-rest", "web": "web:story-web-1",
               "telegram": "telegram:5123456789", "zalo": "zalo:2512523625412515"}
    for channel, sender in senders.items():
        assert received_from(fakes.rasa, sender) == [BIRTH_QUESTION, "/request_queue_number"], channel
        channels_seen = {b["metadata"]["channel"] for b in fakes.rasa.state.received if b["sender"] == sender}
        assert channels_seen == {channel}
