"""The citizen pages speak from the catalogue: kiosk, board and web widget, in Vietnamese and English.

The pages' part of the one-voice check is here too: no Vietnamese word is left in the static
kiosk, widget and board files (outside comments) — every text they show comes from
``knowledge_base/locale/*/LC_MESSAGES/pages.po``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.routes.pages import STATIC, accept_language, fill_page, script_json
from knowledge_base.messages import load_catalogue, render
from motcua.db import upgrade_database
from tests.bot.test_gateway import gateway_settings

VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
PAGE_FILES = sorted(p for stem in ("kiosk", "widget", "board", "page-messages") for p in STATIC.glob(f"{stem}.*"))
EMBEDDED = re.compile(r'<script type="application/json" id="page-messages">(.*?)</script>', re.DOTALL)


@pytest.fixture
def client(tmp_path):
    upgrade_database(f"sqlite:///{tmp_path / 'motcua.sqlite3'}")  # the gateway's default database
    with TestClient(create_app(gateway_settings(tmp_path, "http://127.0.0.1:9"))) as client:
        yield client


def embedded(page: str) -> dict[str, str]:
    return json.loads(EMBEDDED.search(page).group(1))


# --- served pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_kiosk_page_shows_the_catalogues_words_in_its_language(client, locale):
    page = client.get("/kiosk", params={"lang": locale} if locale == "en" else None).text
    assert f'<html lang="{locale}">' in page
    for key in ("page.kiosk.send", "page.kiosk.task_queue", "page.kiosk.placeholder", "page.kiosk.hint",
                "page.kiosk.connecting"):
        assert html.escape(render(key, locale=locale)) in page, key
    assert f'data-text="{html.escape(render("page.kiosk.task_queue_said", locale=locale))}"' in page
    assert embedded(page) == load_catalogue(locale).group("page.kiosk.")
    assert "{{" not in page  # every placeholder was filled


def test_english_and_vietnamese_kiosk_pages_differ_and_the_hall_screen_ignores_the_browser(client):
    vietnamese = client.get("/kiosk").text
    english = client.get("/kiosk?lang=en-GB").text
    assert render("page.kiosk.send", locale="en") == "Send" and ">Send</button>" in english
    assert ">Gửi</button>" in vietnamese and ">Gửi</button>" not in english
    # a kiosk's browser speaks its installer's language, not the citizen's: only the address decides
    assert client.get("/kiosk", headers={"Accept-Language": "en-US,en;q=0.9"}).text == vietnamese


def test_the_board_page_shows_the_catalogues_words_in_its_language(client):
    for locale, params in (("vi", None), ("en", {"lang": "en"})):
        page = client.get("/board", params=params).text
        assert f'<html lang="{locale}">' in page
        for key in ("page.board.now_title", "page.board.recent", "page.board.waiting", "page.board.notice"):
            assert html.escape(render(key, locale=locale)) in page, key
        assert embedded(page) == load_catalogue(locale).group("page.board.")
        assert 'data-timezone="Asia/' in page and "{{" not in page
    assert "NOW SERVING" in page and "XIN MỜI SỐ" not in page


def test_the_widget_fetches_its_words_by_language(client):
    vietnamese = client.get("/api/v1/messages", params={"prefix": "page.widget."}).json()
    assert vietnamese == {"locale": "vi", "messages": load_catalogue("vi").group("page.widget.")}
    assert vietnamese["messages"]["page.widget.send"] == "Gửi"
    english = client.get("/api/v1/messages", params={"prefix": "page.widget.", "lang": "en"})
    assert english.json()["messages"]["page.widget.send"] == "Send"
    by_browser = client.get("/api/v1/messages?prefix=page.widget.", headers={"Accept-Language": "en-US,vi;q=0.5"})
    assert by_browser.json()["locale"] == "en" and "Accept-Language" in by_browser.headers["vary"]
    assert client.get("/api/v1/messages?prefix=answer.").status_code == 422  # page texts only
    assert client.get("/api/v1/messages?prefix=page.kiosk.").json()["messages"] == load_catalogue().group("page.kiosk.")


def test_the_read_out_refusals_come_from_the_catalogue(client):
    nothing = client.post("/api/v1/tts", json={"text": "\x07"})
    assert nothing.status_code == 422 and nothing.json()["detail"] == render("page.tts.nothing")
    english = client.post("/api/v1/tts?lang=en", json={"text": "\x07"})
    assert english.json()["detail"] == render("page.tts.nothing", locale="en") == "There is nothing to read."


# --- the mechanism ------------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    ("", "vi"), (None, "vi"), ("vi-VN,vi;q=0.9,en;q=0.8", "vi"), ("en-US,en;q=0.9", "en"),
    ("fr-FR, en;q=0.5, vi;q=0.7", "vi"), ("fr, de", "vi"), ("en;q=0, vi;q=0.1", "vi"), ("EN_gb", "en"),
    ("en;q=abc, vi", "vi"),
])
def test_accept_language_picks_the_preferred_language_we_speak(header, expected):
    assert accept_language(header) == expected


def test_filling_escapes_the_words_and_never_fills_twice():
    page = ("<title>{{ msg('page.kiosk.title') }}</title><h1>{{CENTER}}</h1>"
            '<script type="application/json" id="page-messages">{{MESSAGES}}</script>')
    filled = fill_page(page, "page.kiosk.", "vi", center="<b>{{MESSAGES}}</b> & co")
    assert "<title>&lt;b&gt;{{MESSAGES}}&lt;/b&gt; &amp; co — Trợ lý Một Cửa</title>" in filled
    assert "<h1>&lt;b&gt;{{MESSAGES}}&lt;/b&gt; &amp; co</h1>" in filled
    assert embedded(filled)["page.kiosk.send"] == "Gửi"
    with pytest.raises(KeyError, match="TIMEZONE"):
        fill_page("{{TIMEZONE}}", "page.board.", "vi")


def test_the_embedded_json_cannot_close_its_script_block():
    text = script_json({"x": "</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"x": "</script><!-- & -->"}


# --- the static files ------------------------------------------------------------------------------

def without_comments(path: Path) -> str:
    """The file's code: comments out, string literals kept (a ``//`` inside a string is not a comment)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        return re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    strings = r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`(?:[^`\\]|\\.)*`'
    comments = r"/\*.*?\*/" + ("|//[^\n]*" if path.suffix == ".js" else "")
    return re.sub(f"({strings})|{comments}", lambda m: m.group(1) or "", text, flags=re.DOTALL)


