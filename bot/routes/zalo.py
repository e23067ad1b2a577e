"""``POST /webhooks/zalo``: Zalo OA webhook events.

The ``X-ZEvent-Signature`` is checked on the raw body (401 missing, 403 wrong); Zalo
gets its 200 at once and the work is done afterwards, each event once even when Zalo
delivers it again.
"""

from __future__ import annotations

import json
import logging
import time

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.ratelimit import should_stay_quiet
from bot.routes.telegram import BodyTooLarge, read_body
from channels.base import BotMessage
from channels.zalo import SIGNATURE_HEADER, ZaloInput, is_fresh, verify_signature

log = logging.getLogger(__name__)

router = APIRouter(tags=["zalo"])

MAX_BODY_BYTES = 1_000_000
wall_clock = time.time
"""Seconds since the epoch, compared with the event's timestamp (tests set their own)."""


def _answer(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"error": 0 if status == 200 else status, "message": detail}, status_code=status)


@router.post("/webhooks/zalo", summary="Webhook Zalo OA / Zalo Official Account webhook")
async def zalo_webhook(request: Request, background: BackgroundTasks) -> JSONResponse:
    channels = request.app.state.channels
    settings = request.app.state.settings
    if channels.zalo is None:
        return _answer(404, "Kênh Zalo chưa được bật.")
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        return _answer(401, "Thiếu chữ ký.")
    try:
        raw = await read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        return _answer(413, "Nội dung quá lớn.")
    if not verify_signature(settings.zalo_app_id, settings.zalo_oa_secret_key, raw, header):
        return _answer(403, "Chữ ký không đúng.")
    event = json.loads(raw)  # verify_signature has parsed it once already
    if isinstance(event, dict) and str(event.get("app_id", settings.zalo_app_id)) != settings.zalo_app_id:
        return _answer(403, "Sai ứng dụng.")
    if not is_fresh(event, wall_clock()):
        return _answer(403, "Sự kiện đã quá hạn (quá 5 phút).")
    incoming = channels.zalo.parse(event)
    if incoming is None:
        return _answer(200, "ignored")
    if channels.zalo_seen.seen(incoming.event_id) or not await run_in_threadpool(
            request.app.state.event_ledger.first_time, "zalo", incoming.event_id):
        return _answer(200, "duplicate")
    background.add_task(handle_event, request.app, incoming)
    return _answer(200, "accepted")


async def handle_event(app: FastAPI, incoming: ZaloInput) -> None:
    """After Zalo has its 200: ask the gateway, send the reply through the OA API."""
    channels = app.state.channels
    zalo = channels.zalo
    sender = f"zalo:{incoming.user_id}"
    try:
        async with channels.locks.hold(sender):
            if incoming.message is None:
                if app.state.rate_limits.take(sender).allowed:
                    await zalo.send(incoming.user_id, [BotMessage(incoming.notice)])
                return
            reply = await app.state.gateway.handle(incoming.message)
            if not should_stay_quiet(reply):
                await zalo.send(incoming.user_id, reply.messages)
    except Exception:  # logged; Zalo does not resend an event it got 200 for
        log.exception("could not answer Zalo user %s", incoming.user_id)
