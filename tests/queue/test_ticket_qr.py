"""``GET /api/v1/queue/tickets/{token}/qr.svg``: the QR code of a ticket's status page, for the kiosk's card."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from fastapi.testclient import TestClient

from tests.queue.test_queue_api import make_app

PUBLIC = "https://motcua.example"


def status_qr(url: str) -> bytes:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def test_the_qr_code_of_a_ticket_encodes_its_status_page(tmp_path, database_url, clock):
    with TestClient(make_app(tmp_path, database_url, clock, public_url=PUBLIC)) as client:
        ticket = client.post("/api/v1/queue/tickets", json={"service": "HT", "print": False}).json()["ticket"]
        response = client.get(f"/api/v1/queue/tickets/{ticket['token']}/qr.svg")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert response.content.lstrip().startswith(b"<?xml") and b"<svg" in response.content
        assert ticket["status_url"] == f"{PUBLIC}/queue/ticket/{ticket['token']}"
        assert response.content == status_qr(ticket["status_url"])  # the same code as the status page's address
        assert response.content != status_qr(f"{PUBLIC}/queue/ticket/other")
        # the status page it points at exists
        assert client.get(f"/queue/ticket/{ticket['token']}").status_code == 200


def test_no_qr_code_for_a_ticket_that_does_not_exist(tmp_path, database_url, clock):
    with TestClient(make_app(tmp_path, database_url, clock, public_url=PUBLIC)) as client:
        response = client.get("/api/v1/queue/tickets/no-such-token/qr.svg")
        assert response.status_code == 404
        assert "svg" not in response.headers["content-type"]
