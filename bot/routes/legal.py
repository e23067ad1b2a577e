"""The legal library for people: one article, whole, readable on a kiosk; and as JSON.

- ``GET /phap-luat/{document}/{article}``: Điều ``article`` of the document (slug
  ``60-2014-QH13`` or number), Vietnamese HTML in large type, its status on today's date
  (in force, replaced, not yet in force), ``#khoan-N`` anchors for clauses.
- ``GET /api/v1/legal/{document}/articles/{article}``: the same as JSON.

Legal answers in the chat link here ("Xem toàn văn Điều 15"). The page's own words
(``gateway.legal.*`` in the message catalogue) follow ``?lang=`` or ``Accept-Language``;
the law itself is Vietnamese.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from bot.deps import DatabaseDep, SettingsDep
from bot.validation import request_locale
from knowledge_base.legal_library import ArticleView, find_article
from knowledge_base.messages import render
from motcua.db import Database
from motcua.settings import Settings

router = APIRouter(tags=["legal"])

NOT_FOUND = "gateway.legal.not_found"


def _article(database: Database, document: str, article: str, locale: str | None = None) -> ArticleView:
    with database.session() as session:
        view = find_article(session, document, article)
    if view is None:
        raise HTTPException(status_code=404, detail=render(NOT_FOUND, locale=locale))
    return view


def _public_url(settings: Settings, request: Request, path: str) -> str:
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    return f"{base}{path}"


@router.get("/api/v1/legal/{document}/articles/{article}", summary="Một điều luật / one article (JSON)")
async def article_json(request: Request, database: DatabaseDep, settings: SettingsDep, document: str,
                       article: str) -> dict[str, Any]:
    view = _article(database, document, article, request_locale(request))
    today = date.today()
    info = view.document
    return {
        "document": {
            "number": info.number,
            "label": info.label,
            "title": info.title,
            "type": info.doc_type,
            "issuer": info.issuer,
            "issued": info.issued,
            "effective": info.effective,
            "replaced_by": info.replaced_by,
            "replaced_from": info.replaced_from,
            "consolidated": info.consolidated,
            "text_version": info.text_version,
            "in_force": info.in_force_on(today),
            "status": info.status_label(today),
        },
        "article": {
            "number": view.number,
            "title": view.title,
            "heading": view.heading,
            "citation": view.citation,
            "chapter": view.chapter,
            "chapter_title": view.chapter_title,
            "section": view.section,
            "section_title": view.section_title,
            "text": view.text,
            "clauses": [{"number": c.number, "text": c.text, "citation": c.citation} for c in view.clauses],
        },
        "url": _public_url(settings, request, view.path),
    }


_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font: 22px/1.6 system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; margin: 0; color: #111; background: #fff; }}
  main {{ max-width: 52rem; margin: 0 auto; padding: 1.5rem; }}
  h1 {{ font-size: 1.6rem; line-height: 1.3; margin: .2rem 0 1rem; }}
  .doc {{ font-size: 1.05rem; color: #333; }}
  .where {{ color: #444; font-size: .95rem; margin: 0; }}
  .status {{ display: inline-block; padding: .2rem .7rem; border-radius: .4rem; background: #e7f5ea; color: #0b5a1f; }}
  .status.off {{ background: #fdecea; color: #8a1c12; }}
  .note {{ border-left: .35rem solid #c77700; background: #fff6e5; padding: .6rem 1rem; margin: 1rem 0; }}
  p.line {{ margin: .45rem 0; }}
  p.point {{ margin-left: 2rem; }}
  section.clause:target {{ background: #fff9c4; outline: .2rem solid #f2c200; }}
  a.back {{ display: inline-block; margin-top: 1.5rem; padding: .6rem 1.2rem; font-size: 1.1rem; background: #0b57d0;
           color: #fff; border-radius: .5rem; text-decoration: none; }}
</style>
</head>
<body>
<main>
<p class="doc">{label} — {doc_title}</p>
{where}
<h1>{heading}</h1>
<p><span class="status{status_class}">{status}</span></p>
{note}
{body}
<a class="back" href="/kiosk">{back}</a>
</main>
</body>
</html>
"""


def _body(view: ArticleView) -> str:
    """Clauses as ``<section id="khoan-N">``; points indented; text escaped."""
    clauses = {c.number: c for c in view.clauses}
    parts: list[str] = []
    current: list[str] = []
    current_id = ""

    def close() -> None:
        if current:
            attrs = f' class="clause" id="khoan-{html.escape(current_id)}"' if current_id else ""
            parts.append(f"<section{attrs}>" + "".join(current) + "</section>")
            current.clear()

    for line in view.text.splitlines():
        line = line.strip()
        if not line:
            continue
        number = line.split(".", 1)[0]
        if number in clauses and line.startswith(f"{number}."):
            close()
            current_id = number
        is_point = len(line) > 1 and line[1] == ")" and line[0].isalpha()
        css = "line point" if is_point else "line"
        current.append(f'<p class="{css}">{html.escape(line)}</p>')
    close()
    return "\n".join(parts)


@router.get(
    "/phap-luat/{document}/{article}",
    response_class=HTMLResponse,
    summary="Toàn văn một điều luật / one article, readable on a kiosk",
)
async def article_page(request: Request, database: DatabaseDep, document: str, article: str) -> HTMLResponse:
    locale = request_locale(request)

    def say(key: str, **params: Any) -> str:
        return render(f"gateway.legal.{key}", locale=locale, **params)

    words = {"lang": locale, "back": html.escape(say("back"))}
    try:
        view = _article(database, document, article, locale)
    except HTTPException:
        page = _PAGE.format(
            title=html.escape(say("not_found_title")),
            label="",
            doc_title="",
            where="",
            heading=html.escape(say("not_found_heading")),
            status=html.escape(say("not_found")),
            status_class=" off",
            note="",
            body="",
            **words,
        )
        return HTMLResponse(page, status_code=404)
    today = date.today()
    info = view.document
    where = " · ".join(
        x
        for x in (
            say("chapter", number=view.chapter, title=view.chapter_title).strip(". ") if view.chapter else "",
            say("section", number=view.section, title=view.section_title).strip(". ") if view.section else "",
        )
        if x
    )
    note = info.status_note(today)
    page = _PAGE.format(
        **words,
        title=html.escape(f"{view.heading} — {info.label}"),
        label=html.escape(info.label),
        doc_title=html.escape(info.title),
        where=f'<p class="where">{html.escape(where)}</p>' if where else "",
        heading=html.escape(view.heading),
        status=html.escape(info.status_label(today)),
        status_class="" if info.in_force_on(today) else " off",
        note=f'<p class="note">{html.escape(note)}</p>' if note else "",
        body=_body(view),
    )
    return HTMLResponse(page)
