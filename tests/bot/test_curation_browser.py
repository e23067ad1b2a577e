"""The knowledge-base page in a real headless Chromium: sign in, search «khai sinh», edit the fee,
see the new version in the history, revert it."""

from __future__ import annotations

import pytest

from bot.app import create_app
from knowledge_base.store import get_procedure
from motcua.db import session_scope, upgrade_database
from tests.bot.test_curation_api import BIRTH, curation_settings
from tests.browser import sign_in_through, wait_for_js
from tests.servers import serve_in_thread
from tests.staff.conftest import PASSWORD

pytestmark = pytest.mark.integration


def test_staff_edit_a_procedure_on_the_page_see_the_revision_and_revert_it(tmp_path, browser_page):
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade_database(url)
    settings = curation_settings(tmp_path, url)
    with session_scope(url) as session:
        original_fee = get_procedure(session, BIRTH).channels[0].fee
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with serve_in_thread(create_app(settings)) as base:
        sign_in_through(page, base, "/staff/kb", "canbo", PASSWORD, timeout=30_000)  # not signed in: sent to the sign-in page, then back
        page.wait_for_selector("nav a.current:has-text('Cơ sở tri thức')", timeout=30_000)

        page.fill("#q", "khai sinh")
        page.click("#search-form button[type=submit]")
        wait_for_js(page, "document.querySelector('#results tr[data-code]') && "
                               f"document.querySelector('#results tr').dataset.code === '{BIRTH}'", timeout=30_000)
        page.click(f"#results tr[data-code='{BIRTH}']")
        wait_for_js(page, "document.getElementById('p-title').textContent.includes('Đăng ký khai sinh')",
                               timeout=30_000)
        assert page.input_value("#f-name") == "Đăng ký khai sinh"
        # the form fills first, the history arrives with a second request: wait for it, then it is one version
        wait_for_js(page, "document.querySelectorAll('#history tr[data-version]').length > 0", timeout=30_000)
        assert page.locator("#history tr[data-version]").count() == 1

        fee = page.locator("#f-channels tr").first.locator(".c-fee")
        fee.fill("15000")
        page.locator("#f-channels tr").first.locator(".c-free").uncheck()
        page.fill("#f-reason", "lệ phí theo quyết định mới")
        page.click("#save")
        wait_for_js(page, "document.querySelectorAll('#history tr[data-version]').length === 2", timeout=30_000)
        assert "Đã lưu thủ tục (phiên bản 2)" in page.text_content("#notice")
        assert "thay đổi đã được lưu" in page.text_content("#notice")  # the action server is not running here
        newest = page.locator("#history tr[data-version='2']")
        assert "canbo" in newest.text_content() and "lệ phí theo quyết định mới" in newest.text_content()
        change = newest.locator(".change").first
        assert "15.000" in change.text_content()  # read as a sentence, the stored values behind «Chi tiết»
        assert "{" not in change.locator(".change-line").first.text_content()
        assert not change.locator("details pre").is_visible()
        with session_scope(url) as session:
            assert get_procedure(session, BIRTH).channels[0].fee.amount == 15000

        newest.locator("button:has-text('Khôi phục bản trước')").click()
        wait_for_js(page, "document.querySelectorAll('#history tr[data-version]').length === 3", timeout=30_000)
        assert "Đã khôi phục (phiên bản 3)" in page.text_content("#notice")
        assert "khôi phục trạng thái trước phiên bản 2" in page.text_content("#history tr[data-version='3']")
        assert page.input_value("#f-channels tr:first-child .c-fee") == (
            "" if original_fee.amount is None else str(original_fee.amount))
        assert "Phiên bản 3" in page.text_content("#p-meta")
    assert errors == []
    with session_scope(url) as session:
        assert get_procedure(session, BIRTH).channels[0].fee == original_fee
