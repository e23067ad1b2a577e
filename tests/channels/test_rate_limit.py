"""A token bucket per sender, for every channel: a flood never reaches Rasa."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from bot.app import create_app
from bot.ratelimit import RATE_LIMITED_TEXT, TokenBuckets
from channels.delivery import RecentIds
from tests.channels.conftest import channel_settings
from tests.channels.fakes import (
    TELEGRAM_SECRET,
    received_from,
    sent_texts,
    signed,
    telegram_update,
    zalo_event,
    zalo_texts,
)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_bucket_refills_with_time_and_senders_do_not_share():
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=1.0, burst=2, clock=clock)
    assert [buckets.take("a").allowed for _ in range(3)] == [True, True, False]
    assert buckets.take("b").allowed
    refused = buckets.take("a")
    assert not refused.allowed and not refused.first_refusal  # told once already
    clock.now = 1.0
    assert buckets.take("a").allowed
    assert buckets.take("a").first_refusal


def test_the_bucket_table_is_bounded():
    buckets = TokenBuckets(1.0, 1, max_senders=100)
    for i in range(1000):
        buckets.take(f"s{i}")
    assert len(buckets._buckets) == 100
    ids = RecentIds(maxsize=3)
    assert [ids.seen(x) for x in "abcab"] == [False, False, False, True, True]
    ids.seen("d")
    assert not ids.seen("c")  # pushed out by d, so seen again as new


def test_every_channel_is_limited_per_sender(tmp_path, fakes, migrated):
    settings = channel_settings(tmp_path, fakes, rate_limit_burst=2, rate_limit_per_minute=0.01)
    with TestClient(create_app(settings)) as client:
        # REST
        rest = [client.post("/api/v1/messages", json={"sender": "flood", "text": f"câu {i}"}).json() for i in range(4)]
        assert [r["outcome"] for r in rest] == ["", "", "rate_limited", "rate_limited"]
        assert rest[2]["messages"] == [{"text": RATE_LIMITED_TEXT}]
        assert client.post("/api/v1/messages", json={"sender": "calm", "text": "chào"}).json()["outcome"] == ""
        # kiosk websocket
        with client.websocket_connect("/ws/kiosk?session=flood") as ws:
            ws.receive_text()
            texts = []
            for i in range(3):
                ws.send_text(json.dumps({"type": "message", "text": f"câu {i}"}))
                ws.receive_text()  # typing
                texts.append(json.loads(ws.receive_text())["messages"][0]["text"])
            assert texts[2] == RATE_LIMITED_TEXT
        # web widget
        with client.websocket_connect("/ws/widget?session=flood-web") as ws:
            ws.receive_text()
            texts = []
            for i in range(3):
                ws.send_text(json.dumps({"type": "message", "text": f"câu {i}"}))
                ws.receive_text()
                texts.append(json.loads(ws.receive_text())["messages"][0]["text"])
            assert texts[2] == RATE_LIMITED_TEXT
        # Telegram: told once, then quiet
        for i in range(5):
            client.post("/webhooks/telegram", json=telegram_update("telegram_message_text.json", 900 + i, text=f"câu {i}"),
                        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
        # Zalo: the same
        for i in range(5):
            raw, headers = signed(zalo_event("zalo_user_send_text.json", msg_id=f"flood-{i}", text=f"câu {i}"))
            client.post("/webhooks/zalo", content=raw, headers=headers)
    assert received_from(fakes.rasa, "rest:flood") == ["câu 0", "câu 1"]
    assert received_from(fakes.rasa, "kiosk:flood") == ["câu 0", "câu 1"]
    assert received_from(fakes.rasa, "web:flood-web") == ["câu 0", "câu 1"]
    assert received_from(fakes.rasa, "telegram:5123456789") == ["câu 0", "câu 1"]
    assert received_from(fakes.rasa, "zalo:2512523625412515") == ["câu 0", "câu 1"]
    assert sent_texts(fakes.telegram) == ["Bạn nói: câu 0", "Bạn nói: câu 1", RATE_LIMITED_TEXT]
    assert zalo_texts(fakes.zalo) == ["Bạn nói: câu 0", "Bạn nói: câu 1", RATE_LIMITED_TEXT]


def test_the_kiosk_speaks_its_pages_language_whatever_the_hall_browser_prefers(tmp_path, fakes, migrated):
    """The kiosk page opens its socket with ``?lang=`` of the page; a browser set up in English does not
    turn a Vietnamese kiosk's answers English."""
    from knowledge_base.messages import render

    settings = channel_settings(tmp_path, fakes)
    english_browser = {"accept-language": "en-US,en;q=0.9"}
    with TestClient(create_app(settings)) as client:
        for lang, expected in (("vi", render("channel.frame.malformed")),
                               ("en", render("channel.frame.malformed", locale="en"))):
            with client.websocket_connect(f"/ws/kiosk?lang={lang}&session=hall-{lang}",
                                          headers=english_browser) as ws:
                ws.receive_text()  # the session
                ws.send_bytes(b"\x00")
                assert json.loads(ws.receive_text())["messages"][0]["text"] == expected
        assert render("channel.frame.malformed") != render("channel.frame.malformed", locale="en")
