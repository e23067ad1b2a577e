"""``POST /webhooks/<name>``: one webhook flow for every platform that pushes events to us.

A route per registered webhook channel (``channels.registry``), each the same road:
the body is read under a limit (413), the channel verifies it (a secret header, a
signature, a replay window: 401/403) and parses it; each event is handled once even
when the platform delivers it again (in memory, then the database's event ledger). Each new
event is stored in the webhook inbox (:mod:`bot.webhook_inbox`) in the same write that records
its id, *before* the platform gets its answer: a gateway that dies after the 200 leaves the
event for the inbox's worker instead of losing it. Then the platform gets its answer at once,
and afterwards the gateway is asked and the reply goes back through
:meth:`channels.registry.Channels.send`. When the event cannot be stored the platform gets a 503
and delivers it again. A channel whose settings leave it off answers 404.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from bot.deps import ChannelsDep, WebhookInboxDep
from bot.webhook_inbox import Claim, WebhookInbox
from channels.base import Refused, WebhookRequest
from channels.registry import Channels

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
wall_clock = time.time
"""Seconds since the epoch, stamped on each request for the channels' replay checks (tests set their own)."""


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


def webhook_router(kinds: list[type]) -> APIRouter:
    """``POST /webhooks/<name>`` for each webhook channel kind."""
    router = APIRouter(tags=["webhooks"])
    for kind in kinds:
        router.add_api_route(f"/webhooks/{kind.name}", _endpoint(kind), methods=["POST"],
                             name=f"{kind.name}_webhook", response_class=JSONResponse,
                             summary=f"Webhook {kind.title} / {kind.title} webhook")
    return router


def _endpoint(kind: type):
    async def webhook(request: Request, background: BackgroundTasks, channels: ChannelsDep,
                      inbox: WebhookInboxDep) -> JSONResponse:
        return await receive(request, background, kind, channels, inbox)

    return webhook


async def receive(request: Request, background: BackgroundTasks, kind: type, channels: Channels,
                  inbox: WebhookInbox) -> JSONResponse:
    def answer(status: int, detail: str) -> JSONResponse:
        return JSONResponse(kind.answer(status, detail), status_code=status)

    channel = channels.get(kind.name)
    if channel is None:
        return answer(404, f"Kênh {kind.title} chưa được bật.")  # staff-facing: the platform's server reads it
    try:
        body = await read_body(request, MAX_BODY_BYTES)
        webhook_request = WebhookRequest(body, {k.lower(): v for k, v in request.headers.items()}, wall_clock())
        channel.verify(webhook_request)
        events = channel.parse(webhook_request)
    except BodyTooLarge:
        return answer(413, "Nội dung quá lớn.")  # staff-facing: the platform's server
    except Refused as refused:
        return answer(refused.status, refused.detail)
    if not events:
        return answer(200, "ignored")
    recent = channels.recent(kind.name)
    fresh: list[Claim] = []
    unstored = False
    for event in events:
        if event.event_id and recent.seen(event.event_id):
            continue
        try:
            claim = await inbox.accept(kind.name, event)
        except Exception:  # the database is away: the platform must deliver it again
            log.exception("could not store a %s event", kind.name)
            if event.event_id:
                recent.forget(event.event_id)
            unstored = True
            continue
        if claim is not None:
            fresh.append(claim)
    for claim in fresh:
        background.add_task(inbox.handle, claim)
    if unstored:
        return answer(503, "Tạm thời chưa nhận được, xin gửi lại sau.")  # staff-facing: the platform's server
    if not fresh:
        return answer(200, "duplicate")
    return answer(200, "accepted")
