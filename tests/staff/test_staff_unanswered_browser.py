"""The unanswered-questions page and the knowledge-base FAQ form in a real headless Chromium, at a
desktop, a tablet and a phone size: nothing wider than the window, the procedure picker offers
«Đăng ký khai sinh» among ~2,600 procedures typed with or without diacritics, linking a question
works, intents read as Vietnamese labels (the raw name only as a tooltip)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import create_app
from knowledge_base.store import FaqRow
from motcua.db import session_scope, upgrade_database
from motcua.staff import service
from motcua.staff.models import QuestionStatus, UnansweredQuestion
from tests.browser import sign_in_through, wait_for_js
from tests.servers import serve_in_thread
from tests.staff.catalogue import BIRTH, BIRTH_NAME, EXTRA, seed_catalogue
from tests.staff.conftest import PASSWORD, add_accounts, make_settings

pytestmark = pytest.mark.integration

SIZES = {"desktop": (1366, 768), "tablet": (768, 1024), "phone": (390, 844)}
LONG = "thủ-tục-cấp-giấy-chứng-nhận-quyền-sử-dụng-đất-lần-đầu-cho-hộ-gia-đình-" * 3  # one unbreakable word
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
# what sticks out on the right, for the message of a failed FITS
TOO_WIDE = """[document.documentElement.scrollWidth, innerWidth, [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5).slice(0, 6)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))]"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(base URL, database URL): a gateway over the whole catalogue, one open question per size,
    one question already added to training under ask_fee."""
    tmp_path = tmp_path_factory.mktemp("unanswered")
    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    url = settings.sqlalchemy_url
    upgrade_database(url)
    add_accounts(url)
    assert seed_catalogue(url) > EXTRA
    with session_scope(url) as session:
        for size in SIZES:
            service.record_unanswered(session, channel="web", sender_id=f"web:{size}", reply="Xin lỗi, tôi chưa hiểu.",
                                      question=f"khai sinh cho con ({size}) {LONG}", reason="fallback")
        trained = service.record_unanswered(session, channel="web", sender_id="web:t", reply="",
                                            question="lệ phí khai sinh bao nhiêu", reason="fallback")
        session.flush()
        trained.status, trained.intent, trained.resolved_by = QuestionStatus.TRAINING, "ask_fee", "canbo"
    with serve_in_thread(create_app(settings)) as base:
        yield base, url


def _signed_in(browser, base: str, size: str, path: str):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in_through(page, base, path, "canbo", PASSWORD, timeout=10_000)  # not signed in: sent to sign in, then back
    return context, page, errors


def _offered(page, row, typed: str) -> None:
    box = row.locator("input[role=combobox]")
    box.fill(typed)
    option = row.locator(f"[role=listbox] li[data-code='{BIRTH}']")
    option.wait_for(state="visible", timeout=10_000)
    assert option.locator(".picker-name").text_content() == BIRTH_NAME
    assert box.get_attribute("aria-expanded") == "true"
    assert page.evaluate(FITS), (typed, page.evaluate(TOO_WIDE))  # the open list stays inside the page too


@pytest.mark.parametrize("size", list(SIZES))
def test_the_unanswered_page_fits_offers_the_birth_registration_and_links_it(browser, site, size):
    base, url = site
    context, page, errors = _signed_in(browser, base, size, "/staff/unanswered")
    try:
        wait_for_js(page, "document.body.dataset.loaded === '1'", timeout=15_000)
        assert page.evaluate(FITS), page.evaluate(TOO_WIDE)
        row = page.locator("#rows tr", has_text=f"({size})")
        assert row.count() == 1

        intent = row.locator("select.intent")
        assert intent.locator("option[value='ask_fee']").text_content() == "Hỏi lệ phí"
        assert intent.locator("option[value='ask_fee']").get_attribute("title") == "ask_fee"

        _offered(page, row, "Đăng ký khai sinh")
        _offered(page, row, "dang ky khai sinh")
        _offered(page, row, "khai sinh")
        if size == "phone":  # by keyboard: the first suggestion is highlighted, Enter takes it
            row.locator("input[role=combobox]").press("Enter")
        else:
            row.locator(f"[role=listbox] li[data-code='{BIRTH}']").click()
        assert row.locator("input[role=combobox]").input_value() == f"{BIRTH_NAME} ({BIRTH})"
        row.locator("button.link").click()
        wait_for_js(page, f"!document.querySelector('#rows').textContent.includes('({size})')", timeout=10_000)
        assert page.text_content("#error") == ""
        with session_scope(url) as session:
            linked = session.scalar(select(UnansweredQuestion).where(UnansweredQuestion.sender_id == f"web:{size}"))
            assert (linked.status, linked.procedure_code) == ("linked", BIRTH)

        page.select_option("#status", "all")
        wait_for_js(page, "document.querySelectorAll('#rows tr[data-id]').length === 4", timeout=10_000)
        label = page.locator("#rows .intent-label")
        assert label.text_content() == "Ý định: Hỏi lệ phí" and label.get_attribute("title") == "ask_fee"
        assert "ask_fee" not in page.evaluate("document.body.innerText")  # the raw name is a tooltip only
        assert page.evaluate(FITS), page.evaluate(TOO_WIDE)
    finally:
        context.close()
    assert errors == []


@pytest.mark.parametrize("size", list(SIZES))
def test_the_faq_form_of_the_knowledge_base_page_picks_procedures_with_the_same_picker(browser, site, size):
    base, url = site
    context, page, errors = _signed_in(browser, base, size, "/staff/kb")
    try:
        page.wait_for_selector("nav a.current", timeout=10_000)
        page.click("[data-tab=faq]")
        question = f"Làm khai sinh ở đâu? ({size})"
        page.fill("#faq-question", question)
        page.fill("#faq-answer", "Tại bộ phận một cửa.")
        form = page.locator("#faq-form")
        _offered(page, form, "dang ky khai sinh")
        form.locator(f"[role=listbox] li[data-code='{BIRTH}']").click()
        form.locator("input[role=combobox]").fill("9.000007")
        form.locator("[role=listbox] li[data-code='9.000007']").click()
        assert form.locator(".picker-chip").evaluate_all("chips => chips.map(c => c.dataset.code)") == [BIRTH, "9.000007"]
        form.locator(".picker-chip[data-code='9.000007'] button").click()
        assert form.locator(".picker-chip").count() == 1
        assert page.evaluate(FITS), page.evaluate(TOO_WIDE)
        form.locator("button[type=submit]").click()
        wait_for_js(page, "document.getElementById('notice').textContent.includes('Đã thêm câu hỏi')", timeout=10_000)
        assert form.locator(".picker-chip").count() == 0
        with session_scope(url) as session:
            saved = session.scalar(select(FaqRow).where(FaqRow.question == question))
            assert saved is not None and list(saved.procedure_codes) == [BIRTH]
    finally:
        context.close()
    assert errors == []
