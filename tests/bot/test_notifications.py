"""Recorded citizen notifications reach their channel once; a refusing platform loses nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.notifications import NotificationRelay
from channels.registry import NotifyResult
from motcua.db import session_scope, shared_database
from motcua.dossiers.models import DossierNotification
from motcua.queue.models import QueueNotification


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


async def test_a_refusing_platform_keeps_the_notification_for_the_next_pass(database_url):
    _seed(database_url)
    relay = NotificationRelay(shared_database(database_url), FakeNotifier(refuse={"zalo"}))
    assert await relay.run_once() == 1
    with session_scope(database_url) as session:
        pending = session.scalars(select(DossierNotification).where(DossierNotification.sent_at.is_(None))).all()
    assert [n.sender_id for n in pending] == ["zalo:77"]
    later = FakeNotifier()
    assert await NotificationRelay(shared_database(database_url), later).run_once() == 1
    assert later.sent == [("zalo", "zalo:77", "Hồ sơ đã có kết quả")]
