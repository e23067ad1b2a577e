"""The webhook inbox: a Telegram or Zalo event stored before the platform's 200 is answered once,
even when the gateway dies before answering it; a poison event becomes a dead letter."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import httpx
import pytest
from fastapi import BackgroundTasks
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bot.app import create_app
from bot.dialogue import DialogueClient, DialogueReply
from bot.event_ledger import EventLedger
from bot.ratelimit import RateLimitedGateway, TokenBuckets
from bot.webhook_inbox import LOST_TRY, InboxStore, WebhookInbox, event_payload, read_payload
from channels.base import BotMessage, Capabilities, Incoming, UserMessage
from channels.registry import Channels
from motcua import delivery
from motcua.db import session_scope, shared_database
from motcua.delivery import DeliveryPolicy
from motcua.models import InboundEvent, ProcessedEvent
from motcua.privacy import purge_expired
from tests.channels.fakes import (
    BIRTH_QUESTION,
    BIRTH_TEXT,
    TELEGRAM_SECRET,
    fixture,
    received_from,
    sent_texts,
    wait_for,
)

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
POLICY = DeliveryPolicy(max_attempts=3, base_delay_s=60, max_delay_s=600, jitter=0, lease_s=30)
CHAT = 5123456789
SENDER = f"telegram:{CHAT}"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}


class Now:
    def __init__(self, at: datetime = T0):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Platform:
    """A push platform that records what it was asked to send."""

    name: ClassVar[str] = "telegram"
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.acknowledged: list[str] = []

    async def send(self, recipient_id: str, messages: list[BotMessage]) -> bool:
        self.sent += [(recipient_id, m.text) for m in messages]
        return True

    async def acknowledge(self, incoming: Incoming) -> None:
        if incoming.acknowledge:
            self.acknowledged.append(incoming.acknowledge)

    async def aclose(self) -> None:
        return None


class Assistant:
    """Answers every message with its text; a message saying «độc» breaks it (a poison event)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def handle(self, message: UserMessage) -> DialogueReply:
        self.asked.append(message.text)
        if "độc" in message.text:
            raise RuntimeError("the assistant cannot read this message")
        return DialogueReply([BotMessage(f"Trả lời: {message.text}")])


def _inbox(url: str, clock: Now) -> tuple[WebhookInbox, Platform, Assistant]:
    database = shared_database(url)
    platform, assistant = Platform(), Assistant()
    store = InboxStore(database, EventLedger(database), POLICY, clock=clock)
    gateway = RateLimitedGateway(assistant, TokenBuckets.per_minute(600, 100))
    return WebhookInbox(store, Channels([platform]), gateway, TokenBuckets.per_minute(600, 100)), platform, assistant


def _event(event_id: str, text: str, sender: str = SENDER) -> Incoming:
    return Incoming(sender, UserMessage("telegram", sender, text, {"language": "vi", "telegram_message_id": 7}),
                    event_id=event_id)


def _rows(url: str) -> list[InboundEvent]:
    with session_scope(url) as session:
        return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def test_the_stored_event_reads_back_the_same():
    event = Incoming(SENDER, UserMessage("telegram", SENDER, "khai sinh", {"display_text": "Lệ phí", "n": 2}),
                     event_id="718240001", acknowledge="2200382047918731583")
    assert read_payload(event_payload(event)) == event
    notice = Incoming(SENDER, notice="Tôi chỉ đọc được tin nhắn chữ.", event_id="9")
    assert read_payload(event_payload(notice)) == notice
    dirty = event_payload(Incoming(SENDER, UserMessage("telegram", SENDER, "a\x00b\ud800", {"x": object()})))
    assert dirty["message"]["text"] == "ab?" and isinstance(dirty["message"]["metadata"]["x"], str)
    with pytest.raises(ValueError):
        read_payload({"message": {"text": "no sender"}})


