"""``/staff/deliveries``: what could not be sent (dead letters), and what staff do about it.

Every outbox follows :mod:`motcua.delivery` — the webhook inbox too (kind ``inbound``: a citizen's
Telegram or Zalo message that could not be answered) —; a row that failed its last try is a dead letter.
The page lists them (what, to whom — channel and masked recipient —, tries, last error, when)
with «Gửi lại» (pending again, tries from zero) and «Bỏ qua» (kept, marked dismissed); both
are written to the audit log. Staff pages keep their labels in the page (not citizen-facing).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from bot.auth import Staff
from bot.deps import DatabaseDep, SettingsDep
from bot.routes.staff import page
from motcua import delivery
from motcua.db import Database

router = APIRouter(tags=["deliveries"])
KIND_PATTERN = "^(" + "|".join(delivery.KINDS) + ")$"


@router.get("/staff/deliveries", response_class=HTMLResponse, summary="Thư chưa gửi được / dead letters")
async def deliveries_page(settings: SettingsDep, _: Staff) -> HTMLResponse:
    return page(settings, "deliveries.html")


def _read(database: Database) -> dict:
    with database.session() as session:
        letters = delivery.dead_letters(session)
        figures = delivery.outbox_figures(session)
    return {"dead_letters": [letter.to_dict() for letter in letters],
            "pending": figures.pending, "dead": figures.dead}


@router.get("/api/v1/staff/deliveries", summary="Các thư chưa gửi được")
async def dead_letters(database: DatabaseDep, _: Staff) -> dict:
    return await run_in_threadpool(_read, database)


async def _act(database: Database, work) -> dict:
    def run() -> dict:
        with database.session() as session:
            return work(session).to_dict()

    try:
        return await run_in_threadpool(run)
    except delivery.NotADeadLetter as exc:
        raise HTTPException(404, "Không có thư chưa gửi được này (có thể đã được xử lý).") from exc


@router.post("/api/v1/staff/deliveries/{kind}/{row_id}/resend", summary="Gửi lại")
async def resend(database: DatabaseDep, principal: Staff, kind: str = Path(pattern=KIND_PATTERN),
                 row_id: int = Path(ge=1)) -> dict:
    result = await _act(database, lambda s: delivery.resend(s, kind, row_id, actor=principal.username))
    _wake(database, kind)
    return result


@router.post("/api/v1/staff/deliveries/{kind}/{row_id}/dismiss", summary="Bỏ qua")
async def dismiss(database: DatabaseDep, principal: Staff, kind: str = Path(pattern=KIND_PATTERN),
                  row_id: int = Path(ge=1)) -> dict:
    return await _act(database, lambda s: delivery.dismiss(s, kind, row_id, actor=principal.username))


def _wake(database: Database, kind: str) -> None:
    """A re-sent notice goes out on the relay's next pass, now rather than at its interval (the
    portal worker and the webhook inbox's worker pass every few seconds anyway)."""
    if kind in ("notice", "dossier"):
        from bot.notifications import wake_relays

        wake_relays(database)
