"""«2» typed after «Ý ông/bà là thủ tục nào?» is the second choice tapped (bot/typed_choices.py)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.dialogue import DialogueReply
from bot.gateway import Gateway
from bot.typed_choices import TypedChoices, offered_payloads
from channels.base import BotMessage, Button, UserMessage
from knowledge_base.text import choice_number

CHOICES = BotMessage("Ý ông/bà là thủ tục nào? Xin ông/bà chọn một thủ tục dưới đây.", buttons=(
    Button("Chứng thực bản sao từ bản chính", '/ask_fee{"procedure_code": "2.000815"}'),
    Button("Chứng thực chữ ký", '/ask_fee{"procedure_code": "2.000884"}'),
    Button("Cấp thẻ công chứng viên", '/ask_fee{"procedure_code": "1.013859"}'),
    Button("Không phải các thủ tục trên", "/request_human"),
))
STAFF = BotMessage("Xin lỗi, tôi chưa tìm thấy…", buttons=(Button("Gặp cán bộ", "/request_human"),
                                                           Button("Lấy số thứ tự", "/request_queue_number")))


@pytest.mark.parametrize(("text", "number"), [("1", 1), ("2.", 2), ("số 2", 2), ("so 3", 3), ("chọn 3", 3),
                                              ("cái thứ 2", 2), ("thứ 1", 1), (" 4 ", 4)])
def test_a_typed_choice_is_its_number(text, number):
    assert choice_number(text) == number


@pytest.mark.parametrize("text", ["2 bản", "12", "0", "số 2 đường Trung Tâm", "mất bao lâu", "", "/ask_fee"])
def test_other_words_are_not_a_choice(text):
    assert choice_number(text) is None


def test_only_lists_of_procedures_or_articles_are_choices():
    assert offered_payloads([CHOICES]) == [b.payload for b in CHOICES.buttons[:3]]
    assert offered_payloads([STAFF]) == []  # «Gặp cán bộ», «Lấy số thứ tự» are ways out, not choices
    assert offered_payloads([BotMessage("Thủ tục: …", buttons=(CHOICES.buttons[0],))]) == []  # one button


class Rasa:
    """Replies with the choices to a question, and says what it was sent."""

    def __init__(self):
        self.sent: list[str] = []

    async def send(self, message: UserMessage) -> DialogueReply:
        self.sent.append(message.text)
        if message.text.startswith("/ask_"):
            return DialogueReply([BotMessage(f"Lệ phí của {message.text}")])
        if message.text == "busy":
            return DialogueReply([BotMessage("Hệ thống đang bận")], "busy")
        return DialogueReply([CHOICES])


def test_the_gateway_sends_the_tapped_payload_for_a_typed_number_and_only_right_after_the_choices():
    rasa = Rasa()
    gateway = Gateway(rasa, None)  # type: ignore[arg-type]

    def say(text: str, sender: str = "zalo:1") -> None:
        asyncio.run(gateway.handle(UserMessage("zalo", sender, text)))

    say("công chứng giấy tờ bao nhiêu tiền")
    say("2")
    assert rasa.sent[-1] == '/ask_fee{"procedure_code": "2.000884"}'
    say("2")  # the choices were answered: a «2» now is just «2»
    assert rasa.sent[-1] == "2"
    say("công chứng giấy tờ bao nhiêu tiền")
    say("busy")  # Rasa busy: the choices offered before still stand
    say("số 1")
    assert rasa.sent[-1] == '/ask_fee{"procedure_code": "2.000815"}'
    say("công chứng giấy tờ bao nhiêu tiền")
    say("4")  # «Không phải các thủ tục trên» is not a choice to type
    assert rasa.sent[-1] == "4"
    say("2", sender="zalo:2")  # another conversation was offered nothing
    assert rasa.sent[-1] == "2"


def test_the_log_shows_what_the_citizen_typed():
    choices = TypedChoices()
    asyncio.run(choices.remember(UserMessage("web", "web:1", "công chứng"), [CHOICES]))
    picked = asyncio.run(choices.apply(UserMessage("web", "web:1", "chọn 3")))
    assert picked.text == '/ask_fee{"procedure_code": "1.013859"}' and picked.metadata["display_text"] == "chọn 3"


def test_choices_offered_through_one_gateway_are_picked_through_another():
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=0.25, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as exc:
        pytest.skip(f"Redis không truy cập được tại 127.0.0.1:6379, bỏ qua ({exc})")
    prefix = f"t{uuid.uuid4().hex[:12]}:"
    one, other = TypedChoices(client, prefix), TypedChoices(client, prefix)
    try:
        asyncio.run(one.remember(UserMessage("telegram", "telegram:9", "công chứng"), [CHOICES]))
        picked = asyncio.run(other.apply(UserMessage("telegram", "telegram:9", "2")))
        assert picked.text == '/ask_fee{"procedure_code": "2.000884"}'
        assert 0 < client.ttl(f"{prefix}typed-choices:telegram:9") <= 3600
        asyncio.run(other.remember(UserMessage("telegram", "telegram:9", "2"), [BotMessage("Lệ phí …")]))
        assert asyncio.run(one.apply(UserMessage("telegram", "telegram:9", "2"))).text == "2"
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
