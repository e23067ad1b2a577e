"""The director's dashboard in a real headless Chromium at desktop, tablet and phone sizes: the four
headline figures at the top (visible without scrolling on a desktop), the period switch changes them,
the daily trend is drawn, count axes carry whole numbers only, no text under 14 px, charts as wide as
their boxes, nothing overflows sideways. The desktop run saves bench/results/screenshots/dashboard.png.

Also: /docs and /redoc render from the gateway's own files with every request off this host refused
(Swagger UI asks for nothing outside; ReDoc only for its «powered by» logo), and /favicon.ico answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.browser import wait_for_js
from tests.servers import serve_in_thread
from tests.staff.test_dashboard_headline import seed_history
from tests.staff.test_staff_dashboard import DAY, seed

pytestmark = pytest.mark.integration

SCREENSHOT = Path(__file__).resolve().parents[2] / "bench" / "results" / "screenshots" / "dashboard.png"
SIZES = {"desktop": (1366, 768), "tablet": (768, 1024), "phone": (390, 844)}
KPIS = ("on_time_rate", "satisfaction", "wait_min", "answered_share")

SMALL_TEXT = """() => {
  const small = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, box = node.parentElement;
    if (!node.textContent.trim() || !box.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(box).fontSize);
    if (size < 14) small.push(box.tagName + ' ' + size + 'px: ' + node.textContent.trim().slice(0, 30));
  }
  return small;
}"""


def headline(page) -> dict[str, str]:
    return {key: page.text_content(f"[data-headline='{key}'] .value") for key in KPIS}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    from bot.app import create_app
    from motcua.db import upgrade_database
    from tests.staff.conftest import add_accounts, make_settings

    settings = make_settings(tmp_path_factory.mktemp("dashboard"), "http://127.0.0.1:9")
    upgrade_database(settings.sqlalchemy_url)
    add_accounts(settings.sqlalchemy_url)
    seed(settings.sqlalchemy_url)
    seed_history(settings.sqlalchemy_url)
    with serve_in_thread(create_app(settings)) as base:
        yield base


def signed_in_context(browser, base: str, size: str):
    from tests.staff.conftest import PASSWORD

    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    answer = httpx.post(f"{base}/api/v1/staff/login", json={"username": "canbo", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in answer.cookies.jar])
    return context


@pytest.mark.parametrize("size", list(SIZES))
def test_the_director_sees_the_four_figures_first_and_switches_the_period(size, gateway, browser):
    context = signed_in_context(browser, gateway, size)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{gateway}/staff/dashboard?start={DAY}&end={DAY}")
        wait_for_js(page, "document.body.dataset.loaded === '1'", timeout=15_000)
        assert page.get_attribute("[data-period=day]", "aria-pressed") == "true"
        day = headline(page)
        assert day["satisfaction"] == "3,60" and day["on_time_rate"] == "66,7%", day
        assert "giảm" in page.text_content("[data-headline=satisfaction] .delta")  # 3,60 against 4,00 the day before
        assert page.get_attribute("[data-headline=satisfaction] .delta", "data-better") == "false"
        assert page.locator("[data-headline=wait_min] li").count() == 2  # per service: Hộ tịch, Chứng thực

        if size == "desktop":  # all four in the first screen, in one row
            boxes = [page.locator(f"[data-headline='{key}']").bounding_box() for key in KPIS]
            assert all(b["y"] + b["height"] <= 768 for b in boxes), boxes
            assert len({round(b["y"]) for b in boxes}) == 1
            assert page.evaluate("window.scrollY") == 0

        # the daily trend: two weeks of days, the seeded one marked; count axes in whole numbers
        days = page.eval_on_selector_all("svg[data-chart='trend-counts'] rect[data-series='Lượt chấm điểm']",
                                         "els => els.map(e => Number(e.dataset.value))")
        assert len(days) == 14 and days[-1] == 5 and set(days[:-1]) == {1}
        for chart in ("trend-counts", "chatbot-hours", "ratings"):
            ticks = page.eval_on_selector_all(f"svg[data-chart='{chart}'] text[data-tick]",
                                              "els => els.map(e => Number(e.dataset.tick))")
            assert ticks and all(t == int(t) for t in ticks), (chart, ticks)
        points = page.eval_on_selector_all("svg[data-chart='trend-satisfaction'] circle", "els => els.length")
        assert points == 14

        # every chart as wide as its box, no text under 14 px, nothing wider than the window
        widths = page.eval_on_selector_all(
            ".chart", "els => els.map(e => [e.id, e.clientWidth, e.querySelector('svg').getBoundingClientRect().width])")
        assert all(svg_width >= box - 2 for _, box, svg_width in widths), widths
        assert page.evaluate(SMALL_TEXT) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
        if size == "desktop":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))

        # the period switch: 7 days, then 30, each ending on the chosen day; the figures change
        page.click("[data-period=week]")
        wait_for_js(page, f"document.body.dataset.range === '{DAY - timedelta(days=6)}/{DAY}'", timeout=15_000)
        week = headline(page)
        assert week != day and week["satisfaction"] != day["satisfaction"]
        assert page.get_attribute("[data-period=week]", "aria-pressed") == "true"
        assert f"start={DAY - timedelta(days=6)}" in page.url
        page.click("[data-period=month]")
        wait_for_js(page, f"document.body.dataset.range === '{DAY - timedelta(days=29)}/{DAY}'", timeout=15_000)
        assert headline(page) != week
        assert page.eval_on_selector_all("svg[data-chart='trend-counts'] rect[data-series='Lượt chấm điểm']",
                                         "els => els.length") == 30
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
        assert page.evaluate(SMALL_TEXT) == []

        # a day with nothing in its two weeks: dashes, not zeros, and axes still in plain numbers
        empty = DAY + timedelta(days=20)
        page.goto(f"{gateway}/staff/dashboard?start={empty}&end={empty}")
        wait_for_js(page, f"document.body.dataset.range === '{empty}/{empty}'", timeout=15_000)
        assert set(headline(page).values()) == {"—"}
        ticks = page.eval_on_selector_all("svg[data-chart='trend-wait'] text[data-tick]",
                                          "els => els.map(e => e.textContent)")
        assert ticks == ["0", "0,25", "0,5", "0,75", "1"]
        assert problems == []
    finally:
        context.close()


def test_the_api_docs_render_offline_and_the_favicon_answers(gateway, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    outside: list[str] = []

    def only_this_host(route):
        if route.request.url.startswith(gateway):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_host)
    page = context.new_page()
    try:
        page.goto(f"{gateway}/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
        assert "Một Cửa" in page.text_content(".swagger-ui .info .title")
        page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
        assert page.locator(".swagger-ui .opblock").count() > 20
        assert outside == []
        page.goto(f"{gateway}/redoc")
        page.wait_for_selector("h1", timeout=15_000)
        assert "Một Cửa" in page.text_content("h1")
        # ReDoc renders from our files too; only its «powered by» logo image points off the host
        assert all(url.startswith("https://cdn.redoc.ly/redoc/logo") for url in outside), outside
    finally:
        context.close()
    icon = httpx.get(f"{gateway}/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert httpx.get(f"{gateway}/static/favicon.svg").status_code == 200
    assert "/favicon.ico" in httpx.get(f"{gateway}/docs").text
