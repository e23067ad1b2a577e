"""A walk of the whole route table proves who may call every route.

Each route of the gateway is one of:

- **staff** / **admin**: guarded by ``require_staff`` / ``require_admin`` (found through the
  route's dependencies; ``tests/staff/test_staff_route_guards.py`` checks anonymous, forged and
  wrong-role callers on every one of them);
- one of the **open** routes listed in :data:`OPEN_ROUTES` below, each with what protects it;
  the walk fails on any route that is neither, so a new route cannot go out unreviewed.

Then every open route is called anonymously, with no key, no signature and no second factor,
and must answer as its protection says — and never with a server error.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bot.app import create_app
from bot.auth import require_admin, require_staff
from motcua.settings import Settings
from tests.channels.conftest import channel_settings
from tests.staff.test_staff_route_guards import dependency_calls

# (method, path) → (who may call it, what the anonymous probe must get)
PUBLIC = "public"  # pages and data meant for anyone; nothing personal in them
CITIZEN = "second factor"  # a dossier: safe fields only, unless the code comes with a PIN or CCCD + phone
DEVICE = "device key or staff"  # kiosks, printers, boards (motcua devices add) or a signed-in staff member
SIGNED = "platform signature"  # Telegram's secret token, Zalo's X-ZEvent-Signature
LINK = "link token"  # a random, expiring, revocable token given to the citizen who filed
CAPABILITY = "ticket token"  # the unguessable token printed on one ticket
SIGN_IN = "sign-in"  # the sign-in form itself, throttled per address and per (address, name)

OPEN_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/kiosk"): PUBLIC,
    ("GET", "/board"): PUBLIC,
    ("GET", "/c/{center}/kiosk"): PUBLIC,  # one centre's kiosk and board (motcua centers); 404 for no such centre
    ("GET", "/c/{center}/board"): PUBLIC,
    ("GET", "/health"): PUBLIC,
    ("GET", "/kiosk/enrol"): PUBLIC,  # a form; only a valid device key sets the device cookie
    ("POST", "/kiosk/enrol"): PUBLIC,
    ("POST", "/api/v1/messages"): PUBLIC,  # the chat, limited per sender and per address
    ("GET", "/api/v1/messages"): PUBLIC,  # the citizen pages' words from the catalogue (the web widget)
    ("GET", "/api/v1/widget/allowed"): PUBLIC,  # may the asking page's site embed the widget, and its words
    ("WEBSOCKET", "/ws/kiosk"): PUBLIC,
    ("WEBSOCKET", "/ws/widget"): PUBLIC,
    ("WEBSOCKET", "/ws/kiosk/events"): PUBLIC,  # notices for its own session; scans only for an enrolled kiosk
    ("POST", "/api/v1/tts"): PUBLIC,  # read-aloud of a text the caller sends, limited per address
    ("POST", "/api/v1/ratings"): PUBLIC,
    ("GET", "/api/v1/queue/services"): PUBLIC,
    ("GET", "/api/v1/queue/priorities"): PUBLIC,
    ("GET", "/api/v1/queue/board"): PUBLIC,
    ("GET", "/api/v1/queue/stream"): PUBLIC,
    ("POST", "/api/v1/queue/tickets"): PUBLIC,  # plain numbers only; a priority group needs DEVICE
    ("GET", "/api/v1/legal/{document}/articles/{article}"): PUBLIC,
    ("GET", "/phap-luat/{document}/{article}"): PUBLIC,
    ("GET", "/queue/ticket/{token}"): CAPABILITY,
    ("GET", "/api/v1/queue/tickets/{token}"): CAPABILITY,
    ("GET", "/api/v1/queue/tickets/{token}/qr.svg"): CAPABILITY,
    ("GET", "/api/v1/queue/tickets/{token}/stream"): CAPABILITY,
    ("POST", "/api/v1/queue/tickets/{token}/print"): DEVICE,
    ("GET", "/api/v1/queue/voice/{label}.wav"): DEVICE,
    ("POST", "/api/v1/devices/events"): DEVICE,
    ("GET", "/api/v1/dossiers/{code}"): CITIZEN,
    ("POST", "/api/v1/dossiers/lookup"): CITIZEN,
    ("POST", "/api/v1/dossiers/{code}/receipt"): CITIZEN,
    ("POST", "/api/v1/dossiers/{code}/attachments"): CITIZEN,
    ("GET", "/api/v1/dossiers/{code}/declaration.pdf"): LINK,
    ("GET", "/api/v1/dossiers/{code}/payment"): LINK,  # the fee, the VietQR code and the receipt
    ("GET", "/api/v1/dossiers/{code}/payment/vietqr.svg"): LINK,
    ("GET", "/api/v1/dossiers/{code}/payment/vietqr.png"): LINK,
    ("GET", "/api/v1/dossiers/{code}/payment/receipt.pdf"): LINK,
    ("GET", "/dossiers/{code}/payment"): LINK,  # the dossier's status page: its status, the fee and the VietQR code
    ("POST", "/api/v1/dossiers/{code}/payment"): CITIZEN,  # with the lookup PIN: a fresh payment link
    ("POST", "/api/v1/payments/webhook/{provider}"): SIGNED,  # HMAC-SHA256 of the body (MOTCUA_PAYMENT_WEBHOOK_SECRET)
    ("POST", "/webhooks/telegram"): SIGNED,
    ("POST", "/webhooks/zalo"): SIGNED,
    ("GET", "/staff/login"): SIGN_IN,
    ("POST", "/api/v1/staff/login"): SIGN_IN,
    ("POST", "/api/v1/staff/logout"): SIGN_IN,
}
DOCS = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}


def route_table(app) -> dict[tuple[str, str], str]:
    """(method, path) → "staff", "admin" or "open" for every route of the app but the static files."""
    table = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute | APIWebSocketRoute):
            if getattr(route, "path", "") in {p for _, p in DOCS}:
                table[("GET", route.path)] = "docs"
            continue
        calls = dependency_calls(context.dependant)
        access = "admin" if require_admin in calls else "staff" if require_staff in calls else "open"
        for method in getattr(route, "methods", None) or {"WEBSOCKET"}:
            if method != "HEAD":
                table[(method, route.path)] = access
    return table


@pytest.fixture
def gateway(tmp_path, fakes, migrated):
    with TestClient(create_app(channel_settings(tmp_path, fakes)), follow_redirects=False) as client:
        yield client


def test_every_route_is_guarded_or_listed_as_open_with_its_protection(gateway):
    table = route_table(gateway.app)
    open_routes = {key for key, access in table.items() if access == "open"}
    unlisted = sorted(open_routes - OPEN_ROUTES.keys())
    assert unlisted == [], f"routes open to anyone that nobody reviewed: {unlisted}"
    gone = sorted(OPEN_ROUTES.keys() - table.keys())
    assert gone == [], f"listed routes the app no longer has: {gone}"
    guarded = [key for key, access in table.items() if access in ("staff", "admin")]
    assert len(guarded) >= 60  # the staff desk, the curation API, the admin pages…
    for method, path in table:
        if path.startswith(("/admin", "/api/v1/admin")):
            assert table[(method, path)] == "admin", (method, path)
        if path.startswith(("/staff", "/api/v1/staff", "/api/v1/kb")) and (method, path) not in OPEN_ROUTES:
            assert table[(method, path)] in ("staff", "admin"), (method, path)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "A001" if m.group(0) == "{label}" else "000-00-00-H00-261206-0001", path)


PROBE_BODIES = {  # well-formed bodies, so that the protection answers rather than validation
    "/api/v1/devices/events": {"device": "quay-1", "event": "cccd_scanned", "data": "001190012345||Nguyễn Thị Lan"},
    "/api/v1/dossiers/lookup": {"code": "000.00.00.H00-261206-0001"},
}


def test_every_open_route_answers_an_anonymous_caller_as_its_protection_says(gateway):
    for (method, path), access in OPEN_ROUTES.items():
        if method == "WEBSOCKET" or path == "/api/v1/queue/stream":
            continue  # the sockets are probed below; the stream is an endless response
        url = _concrete(path)
        body = PROBE_BODIES.get(path, {})
        response = gateway.request(method, url + ("?counter=1" if path.endswith(".wav") else ""), json=body)
        status = response.status_code
        if path == "/health":
            assert status in (200, 503) and response.json()["status"] in ("ok", "degraded")  # no action server here
            # anyone learns only whether each part is up: no model file, restarts, latencies or errors
            assert all(check == {"ok": check["ok"]} for check in response.json()["checks"].values()), response.text
        else:
            assert status < 500, (method, path, status, response.text[:200])
        if access == DEVICE:
            assert status == 401 and "WWW-Authenticate" in response.headers, (method, path, status)
        elif access == SIGNED:
            assert status in (401, 403, 404), (method, path, status)  # 404: that platform is not switched on
        elif access in (LINK, CAPABILITY):
            assert status == 404, (method, path, status)
        elif access == CITIZEN:
            assert status in (404, 422), (method, path, status)  # no such dossier, or not enough to look one up
        text = response.text
        assert "001190012345" not in text and "Nguyễn" not in text, (method, path)


def test_the_sockets_refuse_a_foreign_origin(gateway):
    for path in ("/ws/kiosk?session=probe", "/ws/widget?session=probe", "/ws/kiosk/events?session=probe"):
        with pytest.raises(WebSocketDisconnect):
            with gateway.websocket_connect(path, headers={"Origin": "https://evil.example"}) as socket:
                socket.receive_text()


def test_the_api_route_list_is_not_published_in_production(tmp_path):
    quiet = Settings(data_dir=tmp_path, environment="production", secret_key="p" * 48)
    with TestClient(create_app(quiet)) as client:
        assert [client.get(p).status_code for _, p in sorted(DOCS)] == [404, 404, 404, 404]
        assert set(route_table(client.app)) & DOCS == set()
    with TestClient(create_app(quiet.model_copy(update={"api_docs": True}))) as client:
        assert client.get("/openapi.json").status_code == 200
