"""The fee table on the knowledge-base page in a real headless Chromium: open the «Lệ phí» tab, type a
wrong amount and read the Vietnamese error, save a right one, see it in force and in the history."""

from __future__ import annotations

import pytest

from bot.app import create_app
from knowledge_base.curation import effective_fee_table
from motcua.db import session_scope, upgrade_database
from tests.bot.test_curation_api import curation_settings
from tests.browser import sign_in_through, wait_for_js
from tests.servers import serve_in_thread
from tests.staff.conftest import PASSWORD

pytestmark = pytest.mark.integration

REBIRTH = "1.004884"


def test_staff_edit_a_fee_on_the_page_and_see_it_in_the_history(tmp_path, browser_page):
    url = f"sqlite:///{tmp_path / 'fees.sqlite3'}"
    upgrade_database(url)
    settings = curation_settings(tmp_path, url)
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with serve_in_thread(create_app(settings)) as base:
        sign_in_through(page, base, "/staff/kb", "canbo", PASSWORD, timeout=10_000)
        page.click("[data-tab=fees]")
        row = f"#fee-rows tr[data-key='{REBIRTH}']"
        wait_for_js(page, f"!!document.querySelector(\"{row}\")", timeout=10_000)
        assert page.text_content(f"{row} .fee-amount") == "8.000"
        assert page.text_content(f"{row} .fee-truc_tuyen") == "4.000"

        page.click(f"{row} button:has-text('Sửa')")
        amount = page.locator(f"{row} input[aria-label='Số tiền (đồng)']")
        amount.fill("-9000")
        page.click(f"{row} button:has-text('Lưu')")
        wait_for_js(page, "document.getElementById('error').textContent.length > 0", timeout=10_000)
        assert "Số tiền không được âm" in page.text_content("#error")

        amount.fill("12.000")
        page.locator(f"{row} input[aria-label='Số tiền khi nộp trực tuyến']").fill("6000")
        page.fill(f"{row} .fee-reason", "Nghị quyết HĐND tỉnh số 12/2026")
        page.click(f"{row} button:has-text('Lưu')")
        wait_for_js(page, f"document.querySelector(\"{row} .fee-amount\") && "
                          f"document.querySelector(\"{row} .fee-amount\").textContent === '12.000'", timeout=10_000)
        assert "Đã lưu mức phí «Đăng ký lại khai sinh» (phiên bản 1)" in page.text_content("#notice")
        assert page.text_content(f"{row} .fee-truc_tuyen") == "6.000"
        assert "đã sửa" in page.text_content(row)

        page.click(f"{row} button:has-text('Lịch sử')")
        wait_for_js(page, "document.querySelectorAll('#fee-history tr[data-version]').length === 1", timeout=10_000)
        history = page.text_content("#fee-history")
        assert "canbo" in history and "Nghị quyết HĐND tỉnh số 12/2026" in history
        assert "8.000" in history and "12.000" in history
    assert errors == []
    with session_scope(url) as session:
        rule = effective_fee_table(session).rule(REBIRTH)
        assert (rule.amount, {k.value: v for k, v in rule.amounts.items()}) == (12000, {"truc_tuyen": 6000})