async def test_an_event_whose_process_died_is_answered_once_by_the_worker_after_the_lease(database_url):
    clock = Now()
    inbox, platform, assistant = _inbox(database_url, clock)
    claim = await inbox.accept("telegram", _event("718240001", "làm khai sinh"))
    assert claim is not None
    # the process dies here: the background task that would answer it never runs
    assert await inbox.run_once() == 0  # its lease still runs: nobody else takes it
    clock.advance(POLICY.lease_s - 1)
    assert await inbox.run_once() == 0
    clock.advance(2)
    assert await inbox.run_once() == 1
    assert platform.sent == [(SENDER, "Trả lời: làm khai sinh")]
    assert await inbox.run_once() == 0
    clock.advance(3600)
    assert await inbox.run_once() == 0
    assert platform.sent == [(SENDER, "Trả lời: làm khai sinh")] and assistant.asked == ["làm khai sinh"]
    [row] = _rows(database_url)
    assert (row.state, row.attempts, row.payload, row.sender_id) == ("sent", 2, None, "")  # personal data blanked
    assert row.handled_at is not None and row.locked_until is None
    # the platform delivers it again: still a duplicate, after the restart too
    assert await inbox.accept("telegram", _event("718240001", "làm khai sinh")) is None
    assert await _inbox(database_url, clock)[0].accept("telegram", _event("718240001", "làm khai sinh")) is None
    assert len(_rows(database_url)) == 1


async def test_the_normal_path_answers_once_and_the_worker_leaves_it_alone(database_url):
    clock = Now()
    inbox, platform, _ = _inbox(database_url, clock)
    claim = await inbox.accept("telegram", _event("718240002", "lệ phí"))
    await inbox.handle(claim)
    clock.advance(POLICY.lease_s * 10)
    assert await inbox.run_once() == 0
    assert platform.sent == [(SENDER, "Trả lời: lệ phí")]
    [row] = _rows(database_url)
    assert (row.state, row.attempts, row.payload) == ("sent", 1, None)


async def test_a_slow_handler_whose_row_was_taken_over_does_not_answer_twice(database_url):
    clock = Now()
    inbox, platform, assistant = _inbox(database_url, clock)
    claim = await inbox.accept("telegram", _event("718240003", "giờ làm việc"))
    clock.advance(POLICY.lease_s + 1)  # the first handler is stuck past its lease
    assert await inbox.run_once() == 1  # the worker takes the event over and answers it
    await inbox.handle(claim)  # the first handler wakes up: the row is no longer its own
    assert platform.sent == [(SENDER, "Trả lời: giờ làm việc")] and assistant.asked == ["giờ làm việc"]


async def test_a_poison_event_becomes_a_dead_letter_and_does_not_block_the_next(database_url):
    clock = Now()
    inbox, platform, _ = _inbox(database_url, clock)
    poison = await inbox.accept("telegram", _event("718240010", "tin nhắn độc"))
    later = await inbox.accept("telegram", _event("718240011", "lấy số", sender="telegram:42"))
    await inbox.handle(poison)
    await inbox.handle(later)
    assert platform.sent == [("telegram:42", "Trả lời: lấy số")]
    first, second = _rows(database_url)
    assert (first.state, first.attempts, first.locked_until) == ("pending", 1, None)
    assert "RuntimeError" in first.last_error and first.payload is not None  # kept to be tried again
    clock.advance(60)
    assert await inbox.run_once() == 1
    clock.advance(120)
    third = await inbox.accept("telegram", _event("718240012", "cảm ơn", sender="telegram:43"))
    assert await inbox.run_once() == 1  # the poison's last try; the fresh event is its own handler's
    await inbox.handle(third)
    assert platform.sent[-1] == ("telegram:43", "Trả lời: cảm ơn")
    dead = _rows(database_url)[0]
    assert (dead.state, dead.attempts) == ("dead", 3)
    clock.advance(86400)
    assert await inbox.run_once() == 0  # dead: never tried again on its own
    with session_scope(database_url) as session:
        [letter] = delivery.dead_letters(session)
        assert (letter.kind, letter.channel, letter.attempts) == ("inbound", "telegram", 3)
        assert letter.recipient == "telegram:51•••89" and "RuntimeError" in letter.last_error
        delivery.resend(session, "inbound", letter.id, actor="ha", now=clock())
    assert await inbox.run_once() == 1  # «Gửi lại»: tried again at once (and refused again)
    with session_scope(database_url) as session:
        row = session.get(InboundEvent, dead.id)
        assert (row.state, row.attempts) == ("pending", 1)


