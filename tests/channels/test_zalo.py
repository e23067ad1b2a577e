"""Zalo OA against a local fake Open API v3 / OAuth v4, fed with recorded webhook events."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from channels.base import BotMessage, Button
from channels.zalo import ButtonMemory, ZaloChannel, parse_event, sign, verify_signature
from knowledge_base.messages import render
from tests.channels.conftest import channel_settings
from tests.channels.fakes import (
    BIRTH_QUESTION,
    BIRTH_TEXT,
    FEE_TEXT_AFTER_BIRTH,
    GREET_TEXT,
    QUEUE_TEXT_AFTER_BIRTH,
    ZALO_APP_ID,
    ZALO_OA_SECRET,
    expire,
    fixture,
    received_from,
    signed,
    story_rasa,
    wait_for,
    zalo_event,
    zalo_texts,
)
from tests.servers import serve_in_thread

USER = "2512523625412515"
SENDER = f"zalo:{USER}"


def deliver(client, event, secret=ZALO_OA_SECRET):
    raw, headers = signed(event, secret)
    return client.post("/webhooks/zalo", content=raw, headers=headers)


def test_our_signature_is_zalos_formula():
    raw, headers = signed(fixture("zalo_user_send_text.json"))  # hashlib on the documented formula
    header = sign(ZALO_APP_ID, raw, "1741766400123", ZALO_OA_SECRET)
    assert header == headers["X-ZEvent-Signature"]
    assert verify_signature(ZALO_APP_ID, ZALO_OA_SECRET, raw, header)
    assert not verify_signature(ZALO_APP_ID, ZALO_OA_SECRET, raw + b" ", header)
    assert not verify_signature(ZALO_APP_ID, "other", raw, header)
    assert not verify_signature(ZALO_APP_ID, ZALO_OA_SECRET, b"\xff\x00junk", header)


def test_a_question_then_a_button_press_answered_through_the_consultation_api(settings, fakes):
    with TestClient(create_app(settings)) as client:
        assert deliver(client, fixture("zalo_user_send_text.json")).status_code == 200
        token, body = fakes.zalo.state.sent[0]
        assert token == "access-0"
        assert body["recipient"] == {"user_id": USER}
        assert body["message"]["text"] == BIRTH_TEXT
        buttons = body["message"]["attachment"]["payload"]["buttons"]
        assert body["message"]["attachment"]["type"] == "template"
        assert buttons == [{"title": "Lệ phí", "payload": "Lệ phí", "type": "oa.query.show"},
                           {"title": "Lấy số thứ tự", "payload": "Lấy số thứ tự", "type": "oa.query.show"}]
        # the citizen taps «Lấy số thứ tự»: Zalo sends the button's payload back as their text
        assert deliver(client, zalo_event("zalo_user_send_text.json", msg_id="m-2", text="Lấy số thứ tự",
                                          timestamp="1741766460000")).status_code == 200
        assert deliver(client, zalo_event("zalo_user_send_text.json", msg_id="m-3", text="lệ phí",
                                          timestamp="1741766470000")).status_code == 200
    assert received_from(fakes.rasa, SENDER) == [BIRTH_QUESTION, "/request_queue_number", "/ask_fee"]
    assert zalo_texts(fakes.zalo, USER) == [BIRTH_TEXT, QUEUE_TEXT_AFTER_BIRTH, FEE_TEXT_AFTER_BIRTH]


def test_follow_greets_images_get_a_notice_and_unknown_events_are_ignored(settings, fakes):
    with TestClient(create_app(settings)) as client:
        assert deliver(client, fixture("zalo_follow.json")).status_code == 200
        assert deliver(client, fixture("zalo_user_send_image.json")).status_code == 200
        assert deliver(client, fixture("zalo_oa_send_text.json")).status_code == 200  # our own echo
        assert deliver(client, zalo_event("zalo_follow.json", event_name="user_reacted_message",
                                          timestamp="1741766599999")).status_code == 200
        assert deliver(client, fixture("zalo_user_send_sticker.json")).status_code == 200
    assert received_from(fakes.rasa, SENDER) == ["/greet"]
    texts = zalo_texts(fakes.zalo, USER)
    assert texts[0] == GREET_TEXT
    assert texts[1] == render("channel.zalo.image")
    assert texts[2] == render("channel.zalo.text_only")
    assert len(texts) == 3


@pytest.mark.parametrize("case", ["missing", "forged", "wrong secret", "tampered"])
def test_a_missing_or_forged_signature_is_refused_and_nothing_is_processed(settings, fakes, case):
    event = fixture("zalo_user_send_text.json")
    raw, headers = signed(event, "not-the-secret" if case == "wrong secret" else ZALO_OA_SECRET)
    if case == "missing":
        del headers["X-ZEvent-Signature"]
    elif case == "forged":
        headers["X-ZEvent-Signature"] = "mac=" + "0" * 64
    elif case == "tampered":
        raw = raw.replace(b"khai sinh", "kết hôn".encode())
    with TestClient(create_app(settings)) as client:
        response = client.post("/webhooks/zalo", content=raw, headers=headers)
    assert response.status_code == (401 if case == "missing" else 403)
    assert fakes.rasa.state.received == []
    assert fakes.zalo.state.sent == []


def test_an_event_delivered_again_is_processed_once(settings, fakes):
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            assert deliver(client, fixture("zalo_user_send_text.json")).status_code == 200
        for _ in range(2):
            assert deliver(client, fixture("zalo_follow.json")).status_code == 200
    assert received_from(fakes.rasa, SENDER) == [BIRTH_QUESTION, "/greet"]
    assert zalo_texts(fakes.zalo, USER) == [BIRTH_TEXT, GREET_TEXT]


def test_an_expired_access_token_is_refreshed_and_the_message_sent(settings, fakes, tmp_path):
    expire(fakes.zalo)  # "access-0" no longer works; "refresh-0" still does
    with TestClient(create_app(settings)) as client:
        assert deliver(client, fixture("zalo_user_send_text.json")).status_code == 200
        assert deliver(client, zalo_event("zalo_user_send_text.json", msg_id="m-2", text="Lấy số thứ tự",
                                          timestamp="1741766460000")).status_code == 200
    assert fakes.zalo.state.rejected == ["access-0"]
    secret, form = fakes.zalo.state.refreshes[0]
    assert secret == settings.zalo_app_secret
    assert form == {"refresh_token": "refresh-0", "app_id": ZALO_APP_ID, "grant_type": "refresh_token"}
    assert len(fakes.zalo.state.refreshes) == 1  # the second message used the new token
    assert zalo_texts(fakes.zalo, USER) == [BIRTH_TEXT, QUEUE_TEXT_AFTER_BIRTH]
    assert {token for token, _ in fakes.zalo.state.sent} == fakes.zalo.state.valid
    # refresh tokens are single use: the new pair is kept for the next start
    saved = json.loads((tmp_path / "zalo_tokens.json").read_text())
    assert saved["refresh_token"] == fakes.zalo.state.refresh_token != "refresh-0"
    assert (tmp_path / "zalo_tokens.json").stat().st_mode & 0o077 == 0


def test_the_webhook_answers_at_once_and_the_reply_follows(tmp_path, fakes, migrated):
    slow = story_rasa(delay=1.5)
    with serve_in_thread(slow) as slow_url:
        settings = channel_settings(tmp_path, fakes, rasa_url=slow_url)
        with serve_in_thread(create_app(settings)) as gateway:
            raw, headers = signed(fixture("zalo_user_send_text.json"))
            started = time.monotonic()
            response = httpx.post(f"{gateway}/webhooks/zalo", content=raw, headers=headers, timeout=5)
            answered = time.monotonic() - started
            assert response.status_code == 200
            assert answered < 1.0  # well inside Zalo's 2 s
            assert zalo_texts(fakes.zalo) == []
            wait_for(lambda: zalo_texts(fakes.zalo, USER), timeout=5)
    assert zalo_texts(fakes.zalo, USER) == [BIRTH_TEXT]


def test_huge_text_binary_junk_and_bad_json_are_answered_without_a_crash(settings, fakes):
    with TestClient(create_app(settings)) as client:
        huge = deliver(client, zalo_event("zalo_user_send_text.json", text="khai sinh " + "ư" * 100_000))
        assert huge.status_code == 200
        junk = bytes(range(256)) * 40
        response = client.post("/webhooks/zalo", content=junk, headers={"X-ZEvent-Signature": "mac=00"})
        assert response.status_code == 403
        not_an_event, headers = signed({"timestamp": "1741766500000", "whatever": [1, 2, 3]})
        assert client.post("/webhooks/zalo", content=not_an_event, headers=headers).status_code == 200
        listed = json.dumps([1, 2]).encode()
        assert client.post("/webhooks/zalo", content=listed, headers={"X-ZEvent-Signature": "mac=1"}).status_code == 403
    messages = received_from(fakes.rasa, SENDER)
    assert len(messages) == 1 and len(messages[0]) == 2000


def test_more_than_five_buttons_are_numbered_in_the_text_and_numbers_work():
    channel = ZaloChannel(client=None)  # rendering needs no API
    buttons = tuple(Button(f"Thủ tục {i}", f"/inform_{i}") for i in range(1, 8))
    [body] = channel.render(USER, BotMessage("Ông/bà hỏi thủ tục nào?", buttons))
    assert "7. Thủ tục 7" in body["text"]
    assert len(body["attachment"]["payload"]["buttons"]) == 5
    event = zalo_event("zalo_user_send_text.json", text="7")
    assert channel.read_event(event).message.text == "/inform_7"
    assert channel.read_event(zalo_event("zalo_user_send_text.json", text="thủ tục 2")).message.text == "/inform_2"
    assert parse_event(zalo_event("zalo_user_send_text.json", text="thủ tục 2"), ButtonMemory()).message.text == \
        "thủ tục 2"  # another process never offered it: the words go to the NLU
