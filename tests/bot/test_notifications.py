"""Recorded citizen notifications reach their channel once; a refusing platform loses nothing; a
woken relay sends at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.notifications import NotificationRelay, wake_relays
from channels.registry import NotifyResult
from knowledge_base.messages import render
from motcua.db import session_scope, shared_database, utcnow
from motcua.delivery import DeliveryPolicy
from motcua.dossiers.models import DossierNotification
from motcua.queue.models import QueueNotification
from motcua.queue.service import QueueService, seed_queue
from tests.queue.queue_fakes import SMALL_CENTRE


class FakeNotifier:
    def __init__(self, refuse: set[str] = frozenset()):
        self.refuse = refuse
        self.sent: list[tuple[str, str, str]] = []

    async def notify(self, channel, sender_id, text, buttons=()):
        if channel in self.refuse:
            return NotifyResult(channel, sender_id, delivered=False, error="platform refused")
        self.sent.append((channel, sender_id, text))
        return NotifyResult(channel, sender_id, delivered=True)


def _seed(url: str) -> None:
    with session_scope(url) as session:
        session.add(QueueNotification(channel="telegram", sender_id="telegram:42", text="Còn 3 người nữa đến lượt A012"))
        session.add(DossierNotification(dossier_code="000.00.00.H00-261125-0001", channel="zalo",
                                        sender_id="zalo:77", status="completed", text="Hồ sơ đã có kết quả"))


async def test_each_notification_is_sent_once_through_its_channel(database_url):
    _seed(database_url)
    notifier = FakeNotifier()
    relay = NotificationRelay(shared_database(database_url), notifier)
    assert await relay.run_once() == 2
    assert await relay.run_once() == 0  # already sent: not sent twice
    assert sorted(notifier.sent) == [("telegram", "telegram:42", "Còn 3 người nữa đến lượt A012"),
                                     ("zalo", "zalo:77", "Hồ sơ đã có kết quả")]


async def test_a_refusing_platform_keeps_the_notification_for_the_next_pass_after_its_backoff(database_url):
    _seed(database_url)
    relay = NotificationRelay(shared_database(database_url), FakeNotifier(refuse={"zalo"}))
    assert await relay.run_once() == 1
    with session_scope(database_url) as session:
        pending = session.scalars(select(DossierNotification).where(DossierNotification.sent_at.is_(None))).all()
        assert [(n.sender_id, n.attempts, n.last_error) for n in pending] == [("zalo:77", 1, "platform refused")]
    later = FakeNotifier()
    assert await NotificationRelay(shared_database(database_url), later).run_once() == 0  # waits its backoff
    after_backoff = utcnow() + timedelta(seconds=DeliveryPolicy().delay(1) + 1)
    assert await NotificationRelay(shared_database(database_url), later, clock=lambda: after_backoff).run_once() == 1
    assert later.sent == [("zalo", "zalo:77", "Hồ sơ đã có kết quả")]


async def _until(condition, seconds: float = 3.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def test_a_woken_relay_sends_a_call_at_once_instead_of_at_the_end_of_its_interval(database_url):
    database = shared_database(database_url)
    service = QueueService(SMALL_CENTRE)
    with session_scope(database_url) as session:
        seed_queue(session, SMALL_CENTRE)
        service.issue(session, "HT", channel="telegram", sender_id="telegram:42")  # A001
    _seed(database_url)  # two older notifications: the relay's first pass sends them
    notifier = FakeNotifier()
    relay = NotificationRelay(database, notifier, interval_s=3600)  # no periodic pass during the test
    relay.start()
    try:
        assert await _until(lambda: len(notifier.sent) == 2 and relay.passes >= 1)  # first pass over: idle
        with session_scope(database_url) as session:
            service.call_next(session, 1)  # writes «your turn» to the outbox in the call's transaction
        await asyncio.sleep(0.3)
        assert len(notifier.sent) == 2  # written, but the relay sleeps until it is woken
        assert await asyncio.to_thread(wake_relays, database) == 1  # from another thread, as the routes do
        assert await _until(lambda: len(notifier.sent) == 3, seconds=10.0)  # «at once» against an interval of an hour; slack for a loaded machine
        assert notifier.sent[2] == ("telegram", "telegram:42",
                                    render("notify.queue.your_turn", label="A001", counter=1))
    finally:
        await relay.stop()
    assert wake_relays(database) == 0  # a stopped relay is no longer reached
