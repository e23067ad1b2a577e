"""Reading one article of the legal library: a kiosk page and JSON, on SQLite and PostgreSQL.

A short fictional law and the decree replacing an older one are ingested with the
knowledge base's own code; the gateway runs without Rasa (these routes do not need it).
"""

from __future__ import annotations

from datetime import date
from html import escape as html_escape

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from knowledge_base.ingest import ingest_legal_files
from knowledge_base.messages import render
from tests.servers import free_port
from tests.staff.conftest import make_settings

LAW = """---
number: 10/2014/QH13
title: Luật Thử nghiệm
type: Luật
effective: 2015-01-01
status_note: Sẽ hết hiệu lực từ 2020-01-01 khi Luật Thử nghiệm số 20/2019/QH14 có hiệu lực
---
Chương II
ĐĂNG KÝ NUÔI ONG

Mục 1
ĐĂNG KÝ LẦN ĐẦU

Điều 2. Thời hạn đăng ký
1. Trong thời hạn 30 ngày kể từ ngày bắt đầu nuôi, người nuôi phải đăng ký đàn ong.
2. Hồ sơ gồm:
a) Tờ khai theo mẫu;
b) Giấy tờ <chứng minh> nơi đặt đàn ong.
"""


@pytest.fixture
def client(tmp_path, database_url):
    path = tmp_path / "10-2014-QH13.md"
    path.write_text(LAW, encoding="utf-8")
    assert all(o.ok for o in ingest_legal_files(database_url, [path]))
    settings = make_settings(tmp_path, f"http://127.0.0.1:{free_port()}", database_url)
    settings = settings.model_copy(update={"public_url": "https://motcua.example.vn"})
    with TestClient(create_app(settings)) as client:
        yield client


def test_an_article_page_is_readable_vietnamese_with_clause_anchors_and_its_status(client):
    page = client.get("/phap-luat/10-2014-QH13/2")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="vi">' in html
    assert "Điều 2. Thời hạn đăng ký" in html and "Luật Thử nghiệm 2014" in html
    assert "Chương II. ĐĂNG KÝ NUÔI ONG · Mục 1. ĐĂNG KÝ LẦN ĐẦU" in html
    assert 'id="khoan-1"' in html and 'id="khoan-2"' in html
    assert "&lt;chứng minh&gt;" in html  # the text is escaped
    if date.today() >= date(2020, 1, 1):
        assert "Hết hiệu lực từ 01/01/2020" in html and "đã được thay thế bởi 20/2019/QH14" in html


def test_the_same_article_as_json_with_an_absolute_link(client):
    data = client.get("/api/v1/legal/10/2014/QH13/articles/2")
    assert data.status_code == 404  # a number with slashes is not a path: use the slug
    body = client.get("/api/v1/legal/10-2014-QH13/articles/2").json()
    assert body["article"]["citation"] == "Điều 2 Luật Thử nghiệm 2014"
    assert [c["number"] for c in body["article"]["clauses"]] == ["1", "2"]
    assert body["article"]["clauses"][0]["citation"] == "Khoản 1 Điều 2 Luật Thử nghiệm 2014"
    assert body["document"]["replaced_by"] == "20/2019/QH14" and body["document"]["in_force"] is False
    assert body["url"] == "https://motcua.example.vn/phap-luat/10-2014-QH13/2"


def test_an_unknown_article_or_document_is_a_polite_404(client):
    assert client.get("/phap-luat/10-2014-QH13/99").status_code == 404
    missing = client.get("/phap-luat/99-2099-QH99/1")
    assert missing.status_code == 404 and "Không tìm thấy" in missing.text
    assert client.get("/api/v1/legal/99-2099-QH99/articles/1").json()["detail"].startswith("Không tìm thấy")


def test_the_page_words_follow_the_citizens_language_and_the_law_stays_vietnamese(client):
    english = client.get("/phap-luat/10-2014-QH13/2", params={"lang": "en"}).text
    assert '<html lang="en">' in english and render("gateway.legal.back", locale="en") in english
    assert "Chapter II. ĐĂNG KÝ NUÔI ONG · Section 1. ĐĂNG KÝ LẦN ĐẦU" in english
    assert "Điều 2. Thời hạn đăng ký" in english  # the article itself is the law's own text
    vietnamese = client.get("/phap-luat/10-2014-QH13/2", headers={"Accept-Language": "vi-VN,vi;q=0.9"}).text
    assert html_escape(render("gateway.legal.back")) in vietnamese
    missing = client.get("/api/v1/legal/99-2099-QH99/articles/1", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert missing.json()["detail"] == render("gateway.legal.not_found", locale="en")
    assert client.get("/phap-luat/99-2099-QH99/1").status_code == 404
