"""A real headless Chromium (Debian's) for page tests, with the flags this closed network needs.

``browser_page``: one page in a fresh profile, for a test that needs a single page.
``browser``: one browser for a whole module, whose tests open their own pages and contexts
(viewport, locale, zoom).
"""

from __future__ import annotations

import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


def _require_chromium():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.skip("chromium chưa cài (apt-get install chromium)")
    return playwright_api


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium shared by a module's tests; skipped with a message when missing."""
    playwright_api = _require_chromium()
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_page():
    """One page in a fresh profile; skipped with a message when Chromium or Playwright is missing."""
    playwright_api = _require_chromium()
    with playwright_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def wait_for_js(page, expression: str, timeout: float = 30_000, interval_s: float = 0.1) -> None:
    """``page.wait_for_function`` for pages under the gateway's CSP.

    Playwright's own polling runs ``eval`` inside the page, which ``script-src 'self'`` (no
    ``'unsafe-eval'``) refuses; ``page.evaluate`` goes through the DevTools protocol, which
    the page's policy does not govern. ``timeout`` is in milliseconds, as in Playwright.
    """
    import time

    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            if page.evaluate(expression):
                return
        except PlaywrightError as error:  # a navigation (say, after signing in) replaced the page meanwhile
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout / 1000:.0f} s: {expression}")
        time.sleep(interval_s)


def sign_in_through(page, base: str, path: str, username: str, password: str, timeout: float) -> None:
    """Open a staff page not signed in: the sign-in form comes first, then the page itself
    (``timeout`` in milliseconds for each wait)."""
    page.goto(f"{base}{path}")
    page.wait_for_selector("#login", timeout=timeout)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login button[type=submit]")
    page.wait_for_url(f"{base}{path}", timeout=timeout)
