"""The sites allowed to embed the web widget: an admin adds and removes them on /admin, the gateway's
origin checks (the widget's socket, unsafe requests, CORS) follow at once, and a page of a site
not allowed learns it from ``/api/v1/widget/allowed`` instead of retrying a refused socket."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from bot.app import create_app
from knowledge_base.messages import load_catalogue, render
from motcua import widget_origins
from motcua.db import session_scope
from motcua.staff.accounts import create_user
from motcua.staff.models import AuditEntry
from motcua.widget_origins import (
    CACHE_SECONDS,
    OriginError,
    OriginNotFound,
    add_origin,
    cached_origins,
    normalise_origin,
    remove_origin,
)
from tests.channels.conftest import channel_settings

COMMUNE = "https://xa-an-binh.gov.vn"
OTHER = "https://xa-khac.gov.vn"
ADMIN = ("quantri", "mat-khau-quan-tri-1")
STAFF = ("canbo", "mat-khau-can-bo-1")


@pytest.fixture(autouse=True)
def _fresh_cache():
    widget_origins.invalidate()
    yield
    widget_origins.invalidate()


def sign_in(client: TestClient, user: tuple[str, str]) -> TestClient:
    client.cookies.clear()
    response = client.post("/api/v1/staff/login", json={"username": user[0], "password": user[1]})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.cookies["motcua_csrf"]
    return client


def add_accounts(url: str) -> None:
    with session_scope(url) as session:
        create_user(session, ADMIN[0], ADMIN[1], role="admin")
        create_user(session, STAFF[0], STAFF[1], role="staff")


def socket_opens(client: TestClient, origin: str) -> bool:
    try:
        with client.websocket_connect("/ws/widget", headers={"Origin": origin}) as ws:
            return json.loads(ws.receive_text())["type"] == "session"
    except WebSocketDisconnect as refused:
        assert refused.code == 1008
        return False


# --- what an origin is -------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, stored", [
    ("https://xa-an-binh.gov.vn", COMMUNE),
    ("  HTTPS://Xa-An-Binh.GOV.vn/  ", COMMUNE),  # pasted from the address bar
    ("https://xa-an-binh.gov.vn:443", COMMUNE),  # the default port is not part of a browser's Origin
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://[::1]:3000", "http://[::1]:3000"),
    ("https://Xã-An-Bình.vn", "https://xn--x-an-bnh-rza9g.vn"),  # as a browser sends it (UTS #46)
    ("https://straße.de", "https://xn--strae-oqa.de"),
])
def test_an_origin_is_stored_as_browsers_send_it(typed, stored):
    assert normalise_origin(typed) == stored


@pytest.mark.parametrize("typed", [
    "", "xa-an-binh.gov.vn", "ftp://xa-an-binh.gov.vn", "https://xa-an-binh.gov.vn/lien-he",
    "https://xa-an-binh.gov.vn?a=1", "https://xa-an-binh.gov.vn#top", "https://admin:pw@xa-an-binh.gov.vn",
    "https://xa-an-binh.gov.vn:99999", "https://", "*", "javascript:alert(1)", "https://xa an binh.vn",
    "https:xa-an-binh.gov.vn", "https://" + "a" * 260 + ".vn", "https://*.gov.vn", "https://xa-%41.gov.vn",
    "https://xa!.gov.vn",
])
def test_anything_but_scheme_host_and_port_is_refused_with_a_reason(typed):
    with pytest.raises(OriginError) as refused:
        normalise_origin(typed)
    assert str(refused.value).strip()
    if "*" in typed[1:]:
        assert "dấu *" in str(refused.value)  # says why: one site a line, no patterns


# --- the table and its cache ------------------------------------------------------------------------

def test_the_cache_reads_once_and_a_committed_change_is_seen_at_once(migrated):
    from motcua.db import shared_database

    database = shared_database(migrated)
    assert cached_origins(database) == frozenset()
    with session_scope(migrated) as session:
        added = add_origin(session, COMMUNE + "/", actor="quantri", note="UBND xã An Bình")
    assert cached_origins(database) == {COMMUNE}  # the commit dropped the cached set
    with database.session() as session:  # written behind the store's back: only the expiry shows it
        session.add(widget_origins.WidgetOrigin(origin=OTHER, note="", created_by="sql"))
    assert cached_origins(database) == {COMMUNE}
    assert cached_origins(database, now=10**9) == {COMMUNE, OTHER}  # read again after CACHE_SECONDS
    assert CACHE_SECONDS <= 60
    with pytest.raises(OriginError, match="đã có"), session_scope(migrated) as session:
        add_origin(session, COMMUNE, actor="quantri")
    with session_scope(migrated) as session:
        assert remove_origin(session, added.id, actor="quantri").origin == COMMUNE
    assert COMMUNE not in cached_origins(database, now=10**9)
    with pytest.raises(OriginNotFound), session_scope(migrated) as session:
        remove_origin(session, COMMUNE, actor="quantri")
    with session_scope(migrated) as session:  # a line saved before such lines were refused goes by its text
        session.add(widget_origins.WidgetOrigin(origin="https://*.gov.vn", note="", created_by="sql"))
    with session_scope(migrated) as session:
        assert remove_origin(session, "https://*.gov.vn", actor="quantri").origin == "https://*.gov.vn"
    with pytest.raises(OriginNotFound), session_scope(migrated) as session:
        remove_origin(session, "https://*.gov.vn", actor="quantri")
    with session_scope(migrated) as session:
        actions = [(e.action, e.target) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == [("widget.origin.add", f"widget_origin:{COMMUNE}"),
                       ("widget.origin.remove", f"widget_origin:{COMMUNE}"),
                       ("widget.origin.remove", "widget_origin:https://*.gov.vn")]


def test_a_rolled_back_change_leaves_the_cache_alone(migrated):
    from motcua.db import shared_database

    database = shared_database(migrated)
    assert cached_origins(database) == frozenset()
    with pytest.raises(RuntimeError), session_scope(migrated) as session:
        add_origin(session, COMMUNE, actor="quantri")
        raise RuntimeError("the admin's request failed after the insert")
    assert cached_origins(database) == frozenset()
    with session_scope(migrated) as session:
        assert widget_origins.list_origins(session) == []


def test_the_migration_matches_the_table(migrated):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from motcua.db import Base, get_engine

    with get_engine(migrated).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [change for change in diff if "widget_origins" in repr(change)] == []


# --- the admin's API ---------------------------------------------------------------------------------

def test_only_an_admin_adds_lists_and_removes_allowed_sites(tmp_path, fakes, migrated):
    add_accounts(migrated)
    settings = channel_settings(tmp_path, fakes, cors_origins=["https://cong-tinh.gov.vn"])
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/admin/widget-origins").status_code == 401
        assert client.post("/api/v1/admin/widget-origins", json={"origin": COMMUNE}).status_code == 401
        sign_in(client, STAFF)
        assert client.get("/api/v1/admin/widget-origins").status_code == 403
        assert client.post("/api/v1/admin/widget-origins", json={"origin": COMMUNE}).status_code == 403
        assert client.post("/api/v1/admin/widget-origins/1/remove").status_code == 403

        sign_in(client, ADMIN)
        made = client.post("/api/v1/admin/widget-origins", json={"origin": COMMUNE.upper() + "/", "note": "UBND xã"})
        assert made.status_code == 201, made.text
        assert (made.json()["origin"], made.json()["note"], made.json()["created_by"]) == (COMMUNE, "UBND xã", "quantri")
        again = client.post("/api/v1/admin/widget-origins", json={"origin": COMMUNE})
        assert again.status_code == 400 and "đã có" in again.json()["detail"]
        with_path = client.post("/api/v1/admin/widget-origins", json={"origin": COMMUNE + "/lien-he"})
        assert with_path.status_code == 400 and "đường dẫn" in with_path.json()["detail"]
        listed = client.get("/api/v1/admin/widget-origins").json()
        assert [o["origin"] for o in listed["origins"]] == [COMMUNE]
        assert listed["from_settings"] == ["https://cong-tinh.gov.vn"]  # the settings' list still counts, read only

        assert made.json()["center"] is None  # no centre named: a site of every centre
        from motcua.centers import add_center

        with session_scope(migrated) as session:
            add_center(session, "xa-dong", "Trung tâm PVHCC xã Đông", agency_code="000.00.01.H51")
        own = client.post("/api/v1/admin/widget-origins", json={"origin": OTHER, "center": "000.00.01.H51"})
        assert own.status_code == 201 and own.json()["center"] == "xa-dong", own.text  # named by its agency code
        unknown = client.post("/api/v1/admin/widget-origins", json={"origin": "https://x.gov.vn", "center": "khong-co"})
        assert unknown.status_code == 400 and "khong-co" in unknown.json()["detail"]
        assert [(o["origin"], o["center"]) for o in client.get("/api/v1/admin/widget-origins").json()["origins"]] == [
            (COMMUNE, None), (OTHER, "xa-dong")]
        client.post(f"/api/v1/admin/widget-origins/{own.json()['id']}/remove")

        removed = client.post(f"/api/v1/admin/widget-origins/{made.json()['id']}/remove")
        assert removed.status_code == 200 and removed.json()["origin"] == COMMUNE
        assert client.post(f"/api/v1/admin/widget-origins/{made.json()['id']}/remove").status_code == 404
        assert client.get("/api/v1/admin/widget-origins").json()["origins"] == []
        page = client.get("/admin")
        assert page.status_code == 200 and 'id="new-origin"' in page.text


# --- the gateway's checks follow the list --------------------------------------------------------------

def test_the_socket_opens_for_a_site_once_allowed_and_closes_to_it_once_removed(tmp_path, fakes, migrated):
    add_accounts(migrated)
    with TestClient(create_app(channel_settings(tmp_path, fakes))) as client:
        assert not socket_opens(client, COMMUNE)  # nothing is allowed by default
        check = client.get("/api/v1/widget/allowed", headers={"Origin": COMMUNE})
        assert check.json()["allowed"] is False and check.json()["origin"] == COMMUNE
        assert check.headers["access-control-allow-origin"] == "*"  # the refused page may read why
        assert check.headers["cache-control"] == "no-store"

        sign_in(client, ADMIN)
        made = client.post("/api/v1/admin/widget-origins", json={"origin": COMMUNE}).json()
        assert socket_opens(client, COMMUNE)
        assert not socket_opens(client, OTHER)
        assert client.get("/api/v1/widget/allowed", headers={"Origin": COMMUNE}).json()["allowed"] is True
        assert client.get("/api/v1/widget/allowed", headers={"Origin": OTHER}).json()["allowed"] is False

        client.post(f"/api/v1/admin/widget-origins/{made['id']}/remove")
        assert not socket_opens(client, COMMUNE)  # at once, not after the cache expires
        assert client.get("/api/v1/widget/allowed", headers={"Origin": COMMUNE}).json()["allowed"] is False


def test_an_allowed_site_gets_cors_answers_and_its_unsafe_requests_pass(tmp_path, fakes, migrated):
    with session_scope(migrated) as session:
        add_origin(session, COMMUNE, actor="quantri")
    with TestClient(create_app(channel_settings(tmp_path, fakes))) as client:
        words = client.get("/api/v1/messages?prefix=page.widget.", headers={"Origin": COMMUNE})
        assert words.headers["access-control-allow-origin"] == COMMUNE
        assert {"accept-language", "origin"} <= {v.strip().lower() for v in words.headers["vary"].split(",")}
        assert "access-control-allow-credentials" not in words.headers
        preflight = client.options("/api/v1/messages", headers={"Origin": COMMUNE,
                                                               "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == COMMUNE
        other = client.get("/api/v1/messages?prefix=page.widget.", headers={"Origin": OTHER})
        assert "access-control-allow-origin" not in other.headers
        # an unsafe request: the allowed site passes the Origin check, another is refused
        from bot.security import ORIGIN_REFUSED

        refused = client.post("/api/v1/tts", json={"text": "\x07"}, headers={"Origin": OTHER})
        assert refused.status_code == 403 and refused.json()["detail"] == ORIGIN_REFUSED
        passed = client.post("/api/v1/tts", json={"text": "\x07"}, headers={"Origin": COMMUNE})
        assert passed.status_code == 422  # the route's own answer: nothing to read


def test_the_settings_list_still_allows_its_sites(tmp_path, fakes, migrated):
    with TestClient(create_app(channel_settings(tmp_path, fakes, cors_origins=[OTHER]))) as client:
        assert socket_opens(client, OTHER)
        assert client.get("/api/v1/widget/allowed", headers={"Origin": OTHER}).json()["allowed"] is True
        assert client.get("/api/v1/widget/allowed").json()["allowed"] is True  # the gateway's own pages


def test_the_check_speaks_the_pages_language_and_names_the_site(tmp_path, fakes, migrated):
    with TestClient(create_app(channel_settings(tmp_path, fakes))) as client:
        english = client.get("/api/v1/widget/allowed?lang=en", headers={"Origin": COMMUNE}).json()
        vietnamese = client.get("/api/v1/widget/allowed", headers={"Origin": COMMUNE}).json()
    assert english["locale"] == "en" and english["messages"] == load_catalogue("en").group("page.widget.")
    assert vietnamese["locale"] == "vi" and vietnamese["messages"] == load_catalogue("vi").group("page.widget.")
    said = render("page.widget.refused", origin=COMMUNE)
    assert said.startswith("Trợ lý chưa được bật cho trang này.") and COMMUNE in said
    assert render("page.widget.refused", locale="en", origin=COMMUNE) != said
