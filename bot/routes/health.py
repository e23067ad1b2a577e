"""``/health``: each dependency's state, so staff see at once what is down."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from bot.deps import DatabaseDep, DialogueDep, SettingsDep
from motcua.db import Database

router = APIRouter(tags=["health"])


def _check_database(database: Database) -> dict[str, object]:
    started = time.perf_counter()
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:  # report, never raise: health must answer
        return {"ok": False, "error": type(exc).__name__}


async def _check_actions(url: str) -> dict[str, object]:
    health_url = url.rsplit("/webhook", 1)[0] + "/health"
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=1.0) as client:
            response = await client.get(health_url)
        return {"ok": response.status_code == 200, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except httpx.HTTPError as exc:
        return {"ok": False, "error": type(exc).__name__}


@router.get("/health", summary="Tình trạng hệ thống / health of each dependency")
async def health(settings: SettingsDep, db: DatabaseDep, dialogue: DialogueDep) -> JSONResponse:
    database, rasa, actions = await asyncio.gather(
        run_in_threadpool(_check_database, db),
        dialogue.ping(),
        _check_actions(settings.action_webhook_url),
    )
    checks: dict[str, dict[str, object]] = {"gateway": {"ok": True}, "database": database, "rasa": rasa, "action_server": actions}
    ok = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if ok else "degraded",
            "message": "Hệ thống hoạt động bình thường" if ok else "Một số thành phần đang gặp sự cố",
            "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)
