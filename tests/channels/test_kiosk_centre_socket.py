"""The kiosk socket and the web widget say at which centre a message was written (motcua/centers.py): the number the
Rasa action then issues is that centre's (tests/queue/test_centre_tenancy.py)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from bot.app import create_app
from motcua.centers import CENTER_METADATA, add_center
from motcua.db import session_scope
from motcua.devices import add_device
from tests.channels.conftest import channel_settings


def centre_said(client, fakes, query: str, headers: dict | None = None, *, socket: str = "/ws/kiosk") -> str | None:
    """Send one message on ``<socket>?<query>`` (the kiosk's, or the widget's that widget.js opens for
    ``data-center``) and return the centre its metadata gave Rasa."""
    with client.websocket_connect(f"{socket}?{query}", headers=headers or {}) as ws:
        ws.receive_text()  # the session
        ws.send_text(json.dumps({"type": "message", "text": "cho tôi lấy số"}))
        ws.receive_text()  # typing
        ws.receive_text()
    return fakes.rasa.state.received[-1]["metadata"].get(CENTER_METADATA)


def test_the_kiosk_socket_names_the_page_or_the_devices_centre(tmp_path, fakes, migrated):
    with session_scope(migrated) as session:
        add_center(session, "xa-dong", "Trung tâm PVHCC xã Đông")
        key = add_device(session, "kiosk-dong", "kiosk", actor="test", center="xa-dong")[1]
    with TestClient(create_app(channel_settings(tmp_path, fakes))) as client:
        assert centre_said(client, fakes, "session=a") is None  # the default centre: nothing added
        assert centre_said(client, fakes, "session=b&center=xa-dong") == "xa-dong"  # the page /c/xa-dong/kiosk
        assert centre_said(client, fakes, "session=c&center=khong-co") is None  # no such centre: the default
        assert centre_said(client, fakes, "session=d&center=XA-DONG%2F..") is None
        # an enrolled kiosk is its own centre's, whatever its page asks
        assert centre_said(client, fakes, "session=e&center=default", {"X-Device-Key": key}) == "xa-dong"


def widget_centre_said(client, fakes, query: str) -> str | None:
    return centre_said(client, fakes, query, socket="/ws/widget")


def test_the_widget_names_the_centre_its_page_gives(tmp_path, fakes, migrated):
    with session_scope(migrated) as session:
        add_center(session, "xa-dong", "Trung tâm PVHCC xã Đông")
    with TestClient(create_app(channel_settings(tmp_path, fakes))) as client:
        assert widget_centre_said(client, fakes, "session=wa12345678") is None  # no data-center: the default
        assert widget_centre_said(client, fakes, "session=wb12345678&center=xa-dong") == "xa-dong"
        assert widget_centre_said(client, fakes, "session=wc12345678&center=khong-co") is None
        assert widget_centre_said(client, fakes, "center=%3Cscript%3E") is None


def test_a_page_and_the_rest_api_may_name_a_centre_by_its_agency_code(tmp_path, fakes, migrated):
    """As ``/start`` and the admin API take it: the code a province's systems already know a centre by."""
    with session_scope(migrated) as session:
        add_center(session, "xa-dong", "Trung tâm PVHCC xã Đông", agency_code="000.00.07.H51")
    with TestClient(create_app(channel_settings(tmp_path, fakes))) as client:
        assert widget_centre_said(client, fakes, "session=wg12345678&center=000.00.07.H51") == "xa-dong"
        assert centre_said(client, fakes, "session=g&center=000.00.07.h51") == "xa-dong"
        posted = client.post("/api/v1/messages", json={"sender": "s9", "text": "cho tôi lấy số",
                                                       "center": "000.00.07.H51"})
        assert posted.status_code == 200, posted.text
        assert fakes.rasa.state.received[-1]["metadata"].get(CENTER_METADATA) == "xa-dong"
        client.post("/api/v1/messages", json={"sender": "s9", "text": "cho tôi lấy số", "center": "000.00.99.H51"})
        assert fakes.rasa.state.received[-1]["metadata"].get(CENTER_METADATA) is None  # no such agency: the default


