"""Pages for people: the kiosk chat page (more pages join in later issues)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.deps import SettingsDep

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(tags=["pages"])


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/kiosk")


@router.get("/kiosk", response_class=HTMLResponse, summary="Trang kiosk / kiosk chat page")
async def kiosk_page(settings: SettingsDep) -> HTMLResponse:
    html = (STATIC / "kiosk.html").read_text(encoding="utf-8")
    return HTMLResponse(html.replace("{{CENTER_NAME}}", settings.center_name))
