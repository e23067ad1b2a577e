"""``POST /webhooks/telegram``: the Telegram Bot API's webhook, inside the gateway.

The secret header is checked before anything is read (401 missing, 403 wrong); the
update is answered at once and handled afterwards, each ``update_id`` once.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from telegram import Update

from bot.ratelimit import should_stay_quiet
from channels.base import BotMessage
from channels.telegram import TelegramInput

log = logging.getLogger(__name__)

router = APIRouter(tags=["telegram"])

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing to hold more than ``limit`` bytes in memory."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, detail: str, **extra) -> JSONResponse:
    return JSONResponse({"ok": 200 <= status < 300, "detail": detail, **extra}, status_code=status)


@router.post("/webhooks/telegram", summary="Webhook Telegram / Telegram Bot API webhook")
async def telegram_webhook(request: Request, background: BackgroundTasks) -> JSONResponse:
    channels = request.app.state.channels
    expected = request.app.state.settings.telegram_secret_token
    if channels.telegram is None:
        return _answer(404, "Kênh Telegram chưa được bật.")
    given = request.headers.get(SECRET_HEADER)
    if not given:
        return _answer(401, "Thiếu mã bí mật.")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return _answer(403, "Mã bí mật không đúng.")
    try:
        raw = await read_body(request, MAX_BODY_BYTES)
        data = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not an update")
        update = Update.de_json(data, channels.telegram.bot)
    except BodyTooLarge:
        return _answer(413, "Nội dung quá lớn.")
    except Exception as exc:  # junk from someone who knows the secret: answered, never crashed on
        log.warning("unreadable Telegram update: %r", exc)
        return _answer(400, "Không đọc được nội dung.")
    if channels.telegram_seen.seen(str(update.update_id)) or not await run_in_threadpool(
            request.app.state.event_ledger.first_time, "telegram", str(update.update_id)):
        return _answer(200, "duplicate")
    incoming = channels.telegram.parse(update)
    if incoming is None:
        return _answer(200, "ignored")
    background.add_task(handle_update, request.app, incoming)
    return _answer(200, "accepted")


async def handle_update(app: FastAPI, incoming: TelegramInput) -> None:
    """After the webhook has answered: ask the gateway, send the reply."""
    channels = app.state.channels
    telegram = channels.telegram
    if incoming.callback_query_id:
        await telegram.answer_callback(incoming.callback_query_id)
    try:
        async with channels.locks.hold(incoming.sender_id):
            if incoming.message is None:
                if app.state.rate_limits.take(incoming.sender_id).allowed:
                    await telegram.send(incoming.chat_id, [BotMessage(incoming.notice)])
                return
            reply = await app.state.gateway.handle(incoming.message)
            if not should_stay_quiet(reply):
                await telegram.send(incoming.chat_id, reply.messages)
    except Exception:  # a failed send must not kill the worker; Telegram will not resend anyway
        log.exception("could not answer Telegram chat %s", incoming.chat_id)
