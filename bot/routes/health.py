"""``/health``: each dependency's state, so staff see at once what is down.

Anyone (a load balancer, an uptime probe) gets the overall status and, per check, only whether it
is ok; the details — latencies, the model file Rasa serves, restarts per service, outbox figures,
error class names — are for signed-in staff (the session cookie) and bearer clients
(``Authorization: Bearer <session token>``) only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from bot.auth import current_principal, session_token
from bot.deps import AuthPolicyDep, DatabaseDep, DialogueDep, MessageLogDep, SettingsDep
from motcua.db import Database, utcnow
from motcua.delivery import outbox_figures
from motcua.staff.accounts import AuthPolicy
from motcua.supervisor import read_status, supervisor_alive

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


def _check_database(database: Database) -> dict[str, object]:
    started = time.perf_counter()
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:  # report, never raise: health must answer
        return {"ok": False, "error": type(exc).__name__}


async def _check_all_actions(urls: list[str]) -> dict[str, object]:
    """Every action server (one per worker): ok only when all answer; ``servers`` says how many did."""
    if len(urls) == 1:
        return await _check_actions(urls[0])
    each = await asyncio.gather(*(_check_actions(url) for url in urls))
    up = sum(bool(check["ok"]) for check in each)
    return {"ok": up == len(each), "servers": f"{up}/{len(each)}"}


async def _check_actions(url: str) -> dict[str, object]:
    health_url = url.rsplit("/webhook", 1)[0] + "/health"
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=1.0) as client:
            response = await client.get(health_url)
        return {"ok": response.status_code == 200, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except httpx.HTTPError as exc:
        return {"ok": False, "error": type(exc).__name__}


def _check_supervisor(data_dir: Path) -> dict[str, object]:
    """Restarts per service, from the file ``motcua serve`` keeps (so a restarted gateway still
    shows the history). Not ok while a service is in a crash loop; ok when nothing supervises
    (services started another way, or ``serve`` has stopped)."""
    status = read_status(data_dir)
    if status is None or not isinstance(status.get("services"), dict):
        return {"ok": True, "supervised": False}
    services = {name: record for name, record in status["services"].items() if isinstance(record, dict)}
    alive = supervisor_alive(status)  # a file left by an earlier run is history, not a problem now
    looping = sorted(name for name, record in services.items() if alive and record.get("crash_loop"))
    check: dict[str, object] = {
        "ok": not looping, "supervised": alive, "updated_at": status.get("updated_at"),
        "restarts": {name: record.get("restarts", 0) for name, record in services.items()},
        "services": {name: {key: record.get(key) for key in
                            ("state", "restarts", "last_exit_code", "last_restart_at", "up_since", "crash_loop",
                             "startup_failures")}
                     for name, record in services.items()},
    }
    if looping:
        check["crash_loop"] = looping
    return check


OUTBOX_STALE_S = 15 * 60
"""A due notice or portal message untaken this long means the senders are stuck: degraded."""


def _check_outbox(database: Database) -> dict[str, object]:
    """Backlog of the outboxes (:mod:`motcua.delivery`): pending rows, the oldest pending age, dead
    letters. A backlog alone is fine (rows wait their backoff); only a row *due* for more than
    :data:`OUTBOX_STALE_S` — nobody is sending — makes it not ok."""
    try:
        with database.session() as session:
            figures = outbox_figures(session)
    except Exception as exc:  # report, never raise: health must answer
        return {"ok": False, "error": type(exc).__name__}
    now = utcnow()

    def age(moment) -> float | None:
        return None if moment is None else round(max(0.0, (now - moment).total_seconds()), 1)

    oldest_due = age(figures.oldest_due_at)
    return {"ok": oldest_due is None or oldest_due <= OUTBOX_STALE_S, "pending": figures.pending,
            "due": figures.due, "oldest_pending_s": age(figures.oldest_pending_at), "oldest_due_s": oldest_due,
            "dead_letters": figures.dead}


async def _shows_details(request: Request, database: Database, rules: AuthPolicy) -> bool:
    """A signed-in staff member or a bearer client: a valid session token, by cookie or header.
    Never raises: with the database down the caller is anonymous, and health still answers."""
    if not session_token(request):
        return False
    try:
        return await current_principal(request, database, rules) is not None
    except Exception as exc:  # report, never raise: health must answer
        log.warning("health: could not check the caller's session (%s)", type(exc).__name__)
        return False


def public_checks(checks: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """What an anonymous caller sees of each check: ok or not, nothing more."""
    return {name: {"ok": bool(check.get("ok"))} for name, check in checks.items()}


@router.get("/health", summary="Tình trạng hệ thống / health of each dependency")
async def health(request: Request, settings: SettingsDep, db: DatabaseDep, dialogue: DialogueDep,
                 message_log: MessageLogDep, rules: AuthPolicyDep) -> JSONResponse:
    database, rasa, actions = await asyncio.gather(
        run_in_threadpool(_check_database, db),
        dialogue.ping(),
        _check_all_actions(settings.action_webhook_urls),
    )
    checks: dict[str, dict[str, object]] = {"gateway": {"ok": True}, "database": database, "rasa": rasa,
                                            "action_server": actions,
                                            "supervisor": await run_in_threadpool(_check_supervisor, settings.data_dir),
                                            # rows the message log could not store (counted, not lost silently)
                                            "message_log": {"ok": True, "failed_rows": message_log.failures},
                                            "outbox": await run_in_threadpool(_check_outbox, db)}
    ok = all(check["ok"] for check in checks.values())
    detailed = await _shows_details(request, db, rules)
    body = {"status": "ok" if ok else "degraded",
            "message": "Hệ thống hoạt động bình thường" if ok else "Một số thành phần đang gặp sự cố",
            "checks": checks if detailed else public_checks(checks)}
    return JSONResponse(body, status_code=200 if ok else 503,
                        headers={"Cache-Control": "no-store", "Vary": "Cookie, Authorization"})
