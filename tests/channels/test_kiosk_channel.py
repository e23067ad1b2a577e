"""Kiosk websocket frames: what the page may send, and what it gets back."""

from __future__ import annotations

import pytest

from channels import kiosk
from channels.base import BotMessage, Button, UserMessage, clean_text


def test_a_button_press_sends_its_payload_and_keeps_the_title_for_the_log():
    message = kiosk.parse_frame('{"type": "message", "text": "Lệ phí", "payload": "/ask_fee"}', "kiosk:a")
    assert message == UserMessage("kiosk", "kiosk:a", "/ask_fee", {"display_text": "Lệ phí"})


def test_a_device_event_arrives_with_its_name():
    message = kiosk.parse_frame('{"type": "device", "event": "cccd_scanned", "data": "0010|x"}', "kiosk:a")
    assert message.metadata == {"device_event": "cccd_scanned"}
    assert message.text == "0010|x"


@pytest.mark.parametrize("raw", ["", "nope", "[1, 2]", '{"type": "message", "text": "  "}',
                                 '{"type": "video"}', '{"type": "device"}', '{"type": "message", "text": 5}'])
def test_bad_frames_raise_a_polite_frame_error(raw):
    with pytest.raises(kiosk.FrameError) as error:
        kiosk.parse_frame(raw, "kiosk:a")
    assert str(error.value)  # a Vietnamese sentence the page shows


def test_clean_text_drops_control_characters_and_bounds_length():
    assert clean_text("  a\x00b\u200bc  ") == "a bc"  # a control character keeps words apart; a zero-width one goes
    assert clean_text("lay so\x00chung thuc") == "lay so chung thuc"
    assert len(clean_text("x" * 5000)) == 2000
    assert clean_text(None) == ""


def test_rasa_messages_become_bot_messages_and_plain_text_for_platforms_without_buttons():
    message = BotMessage.from_rasa({"text": "Chọn:", "buttons": [{"title": "Lệ phí", "payload": "/ask_fee"}, "junk"]})
    assert message.buttons == (Button("Lệ phí", "/ask_fee"),)
    assert message.as_plain_text() == "Chọn:\n1. Lệ phí"
    assert message.to_dict() == {"text": "Chọn:", "buttons": [{"title": "Lệ phí", "payload": "/ask_fee"}]}


def test_a_user_message_needs_a_channel_and_a_sender():
    with pytest.raises(ValueError):
        UserMessage("", "x", "hi")
    with pytest.raises(ValueError):
        UserMessage("kiosk", "", "hi")


def test_a_page_gets_only_what_it_draws_never_the_answering_internals_or_a_staff_account():
    frame = kiosk.render_messages([
        BotMessage("Dạ, tôi xem giúp ông/bà.", custom={"staff": "thuha"}),
        BotMessage("Tôi chưa chắc.", custom={"move": "abstain", "confidence": 0.41, "fallback": True}),
        BotMessage(custom={"handoff": True, "reason": "citizen_request"}),
    ])
    assert frame == {"type": "bot", "messages": [
        {"text": "Dạ, tôi xem giúp ông/bà.", "custom": {"staff": True}},
        {"text": "Tôi chưa chắc."},
        {"text": "", "custom": {"handoff": True}},
    ]}
