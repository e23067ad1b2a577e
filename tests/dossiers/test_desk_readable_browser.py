"""The desk and the admin page read plainly, at desktop, tablet and phone sizes, in a real headless
Chromium: the desk is in the staff menu (with «Gọi số»), a declaration shows its fields' labels and
dd/mm/yyyy dates, the note form waits for «Thêm ghi chú»; the audit log reads «field: before → after»
with the raw data only behind «Chi tiết»; «Quay lại mô hình trước» is greyed out with its reason
when there is no earlier model; nothing is wider than the screen."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.app import create_app
from bot.deps import get_dossier_service
from motcua.db import session_scope
from motcua.staff.accounts import create_user
from tests.browser import wait_for_js
from tests.dossiers.support import STAFF_PASSWORD, add_staff, application, gateway_settings
from tests.servers import serve_in_thread

pytestmark = pytest.mark.integration

SIZES = [(1366, 768), (768, 1024), (390, 844)]
ADMIN_PASSWORD = "quan-tri-hs-2026"
VALUES = {"birth_requester_name": "Nguyễn Thị Lan", "birth_requester_relationship": "Mẹ",
          "birth_child_name": "Trần Minh Khang", "birth_child_birth_date": "2026-03-01"}
MOMENT = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}")
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def _sign_in(context, base: str, username: str, password: str) -> None:
    response = context.request.post(f"{base}/api/v1/staff/login", data={"username": username, "password": password})
    assert response.ok, response.text()


def _edit_a_procedure(base: str) -> None:
    """An admin adds a name to «Đăng ký khai sinh» through the API: one readable audit entry."""
    with httpx.Client(base_url=base) as client:
        signed = client.post("/api/v1/staff/login", json={"username": "quantri", "password": ADMIN_PASSWORD})
        client.headers["X-CSRF-Token"] = signed.cookies["motcua_csrf"]
        procedure = client.get("/api/v1/kb/procedures/1.001193").json()["procedure"]
        procedure["aliases"] = [*procedure["aliases"], "giấy chào đời"]
        assert client.put("/api/v1/kb/procedures/1.001193", json={"procedure": procedure}).status_code == 200


def test_desk_and_admin_pages_read_plainly_at_three_sizes(tmp_path, sqlite_catalogue, sqlite_service, browser, sqlite_db):
    add_staff(sqlite_catalogue)
    with session_scope(sqlite_catalogue) as session:
        create_user(session, "quantri", ADMIN_PASSWORD, role="admin", full_name="Trần Thị Quản")
    code = sqlite_db.run(sqlite_service.file_dossier, application(form_id="birth_registration", values=VALUES)).code
    app = create_app(gateway_settings(tmp_path, sqlite_catalogue))
    app.dependency_overrides[get_dossier_service] = lambda: sqlite_service
    errors: list[str] = []
    with serve_in_thread(app) as base:
        _edit_a_procedure(base)
        for width, height in SIZES:
            context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN",
                                          timezone_id="Europe/Paris")  # the page shows Vietnam time anyway
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            _sign_in(context, base, "thuha", STAFF_PASSWORD)
            page.goto(f"{base}/staff/dossiers")
            page.wait_for_selector(f"tr[data-code='{code}']", timeout=10_000)
            wait_for_js(page, "document.querySelector('#nav a.current') !== null", timeout=10_000)
            assert page.text_content("#nav a.current") == "Hồ sơ"
            assert page.get_attribute("#nav a:has-text('Gọi số')", "href") == "/staff/counter"
            received = page.locator(f"tr[data-code='{code}'] td").nth(3).text_content()
            assert MOMENT.fullmatch(received), received

            page.click(f"tr[data-code='{code}']")
            wait_for_js(page, f"document.getElementById('d-code').textContent === 'Hồ sơ {code}'", timeout=10_000)
            wait_for_js(page, "document.getElementById('d-values').textContent.includes('Người được khai sinh')",
                        timeout=10_000)
            values = page.text_content("#d-values")
            assert "Họ, chữ đệm và tên người yêu cầu" in values and "Nguyễn Thị Lan" in values
            assert "Ngày, tháng, năm sinh" in values and "01/03/2026" in values
            assert "birth_" not in values and "2026-03-01" not in values
            assert MOMENT.search(page.text_content("#d-fields")) and "Telegram" in page.text_content("#d-fields")

            assert not page.is_visible("#note-form")  # hidden until asked for
            page.click("#note-open")
            assert page.is_visible("#note-form") and page.is_visible("#note")
            assert page.get_attribute("#note-open", "aria-expanded") == "true"
            page.click("#note-cancel")
            assert not page.is_visible("#note-form")
            assert page.evaluate(FITS), f"the desk is wider than {width}px"
            context.close()

            context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            _sign_in(context, base, "quantri", ADMIN_PASSWORD)
            page.goto(f"{base}/admin")
            wait_for_js(page, "document.querySelectorAll('#audit .change-line').length > 0", timeout=10_000)
            audit = page.locator("#audit")
            assert "Sửa thủ tục 1.001193" in audit.text_content()
            assert page.is_visible("#audit .change-line:has-text('Tên gọi khác: thêm «giấy chào đời»')")
            raw = page.locator("#audit details.raw pre").first
            assert not raw.is_visible()  # the JSON only behind «Chi tiết»
            page.locator("#audit details.raw summary").first.click()
            assert raw.is_visible() and '"aliases"' in raw.text_content()

            wait_for_js(page, "document.getElementById('rollback-reason').textContent !== ''", timeout=10_000)
            assert page.is_disabled("#rollback")
            assert "Chưa có mô hình nào dùng trước" in page.text_content("#rollback-reason")
            grey = page.evaluate("getComputedStyle(document.getElementById('rollback')).backgroundColor")
            assert grey == "rgb(199, 201, 204)", grey
            wait_for_js(page, "document.getElementById('search-status').textContent !== 'Đang kiểm tra…'",
                        timeout=10_000)
            assert page.text_content("#search-status") == "Đang chuẩn bị tìm kiếm…"  # no action server here
            assert "chỉ mục" not in page.text_content("main")
            assert page.evaluate(FITS), f"the admin page is wider than {width}px"
            context.close()
    assert errors == []
