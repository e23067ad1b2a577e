"""Telegram in webhook mode against a local fake Bot API, fed with recorded updates."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from telegram import Update

from bot.app import create_app
from channels.telegram import (
    CallbackPayloads,
    TelegramChannel,
    command_to_text,
    make_bot,
    set_webhook_command,
)
from knowledge_base.messages import render
from tests.channels.fakes import (
    BIRTH_TEXT,
    GREET_TEXT,
    QUEUE_TEXT_AFTER_BIRTH,
    TELEGRAM_SECRET,
    fixture,
    received_from,
    sent_texts,
    telegram_update,
)

CHAT = 5123456789
SENDER = f"telegram:{CHAT}"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}


def post(client, update, headers=HEADERS):
    return client.post("/webhooks/telegram", json=update, headers=headers)


def test_a_question_then_a_button_press_continue_one_conversation(settings, fakes):
    with TestClient(create_app(settings)) as client:
        assert post(client, fixture("telegram_message_text.json")).status_code == 200
        first = [p for m, p in fakes.telegram.state.calls if m == "sendMessage"][0]
        assert first["text"] == BIRTH_TEXT
        assert int(first["chat_id"]) == CHAT
        keyboard = first["reply_markup"]["inline_keyboard"]
        assert [b["callback_data"] for row in keyboard for b in row] == ["/ask_fee", "/request_queue_number"]
        assert [b["text"] for row in keyboard for b in row] == ["Lệ phí", "Lấy số thứ tự"]

        assert post(client, fixture("telegram_callback_query.json")).status_code == 200
    methods = [m for m, _ in fakes.telegram.state.calls]
    assert "answerCallbackQuery" in methods
    answered = [p for m, p in fakes.telegram.state.calls if m == "answerCallbackQuery"][0]
    assert answered["callback_query_id"] == "2200382047918731583"
    assert sent_texts(fakes.telegram, CHAT) == [BIRTH_TEXT, QUEUE_TEXT_AFTER_BIRTH]
    # one identity per Telegram chat: Rasa sees the same sender both times, the payload as the message
    assert received_from(fakes.rasa, SENDER) == ["làm giấy khai sinh cần giấy tờ gì", "/request_queue_number"]


def test_commands_start_queue_number_and_dossier_lookup(settings, fakes):
    with TestClient(create_app(settings)) as client:
        post(client, fixture("telegram_command_start.json"))
        post(client, telegram_update("telegram_command_start.json", 718240010, text="/laysothutu",
                                     entities=[{"offset": 0, "length": 11, "type": "bot_command"}]))
        post(client, fixture("telegram_command_tracuu.json"))
        post(client, telegram_update("telegram_command_start.json", 718240011, text="/help"))
    assert received_from(fakes.rasa, SENDER) == [
        "/greet", "/request_queue_number", '/check_dossier_status{"dossier_code": "000.00.04.H51-250312-0007"}',
        "/help"]
    texts = sent_texts(fakes.telegram, CHAT)
    assert texts[0] == GREET_TEXT
    assert texts[2] == "Hồ sơ 000.00.04.H51-250312-0007 đang được giải quyết."


@pytest.mark.parametrize("headers, status", [({}, 401), ({"X-Telegram-Bot-Api-Secret-Token": "forged"}, 403),
                                             ({"X-Telegram-Bot-Api-Secret-Token": ""}, 401)])
def test_a_missing_or_forged_secret_is_refused_and_nothing_is_processed(settings, fakes, headers, status):
    with TestClient(create_app(settings)) as client:
        response = post(client, fixture("telegram_message_text.json"), headers=headers)
    assert response.status_code == status
    assert fakes.rasa.state.received == []
    assert fakes.telegram.state.calls == []


def test_a_repeated_delivery_is_processed_once(settings, fakes):
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            assert post(client, fixture("telegram_message_text.json")).status_code == 200
    assert received_from(fakes.rasa, SENDER) == ["làm giấy khai sinh cần giấy tờ gì"]
    assert sent_texts(fakes.telegram) == [BIRTH_TEXT]


def test_huge_text_binary_junk_and_unknown_updates_are_answered_without_a_crash(settings, fakes):
    with TestClient(create_app(settings)) as client:
        huge = post(client, telegram_update("telegram_message_text.json", 718240020, text="khai sinh " + "á" * 100_000))
        assert huge.status_code == 200
        junk = client.post("/webhooks/telegram", content=bytes(range(256)) * 40,
                           headers={**HEADERS, "Content-Type": "application/json"})
        assert junk.status_code == 400
        not_an_update = post(client, {"hello": "world"})
        assert not_an_update.status_code == 400
        unknown = post(client, {"update_id": 718240021, "my_chat_member": {"chat": {"id": CHAT, "type": "private"}}})
        assert unknown.status_code == 200
        edited = post(client, fixture("telegram_edited_message.json"))
        assert edited.status_code == 200
        photo = post(client, fixture("telegram_message_photo.json"))
        assert photo.status_code == 200
        assert client.get("/health").status_code in (200, 503)  # still serving
    messages = received_from(fakes.rasa, SENDER)
    assert len(messages) == 1 and len(messages[0]) == 2000  # the 100 kB text, cut; nothing else reached Rasa
    texts = sent_texts(fakes.telegram, CHAT)
    assert texts[0] == BIRTH_TEXT
    assert texts[1] == render("channel.telegram.text_only")  # the photo


def test_telegram_is_off_without_a_token(tmp_path, fakes, migrated):
    from tests.channels.conftest import channel_settings

    with TestClient(create_app(channel_settings(tmp_path, fakes, telegram_token=""))) as client:
        assert post(client, fixture("telegram_message_text.json")).status_code == 404
    assert fakes.rasa.state.received == []


def test_set_webhook_registers_url_secret_and_command_menu(settings, fakes):
    message = set_webhook_command(settings, "https://motcua.example.gov.vn/webhooks/telegram")
    assert "https://motcua.example.gov.vn/webhooks/telegram" in message
    calls = dict((m, p) for m, p in fakes.telegram.state.calls)
    assert calls["setWebhook"]["url"] == "https://motcua.example.gov.vn/webhooks/telegram"
    assert calls["setWebhook"]["secret_token"] == TELEGRAM_SECRET
    assert calls["setWebhook"]["allowed_updates"] == ["message", "callback_query"]
    assert [c["command"] for c in calls["setMyCommands"]["commands"]] == ["start", "help", "laysothutu", "tracuu"]
    with pytest.raises(ValueError, match="https"):
        set_webhook_command(settings, "http://insecure.example/webhooks/telegram")
    with pytest.raises(ValueError, match="TELEGRAM_TOKEN"):
        set_webhook_command(settings.model_copy(update={"telegram_token": ""}), "https://x.example/w")


def test_commands_become_rasa_intents():
    assert command_to_text("/start") == "/greet"
    assert command_to_text("/start@motcua_xa_bot abc") == "/greet"
    assert command_to_text("/laysothutu") == "/request_queue_number"
    assert command_to_text("/tracuu") == "/check_dossier_status"
    assert command_to_text("/tracuu 000.00.04.H51-250312-0007") == \
        '/check_dossier_status{"dossier_code": "000.00.04.H51-250312-0007"}'
    assert command_to_text('/tracuu "}{x') == '/check_dossier_status{"dossier_code": "\\"}{x"}'
    assert command_to_text("/le_phi khai sinh") == "le phi khai sinh"  # unknown: the NLU reads the words
    assert command_to_text("not a command") is None


async def test_long_payloads_travel_under_a_short_key_and_come_back(fakes):
    channel = TelegramChannel(make_bot("1:x", fakes.telegram_url), CallbackPayloads())
    long_payload = '/inform{"procedure": "đăng ký khai sinh có yếu tố nước ngoài tại Ủy ban nhân dân"}'
    from channels.base import BotMessage, Button

    keyboard = channel.keyboard(BotMessage("Chọn", (Button("Khai sinh có yếu tố nước ngoài", long_payload),)))
    data = keyboard.inline_keyboard[0][0].callback_data
    assert len(data.encode()) <= 64
    update = fixture("telegram_callback_query.json")
    update["callback_query"]["data"] = data
    update["callback_query"]["message"]["reply_markup"] = json.loads(json.dumps(keyboard.to_dict()))
    parsed = channel.read_update(Update.de_json(update, channel.bot))
    assert parsed.message.text == long_payload
    assert parsed.message.metadata["display_text"] == "Khai sinh có yếu tố nước ngoài"
    # after a restart the key is unknown: the button's title is sent instead of nothing
    fresh = TelegramChannel(channel.bot, CallbackPayloads())
    assert fresh.read_update(Update.de_json(update, channel.bot)).message.text == "Khai sinh có yếu tố nước ngoài"


async def test_long_replies_are_split_under_the_bot_api_limit(fakes):
    from channels.base import BotMessage, Button

    channel = TelegramChannel(make_bot("7012345678:AAHfake-token_for_tests", fakes.telegram_url))
    await channel.send(SENDER, [BotMessage(("Dòng giấy tờ cần nộp.\n" * 400).strip(), (Button("Lệ phí", "/ask_fee"),))])
    texts = sent_texts(fakes.telegram, CHAT)
    assert len(texts) == 3 and all(len(t) <= 4096 for t in texts)  # 8,800 characters
    assert "\n".join(texts) == ("Dòng giấy tờ cần nộp.\n" * 400).strip()
    last = [p for m, p in fakes.telegram.state.calls if m == "sendMessage"][-1]
    assert last["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/ask_fee"  # on the last piece
    await channel.bot.shutdown()