def test_the_comment_stripper_keeps_strings_and_drops_comments(tmp_path):
    script = tmp_path / "x.js"
    script.write_text('const a = "ws://host"; // Xin chào\n/* Một Cửa */ const b = \'Gửi\';\n', encoding="utf-8")
    assert without_comments(script) == 'const a = "ws://host"; \n const b = \'Gửi\';\n'


def test_no_vietnamese_word_is_left_in_the_citizen_pages_static_files():
    assert {p.name for p in PAGE_FILES} >= {"kiosk.html", "kiosk.js", "kiosk.css", "widget.js", "widget.css",
                                             "board.html", "board.js", "board.css", "page-messages.js"}
    left = [f"{p.name}: {line.strip()[:80]}" for p in PAGE_FILES
            for line in without_comments(p).splitlines() if VIETNAMESE.search(line)]
    assert left == []


def test_every_text_the_static_pages_ask_for_is_in_both_catalogues():
    vietnamese, english = load_catalogue("vi"), load_catalogue("en")
    asked = set()
    for path in PAGE_FILES:
        text = path.read_text(encoding="utf-8")
        asked |= set(re.findall(r"\{\{\s*msg\('([a-z0-9_.]+)'\)\s*\}\}", text))
        if path.suffix == ".js" and path.stem != "page-messages":
            asked |= {f"page.{path.stem}.{name}" for name in re.findall(r'\bt\("([a-z0-9_]+)"\s*[,)]', text)}
    assert len(asked) > 60
    assert sorted(asked - vietnamese.keys()) == []
    pages = {key for key in vietnamese.templates if key.startswith("page.")}
    assert sorted(pages - english.templates.keys()) == []  # English is complete for the pages
    for key in pages:  # and asks for the same fields («{count}» may be left out where English needs no noun)
        assert english.fields(key) <= vietnamese.fields(key), key


def test_the_pages_run_no_inline_script():
    for name in ("kiosk.html", "board.html"):
        page = (STATIC / name).read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", page):
            assert "src=" in tag or 'type="application/json"' in tag, (name, tag)
