"""The notice outbox follows the delivery policy: backoff with jitter, dead after N tries,
undeliverable rows never block later ones, «Gửi lại» re-queues; sms is never targeted
without a sender; staff and bot sends a platform refused are kept, not lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.notifications import NotificationRelay
from bot.staff_desk import DeliveryStatus, StaffDesk
from channels.base import BotMessage
from channels.registry import Channels, NotifyResult
from motcua import delivery
from motcua.db import session_scope, shared_database
from motcua.delivery import DeliveryPolicy, DeliveryState, mask_recipient
from motcua.queue.models import QueueNotification, QueueTicket
from motcua.queue.service import _notification_target
from motcua.staff.models import AuditEntry

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


class Platform:
    """Refuses every sender in ``refuse``; records what it accepted."""

    def __init__(self, refuse: set[str] = frozenset()):
        self.refuse = set(refuse)
        self.sent: list[str] = []

    async def notify(self, channel, sender_id, text, buttons=()):
        if sender_id in self.refuse:
            return NotifyResult(channel, sender_id, delivered=False, error="Forbidden: bot was blocked")
        self.sent.append(sender_id)
        return NotifyResult(channel, sender_id, delivered=True)


class Now:
    def __init__(self, at: datetime = T0):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _add(url: str, sender_id: str, count: int = 1, **columns) -> None:
    with session_scope(url) as session:
        for _ in range(count):
            session.add(QueueNotification(channel=sender_id.split(":")[0], sender_id=sender_id, text="Đến lượt ông/bà",
                                          created_at=T0, next_attempt_at=T0, **columns))


def _rows(url: str, sender_id: str) -> list[QueueNotification]:
    with session_scope(url) as session:
        return list(session.scalars(select(QueueNotification).where(QueueNotification.sender_id == sender_id)
                                    .order_by(QueueNotification.id)))


def test_backoff_doubles_is_jittered_downward_and_capped():
    policy = DeliveryPolicy(max_attempts=8, base_delay_s=600, max_delay_s=8 * 3600, jitter=0.2)
    assert [policy.delay(n) for n in range(0, 9)] == [0, 600, 1200, 2400, 4800, 9600, 19200, 28800, 28800]
    assert sum(policy.delay(n) for n in range(1, 8)) / 3600 == pytest.approx(18.5)  # 8 tries span about a day
    assert policy.wait(3, rng=lambda: 0.0) == 2400 and policy.wait(3, rng=lambda: 1.0) == pytest.approx(1920)
    failure = policy.after_failure(2, "boom", T0, rng=lambda: 0.5)
    assert (failure.attempts, failure.state) == (3, DeliveryState.PENDING)
    assert failure.next_attempt_at == T0 + timedelta(seconds=2400 * 0.9)
    assert policy.after_failure(7, "boom", T0).state is DeliveryState.DEAD
    assert policy.after_failure(7, "down", T0, final=False).state is DeliveryState.PENDING
    with pytest.raises(ValueError):
        DeliveryPolicy(jitter=1.5)


def test_the_recipient_is_masked():
    assert mask_recipient("telegram:123456789") == "telegram:12•••89"
    assert mask_recipient("0912345678") == "09•••78"
    assert mask_recipient("zalo:12") == "zalo:••"


async def test_undeliverable_rows_never_block_a_later_notice(database_url):
    _add(database_url, "telegram:dead", 101, state="dead", attempts=8)  # dead letters
    _add(database_url, "telegram:blocked", 101)  # fresh, but the platform refuses them all
    _add(database_url, "telegram:good")
    platform = Platform(refuse={"telegram:blocked"})
    relay = NotificationRelay(shared_database(database_url), platform, batch=100, clock=Now())
    assert await relay.run_once() == 1  # the good one goes out on the first pass
    assert platform.sent == ["telegram:good"]
    blocked = _rows(database_url, "telegram:blocked")
    assert {(r.state, r.attempts) for r in blocked} == {("pending", 1)}
    assert all(r.next_attempt_at.replace(tzinfo=UTC) > T0 for r in blocked)  # waiting their backoff
    assert {r.state for r in _rows(database_url, "telegram:dead")} == {"dead"}  # never tried again


async def test_a_notice_is_dead_after_the_last_try_and_resend_queues_it_again(database_url):
    _add(database_url, "telegram:7")
    policy = DeliveryPolicy(max_attempts=3, base_delay_s=60, max_delay_s=600, jitter=0)
    now = Now()
    platform = Platform(refuse={"telegram:7"})
    relay = NotificationRelay(shared_database(database_url), platform, clock=now, policy=policy)
    waits = []
    for _ in range(3):
        assert await relay.run_once() == 0
        row = _rows(database_url, "telegram:7")[0]
        waits.append((row.next_attempt_at.replace(tzinfo=UTC) - now.at).total_seconds())
        assert await relay.run_once() == 0  # not due yet: not tried again
        now.at = row.next_attempt_at.replace(tzinfo=UTC)
    assert waits == [60, 120, 0]
    row = _rows(database_url, "telegram:7")[0]
    assert (row.state, row.attempts, row.last_error) == ("dead", 3, "Forbidden: bot was blocked")
    now.at += timedelta(days=2)
    assert await relay.run_once() == 0  # a dead letter is never tried by itself
    with session_scope(database_url) as session:
        [letter] = delivery.dead_letters(session)
        assert (letter.kind, letter.recipient, letter.attempts) == ("notice", "telegram:•", 3)
        delivery.resend(session, "notice", row.id, actor="ha", now=now.at)
        with pytest.raises(delivery.NotADeadLetter):
            delivery.dismiss(session, "notice", row.id, actor="ha")  # pending now, not dead
    platform.refuse.clear()
    assert await relay.run_once() == 1
    row = _rows(database_url, "telegram:7")[0]
    assert (row.state, row.attempts) == ("sent", 1)
    with session_scope(database_url) as session:
        assert [(a.actor, a.action, a.target) for a in session.scalars(select(AuditEntry))] == [
            ("ha", "delivery.resend", f"notice/{row.id}")]


class Quoting(Platform):
    """Refuses every sender with an error quoting the message's numbers (as a platform's 400 may)."""

    async def notify(self, channel, sender_id, text, buttons=()):
        return NotifyResult(channel, sender_id, delivered=False,
                            error=f"BadRequest: cannot send {text!r} (CCCD 001190012345, 0912.345.678)")


async def test_errors_are_stored_with_identity_and_phone_numbers_masked_for_every_kind(database_url):
    policy = DeliveryPolicy(max_attempts=1, base_delay_s=60, max_delay_s=600, jitter=0)
    portal = policy.after_failure(0, "PortalError: 422 hoSo.cccd=001190012345", T0)  # the portal outbox's way
    assert portal.last_error == "PortalError: 422 hoSo.cccd=*********345"
    _add(database_url, "telegram:7")
    relay = NotificationRelay(shared_database(database_url), Quoting(), clock=Now(), policy=policy)
    assert await relay.run_once() == 0
    desk = StaffDesk(shared_database(database_url))  # a staff message kept for a retry
    assert not (await desk.deliver("zalo", "zalo:42", [BotMessage("Cán bộ: mời ông/bà")], Quoting())).delivered
    stored = [row.last_error for row in _rows(database_url, "telegram:7") + _rows(database_url, "zalo:42")]
    assert len(stored) == 2
    for error in stored:
        assert error.startswith("BadRequest: cannot send") and "*********345" in error and "*******678" in error
        assert "001190012345" not in error and "0912.345.678" not in error
    with session_scope(database_url) as session:
        letters = delivery.dead_letters(session)
    assert [letter.last_error for letter in letters] == stored[:1]  # the dead notice, as staff see it
    assert len(delivery.stored_error("0912345678 " * 500)) == 2000  # still cut short after masking


def test_dismiss_keeps_the_row_and_takes_it_off_the_list(database_url):
    _add(database_url, "zalo:9", state="dead", attempts=8, last_error="48h window")
    with session_scope(database_url) as session:
        [letter] = delivery.dead_letters(session)
        assert (letter.last_error, letter.recipient, letter.channel) == ("48h window", "zalo:•", "zalo")
        delivery.dismiss(session, letter.kind, letter.id, actor="minh")
    with session_scope(database_url) as session:
        assert delivery.dead_letters(session) == []
    assert [r.state for r in _rows(database_url, "zalo:9")] == ["dismissed"]


def test_sms_is_not_targeted_without_an_sms_sender(monkeypatch):
    by_phone = QueueTicket(channel="kiosk", sender_id="", phone="0912345678")
    assert _notification_target(by_phone) is None
    monkeypatch.setattr("motcua.queue.service.sms_configured", lambda: True)
    assert _notification_target(by_phone) == ("sms", "0912345678")
    chat = QueueTicket(channel="telegram", sender_id="telegram:42", phone="0912345678")
    assert _notification_target(chat) == ("telegram", "telegram:42")


def test_a_registered_sms_kind_says_whether_it_is_configured():
    from channels.registry import channel_configured, register, unregister

    class Sms:
        name = "sms"

        @classmethod
        def from_settings(cls, settings, shared=None):
            return None

        @classmethod
        def configured(cls, settings):
            return bool(getattr(settings, "sms_url", ""))

    assert not channel_configured("sms", object())
    register(Sms)
    try:
        assert not channel_configured("sms", object())
        assert channel_configured("sms", type("S", (), {"sms_url": "http://sms"})())
    finally:
        unregister("sms")


def test_a_staff_message_a_platform_refused_is_kept_for_a_retry(database_url):
    desk = StaffDesk(shared_database(database_url))
    platform = Platform(refuse={"zalo:42"})
    result = asyncio.run(desk.deliver("zalo", "zalo:42", [BotMessage("Cán bộ: ông/bà mang CCCD")], platform))
    assert result.status is DeliveryStatus.RETRYING and not result.delivered
    [row] = _rows(database_url, "zalo:42")
    assert (row.source, row.state, row.attempts, row.channel) == ("staff", "pending", 1, "zalo")
    assert row.text == "Cán bộ: ông/bà mang CCCD" and "blocked" in row.last_error


def test_a_bot_reply_that_fails_goes_to_the_keeper():
    class Broken:
        name = "telegram"

        class capabilities:  # noqa: N801 - what Channels.send reads
            @staticmethod
            def fit(messages):
                return messages

        async def send(self, recipient, messages):
            raise ConnectionError("api.telegram.org unreachable")

    kept = []

    async def keeper(channel, sender_id, texts, error):
        kept.append((channel, sender_id, texts, error))

    channels = Channels([Broken()])
    channels.keeper = keeper
    result = asyncio.run(channels.send("telegram", "telegram:5", [BotMessage("Xin chào ông/bà")]))
    assert not result.delivered
    assert kept == [("telegram", "telegram:5", ["Xin chào ông/bà"], "ConnectionError: api.telegram.org unreachable")]
    asyncio.run(channels.notify("telegram", "telegram:5", "Đến lượt"))  # the relay's own sends: not kept twice
    assert len(kept) == 1


def test_the_outbox_figures_for_health(database_url):
    _add(database_url, "telegram:1")  # due since T0
    _add(database_url, "telegram:2", state="dead", attempts=8)
    _add(database_url, "telegram:3", state="sent")
    with session_scope(database_url) as session:
        figures = delivery.outbox_figures(session, T0 + timedelta(minutes=20))
    assert (figures.pending, figures.due, figures.dead) == (1, 1, 1)
    assert figures.oldest_pending_at == T0 and figures.oldest_due_at == T0
