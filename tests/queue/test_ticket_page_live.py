"""The ticket's status page is live: its stream (the board's, filtered to one ticket) says when the
number is called; the page carries no placeholder, and offers the service rating once served."""

from __future__ import annotations

import html
import json

import httpx
from fastapi.testclient import TestClient

from knowledge_base.messages import render
from tests.queue.test_queue_api import HTTPS, STAFF, add_counter_staff, make_app, signed_in
from tests.servers import serve_in_thread


def _next_ticket(lines) -> dict:
    for line in lines:
        if line.startswith("data: "):
            return json.loads(line[len("data: "):])
    raise AssertionError("stream ended")


def test_the_page_has_no_placeholder_and_shows_the_rating_form_only_when_served(tmp_path, database_url, clock):
    add_counter_staff(database_url)
    with TestClient(make_app(tmp_path, database_url, clock), base_url=HTTPS) as client:
        token = client.post("/api/v1/queue/tickets", json={"service": "HT", "print": False}).json()["ticket"]["token"]
        waiting = client.get(f"/queue/ticket/{token}").text
        signed_in(client)
        client.post("/api/v1/queue/counters/1/call-next", headers=STAFF)
        called = client.get(f"/queue/ticket/{token}").text
        client.post("/api/v1/queue/counters/1/start", headers=STAFF)
        client.post("/api/v1/queue/counters/1/finish", headers=STAFF)
        done = client.get(f"/queue/ticket/{token}?lang=en").text
        rated = client.post("/api/v1/ratings", json={"kind": "service", "score": 5, "channel": "queue",
                                                     "session": token[:64], "counter": "1"})
    for page in (waiting, called, done):
        assert "sẽ có tại đây" not in page and "will be possible here" not in page
        assert '<script src="/static/ticket.js"></script>' in page and 'http-equiv="refresh"' in page  # noscript
    assert '<div id="called" class="ticket-called" role="alert" hidden></div>' in waiting
    assert '<form id="rating" class="ticket-rating" hidden>' in waiting
    banner = html.escape(render("page.ticket.called_banner", label="A001", counter=1))
    assert f'<div id="called" class="ticket-called" role="alert">{banner}</div>' in called
    assert '<form id="rating" class="ticket-rating">' in done and "Please rate the service you received" in done
    assert rated.status_code == 201


def test_the_ticket_stream_tells_the_page_when_its_number_is_called(tmp_path, database_url, clock):
    app = make_app(tmp_path, database_url, clock, public_url="")  # plain http: cookies are not Secure
    add_counter_staff(database_url)
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        signed_in(http)
        http.post("/api/v1/queue/tickets", json={"service": "HT", "print": False})
        token = http.post("/api/v1/queue/tickets", json={"service": "HT", "print": False}).json()["ticket"]["token"]
        assert http.get("/api/v1/queue/tickets/no-such-token/stream").status_code == 404
        with http.stream("GET", f"/api/v1/queue/tickets/{token}/stream") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            first = _next_ticket(lines)
            http.post("/api/v1/queue/counters/1/call-next", headers=STAFF)  # A001, not this one
            ahead = _next_ticket(lines)
            http.post("/api/v1/queue/counters/3/call-next", headers=STAFF)  # a counter of another service
            http.post("/api/v1/queue/counters/1/call-next", headers=STAFF)  # A002: this ticket
            called = _next_ticket(lines)
            http.post("/api/v1/queue/counters/1/recall", headers=STAFF)
            recalled = _next_ticket(lines)
    assert (first["label"], first["status"], first["ahead"], first["called"]) == ("A002", "waiting", 1, False)
    assert first["ahead_text"] == render("page.ticket.ahead_people", count=1) and first["banner"] == ""
    assert (ahead["ahead"], ahead["called"]) == (0, False)
    assert called["called"] is True and called["counter"] == 1
    assert called["banner"] == render("page.ticket.called_banner", label="A002", counter=1)
    assert recalled["called"] is True and recalled["call"] != called["call"]  # a recall rings again
