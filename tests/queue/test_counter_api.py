"""The counter page's reading API (bot/routes/counter.py) and what a call tells the called citizen."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from bot.notifications import NotificationRelay
from bot.routes import counter
from knowledge_base.messages import render
from motcua.db import session_scope, shared_database
from motcua.queue.service import QueueError
from tests.bot.test_notifications import FakeNotifier
from tests.queue.test_queue_api import HTTPS, add_counter_staff, make_app, signed_in


def counter_app(tmp_path, database_url, clock, **kw):
    """The gateway as tests/queue/test_queue_api.py builds it, with the counter page's router
    (bot/app.py will include it as the other routers)."""
    app = make_app(tmp_path, database_url, clock, **kw)
    app.include_router(counter.router)
    return app


@pytest.fixture
def client(tmp_path, database_url, clock):
    add_counter_staff(database_url)
    with TestClient(counter_app(tmp_path, database_url, clock), base_url=HTTPS) as client:
        yield client


def issue(client, service, priority=""):
    body = {"service": service, "priority": priority, "channel": "staff"}
    response = client.post("/api/v1/queue/staff/tickets", json=body)
    assert response.status_code == 200, response.text
    return response.json()["ticket"]["label"]


def test_the_page_and_its_api_need_a_signed_in_staff_member(client):
    page = client.get("/staff/counter", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/staff/login?next=/staff/counter"
    for url in ("/api/v1/staff/counters", "/api/v1/staff/counters/1"):
        assert client.get(url).status_code == 401, url
    signed_in(client)
    html = client.get("/staff/counter").text
    assert '<html lang="vi">' in html and "/static/staff/counter.js" in html and "<kbd>N</kbd>" in html
    assert "{{CENTER_NAME}}" not in html
    assert client.get("/static/staff/counter.js").status_code == 200
    assert client.get("/static/staff/counter.css").status_code == 200


def test_the_counters_are_listed_to_choose_from(client):
    signed_in(client)
    client.post("/api/v1/queue/counters/2/pause")
    listed = client.get("/api/v1/staff/counters").json()
    assert [(c["number"], c["name"], c["status"]) for c in listed] == [
        (1, "Quầy số 1", "open"), (2, "Quầy số 2", "paused"), (3, "Quầy số 3", "open")]


def test_a_counter_sees_its_own_line_in_calling_order_with_the_minutes_waited(client, clock):
    signed_in(client)
    issue(client, "HT")                 # A001 at 08:00
    clock.advance(minutes=5)
    issue(client, "HT", "cao_tuoi")     # A002, a priority: called first
    issue(client, "CT")                 # B001: not a service of counter 1
    clock.advance(minutes=7)
    one = client.get("/api/v1/staff/counters/1").json()
    assert (one["name"], one["status"], one["current"]) == ("Quầy số 1", "open", None)
    assert one["services"] == [{"code": "HT", "name": "Hộ tịch"}]
    assert [(t["label"], t["waited_min"], t["priority_name"], t["issued_time"]) for t in one["waiting"]] == [
        ("A002", 7, "Người cao tuổi", "08:05"), ("A001", 12, "", "08:00")]
    assert [t["label"] for t in client.get("/api/v1/staff/counters/2").json()["waiting"]] == ["A002", "A001", "B001"]
    assert [s["code"] for s in one["transfer_services"]] == ["HT", "CT", "TN"]
    assert [c["number"] for c in one["counters"]] == [1, 2, 3]

    client.post("/api/v1/queue/counters/1/call-next")
    clock.advance(minutes=3)
    one = client.get("/api/v1/staff/counters/1").json()
    current = one["current"]
    assert (current["label"], current["status"], current["status_text"]) == ("A002", "called", "Đang được mời")
    assert current["waited_min"] == 7  # until it was called, not until now
    assert [t["label"] for t in one["waiting"]] == ["A001"]


def test_a_number_sent_to_another_counter_waits_in_that_counter_s_line_only(client):
    signed_in(client)
    issue(client, "HT")
    client.post("/api/v1/queue/counters/1/call-next")
    moved = client.post("/api/v1/queue/counters/1/transfer", json={"counter": 3}).json()
    assert (moved["label"], moved["status"], moved["target_counter"]) == ("A001", "waiting", 3)
    three = client.get("/api/v1/staff/counters/3").json()["waiting"]
    assert [(t["label"], t["target_counter"]) for t in three] == [("A001", 3)]
    assert client.get("/api/v1/staff/counters/1").json()["waiting"] == []
    assert client.get("/api/v1/staff/counters/2").json()["waiting"] == []  # HT, but sent to counter 3


def test_an_unknown_counter_is_a_vietnamese_404(client):
    signed_in(client)
    for number in (9, 0, 5000):
        answer = client.get(f"/api/v1/staff/counters/{number}")
        assert answer.status_code == 404 and answer.json()["detail"] == f"Không có quầy số {number}."


def test_the_errors_the_page_shows_are_plain_vietnamese(client):
    signed_in(client)
    nobody = client.post("/api/v1/queue/counters/1/call-next").json()
    assert nobody["ticket"] is None and nobody["message"] == "Hiện không còn ai chờ ở quầy này."
    recall = client.post("/api/v1/queue/counters/1/recall")
    assert recall.status_code == 409 and recall.json()["detail"] == "Quầy số 1 không có số nào đang được mời."
    issue(client, "HT")
    client.post("/api/v1/queue/counters/1/call-next")
    client.post("/api/v1/queue/counters/1/start")
    absent = client.post("/api/v1/queue/counters/1/no-show")
    assert absent.status_code == 409
    assert absent.json()["detail"] == ("Quầy số 1: số A001 đang được phục vụ; "
                                       "thao tác này chỉ dùng khi số đang được mời.")


# --- the service: the called citizen is told through their own channel --------------------------------

def op(url, service, name, *args, **kw):
    with session_scope(url) as session:
        return getattr(service, name)(session, *args, **kw)


def your_turn(label: str, counter: int) -> str:
    return render("notify.queue.your_turn", label=label, counter=counter)


def test_the_called_citizen_is_told_on_their_channel_on_each_call_and_recall(queue, sent, monkeypatch):
    monkeypatch.setattr("motcua.queue.service.sms_configured", lambda: True)  # an SMS sender is configured
    url, service = queue
    op(url, service, "issue", "HT", channel="telegram", sender_id="telegram:42")  # A001: told «next» at issue
    op(url, service, "issue", "HT", channel="kiosk", phone="0912345678")           # A002: by SMS
    op(url, service, "issue", "HT", channel="kiosk")                               # A003: in the hall only
    assert sent.messages == []
    op(url, service, "call_next", 1)
    assert sent.messages == [("telegram", "telegram:42", "Dạ, đến lượt ông/bà: mời số A001 đến quầy số 1.")]
    op(url, service, "recall", 1)
    assert sent.messages[1:] == [("telegram", "telegram:42", your_turn("A001", 1))]
    op(url, service, "call_next", 2)
    assert sent.messages[2:] == [("sms", "0912345678", your_turn("A002", 2))]
    op(url, service, "call_next", 1)  # A003 from the kiosk, no phone: nobody to tell
    assert len(sent.messages) == 3


def _until(condition, seconds: float = 2.0) -> bool:
    ends = time.monotonic() + seconds
    while not condition() and time.monotonic() < ends:
        time.sleep(0.02)
    return condition()


def test_a_call_and_a_recall_reach_the_citizen_s_channel_without_waiting_for_the_relay_s_pass(
        tmp_path, database_url, clock):
    add_counter_staff(database_url)
    with TestClient(counter_app(tmp_path, database_url, clock), base_url=HTTPS) as client:
        # the app's relay is replaced by one that would pass only once an hour, sending to a fake platform
        client.portal.call(client.app.state.services.relay.stop)
        phone = FakeNotifier()
        relay = NotificationRelay(shared_database(database_url), phone, interval_s=3600)
        client.portal.call(relay.start)
        try:
            signed_in(client)
            body = {"service": "HT", "channel": "telegram", "sender_id": "telegram:42"}
            assert client.post("/api/v1/queue/staff/tickets", json=body).status_code == 200  # A001
            time.sleep(0.3)
            assert phone.sent == []  # nothing to say yet: A001 is next, not called
            assert client.post("/api/v1/queue/counters/1/call-next").json()["ticket"]["label"] == "A001"
            assert _until(lambda: len(phone.sent) == 1)
            assert phone.sent == [("telegram", "telegram:42", your_turn("A001", 1))]
            assert client.post("/api/v1/queue/counters/1/recall").status_code == 200
            assert _until(lambda: len(phone.sent) == 2)
            assert phone.sent[1] == ("telegram", "telegram:42", your_turn("A001", 1))
        finally:
            client.portal.call(relay.stop)


def test_the_waiting_line_of_a_counter_follows_its_calling_order(queue, clock):
    url, service = queue
    op(url, service, "issue", "HT", channel="kiosk")                        # A001
    op(url, service, "issue", "CT", channel="kiosk")                        # B001
    op(url, service, "issue", "HT", channel="kiosk", priority="khuyet_tat")  # A002
    with session_scope(url) as session:
        assert [t.label for t in service.waiting_for_counter(session, 1)] == ["A002", "A001"]
        assert [t.label for t in service.waiting_for_counter(session, 2)] == ["A002", "A001", "B001"]
        with pytest.raises(QueueError, match="Không có quầy số 7"):
            service.waiting_for_counter(session, 7)
    called = op(url, service, "call_next", 2).ticket
    with session_scope(url) as session:
        assert called.label == "A002"
        assert [t.label for t in service.waiting_for_counter(session, 2)] == ["A001", "B001"]
