"""``POST /webhooks/<name>``: one webhook flow for every platform that pushes events to us.

A route per registered webhook channel (``channels.registry``), each the same road:
the body is read under a limit (413), the channel verifies it (a secret header, a
signature, a replay window: 401/403) and parses it; each event is handled once even
when the platform delivers it again (in memory, then the database's event ledger); the
platform gets its answer at once, and afterwards the gateway is asked and the reply
goes back through :meth:`channels.registry.Channels.send`. A channel whose settings
leave it off answers 404.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.deps import ChannelsDep, EventLedgerDep, GatewayDep, RateLimitsDep
from bot.event_ledger import EventLedger
from bot.ratelimit import RateLimitedGateway, TokenBuckets, should_stay_quiet
from channels.base import BotMessage, Incoming, Refused, WebhookRequest
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
    async def webhook(request: Request, background: BackgroundTasks, channels: ChannelsDep, ledger: EventLedgerDep,
                      gateway: GatewayDep, rate_limits: RateLimitsDep) -> JSONResponse:
        return await receive(request, background, kind, channels, ledger, Reply(channels, gateway, rate_limits))

    return webhook


async def receive(request: Request, background: BackgroundTasks, kind: type, channels: Channels,
                  ledger: EventLedger, reply: Reply) -> JSONResponse:
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
    fresh = [event for event in events if await _first_time(channels, ledger, kind.name, event)]
    if not fresh:
        return answer(200, "duplicate")
    for event in fresh:
        background.add_task(reply.handle, kind.name, event)
    return answer(200, "accepted")


async def _first_time(channels: Channels, ledger: EventLedger, name: str, event: Incoming) -> bool:
    if not event.event_id:
        return True
    if channels.recent(name).seen(event.event_id):
        return False
    return await run_in_threadpool(ledger.first_time, name, event.event_id)


@dataclass(frozen=True)
class Reply:
    """What answers an event after the platform has its 200."""

    channels: Channels
    gateway: RateLimitedGateway
    rate_limits: TokenBuckets

    async def handle(self, name: str, event: Incoming) -> None:
        """Ask the gateway, send the reply back the same way."""
        channels = self.channels
        channel = channels.get(name)
        try:
            await channel.acknowledge(event)
            async with channels.locks.hold(event.sender_id):
                if event.message is None:
                    if self.rate_limits.take(event.sender_id).allowed:
                        await _send(channels, name, event.sender_id, [BotMessage(event.notice)])
                    return
                reply = await self.gateway.handle(event.message)
                if not should_stay_quiet(reply):
                    await _send(channels, name, event.sender_id, reply.messages)
        except Exception:  # a failure must not kill the worker; the platform will not resend after its 200
            log.exception("could not answer %s", event.sender_id)


async def _send(channels, name: str, sender_id: str, messages: list[BotMessage]) -> None:
    if not messages:
        return
    result = await channels.send(name, sender_id, messages)
    if not (result.delivered or result.queued):
        log.error("reply to %s not sent: %s", sender_id, result.error)
