"""A number taken at a kiosk session is announced to that session's page when staff call it."""

from __future__ import annotations

import asyncio

from channels.kiosk import CallWatcher, KioskChannel, called_message
from channels.registry import Shared
from channels.sessions import PushHub
from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.queue.config import load_queue_config
from motcua.queue.service import QueueService, seed_queue
from motcua.settings import Settings


def queue_at(url: str) -> QueueService:
    service = QueueService(load_queue_config())
    with session_scope(url) as session:
        seed_queue(session, service.config)
    return service


def test_a_call_of_a_kiosk_number_goes_to_its_session_once_and_again_on_a_recall(migrated):
    service, hub = queue_at(migrated), PushHub()
    watcher = CallWatcher(migrated, hub)
    with session_scope(migrated) as session:
        early = service.issue(session, "HT", channel="kiosk", sender_id="kiosk:early").ticket
        service.call_next(session, 1)  # called before the gateway started: said already
    assert watcher.pass_once() == 0
    with session_scope(migrated) as session:
        mine = service.issue(session, "HT", channel="kiosk", sender_id="kiosk:s1").ticket
        service.issue(session, "HT", channel="web", sender_id="web:w1")  # the relay's, not the watcher's
        service.issue(session, "HT", channel="kiosk")  # a plain kiosk number: nobody to tell
    assert watcher.pass_once() == 0  # issued, not called
    with session_scope(migrated) as session:
        assert service.call_next(session, 1).ticket.label == mine.label
    assert watcher.pass_once() == 1
    assert watcher.pass_once() == 0  # once
    [[message]] = hub.drain("kiosk:s1")
    assert message.text == render("notify.queue.your_turn", label=mine.label, counter=1)
    assert message.custom == {"queue_called": {"label": mine.label, "counter": 1, "token": mine.token}}
    assert hub.drain("kiosk:early") == [] and early.label != mine.label
    with session_scope(migrated) as session:
        service.recall(session, 1)
    assert watcher.pass_once() == 1  # called again: told again
    assert [m.custom["queue_called"]["label"] for [m] in hub.drain("kiosk:s1")] == [mine.label]


def test_the_called_message_is_a_citizen_sentence_marked_for_the_banner():
    message = called_message("A007", 3, "tok")
    assert message.text == render("notify.queue.your_turn", label="A007", counter=3)
    assert message.to_dict()["custom"]["queue_called"] == {"label": "A007", "counter": 3, "token": "tok"}


def test_the_channel_watches_only_inside_the_gateway_loop(tmp_path, migrated):
    settings = Settings(data_dir=tmp_path)
    outside = KioskChannel.from_settings(settings, Shared())
    assert outside.watcher is None  # no running loop: nothing started

    async def opened() -> bool:
        channel = KioskChannel.from_settings(settings, Shared())
        running = channel.watcher is not None and channel.watcher._task is not None
        await channel.aclose()
        return running and channel.watcher._task is None

    assert asyncio.run(opened())
