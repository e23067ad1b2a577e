"""Filing a dossier at the counter from the desk page, in a real headless Chromium: the procedure
picked by name, the citizen's name and CCCD typed; a double click files one dossier, and a retry
after the answer was lost (the server filed, the page never heard) files no second one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from motcua.centers import add_center
from motcua.db import session_scope
from motcua.dossiers.models import DossierRow
from motcua.staff.accounts import create_user
from tests.browser import wait_for_js
from tests.dossiers.support import STAFF_PASSWORD, add_staff, desk_in_browser

pytestmark = pytest.mark.integration

FILINGS = "/api/v1/staff/dossiers"


def _codes(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(DossierRow.code).order_by(DossierRow.seq)))


def _fill(page, name: str, cccd: str) -> None:
    page.click("#file-open")
    assert page.is_visible("#file-form")
    page.fill("#f-procedure", "dang ky thuong tru")  # without accents: the server folds them
    page.wait_for_selector("#f-procedure-list li[data-code='1.004194']", timeout=10_000)
    page.click("#f-procedure-list li[data-code='1.004194']")
    page.fill("#f-name", name)
    page.fill("#f-cccd", cccd)


def test_a_double_click_and_a_retry_after_a_lost_answer_each_file_one_dossier(tmp_path, sqlite_catalogue,
                                                                              sqlite_service, browser_page):
    add_staff(sqlite_catalogue)
    page = browser_page
    keys: list[str] = []
    page.on("request", lambda r: keys.append(r.headers.get("idempotency-key", ""))
            if r.method == "POST" and r.url.endswith(FILINGS) else None)
    with desk_in_browser(tmp_path, sqlite_catalogue, sqlite_service, page) as (base, errors):
        wait_for_js(page, "document.getElementById('who').textContent.includes('Đỗ Thu Hà')", timeout=10_000)

        # 1. a double click on «Tiếp nhận hồ sơ»
        _fill(page, "Trần Văn Bình", "001090054321")
        assert page.is_hidden("#f-center-field")  # staff file at their own centre: nothing to choose
        page.dblclick("#file-submit")
        wait_for_js(page, "!document.getElementById('filed').hidden", timeout=10_000)
        first = _codes(sqlite_catalogue)
        assert len(first) == 1
        filed = page.text_content("#filed")
        assert f"Đã tiếp nhận hồ sơ {first[0]}" in filed and "Đăng ký thường trú" in filed
        assert page.text_content("#filed .pin").isdigit() and page.is_hidden("#file-form")
        wait_for_js(page, f"document.getElementById('d-code').textContent === 'Hồ sơ {first[0]}'", timeout=10_000)
        page.wait_for_selector(f"tr[data-code='{first[0]}']", timeout=10_000)

        # 2. the server files, the answer is lost on the way back; staff press the button again
        lost: list[int] = []

        def lose_the_answer(route):
            if route.request.method != "POST" or lost:
                route.continue_()
                return
            lost.append(route.fetch().status)  # the server got it and filed
            route.abort("connectionreset")

        page.route(f"{base}{FILINGS}", lose_the_answer)
        _fill(page, "Lê Thị Hoa", "001190012345")
        page.click("#file-submit")
        wait_for_js(page, "!document.getElementById('message').hidden", timeout=10_000)
        assert lost == [201] and "gửi lại" in page.text_content("#message")
        assert page.is_visible("#file-form")  # the form, and its key, stay for the retry
        second = _codes(sqlite_catalogue)
        assert len(second) == 2
        page.click("#file-submit")
        wait_for_js(page, f"(document.getElementById('filed').dataset.code || '') === '{second[1]}' "
                          "&& !document.getElementById('filed').hidden", timeout=10_000)
        assert _codes(sqlite_catalogue) == second  # the retry answered the dossier filed by the lost request
        assert page.text_content("#filed .pin").isdigit()  # the PIN again, within the hour it is kept

    filings = [k for k in keys if k]
    assert len(keys) == len(filings) and len(filings) in (3, 4)  # the double click sent one request or two
    assert len(set(filings)) == 2  # one key per opened form
    assert filings[-1] == filings[-2] != filings[0]
    assert errors == []


def test_an_admin_chooses_the_centre_a_dossier_is_filed_at(tmp_path, sqlite_catalogue, sqlite_service, browser_page):
    add_staff(sqlite_catalogue)
    with session_scope(sqlite_catalogue) as session:
        add_center(session, "xa-dong", "Trung tâm PVHCC xã Đông", agency_code="000.00.31.H01", actor="test")
        create_user(session, "tinh", STAFF_PASSWORD, role="admin", full_name="Quản trị tỉnh")
    page = browser_page
    with desk_in_browser(tmp_path, sqlite_catalogue, sqlite_service, page, "tinh") as (_, errors):
        wait_for_js(page, "!document.getElementById('f-center-field').hidden", timeout=10_000)
        _fill(page, "Trần Văn Bình", "001090054321")
        options = page.eval_on_selector_all("#f-center option", "os => os.map(o => [o.value, o.textContent])")
        assert options[0][0] == "default" and ["xa-dong", "Trung tâm PVHCC xã Đông (000.00.31.H01)"] in options
        page.select_option("#f-center", "xa-dong")
        page.click("#file-submit")
        wait_for_js(page, "!document.getElementById('filed').hidden", timeout=10_000)
    codes = _codes(sqlite_catalogue)
    assert len(codes) == 1 and codes[0].startswith("000.00.31.H01-")  # numbered with the chosen centre's code
    with session_scope(sqlite_catalogue) as session:
        assert session.scalar(select(DossierRow.center_code).where(DossierRow.code == codes[0])) == "xa-dong"
    assert errors == []
