"""The ticket's status page (opened from the QR code on a citizen's own phone) and the queue's answers
to a citizen speak from the catalogue, in the phone's language."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from knowledge_base.messages import render
from tests.queue.test_queue_api import HTTPS, make_app


def test_the_ticket_page_follows_the_phones_language(tmp_path, database_url, clock):
    with TestClient(make_app(tmp_path, database_url, clock), base_url=HTTPS) as client:
        client.post("/api/v1/queue/tickets", json={"service": "HT", "print": False})
        token = client.post("/api/v1/queue/tickets", json={"service": "HT", "print": False}).json()["ticket"]["token"]
        vietnamese = client.get(f"/queue/ticket/{token}").text
        english = client.get(f"/queue/ticket/{token}", headers={"Accept-Language": "en-US,en;q=0.9"})
        asked = client.get(f"/queue/ticket/{token}?lang=en", headers={"Accept-Language": "vi"}).text
        missing = client.get("/queue/ticket/nope?lang=en")
    assert '<html lang="vi">' in vietnamese
    assert render("page.ticket.ahead") in vietnamese and render("page.ticket.ahead_people", count=1) in vietnamese
    assert html.escape(render("page.ticket.refresh_note")) in vietnamese
    assert english.headers["vary"] == "Accept-Language"
    for page in (english.text, asked):
        assert '<html lang="en">' in page and "<title>Number A002</title>" in page
        assert "<th>People ahead</th><td>1</td>" in page and "<th>Service</th>" in page
        assert render("page.ticket.ahead") not in page
    assert missing.status_code == 404 and "<title>Not found</title>" in missing.text


def test_the_kiosks_ticket_answer_comes_from_the_catalogue(tmp_path, database_url, clock):
    with TestClient(make_app(tmp_path, database_url, clock), base_url=HTTPS) as client:
        body = client.post("/api/v1/queue/tickets", json={"service": "HT", "print": False}).json()
        english = client.post("/api/v1/queue/tickets?lang=en", json={"service": "HT", "print": False}).json()
    assert body["message"] == render("page.queue.ticket_issued", label="A001", service="Hộ tịch",
                                     estimate=body["estimate"]["text"])
    assert english["message"].startswith("Your queue number: A002 — Hộ tịch.")
