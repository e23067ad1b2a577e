"""A number taken at a kiosk session is announced to that session's page when staff call it —
through the notice outbox and its relay, like every other citizen notice; a session that ended
is dropped quickly (dismissed, not a dead letter for staff) and never holds back the notices behind it."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.notifications import GONE_ATTEMPTS, GONE_RETRY_S, NotificationRelay
from channels.base import BotMessage, Capabilities
from channels.kiosk import KioskChannel
from channels.registry import Channels, RecipientGone, Shared
from channels.sessions import PushHub
from knowledge_base.messages import render
from motcua.db import session_scope, shared_database, utcnow
from motcua.delivery import DeliveryState, dead_letters
from motcua.queue.config import load_queue_config
from motcua.queue.models import QueueNotification
from motcua.queue.service import QueueService, seed_queue


def queue_at(url: str) -> QueueService:
    service = QueueService(load_queue_config())
    with session_scope(url) as session:
        seed_queue(session, service.config)
    return service


def banner(label: str, counter: int, token: str) -> dict:
    return {"queue_called": {"label": label, "counter": counter, "token": token}}


class FakePlatform:
    """A chat platform that takes every message (stands for Telegram in the relay's pass)."""

    name: ClassVar[str] = "telegram"
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, recipient_id: str, messages: list[BotMessage]) -> bool:
        self.sent += [(recipient_id, m.text) for m in messages]
        return True

    async def aclose(self) -> None:
        return None


def relay_for(url: str, *platforms, clock=utcnow, batch: int = 100) -> tuple[NotificationRelay, PushHub]:
    hub = PushHub()
    channels = Channels([KioskChannel(hub), *platforms], shared=Shared(sessions=hub))
    return NotificationRelay(shared_database(url), channels, clock=clock, batch=batch), hub


def rows(url: str, channel: str) -> list[tuple[str, int, str]]:
    with session_scope(url) as session:
        found = session.scalars(select(QueueNotification).where(QueueNotification.channel == channel)
                                .order_by(QueueNotification.id))
        return [(row.state, row.attempts, row.last_error) for row in found]


async def test_a_call_of_a_kiosk_number_goes_to_its_open_page_once_and_again_on_a_recall(database_url):
    service = queue_at(database_url)
    relay, hub = relay_for(database_url)
    page = await hub.subscribe("kiosk:s1")  # the session's event socket is open
    with session_scope(database_url) as session:
        mine = service.issue(session, "HT", channel="kiosk", sender_id="kiosk:s1").ticket
        service.issue(session, "HT", channel="kiosk")  # a plain kiosk number (paper): nobody to tell
    assert await relay.run_once() == 0  # issued, not called: nothing in the outbox
    with session_scope(database_url) as session:
        assert service.call_next(session, 1).ticket.label == mine.label
    assert await relay.run_once() == 1
    assert await relay.run_once() == 0  # once
    [message] = page.get_nowait()
    assert message.text == render("notify.queue.your_turn", label=mine.label, counter=1)
    assert message.custom == banner(mine.label, 1, mine.token)
    assert message.to_dict()["custom"]["queue_called"]["label"] == mine.label  # what the page reads
    with session_scope(database_url) as session:
        service.call_next(session, 2)  # the paper number, at counter 2: no notice
        service.recall(session, 1)
    assert await relay.run_once() == 1  # called again: told again
    assert [m.custom["queue_called"]["label"] for m in page.get_nowait()] == [mine.label]
    assert page.empty()
    assert rows(database_url, "kiosk") == [("sent", 1, ""), ("sent", 1, "")]


