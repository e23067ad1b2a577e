"""Who is called next, staff operations, the events they leave, wait estimates, near-turn messages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.queue.models import QueueEvent, QueueNotification
from motcua.queue.service import OutboxNotifier, QueueError, QueueService
from tests.queue.queue_fakes import SMALL_CENTRE


def issue(url, service, code="HT", priority="", **kw):
    with session_scope(url) as session:
        return service.issue(session, code, channel=kw.pop("channel", "kiosk"), priority=priority, **kw).ticket


def op(url, service, name, *args, **kw):
    with session_scope(url) as session:
        return getattr(service, name)(session, *args, **kw)


def calls(url, service, counter, times):
    labels = []
    for _ in range(times):
        result = op(url, service, "call_next", counter)
        labels.append(result.ticket.label if result.ticket else None)
    return labels


def test_higher_priority_weight_is_called_first_then_the_earliest(queue, clock):
    url, service = queue
    for priority in ("", "con_nho", "", "khuyet_tat", "cao_tuoi"):
        issue(url, service, "HT", priority)
        clock.advance(minutes=1)
    # A004 (weight 3), A005 (2), A002 (1), then the ordinary ones A001, A003 — the guard is per counter,
    # so two counters share the work and no counter makes more than 2 priority calls in a row.
    assert calls(url, service, 1, 1) + calls(url, service, 2, 1) == ["A004", "A005"]
    assert calls(url, service, 1, 3) == ["A002", "A001", "A003"]


def test_after_n_priority_calls_in_a_row_an_ordinary_ticket_is_called(queue, clock):
    url, service = queue  # anti_starvation = 2 in the small centre
    issue(url, service, "HT")  # A001 ordinary, the earliest
    for _ in range(5):
        clock.advance(minutes=1)
        issue(url, service, "HT", "cao_tuoi")  # A002..A006
    issue(url, service, "HT")  # A007 ordinary
    assert calls(url, service, 1, 8) == ["A002", "A003", "A001", "A004", "A005", "A007", "A006", None]
    with session_scope(url) as session:
        guarded = [e.label for e in session.scalars(select(QueueEvent).where(QueueEvent.kind == "called"))
                   if e.detail.get("anti_starvation")]
    assert guarded == ["A001", "A007"]


def test_a_counter_calls_only_from_the_services_it_serves(queue):
    url, service = queue
    issue(url, service, "CT")
    issue(url, service, "HT")
    assert calls(url, service, 1, 2) == ["A001", None]  # counter 1 serves HT only
    assert calls(url, service, 3, 1) == ["B001"]


def test_call_next_finishes_the_current_ticket_and_records_every_step(queue, clock):
    url, service = queue
    issue(url, service)
    issue(url, service)
    first = op(url, service, "call_next", 1, actor="lan")
    assert first.announcement == "Mời số A001 đến quầy số 1"
    clock.advance(seconds=30)
    op(url, service, "recall", 1)
    op(url, service, "start", 1)
    clock.advance(minutes=6)
    second = op(url, service, "call_next", 1)
    assert second.previous.label == "A001" and second.previous.status == "done"
    op(url, service, "start", 1)
    clock.advance(minutes=4)
    done = op(url, service, "finish", 1)
    assert done.status == "done"
    with pytest.raises(QueueError, match="không có số"):
        op(url, service, "finish", 1)
    with session_scope(url) as session:
        events = session.scalars(select(QueueEvent).order_by(QueueEvent.id)).all()
        stats = {s.service_code: s for s in service.stats(session)}
    assert [(e.kind, e.label) for e in events] == [
        ("issued", "A001"), ("issued", "A002"), ("called", "A001"), ("recalled", "A001"), ("started", "A001"),
        ("finished", "A001"), ("called", "A002"), ("started", "A002"), ("finished", "A002")]
    assert events[2].actor == "lan" and events[2].counter_number == 1
    assert all(e.at is not None for e in events)
    assert stats["HT"].served == 2 and stats["HT"].mean_service_min == 5.0


def test_no_show_closes_the_number_and_the_next_call_moves_on(queue):
    url, service = queue
    issue(url, service)
    issue(url, service)
    op(url, service, "call_next", 1)
    with pytest.raises(QueueError):
        op(url, service, "start", 2)  # counter 2 has called nobody
    absent = op(url, service, "no_show", 1)
    assert absent.status == "no_show"
    nxt = op(url, service, "call_next", 1)
    assert nxt.previous is None and nxt.ticket.label == "A002"
    with session_scope(url) as session:
        assert service.ticket_by_label(session, "A001").status == "no_show"
        assert [s.no_show for s in service.stats(session) if s.service_code == "HT"] == [1]


def test_transfer_to_another_service_keeps_the_number_and_its_place(queue, clock):
    url, service = queue
    a1 = issue(url, service, "HT")
    clock.advance(minutes=1)
    issue(url, service, "CT")  # B001, issued after A001
    op(url, service, "call_next", 1)
    op(url, service, "start", 1)
    moved = op(url, service, "transfer", 1, to_service="CT")
    assert (moved.label, moved.service_code, moved.status) == ("A001", "CT", "waiting")
    assert calls(url, service, 1, 1) == [None]
    assert calls(url, service, 3, 2) == ["A001", "B001"]  # earlier issue time keeps its place
    with session_scope(url) as session:
        event = session.scalar(select(QueueEvent).where(QueueEvent.kind == "transferred"))
        assert event.detail["from_service"] == "HT" and event.detail["to_service"] == "CT"
        assert service.ticket(session, a1.token).counter_number == 3


def test_transfer_to_a_counter_is_called_only_there(queue):
    url, service = queue
    issue(url, service, "HT")
    issue(url, service, "HT")
    op(url, service, "call_next", 1)
    op(url, service, "transfer", 1, to_counter=2)
    assert calls(url, service, 1, 2) == ["A002", None]
    assert calls(url, service, 2, 1) == ["A001"]
    with pytest.raises(QueueError):
        op(url, service, "transfer", 2)


def test_a_paused_counter_calls_nobody_until_resumed(queue):
    url, service = queue
    issue(url, service)
    paused = op(url, service, "pause", 1)
    assert paused.status == "paused"
    with pytest.raises(QueueError, match="tạm dừng"):
        op(url, service, "call_next", 1)
    op(url, service, "resume", 1)
    assert calls(url, service, 1, 1) == ["A001"]
    with session_scope(url) as session:
        kinds = [(e.kind, e.counter_number) for e in service.events(session, kinds=("paused", "resumed"))]
    assert kinds == [("paused", 1), ("resumed", 1)]


def test_wait_estimate_uses_people_ahead_open_counters_and_todays_service_time(queue, clock):
    url, service = queue
    with session_scope(url) as session:
        empty = service.estimate(session, "HT")
    assert (empty.ahead, empty.minutes, empty.open_counters, empty.from_history) == (0, 0, 2, False)
    for _ in range(4):
        issue(url, service, "HT")
    with session_scope(url) as session:
        default = service.estimate(session, "HT")
    assert (default.ahead, default.minutes_per_person, default.minutes) == (4, 10.0, 20)  # 4 × 10 min ÷ 2 counters
    for _ in range(3):  # three services of 4 minutes each at counter 1
        op(url, service, "call_next", 1)
        op(url, service, "start", 1)
        clock.advance(minutes=4)
        op(url, service, "finish", 1)
    op(url, service, "pause", 2)
    for _ in range(3):
        issue(url, service, "HT")
    with session_scope(url) as session:
        learned = service.estimate(session, "HT")
    assert (learned.ahead, learned.open_counters, learned.from_history) == (4, 1, True)
    assert (learned.minutes_per_person, learned.minutes) == (4.0, 16)
    assert "16 phút" in learned.describe()


def test_a_remote_citizen_is_told_once_when_three_are_ahead(queue, sent):
    url, service = queue
    for _ in range(5):
        issue(url, service)  # A001..A005 from the kiosk
    mine = issue(url, service, channel="telegram", sender_id="telegram:777")  # A006, 5 ahead
    issue(url, service, channel="zalo", sender_id="zalo:1")  # A007, 6 ahead
    op(url, service, "call_next", 1)  # 4 ahead of A006
    assert sent.messages == []
    op(url, service, "call_next", 1)  # 3 ahead
    assert sent.messages == [("telegram", "telegram:777",
                              "Số A006 (Hộ tịch) sắp đến lượt: còn 3 người phía trước. "
                              "Mời ông/bà có mặt tại Trung tâm và chú ý bảng gọi số.")]
    for _ in range(3):
        op(url, service, "call_next", 1)
    assert [m[1] for m in sent.messages] == ["telegram:777", "zalo:1"]
    op(url, service, "call_next", 1)  # A006 itself: told it is called (tests/queue/test_counter_api.py)
    assert sent.messages[2:] == [("telegram", "telegram:777",
                                  render("notify.queue.your_turn", label="A006", counter=1))]
    with session_scope(url) as session:
        assert service.ticket(session, mine.token).status == "called"
        notified = session.scalars(select(QueueEvent).where(QueueEvent.kind == "notified")).all()
    assert [(e.label, e.detail["ahead"]) for e in notified] == [("A006", 3), ("A007", 3)]


def test_a_citizen_already_near_the_front_is_not_messaged_again(queue, sent):
    url, service = queue
    issue(url, service)
    issue(url, service, channel="telegram", sender_id="telegram:5")  # 1 ahead: the reply at issue said so
    op(url, service, "call_next", 1)
    assert sent.messages == []


def test_the_default_notifier_writes_the_outbox(database_url, clock):
    from motcua.queue.service import seed_queue

    with session_scope(database_url) as session:
        seed_queue(session, SMALL_CENTRE)
    service = QueueService(SMALL_CENTRE, clock=clock)  # OutboxNotifier
    for n in range(5):
        with session_scope(database_url) as session:
            service.issue(session, "HT", channel="zalo" if n == 4 else "kiosk", sender_id="zalo:9" if n == 4 else None)
    with session_scope(database_url) as session:
        service.call_next(session, 1)
    with session_scope(database_url) as session:
        rows = session.scalars(select(QueueNotification)).all()
    assert [(r.channel, r.sender_id, r.sent_at) for r in rows] == [("zalo", "zalo:9", None)]
    assert "A005" in rows[0].text and isinstance(OutboxNotifier(None), OutboxNotifier)


def test_two_counters_calling_at_once_never_get_the_same_ticket(queue):
    from concurrent.futures import ThreadPoolExecutor

    url, service = queue
    for _ in range(40):
        issue(url, service, "HT")

    def counter(number):
        got = []
        for _ in range(25):
            result = op(url, service, "call_next", number)
            if result.ticket:
                got.append(result.ticket.label)
        return got

    with ThreadPoolExecutor(2) as pool:
        one, two = pool.map(counter, (1, 2))
    assert sorted(one + two) == [f"A{n:03d}" for n in range(1, 41)]
    assert not set(one) & set(two)