class Quoting(Assistant):
    """Breaks on every message, quoting it in the error (as a parser's ValueError does)."""

    async def handle(self, message: UserMessage) -> DialogueReply:
        raise ValueError(f"cannot read {message.text!r}")


async def test_an_error_quoting_the_citizens_numbers_is_stored_and_shown_masked(database_url):
    clock = Now()
    inbox, _, _ = _inbox(database_url, clock)
    inbox.gateway = RateLimitedGateway(Quoting(), TokenBuckets.per_minute(600, 100))
    claim = await inbox.accept("telegram", _event("718240040", "CCCD 001190012345, số 0912 345 678"))
    await inbox.handle(claim)
    [row] = _rows(database_url)
    assert row.last_error.startswith("ValueError: cannot read") and "*********345" in row.last_error
    assert "001190012345" not in row.last_error and "0912 345 678" not in row.last_error
    assert "345 678" not in row.last_error and "*******678" in row.last_error
    with session_scope(database_url) as session:  # a row stored before errors were masked is shown masked too
        session.execute(update(InboundEvent).values(state="dead", last_error="ValueError: '001190012345'"))
    with session_scope(database_url) as session:
        [letter] = delivery.dead_letters(session)
    assert letter.last_error == "ValueError: '*********345'"


async def test_platform_user_ids_are_masked_in_the_logs(caplog):
    class Broken(Platform):
        async def send(self, recipient_id: str, messages: list[BotMessage]) -> bool:
            raise ConnectionError("platform unreachable")

    caplog.set_level(logging.INFO)
    result = await Channels([Broken()]).send("telegram", "telegram:777001", [BotMessage("Xin chào ông/bà")])
    assert not result.delivered

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    rasa = DialogueClient("http://rasa.invalid", client=httpx.AsyncClient(transport=httpx.MockTransport(down)))
    reply = await rasa.send(UserMessage("telegram", SENDER, "lệ phí", {"language": "vi"}))
    await rasa.aclose()
    assert reply.outcome == "busy"
    said = [record.getMessage() for record in caplog.records]
    assert any("sending to telegram:77•••01 failed" in line for line in said), said
    assert any("Rasa did not answer for telegram:51•••89" in line for line in said), said
    assert not any("777001" in line or str(CHAT) in line for line in said), said


async def test_an_event_that_kills_the_process_every_time_is_a_dead_letter_after_the_last_try(database_url):
    clock = Now()
    inbox, platform, _ = _inbox(database_url, clock)
    await inbox.accept("telegram", _event("718240020", "sập máy"))
    for _ in range(POLICY.max_attempts - 1):  # each try's process dies: the worker takes it again after the lease
        clock.advance(POLICY.lease_s + 1)
        [claim] = await _claim(inbox, 1)
        assert claim.event is not None  # taken, and its process dies again
    clock.advance(POLICY.lease_s + 1)
    assert await _claim(inbox, 1) == []  # the last try was lost too: a dead letter, not tried again
    [row] = _rows(database_url)
    assert (row.state, row.attempts, row.last_error) == ("dead", POLICY.max_attempts, LOST_TRY)
    assert platform.sent == []


async def _claim(inbox: WebhookInbox, limit: int):
    return await asyncio.to_thread(inbox.store.claim_due, limit)