def test_widget_js_passes_its_data_center_to_the_socket():
    script = (Path(__file__).resolve().parents[2] / "bot" / "static" / "widget.js").read_text(encoding="utf-8")
    assert '"center=" + encodeURIComponent(opts.center)' in script


def test_a_centres_own_site_speaks_for_that_centre_whatever_its_page_names(tmp_path, fakes, migrated):
    """An admin allowed https://xa-dong.gov.vn for xa-dong and the province's portal for every centre: the
    commune's site cannot take numbers in another centre's name (widget, kiosk socket or REST), the portal's
    page names its centre as before."""
    from motcua import widget_origins

    own, portal = "https://xa-dong.gov.vn", "https://dichvucong-tinh.gov.vn"
    widget_origins.invalidate()
    with session_scope(migrated) as session:
        add_center(session, "xa-dong", "Trung tâm PVHCC xã Đông")
        add_center(session, "xa-tay", "Trung tâm PVHCC xã Tây")
        widget_origins.add_origin(session, own, actor="quantri", center="xa-dong")
        widget_origins.add_origin(session, portal, actor="quantri")
    try:
        with TestClient(create_app(channel_settings(tmp_path, fakes))) as client:
            for query in ("session=wa12345678", "session=wb12345678&center=xa-tay", "session=wc12345678&center=default"):
                assert centre_said(client, fakes, query, {"Origin": own}, socket="/ws/widget") == "xa-dong", query
            assert centre_said(client, fakes, "session=ka&center=xa-tay", {"Origin": own}) == "xa-dong"
            assert centre_said(client, fakes, "session=wd12345678&center=xa-tay", {"Origin": portal},
                               socket="/ws/widget") == "xa-tay"
            assert centre_said(client, fakes, "session=we12345678", {"Origin": portal}, socket="/ws/widget") is None

            posted = client.post("/api/v1/messages", json={"sender": "s1", "text": "cho tôi lấy số", "center": "xa-tay"},
                                 headers={"Origin": own})
            assert posted.status_code == 200, posted.text
            assert fakes.rasa.state.received[-1]["metadata"].get(CENTER_METADATA) == "xa-dong"
            client.post("/api/v1/messages", json={"sender": "s2", "text": "cho tôi lấy số", "center": "xa-tay"})
            assert fakes.rasa.state.received[-1]["metadata"].get(CENTER_METADATA) == "xa-tay"  # no site: the body's

            # an odd header a browser never sends, let in by the origin check, keeps its site's centre
            assert centre_said(client, fakes, "session=wf12345678&center=xa-tay", {"Origin": own + "/x"},
                               socket="/ws/widget") == "xa-dong"
            # the kiosk's «take a number» API too: the commune's site takes its own centre's numbers only
            from sqlalchemy import select

            from motcua.queue.models import QueueTicket

            for origin, named, expected in ((own, "xa-tay", "xa-dong"), (portal, "xa-tay", "xa-tay")):
                taken = client.post(f"/api/v1/queue/tickets?center={named}", json={"service": "HT"},
                                    headers={"Origin": origin})
                assert taken.status_code == 200, taken.text
                with session_scope(migrated) as session:
                    label = taken.json()["ticket"]["label"]
                    centres = set(session.scalars(select(QueueTicket.center_code).where(QueueTicket.label == label)))
                assert expected in centres, (origin, centres)
            with session_scope(migrated) as session:
                assert set(session.scalars(select(QueueTicket.center_code))) == {"xa-dong", "xa-tay"}

            # the widget's first question tells the page whose site it is
            assert client.get("/api/v1/widget/allowed", headers={"Origin": own}).json()["center"] == "xa-dong"
            assert client.get("/api/v1/widget/allowed", headers={"Origin": portal}).json()["center"] is None
            refused = client.get("/api/v1/widget/allowed", headers={"Origin": "https://khac.gov.vn"}).json()
            assert refused["allowed"] is False and refused["center"] is None

            # the gateway's own address listed as one centre's site: its own pages still name their centre
            with session_scope(migrated) as session:
                widget_origins.add_origin(session, "http://testserver", actor="quantri", center="xa-dong")
            assert centre_said(client, fakes, "session=kb&center=xa-tay", {"Origin": "http://testserver"}) == "xa-tay"
    finally:
        widget_origins.invalidate()