async def test_an_ended_kiosk_session_does_not_hold_back_other_notices_and_is_soon_dropped(database_url):
    service = queue_at(database_url)
    telegram = FakePlatform()
    with session_scope(database_url) as session:
        left = service.issue(session, "HT", channel="kiosk", sender_id="kiosk:left").ticket  # page reset since
        theirs = service.issue(session, "HT", channel="telegram", sender_id="telegram:42").ticket
        assert service.call_next(session, 1).ticket.label == left.label  # the older notice: due first
        service.call_next(session, 2)
    now = [utcnow()]
    relay, hub = relay_for(database_url, telegram, clock=lambda: now[0], batch=1)  # one row per batch
    handed = await relay.run_once()  # the ended session failed at once; the Telegram notices went out
    assert handed == len(telegram.sent) >= 1
    assert telegram.sent[-1] == ("telegram:42", render("notify.queue.your_turn", label=theirs.label, counter=2))
    [(state, attempts, error)] = rows(database_url, "kiosk")
    assert (state, attempts) == ("pending", 1) and RecipientGone.__name__ in error
    with session_scope(database_url) as session:
        waiting = session.scalars(select(QueueNotification).where(QueueNotification.channel == "kiosk")).one()
        wait_s = (waiting.next_attempt_at.replace(tzinfo=now[0].tzinfo) - now[0]).total_seconds()
    assert GONE_RETRY_S * 0.75 <= wait_s <= GONE_RETRY_S  # seconds, not the platforms' ten minutes
    assert await relay.run_once() == 0  # not due yet
    now[0] += timedelta(seconds=GONE_RETRY_S + 1)
    assert await relay.run_once() == 0
    assert rows(database_url, "kiosk")[0][:2] == ("dismissed", GONE_ATTEMPTS)  # no more tries
    with session_scope(database_url) as session:
        assert dead_letters(session) == []  # nobody at a desk can deliver to a session that ended
    assert await hub.drain("kiosk:left") == []  # nothing kept for a page that will not come back


async def test_a_kiosk_page_back_within_the_grace_still_gets_its_banner(database_url):
    service = queue_at(database_url)
    with session_scope(database_url) as session:
        mine = service.issue(session, "HT", channel="kiosk", sender_id="kiosk:reloading").ticket
        service.call_next(session, 1)
    now = [utcnow()]
    relay, hub = relay_for(database_url, clock=lambda: now[0])
    assert await relay.run_once() == 0  # the page is being reloaded right now
    page = await hub.subscribe("kiosk:reloading")  # back, same session (kept in the tab's sessionStorage)
    now[0] += timedelta(seconds=GONE_RETRY_S + 1)
    assert await relay.run_once() == 1
    [message] = page.get_nowait()
    assert message.custom == banner(mine.label, 1, mine.token)
    assert rows(database_url, "kiosk")[0][:2] == ("sent", 2)


async def test_the_kiosk_channel_reaches_only_an_open_page():
    hub = PushHub()
    channel = KioskChannel(hub)
    with pytest.raises(RecipientGone):
        await channel.send("kiosk:nobody", [BotMessage("x")])
    assert await hub.drain("kiosk:nobody") == []  # not kept: a kiosk session does not come back later
    page = await hub.subscribe("kiosk:k2")
    assert await channel.send("k2", [BotMessage("x", custom=banner("A001", 1, "t"))]) is True
    assert page.get_nowait()[0].custom == banner("A001", 1, "t")
    channels = Channels([channel], shared=Shared(sessions=hub))
    gone = await channels.notify("kiosk", "kiosk:nobody", "x", custom=banner("A001", 1, "t"))
    assert gone.gone and not gone.delivered and not gone.queued and "RecipientGone" in gone.error
    live = await channels.notify("kiosk", "kiosk:k2", "y", custom=banner("A001", 1, "t"))
    assert live.delivered and not live.gone
    assert [(m.text, m.custom) for m in page.get_nowait()] == [("y", banner("A001", 1, "t"))]


def test_the_gateway_relays_a_call_to_the_kiosk_pages_event_socket(settings):
    url = settings.sqlalchemy_url
    service = queue_at(url)
    with TestClient(create_app(settings)) as client, \
            client.websocket_connect("/ws/kiosk/events?session=k-call") as page:
        assert json.loads(page.receive_text())["type"] == "ready"
        with session_scope(url) as session:
            mine = service.issue(session, "HT", channel="kiosk", sender_id="kiosk:k-call").ticket
            service.call_next(session, 1)
        client.portal.call(asyncio.sleep, 0)
        frame = json.loads(page.receive_text())  # the gateway's relay passes within its interval
        # the page has the frame before the relay writes the row down: wait for the write, gateway still up
        deadline = time.monotonic() + 10
        while rows(url, "kiosk")[0][0] != DeliveryState.SENT.value and time.monotonic() < deadline:
            time.sleep(0.05)
    assert frame == {"type": "bot", "pushed": True, "messages": [{
        "text": render("notify.queue.your_turn", label=mine.label, counter=1),
        "custom": banner(mine.label, 1, mine.token)}]}
    assert rows(url, "kiosk") == [(DeliveryState.SENT.value, 1, "")]
