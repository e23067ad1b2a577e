"""What the channel adapters say themselves comes from the message catalogue, in the citizen's language when known."""

from __future__ import annotations

import json

import pytest
from telegram import Update

from channels import kiosk, web
from channels.base import BotMessage, Button, UserMessage
from channels.telegram import TelegramChannel, command_menu, make_bot
from channels.zalo import ZaloChannel, parse_event
from knowledge_base.messages import render
from tests.channels.fakes import fixture


def test_a_message_knows_its_language_from_its_metadata():
    assert UserMessage("web", "web:a", "hi").locale == "vi"
    assert UserMessage("telegram", "telegram:1", "hi", {"language": "en-GB"}).locale == "en"
    assert UserMessage("telegram", "telegram:1", "hi", {"language": "zh-hans"}).locale == "vi"  # not in the catalogue


def test_a_page_names_its_language_in_a_frame_and_frame_errors_speak_it():
    message = kiosk.parse_frame('{"type": "message", "text": "fee", "lang": "en"}', "kiosk:a")
    assert message.metadata == {"display_text": "fee", "language": "en"} and message.locale == "en"
    assert "language" not in kiosk.parse_frame('{"text": "x", "lang": "klingon"}', "kiosk:a").metadata
    with pytest.raises(kiosk.FrameError) as empty:
        kiosk.parse_frame('{"type": "message", "text": " ", "lang": "en"}', "kiosk:a")
    assert empty.value.key == "channel.ask_question"
    assert str(empty.value) == empty.value.text() == render("channel.ask_question", locale="en")  # the frame's lang
    assert empty.value.text("vi") == render("channel.ask_question")
    with pytest.raises(web.FrameError) as device:
        web.parse_frame('{"type": "device", "event": "cccd_scanned", "lang": "en"}', "web:abcdefgh")
    assert device.value.text() == render("channel.frame.unsupported", locale="en")
    with pytest.raises(web.FrameError) as huge:
        web.parse_frame("x" * (web.MAX_FRAME_BYTES + 1), "web:abcdefgh")
    assert str(huge.value) == render("channel.frame.too_long")  # no language named: Vietnamese
    assert huge.value.text("en") == render("channel.frame.too_long", locale="en") != str(huge.value)


def _update(name: str, language: str) -> dict:
    update = fixture(name)
    holder = update["callback_query"] if "callback_query" in update else update["message"]
    holder["from"]["language_code"] = language
    return update


@pytest.mark.parametrize("language", ["vi", "en"])
def test_telegram_notices_follow_the_users_language_code(language):
    channel = TelegramChannel(make_bot("1:x", "http://127.0.0.1:9"))
    photo = channel.read_update(Update.de_json(_update("telegram_message_photo.json", language), channel.bot))
    assert photo.message is None and photo.notice == render("channel.telegram.text_only", locale=language)
    pressed = _update("telegram_callback_query.json", language)
    pressed["callback_query"]["data"] = "p:forgotten"  # a long payload's key lost in a restart
    pressed["callback_query"]["message"].pop("reply_markup", None)
    expired = channel.read_update(Update.de_json(pressed, channel.bot))
    assert expired.notice == render("channel.telegram.expired_choice", locale=language)
    text = channel.read_update(Update.de_json(_update("telegram_message_text.json", language), channel.bot))
    assert text.message.locale == language  # busy and rate-limit answers to it speak the same language


def test_the_telegram_command_menu_is_described_from_the_catalogue():
    menu = command_menu()
    assert [c.command for c in menu] == ["start", "help", "laysothutu", "tracuu"]
    assert [c.description for c in menu] == [render(f"channel.telegram.command.{c.command}") for c in menu]
    assert command_menu("en")[0].description == render("channel.telegram.command.start", locale="en")


def test_zalo_notices_and_its_numbered_choices_come_from_the_catalogue():
    image = parse_event(fixture("zalo_user_send_image.json") | {"message": {"msg_id": "m1"}})
    assert image.notice == render("channel.zalo.image")
    sticker = parse_event(fixture("zalo_user_send_sticker.json"))
    assert sticker.notice == render("channel.zalo.text_only")
    channel = ZaloChannel(client=None)
    many = tuple(Button(f"Thủ tục {i}", f"/p{i}") for i in range(1, 8))
    bodies = channel.render("u1", BotMessage("", many))
    assert bodies[0]["text"].endswith("\n" + render("channel.zalo.answer_by_number"))
    only_buttons = channel.render("u1", BotMessage("", many[:2]))
    assert only_buttons[0]["text"] == render("channel.choose")
    assert json.dumps(bodies, ensure_ascii=False).count("oa.query.show") == 5
