"""The staff desk page in a real headless Chromium: sign in, open a dossier, ask for a supplement."""

from __future__ import annotations

import pytest

from tests.browser import wait_for_js
from tests.dossiers.support import add_staff, application, desk_in_browser

pytestmark = pytest.mark.integration


def test_staff_open_a_dossier_and_request_a_supplement_from_the_desk_page(tmp_path, sqlite_catalogue,
                                                                         sqlite_service, notifier, browser_page, sqlite_db):
    add_staff(sqlite_catalogue)
    code = sqlite_db.run(sqlite_service.file_dossier, application()).code
    page = browser_page
    with desk_in_browser(tmp_path, sqlite_catalogue, sqlite_service, page) as (_, errors):
        page.wait_for_selector(f"tr[data-code='{code}']", timeout=10_000)
        wait_for_js(page, "document.getElementById('who').textContent.includes('Đỗ Thu Hà')",
                               timeout=10_000)
        page.click(f"tr[data-code='{code}']")
        wait_for_js(page, f"document.getElementById('d-code').textContent === 'Hồ sơ {code}'", timeout=10_000)
        assert page.text_content("#d-status") == "Đã tiếp nhận"
        page.click("#d-actions >> text=Yêu cầu bổ sung")
        page.fill("#note", "Thiếu bản chính giấy chứng sinh.")
        page.click("#note-form button[type=submit]")
        wait_for_js(page, "document.getElementById('d-status').textContent === 'Cần bổ sung hồ sơ'",
                               timeout=10_000)
        assert "Thiếu bản chính giấy chứng sinh." in page.text_content("#d-fields")
        assert "Cần bổ sung hồ sơ (thuha): Thiếu bản chính giấy chứng sinh." in page.text_content("#d-history")
        assert "Còn 2 thông tin chờ gửi" in page.text_content("#sync") or "Chưa cấu hình" in page.text_content("#sync")
    assert errors == []
    assert sqlite_db.run(sqlite_service.get, code).status == "supplement_requested"
    assert notifier.notices[-1].status == "supplement_requested"
