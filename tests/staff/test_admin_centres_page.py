"""The admin page's «Trung tâm» section (issue 24): a table of the centres and a form adding one
over ``/api/v1/admin/centers``, and the device form's centre picker filled from that list.

The API's own rules (admins only, a taken code refused, the order of the list, a device's centre)
are tested in tests/queue/test_centre_tenancy.py; here: the page, what the form sends and shows,
and the whole round in a real headless Chromium."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from motcua.centers import DEFAULT_CENTER
from motcua.db import session_scope
from motcua.devices import Device
from motcua.staff.models import StaffUser
from tests.browser import sign_in_through, wait_for_js
from tests.servers import serve_in_thread
from tests.staff.conftest import ADMIN_PASSWORD, PASSWORD, sign_in

FIELDS = ("c-code", "c-name", "c-short", "c-address", "c-phone", "c-hours", "c-agency")
CENTRE = {"code": "xa-an-binh", "name": "Trung tâm PVHCC xã An Bình", "short_name": "PVHCC An Bình",
          "address": "Số 1 đường Lê Lợi, xã An Bình", "phone": "0272 3 888 999",
          "hours": "Thứ Hai đến Thứ Sáu: 07:30–11:30, 13:30–17:00", "agency_code": "000.00.31.h02"}
BAD_CODE = "Xã An Bình"  # upper case, accents, spaces: the API refuses it in Vietnamese


def test_an_admin_gets_the_centres_section_and_the_centre_pickers(staff_app):
    app, _, _ = staff_app
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "quantri", ADMIN_PASSWORD)
        page = client.get("/admin")
    assert page.status_code == 200
    html = page.text
    assert re.search(r'<section class="panel" id="centres"><h2>Trung tâm</h2>', html)
    assert 'id="new-center"' in html and '<table id="centers">' in html
    for field in FIELDS:
        assert f'id="{field}"' in html and f'for="{field}"' in html, field  # each input has its label
    assert re.search(r'<select id="d-center" data-centers>', html)  # inside the device form…
    device_form = html[html.index('<form id="new-device"'):]
    assert device_form.index('id="d-center"') < device_form.index("</form>")  # …not somewhere else
    assert 'id="d-center"' not in html[:html.index('<form id="new-device"')]
    assert '"/api/v1/admin/centers"' in html  # the page lists and adds through the API
    for header in ("Mã", "Tên", "Tên ngắn", "Địa chỉ", "Điện thoại", "Giờ làm việc", "Mã cơ quan"):
        assert f'"{header}"' in html, header


def test_a_staff_member_and_a_visitor_are_refused_the_page(staff_app):
    app, _, _ = staff_app
    with TestClient(app, follow_redirects=False) as client:
        anonymous = client.get("/admin")
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/staff/login?next=")
        sign_in(client, "canbo", PASSWORD)
        refused = client.get("/admin")
        assert refused.status_code == 403 and "không có quyền" in refused.text
        assert 'id="new-center"' not in refused.text
        assert client.get("/api/v1/admin/centers").status_code == 403


def test_what_the_form_sends_is_kept_whole_and_a_bad_code_is_refused_in_vietnamese(staff_app):
    """The form posts every CenterIn field; the list gives them all back (the table's columns),
    the audit has the addition, and a malformed code comes back as the text the page shows."""
    app, _, _ = staff_app
    with TestClient(app) as client:
        sign_in(client, "quantri", ADMIN_PASSWORD)
        bad = client.post("/api/v1/admin/centers", json={**CENTRE, "code": BAD_CODE})
        assert bad.status_code == 400 and bad.json()["detail"].startswith("Mã trung tâm chỉ gồm chữ thường không dấu")
        added = client.post("/api/v1/admin/centers", json=CENTRE)
        assert added.status_code == 201, added.text
        listed = {c["code"]: c for c in client.get("/api/v1/admin/centers").json()}
        assert list(listed) == [DEFAULT_CENTER, CENTRE["code"]]  # the default first: the pickers' default
        assert listed[CENTRE["code"]] == {**CENTRE, "agency_code": CENTRE["agency_code"].upper()}
        audit = client.get("/api/v1/admin/audit?limit=5").json()
        assert [(e["action"], e["target"], e["actor"]) for e in audit[:1]] == [
            ("center.add", f"center:{CENTRE['code']}", "quantri")]


# --- in a real browser -----------------------------------------------------------------------------

def _cells(page, table: str) -> list[list[str]]:
    return page.evaluate(f"""[...document.querySelectorAll('#{table} tbody tr')]
        .map((r) => [...r.querySelectorAll('td')].map((d) => d.textContent))""")


@pytest.mark.integration
def test_an_admin_adds_a_centre_on_the_page_and_registers_a_device_there(staff_app, browser_page):
    app, settings, _ = staff_app
    page = browser_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    with serve_in_thread(app) as base:
        sign_in_through(page, base, "/admin", "quantri", ADMIN_PASSWORD, timeout=30_000)
        # the table and the picker come from the API: the default centre, picked by default
        wait_for_js(page, "document.querySelectorAll('#d-center option').length === 1", timeout=30_000)
        assert page.eval_on_selector("#d-center", "s => s.value") == DEFAULT_CENTER
        assert [row[0] for row in _cells(page, "centers")] == [DEFAULT_CENTER]

        # a malformed code: the API's Vietnamese reason is shown, nothing is added, the form keeps what was typed
        page.fill("#c-code", BAD_CODE)
        page.fill("#c-name", CENTRE["name"])
        page.click("#new-center button[type=submit]")
        wait_for_js(page, "document.getElementById('error').textContent.startsWith('Mã trung tâm chỉ gồm')",
                    timeout=30_000)
        assert page.input_value("#c-name") == CENTRE["name"]
        assert len(_cells(page, "centers")) == 1

        for field, key in zip(FIELDS, CENTRE, strict=True):
            page.fill(f"#{field}", CENTRE[key])
        page.click("#new-center button[type=submit]")
        wait_for_js(page, "document.querySelectorAll('#centers tbody tr').length === 2", timeout=30_000)
        assert page.text_content("#error") == ""  # the earlier refusal is gone
        rows = {row[0]: row for row in _cells(page, "centers")}
        assert rows[CENTRE["code"]] == [CENTRE["code"], CENTRE["name"], CENTRE["short_name"], CENTRE["address"],
                                        CENTRE["phone"], CENTRE["hours"], CENTRE["agency_code"].upper()]
        assert page.input_value("#c-code") == ""  # the form was emptied for the next one
        wait_for_js(page, "!!document.querySelector('#audit span[title=\"center.add · center:xa-an-binh\"]')",
                    timeout=30_000)  # the audit list was read again
        options = page.evaluate("[...document.querySelectorAll('#d-center option')].map((o) => [o.value, o.textContent])")
        assert options == [[DEFAULT_CENTER, options[0][1]], [CENTRE["code"], "PVHCC An Bình (xa-an-binh)"]]
        assert "(mặc định)" in options[0][1]
        assert page.eval_on_selector("#d-center", "s => s.value") == DEFAULT_CENTER  # still the default

        # a board for the new centre, picked from the list
        page.fill("#d-name", "bang-an-binh")
        page.select_option("#d-kind", "board")
        page.select_option("#d-center", CENTRE["code"])
        page.click("#new-device button[type=submit]")
        wait_for_js(page, "document.getElementById('devices').textContent.includes('bang-an-binh')", timeout=30_000)
        device_row = next(row for row in _cells(page, "devices") if row[0] == "bang-an-binh")
        assert device_row[2] == "PVHCC An Bình (xa-an-binh)"
        assert page.eval_on_selector("#d-center", "s => s.value") == DEFAULT_CENTER  # reset for the next device
        # and one without touching the picker lands in the default centre
        page.fill("#d-name", "kiosk-1")
        page.click("#new-device button[type=submit]")
        wait_for_js(page, "document.getElementById('devices').textContent.includes('kiosk-1')", timeout=30_000)
        # a staff account is made for the new centre with the accounts form's picker
        page.fill("#u-name", "canbo-an-binh")
        page.fill("#u-pass", "MatKhau2026an")
        page.select_option("#u-center", CENTRE["code"])
        page.click("#new-user button[type=submit]")
        wait_for_js(page, "document.getElementById('users').textContent.includes('canbo-an-binh')", timeout=30_000)
        row = page.evaluate("[...document.querySelectorAll('#users tr')].map((r) => r.textContent)"
                            ".find((t) => t.includes('canbo-an-binh'))")
        assert CENTRE["code"] in row
        # the commune's own site, for its centre; the province's portal, for every centre (the picker's default)
        assert page.eval_on_selector("#o-center", "s => s.value") == ""
        page.fill("#o-origin", "https://xa-an-binh.gov.vn")
        page.select_option("#o-center", CENTRE["code"])
        page.click("#new-origin button[type=submit]")
        wait_for_js(page, "document.getElementById('origins').textContent.includes('xa-an-binh.gov.vn')", timeout=30_000)
        assert page.eval_on_selector("#o-center", "s => s.value") == ""  # reset for the next site
        page.fill("#o-origin", "https://dichvucong-tinh.gov.vn")
        page.click("#new-origin button[type=submit]")
        wait_for_js(page, "document.querySelectorAll('#origins tbody tr').length === 2", timeout=30_000)
        sites = {row[0]: row[1] for row in _cells(page, "origins")}
        assert sites == {"https://xa-an-binh.gov.vn": "PVHCC An Bình (xa-an-binh)",
                         "https://dichvucong-tinh.gov.vn": "Mọi trung tâm"}
    with session_scope(settings.sqlalchemy_url) as session:
        from motcua.widget_origins import WidgetOrigin

        assert dict(session.execute(select(WidgetOrigin.origin, WidgetOrigin.center_code)).all()) == {
            "https://xa-an-binh.gov.vn": CENTRE["code"], "https://dichvucong-tinh.gov.vn": None}
        centres = dict(session.execute(select(Device.name, Device.center_code)).all())
        account = session.scalar(select(StaffUser).where(StaffUser.username == "canbo-an-binh"))
        assert account is not None and account.center_code == CENTRE["code"] and account.role == "staff"
    assert centres == {"bang-an-binh": CENTRE["code"], "kiosk-1": DEFAULT_CENTER}
    assert problems == []
