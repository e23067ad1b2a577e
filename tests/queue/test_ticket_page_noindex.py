"""The ticket's status page is reached by the secret token printed in the ticket's QR code: search engines
are told to keep it (and its «not found» answer) out of their index, in the header and in the page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.queue.test_queue_api import HTTPS, make_app

ROBOTS_META = '<meta name="robots" content="noindex, nofollow">'


def test_the_ticket_page_and_its_not_found_answer_are_not_indexed(tmp_path, database_url, clock):
    with TestClient(make_app(tmp_path, database_url, clock), base_url=HTTPS) as client:
        token = client.post("/api/v1/queue/tickets", json={"service": "HT", "print": False}).json()["ticket"]["token"]
        page = client.get(f"/queue/ticket/{token}")
        missing = client.get("/queue/ticket/not-a-token")
    assert page.status_code == 200 and missing.status_code == 404
    for answer in (page, missing):
        assert answer.headers["x-robots-tag"] == "noindex, nofollow"
        assert answer.text.count(ROBOTS_META) == 1 and answer.text.index(ROBOTS_META) < answer.text.index("</head>")
    assert page.headers["cache-control"] == "no-store"
