"""How a staff reply went, as the inbox reports it: shown on an open page, accepted by Zalo or
Telegram, kept for a closed web page, lost on a kiosk session the citizen left, or refused."""

from __future__ import annotations

import asyncio

import pytest

from bot.gateway import Gateway
from bot.staff_desk import DeliveryStatus, StaffDesk
from channels.base import BotMessage, UserMessage
from channels.registry import NotifyResult
from channels.sessions import PushHub
from knowledge_base.messages import render


class FakeChannels:
    """What :class:`channels.registry.Channels` answers, without any platform."""

    def __init__(self, delivered: bool = False, queued: bool = False, fails: bool = False):
        self.sessions = PushHub()
        self.result = (delivered, queued)
        self.fails = fails
        self.sent: list[tuple[str, str, str]] = []

    async def notify(self, channel, sender_id, text, buttons=()):
        if self.fails:
            raise RuntimeError("platform down")
        self.sent.append((channel, sender_id, text))
        return NotifyResult(channel, sender_id, *self.result)


def deliver(desk: StaffDesk, channel: str, sender_id: str, notifier) -> object:
    return asyncio.run(desk.deliver(channel, sender_id, [BotMessage("Cán bộ A: chào ông/bà")], notifier))


@pytest.mark.parametrize(("channel", "label"), [("zalo", "Zalo"), ("telegram", "Telegram")])
def test_a_platform_that_accepted_the_reply_is_named(channel, label):
    notifier = FakeChannels(delivered=True)
    delivery = deliver(StaffDesk(database=None), channel, f"{channel}:42", notifier)
    assert delivery.status is DeliveryStatus.SENT and delivery.delivered
    assert delivery.note == f"Đã gửi qua {label}."
    assert notifier.sent == [(channel, f"{channel}:42", "Cán bộ A: chào ông/bà")]


def test_a_refusing_platform_or_a_channel_without_pushes_is_not_delivered():
    refused = deliver(StaffDesk(database=None), "zalo", "zalo:42", FakeChannels(delivered=False))
    assert refused.status is DeliveryStatus.FAILED and not refused.delivered
    assert refused.note.startswith("Không gửi được qua Zalo")
    broken = deliver(StaffDesk(database=None), "telegram", "telegram:1", FakeChannels(fails=True))
    assert broken.status is DeliveryStatus.FAILED
    assert deliver(StaffDesk(database=None), "rest", "rest:1", None).status is DeliveryStatus.FAILED


def test_a_kiosk_session_nobody_listens_to_is_left_and_nothing_is_kept_for_it():
    notifier = FakeChannels(queued=True)
    delivery = deliver(StaffDesk(database=None), "kiosk", "kiosk:abc", notifier)
    assert delivery.status is DeliveryStatus.LEFT and not delivery.delivered
    assert delivery.note == "Người dân đã rời kiosk — tin nhắn chưa tới được."
    assert notifier.sent == []  # not queued for a session that will never come back


def test_a_kiosk_page_listening_on_its_event_socket_gets_it():
    notifier = FakeChannels(delivered=True)

    async def run():
        await notifier.sessions.subscribe("kiosk:abc")
        return await StaffDesk(database=None).deliver("kiosk", "kiosk:abc", [BotMessage("x")], notifier)

    assert asyncio.run(run()).status is DeliveryStatus.DELIVERED


def test_a_closed_web_page_keeps_the_reply_until_it_is_opened_again():
    delivery = deliver(StaffDesk(database=None), "web", "web:s1", FakeChannels(queued=True))
    assert delivery.status is DeliveryStatus.WAITING and not delivery.delivered
    assert "chưa tới được" in delivery.note


def test_an_open_chat_socket_gets_it_at_once():
    desk = StaffDesk(database=None)
    frames: list[str] = []

    async def send(frame: str) -> None:
        frames.append(frame)

    desk.join("kiosk:abc", send)
    delivery = deliver(desk, "kiosk", "kiosk:abc", None)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.note == "Đã gửi tới người dân."
    assert "Cán bộ A" in frames[0]


class NoRasa:
    async def send(self, message):  # pragma: no cover - a handed-off message never reaches Rasa
        raise AssertionError("the message went to Rasa")


def test_a_message_typed_while_waiting_for_staff_is_acknowledged_in_the_citizens_language():
    desk = StaffDesk(database=None)
    desk._handed_off["telegram:7"] = "telegram"
    gateway = Gateway(NoRasa(), None, desk)
    writes: list = []
    desk._writer.put = writes.append
    reply = asyncio.run(gateway.handle(UserMessage("telegram", "telegram:7", "còn đó không?")))
    assert reply.outcome == "handoff"
    assert [(m.text, m.custom) for m in reply.messages] == [(render("notify.handoff.ack"), {"handoff_ack": True})]
    assert [(w.kind, w.question) for w in writes] == [("handoff_in", "còn đó không?")]
    english = asyncio.run(gateway.handle(UserMessage("telegram", "telegram:7", "hello?", {"language": "en"})))
    assert english.messages[0].text == render("notify.handoff.ack", locale="en")
