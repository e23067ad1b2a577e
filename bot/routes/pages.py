"""Pages for people: the kiosk chat page, and the catalogue's words for every citizen page.

A page file in ``bot/static`` carries no sentence of its own. Where it shows a text it says
``{{ msg('page.kiosk.send') }}``, filled from the message catalogue (``knowledge_base/locale``) when
the page is served, HTML-escaped; ``{{LANG}}`` is the page's language and ``{{MESSAGES}}``, inside a
``<script type="application/json" id="page-messages">`` block (data, not a script: the CSP allows it),
the page's whole group of messages (``page.kiosk.…``) for its script. The web widget lives on other
sites: it gets its words with the answer to ``GET /api/v1/widget/allowed`` (bot/routes/widget.py);
``GET /api/v1/messages?prefix=…`` gives any page's group.

The language is ``?lang=en`` when asked, else the browser's ``Accept-Language``, else Vietnamese.
The hall's own screens (the kiosk, the board) follow their address only (``/kiosk?lang=en``): the
language of a shared machine's browser is its installer's, not the citizen's in front of it.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from bot.deps import DatabaseDep, SettingsDep
from knowledge_base.messages import DEFAULT_LOCALE, LOCALES, load_catalogue, normalise_locale

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(tags=["pages"])

PLACEHOLDER = re.compile(r"\{\{\s*(?:msg\('(?P<key>[a-z0-9_.]+)'\)|(?P<name>[A-Z_]+))\s*\}\}")
PAGE_PREFIX = re.compile(r"^page\.[a-z0-9_]+\.$")
LANGUAGE_VARY = {"Vary": "Accept-Language"}
NOINDEX = {"X-Robots-Tag": "noindex, nofollow"}
"""For an answer reached by a secret link (a token in its address): search engines keep it out."""
NOINDEX_META = '<meta name="robots" content="noindex, nofollow">'


# --- the language of a request ------------------------------------------------------------------

def accept_language(header: str | None) -> str:
    """The first language of an ``Accept-Language`` header we speak (by its weight), else Vietnamese."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, position, tag))
    for _, _, tag in sorted(ranked):
        head = tag.lower().replace("_", "-").split("-")[0]
        if head in LOCALES:
            return head
    return DEFAULT_LOCALE


def request_locale(request: Request, *, browser: bool = True) -> str:
    """``?lang=…`` when given, else (``browser``) the browser's ``Accept-Language``; else Vietnamese."""
    asked = request.query_params.get("lang")
    if asked:
        return normalise_locale(asked)
    return accept_language(request.headers.get("accept-language")) if browser else DEFAULT_LOCALE


# --- filling a page -------------------------------------------------------------------------------

def script_json(data: object) -> str:
    """JSON safe inside a ``<script type="application/json">`` block (no ``</script>``, no ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def fill_page(page: str, group: str, locale: str, **values: str) -> str:
    """``page`` with its placeholders filled in one pass (a filled text is never read again).

    ``{{ msg('id') }}``: the message in ``locale``, its fields taken from ``values`` (``center``…);
    ``{{NAME}}``: ``values[name.lower()]``; ``{{LANG}}`` and ``{{MESSAGES}}`` (the ``group``) are given.
    Everything is HTML-escaped but the JSON, which is escaped for its script block.
    """
    catalogue = load_catalogue(locale)
    plain = {"LANG": locale, **{name.upper(): value for name, value in values.items()}}

    def fill(match: re.Match[str]) -> str:
        if match.group("key"):
            return html.escape(catalogue.render(match.group("key"), **values))
        name = match.group("name")
        if name == "MESSAGES":
            return script_json(catalogue.group(group))
        if name not in plain:
            raise KeyError(f"the page has a placeholder nobody fills: {name}")
        return html.escape(plain[name])

    return PLACEHOLDER.sub(fill, page)


def static_page(name: str, locale: str, **values: str) -> HTMLResponse:
    """``bot/static/<name>.html`` in ``locale``, with the group ``page.<name>.`` for its script."""
    page = (STATIC / f"{name}.html").read_text(encoding="utf-8")
    return HTMLResponse(fill_page(page, f"page.{name}.", locale, **values))


# --- routes -----------------------------------------------------------------------------------------

@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/kiosk")


@router.get("/kiosk", response_class=HTMLResponse, summary="Trang kiosk / kiosk chat page")
async def kiosk_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return static_page("kiosk", request_locale(request, browser=False), center=settings.center_name)


@router.get("/c/{center}/kiosk", response_class=HTMLResponse, summary="Trang kiosk của một trung tâm / a centre's kiosk")
def center_kiosk_page(center: str, request: Request, settings: SettingsDep, database: DatabaseDep) -> HTMLResponse:
    """The kiosk page of one centre: its socket says the centre, so the numbers taken are that centre's
    (an enrolled kiosk's are always its own centre's). 404 for a centre that does not exist."""
    from motcua.centers import find_center

    found = database.run(find_center, center)
    if found is None:
        raise HTTPException(404, load_catalogue(request_locale(request)).render("page.center.not_found"))
    return static_page("kiosk", request_locale(request, browser=False), center=found.name or settings.center_name)


@router.get("/api/v1/messages", summary="Lời của các trang cho người dân / the citizen pages' texts")
async def page_messages(request: Request,
                        prefix: Annotated[str, Query(max_length=64, description="vd. page.widget.")] = "page.widget.",
                        ) -> JSONResponse:
    """The templates of one page (``{name}`` fields to fill), in ``?lang=`` or the browser's language."""
    if not PAGE_PREFIX.match(prefix):
        raise HTTPException(422, "prefix: page.<page>. (page.widget., page.kiosk., page.board.)")
    locale = request_locale(request)
    body = {"locale": locale, "messages": load_catalogue(locale).group(prefix)}
    return JSONResponse(body, headers={**LANGUAGE_VARY, "Cache-Control": "public, max-age=300"})
