"""Statuses and event kinds: enums in Python, their plain values in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.queue.models import CounterStatus, EventKind, QueueTicket, TicketStatus
from motcua.queue.service import QueueNotFound


def test_a_ticket_goes_through_its_statuses_as_enums_stored_as_their_values(queue):
    url, service = queue
    with session_scope(url) as session:
        issued = service.issue(session, "HT", channel="kiosk").ticket
    assert issued.status is TicketStatus.WAITING and issued.status_text == "Đang chờ"
    with session_scope(url) as session:
        called = service.call_next(session, 1).ticket
    with session_scope(url) as session:
        serving = service.start(session, 1)
    with session_scope(url) as session:
        done = service.finish(session, 1)
    assert [called.status, serving.status, done.status] == [TicketStatus.CALLED, TicketStatus.SERVING,
                                                            TicketStatus.DONE]
    assert done.status_text == "Đã xong"
    with session_scope(url) as session:
        row = session.get(QueueTicket, issued.id)
        assert row.status is TicketStatus.DONE
        stored = session.execute(text("SELECT status FROM queue_tickets WHERE id = :id"), {"id": issued.id}).scalar()
        kinds = session.execute(text("SELECT kind FROM queue_events ORDER BY id")).scalars().all()
        events = [e.kind for e in service.events(session)]
    assert type(stored) is str and stored == "done"
    assert kinds == ["issued", "called", "started", "finished"]
    assert events == [EventKind.ISSUED, EventKind.CALLED, EventKind.STARTED, EventKind.FINISHED]
    assert all(type(kind) is EventKind for kind in events)


def test_a_paused_counter_reads_back_paused_and_the_board_shows_it(queue):
    url, service = queue
    with session_scope(url) as session:
        assert service.pause(session, 2, actor="can_bo").status is CounterStatus.PAUSED
    with session_scope(url) as session:
        board = service.board(session)
        stored = session.execute(text("SELECT status FROM queue_counters WHERE number = 2")).scalar()
    assert {c.number: c.status for c in board.counters} == {1: "open", 2: "paused", 3: "open"}
    assert stored == "paused"


def test_an_event_of_an_unknown_kind_is_refused_and_a_known_one_given_as_text_is_kept(queue):
    url, service = queue
    with pytest.raises(ValueError, match="print_jammed"):
        with session_scope(url) as session:
            service.record(session, "print_jammed")
    with session_scope(url) as session:
        service.record(session, "print_failed", actor="kiosk", message="hết giấy")
    with session_scope(url) as session:
        events = service.events(session, kinds=["print_failed"])
        assert [(e.kind, e.detail) for e in events] == [(EventKind.PRINT_FAILED, {"message": "hết giấy"})]


def test_a_status_outside_the_enum_is_refused_when_written(queue):
    url, service = queue
    with session_scope(url) as session:
        ticket = service.issue(session, "HT", channel="kiosk").ticket
    with pytest.raises(StatementError, match="lost"):
        with session_scope(url) as session:
            session.get(QueueTicket, ticket.id).status = "lost"
    with session_scope(url) as session:
        assert session.get(QueueTicket, ticket.id).status is TicketStatus.WAITING


def test_a_ticket_status_s_name_and_the_citizen_s_refusals_come_from_the_catalogue(queue):
    url, service = queue
    for status in TicketStatus:
        assert status.label == render(f"status.ticket.{status.value}") == status.label_in("vi")
    assert TicketStatus.NO_SHOW.label == "Vắng mặt khi gọi"
    with session_scope(url) as session, pytest.raises(QueueNotFound) as refused:
        service.issue(session, "XX", channel="kiosk")
    assert str(refused.value) == render("queue.service_unavailable", service="XX")
    assert "«XX»" in str(refused.value)
    with session_scope(url) as session, pytest.raises(QueueNotFound) as missing:
        service.ticket(session, "no-such-token")
    assert str(missing.value) == render("queue.ticket_not_found")