async def test_an_unreadable_stored_event_is_a_dead_letter_without_stopping_the_worker(database_url):
    clock = Now()
    inbox, platform, _ = _inbox(database_url, clock)
    await inbox.accept("telegram", _event("718240030", "x"))
    good = await inbox.accept("telegram", _event("718240031", "y"))
    with session_scope(database_url) as session:
        session.execute(update(InboundEvent).where(InboundEvent.event_id == "718240030")
                        .values(payload={"garbage": True}))
    await inbox.handle(good)
    for _ in range(POLICY.max_attempts):
        clock.advance(POLICY.max_delay_s + POLICY.lease_s)
        await inbox.run_once()
    assert [r.state for r in _rows(database_url)] == ["dead", "sent"]
    assert platform.sent == [(SENDER, "Trả lời: y")]


def test_the_retention_job_drops_old_inbox_rows(database_url):
    clock = Now()
    store = InboxStore(shared_database(database_url), EventLedger(shared_database(database_url)), POLICY, clock=clock)
    store.accept("zalo", _event("old", "cũ", sender="zalo:1"))
    clock.advance(100 * 86400)
    store.accept("zalo", _event("new", "mới", sender="zalo:1"))
    report = purge_expired(database_url, 90, now=clock())
    assert report.counts["webhook_inbox"] == 1
    assert [r.event_id for r in _rows(database_url)] == ["new"]


# --- through the gateway, on the real webhook road ----------------------------------------------


def test_a_telegram_update_whose_gateway_died_after_the_200_is_answered_after_the_restart(settings, fakes,
                                                                                          monkeypatch):
    update_body = fixture("telegram_message_text.json")
    with monkeypatch.context() as dying:
        dying.setattr(BackgroundTasks, "add_task", lambda *args, **kwargs: None)  # killed before answering
        with TestClient(create_app(settings)) as client:
            response = client.post("/webhooks/telegram", json=update_body, headers=HEADERS)
            assert response.status_code == 200 and response.json()["detail"] == "accepted"
    assert sent_texts(fakes.telegram) == [] and received_from(fakes.rasa, SENDER) == []
    [row] = _rows(settings.sqlalchemy_url)
    assert row.state == "pending" and row.payload["message"]["text"] == BIRTH_QUESTION
    with session_scope(settings.sqlalchemy_url) as session:  # the dead process's lease has run out
        session.execute(update(InboundEvent).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    with TestClient(create_app(settings)) as restarted:
        wait_for(lambda: sent_texts(fakes.telegram), timeout=20)
        again = restarted.post("/webhooks/telegram", json=update_body, headers=HEADERS)
        assert again.json()["detail"] == "duplicate"
        wait_for(lambda: _rows(settings.sqlalchemy_url)[0].state == "sent", timeout=20)
    assert sent_texts(fakes.telegram, CHAT) == [BIRTH_TEXT]
    assert received_from(fakes.rasa, SENDER) == [BIRTH_QUESTION]
    with session_scope(settings.sqlalchemy_url) as session:
        assert session.query(ProcessedEvent).count() == 1


def test_an_event_that_cannot_be_stored_is_refused_so_the_platform_delivers_it_again(settings, fakes,
                                                                                     monkeypatch):
    update_body = fixture("telegram_message_text.json")
    with TestClient(create_app(settings)) as client:
        store = client.app.state.services.webhook_inbox.store

        def broken(channel, event):
            raise OSError("disk full")

        with monkeypatch.context() as outage:
            outage.setattr(store, "accept", broken)
            refused = client.post("/webhooks/telegram", json=update_body, headers=HEADERS)
        assert refused.status_code == 503
        assert client.post("/webhooks/telegram", json=update_body, headers=HEADERS).json()["detail"] == "accepted"
    assert sent_texts(fakes.telegram, CHAT) == [BIRTH_TEXT]
