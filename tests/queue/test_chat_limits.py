"""How many numbers a chat conversation, and an anonymous client address, may take
(:mod:`motcua.queue.limits`, :meth:`QueueService.issue_for_chat`, ``action_issue_queue_number``),
on SQLite and PostgreSQL. The whole road from the gateway's routes: ``tests/security/test_chat_abuse.py``."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.knowledge import AliasFinder, KnowledgeBase
from actions.queue import ActionIssueQueueNumber, review_payload, service_payload
from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.origin import METADATA_KEY, origin_of
from motcua.queue.limits import ChatTicketLimits, Requester
from motcua.queue.models import QueueTicket
from motcua.queue.service import QueueService, TicketLimitReached
from motcua.settings import Settings
from tests.queue.queue_fakes import SMALL_CENTRE

ORIGIN = origin_of("203.0.113.7", "a test secret that is long enough to sign")


class NoProcedures(KnowledgeBase):
    def __init__(self) -> None:
        self._procedures = {}
        self.finder = AliasFinder([])


def action(tmp_path, database_url, clock, **limits) -> ActionIssueQueueNumber:
    settings = Settings(data_dir=tmp_path, database_url=database_url, public_url="https://motcua.example", **limits)
    return ActionIssueQueueNumber(NoProcedures(), settings, SMALL_CENTRE, QueueService(SMALL_CENTRE, clock=clock))


async def ask(act: ActionIssueQueueNumber, sender: str, channel: str, service: str = "", origin: str = "") -> dict:
    """One «lấy số» (a service button when ``service``); the bot's one message."""
    text = service_payload(service) if service else "cho tôi lấy số"
    entities = [{"entity": "queue_service", "value": service}] if service else []
    metadata = {"channel": channel, **({METADATA_KEY: origin} if origin else {})}
    latest = {"text": text, "intent": {"name": "request_queue_number", "confidence": 1.0}, "entities": entities,
              "metadata": metadata}
    dispatcher = CollectingDispatcher()
    await act.run(dispatcher, Tracker(sender, {}, latest, [], False, None, {}, "action_listen"), {})
    (message,) = dispatcher.messages
    return message


def issued(message: dict) -> str:
    """The label of a number just issued, or ""."""
    custom = (message.get("custom") or {}).get("queue_ticket") or {}
    return custom["label"] if custom.get("new") else ""


def tickets(database_url) -> list[QueueTicket]:
    with session_scope(database_url) as session:
        rows = list(session.scalars(select(QueueTicket).order_by(QueueTicket.id)))
        session.expunge_all()
    return rows


def test_limits_refuse_nonsense():
    with pytest.raises(ValueError):
        ChatTicketLimits(per_sender=0)
    with pytest.raises(ValueError):
        ChatTicketLimits(window=timedelta(0))
    with pytest.raises(ValueError):
        Requester("", "web:x")


async def test_a_telegram_sender_over_its_limit_does_not_hold_back_another(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock, chat_tickets_per_sender=2)
    assert issued(await ask(act, "telegram:A", "telegram", "HT")) == "A001"
    assert issued(await ask(act, "telegram:A", "telegram", "CT")) == "B001"
    refused = await ask(act, "telegram:A", "telegram", "TN")
    assert refused["text"] == render("queue.limit_sender", count=2, window=60, wait=60)
    assert "ông/bà" in refused["text"].lower()
    # a «Xem lại số» button for each number still held, none issued
    assert refused["buttons"] == [{"title": render("action.queue.button_review", label=label),
                                   "payload": review_payload(label)} for label in ("B001", "A001")]
    assert issued(await ask(act, "telegram:B", "telegram", "TN")) == "T001"
    # a number still held is shown again, limit or not: it is not a new one
    again = await ask(act, "telegram:A", "telegram", "HT")
    assert again["text"].startswith(render("action.queue.holding", label="A001", service="Hộ tịch"))
    assert [t.label for t in tickets(database_url)] == ["A001", "B001", "T001"]
    assert {t.origin for t in tickets(database_url)} == {None}  # a platform: no address at all


async def test_the_window_slides_and_the_wait_counts_down(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock, chat_tickets_per_sender=1, chat_ticket_window_minutes=30)
    assert issued(await ask(act, "zalo:9", "zalo", "HT"))
    clock.advance(minutes=12)
    assert (await ask(act, "zalo:9", "zalo", "CT"))["text"] == render("queue.limit_sender", count=1, window=30, wait=18)
    clock.advance(minutes=18)
    assert issued(await ask(act, "zalo:9", "zalo", "CT")) == "B001"


async def test_one_address_is_limited_across_sessions_and_channels_and_its_address_is_not_kept(
        tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock, chat_tickets_per_address=4)
    labels = [issued(await ask(act, f"web:session-{i}", "web", origin=ORIGIN)) for i in range(3)]
    labels.append(issued(await ask(act, "rest:someone", "rest", origin=ORIGIN)))
    assert labels == ["T001", "T002", "T003", "T004"]
    for sender, channel in (("web:session-9", "web"), ("rest:other", "rest"), ("kiosk:page", "kiosk")):
        refused = await ask(act, sender, channel, origin=ORIGIN)
        assert refused["text"] == render("queue.limit_address", count=4, window=60, wait=60)
        assert refused["buttons"] == []  # this conversation holds nothing
    assert issued(await ask(act, "web:neighbour", "web", origin=origin_of("203.0.113.8", "s" * 40))) == "T005"
    assert issued(await ask(act, "kiosk:enrolled", "kiosk")) == "T006"  # an enrolled kiosk sends no origin
    rows = tickets(database_url)
    assert [t.origin for t in rows[:4]] == [ORIGIN] * 4 and rows[5].origin is None
    assert not any("203.0.113" in (t.origin or "") for t in rows)


async def test_a_kiosk_session_is_one_conversation_however_many_people_it_serves(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock, chat_tickets_per_sender=3)
    labels = [issued(await ask(act, "kiosk:s1", "kiosk")) for _ in range(4)]
    assert labels == ["T001", "T002", "T003", ""]  # each request a new number, three a session
    assert issued(await ask(act, "kiosk:s2", "kiosk")) == "T004"  # the kiosk's next session


@pytest.mark.parametrize("channel", ["kiosk", "web"])
def test_simultaneous_requests_cannot_slip_under_the_limit(database_url, clock, channel):
    service = QueueService(SMALL_CENTRE, clock=clock)
    with session_scope(database_url) as session:
        from motcua.queue.service import seed_queue

        seed_queue(session, SMALL_CENTRE)
    limits = ChatTicketLimits(per_sender=2, per_origin=2)
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def take(i: int) -> None:
        # kiosk: one session, a new person each time (sender bound); web: six sessions, one address
        requester = (Requester("kiosk", "kiosk:one") if channel == "kiosk"
                     else Requester("web", f"web:s{i}", ORIGIN))
        start.wait()
        try:
            with session_scope(database_url) as session:
                outcomes.append(service.issue_for_chat(session, "TN", requester=requester, limits=limits).ticket.label)
        except TicketLimitReached:
            outcomes.append("refused")

    threads = [threading.Thread(target=take, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["T001", "T002"] + ["refused"] * 4
    assert len(tickets(database_url)) == 2
