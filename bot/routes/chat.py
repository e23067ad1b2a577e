"""Chat over HTTP (one POST per message) and over a websocket (the kiosk page).

Both are limited per client IP before the per-sender limit (the sender id is the client's
choice): REST answers 429 with ``Retry-After``, the socket the same polite sentence.
What the gateway says itself is in the citizen's language when the request names one
(``lang`` in the body or the frame, ``?lang=``, ``Accept-Language``), else Vietnamese.
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot.deps import ChatIpLimitsDep, ClientIP, DatabaseDep, GatewayDep
from bot.devices import device_of
from bot.gateway import seen_from
from bot.ratelimit import RATE_LIMITED, ip_limited_detail, ip_limited_reply, rate_limited_text
from bot.security import own_site_center
from bot.validation import preferred_locale, request_locale
from channels import kiosk
from channels.base import UserMessage, clean_text, for_clients
from knowledge_base.messages import DEFAULT_LOCALE, render
from motcua.centers import CENTER_METADATA, DEFAULT_CENTER, named_center
from motcua.db import Database
from motcua.devices import Capability

router = APIRouter(tags=["chat"])


class MessageIn(BaseModel):
    sender: str = Field(..., min_length=1, max_length=128, description="mã phiên của người dân")
    text: str = Field(..., min_length=1, max_length=20000)
    lang: str = Field("", max_length=16, description="ngôn ngữ của người dân (vi, en); mặc định theo Accept-Language")
    center: str = Field("", max_length=64, description="mã trung tâm hoặc mã cơ quan (bỏ trống: trung tâm mặc định)")


class MessagesOut(BaseModel):
    messages: list[dict]
    outcome: str = ""


def ip_limited_response(retry_after_s: float, locale: str | None = None) -> JSONResponse:
    """429 for a client IP over its chat limit: a detail, and the citizen's polite sentence."""
    return JSONResponse({"detail": ip_limited_detail(locale), "messages": [{"text": rate_limited_text(locale)}],
                         "outcome": RATE_LIMITED}, status_code=429,
                        headers={"Retry-After": str(max(1, math.ceil(retry_after_s)))})


@router.post("/api/v1/messages", response_model=MessagesOut, summary="Gửi một tin nhắn / send a message",
             responses={429: {"description": "quá nhiều tin nhắn từ một địa chỉ IP / too many messages from one IP"}})  # staff-facing (API documentation)
async def post_message(body: MessageIn, request: Request, gateway: GatewayDep, ip_limits: ChatIpLimitsDep,
                       ip: ClientIP, database: DatabaseDep) -> MessagesOut | JSONResponse:
    locale = preferred_locale(request.headers.get("accept-language"), body.lang or request.query_params.get("lang"))
    decision = ip_limits.take(ip)
    if not decision.allowed:
        return ip_limited_response(decision.retry_after_s, locale)
    text = clean_text(body.text)
    if not text:
        return MessagesOut(messages=[{"text": render("channel.ask_question", locale=locale)}], outcome="empty")
    metadata: dict[str, Any] = {"language": locale} if locale != DEFAULT_LOCALE else {}
    # a centre that does not exist is the default's; a page of a centre's own site speaks for that centre
    center = await page_center(database, body.center, request.headers.get("origin"), request.headers.get("host", ""))
    if center != DEFAULT_CENTER:
        metadata[CENTER_METADATA] = center
    message = UserMessage(channel="rest", sender_id=f"rest:{body.sender}", text=text, metadata=metadata)
    reply = await gateway.handle(seen_from(message, ip))  # anonymous: its address counts
    return MessagesOut(messages=for_clients(reply.messages), outcome=reply.outcome)


SCAN_REFUSED_KEY = "gateway.scan_refused"
SCAN_REFUSED = render(SCAN_REFUSED_KEY)
"""A scan frame from a page that is not an enrolled kiosk (the Vietnamese sentence, for tests)."""


async def _relays_scans(database: Database, websocket: WebSocket) -> bool:
    """A scan frame («cccd_scanned»…) is believed only from a page enrolled as a kiosk (checked at
    each frame, so a revoked kiosk stops at once); any other page may type or paste instead."""
    device = await device_of(database, websocket)
    return device is not None and device.can(Capability.EVENTS)


async def _kiosk_center(database: Database, websocket: WebSocket) -> str:
    """The centre a kiosk page's numbers belong to: an enrolled device's own centre, else the existing
    centre its ``?center=`` names (the page ``/c/<code>/kiosk``), else the default centre."""
    device = await device_of(database, websocket)
    if device is not None and device.active:
        return device.center_code
    return await page_center(database, websocket.query_params.get("center"), websocket.headers.get("origin"),
                             websocket.headers.get("host", ""))


async def page_center(database: Database, wanted: str | None, origin: str | None = None, host: str = "") -> str:
    """:func:`motcua.centers.named_center` off the event loop (no query for a page naming no centre).

    A page of a site an admin allowed for one centre (``origin``, :func:`bot.security.own_site_center`)
    speaks for that centre whatever centre it names: one commune's site cannot take numbers or file
    declarations in another's name."""
    own = await own_site_center(origin, database, host)
    if own is not None:
        wanted = own
    if not wanted or wanted == DEFAULT_CENTER:
        return DEFAULT_CENTER
    return await run_in_threadpool(database.run, named_center, wanted)


async def _enrolled_kiosk(database: Database, websocket: WebSocket) -> bool:
    """Whether this page is an enrolled kiosk (checked when the socket opens, then again at each frame
    while it is one: a kiosk revoked meanwhile is an anonymous page from its next message on)."""
    device = await device_of(database, websocket)
    return device is not None and device.can(Capability.EVENTS)


KIOSK_REVOKED_KEY = "gateway.kiosk_revoked"
"""Said to a page whose kiosk was revoked while its socket was open, before the socket closes."""


@router.websocket("/ws/kiosk")
async def kiosk_socket(websocket: WebSocket, gateway: GatewayDep, database: DatabaseDep,
                       ip_limits: ChatIpLimitsDep, ip: ClientIP) -> None:
    await websocket.accept()
    locale = request_locale(websocket)  # the page's ?lang= or its browser's Accept-Language
    session = websocket.query_params.get("session") or uuid.uuid4().hex
    sender_id = f"kiosk:{session[:64]}"
    await websocket.send_text(json.dumps({"type": "session", "session": session}))
    leave = gateway.join(sender_id, websocket.send_text)  # staff replies in a handoff come this way
    # an enrolled kiosk serves many citizens from one address: only a page that is not one is counted by address
    enrolled = await _enrolled_kiosk(database, websocket)
    center = await _kiosk_center(database, websocket)  # a number taken here is this centre's
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(frame.get("code", 1000))
            raw = frame.get("text")
            # one indexed read per frame: a key revoked (admin page or CLI, any process) counts from the next one
            revoked = enrolled and not await _enrolled_kiosk(database, websocket)
            enrolled = enrolled and not revoked
            if raw is None:  # a binary frame: the page never sends one
                malformed = render("channel.frame.malformed", locale=locale)
                await websocket.send_text(json.dumps(kiosk.render_error(malformed), ensure_ascii=False))
                continue
            try:
                message = kiosk.parse_frame(raw, sender_id)
                if message.metadata.get("device_event") and not await _relays_scans(database, websocket):
                    raise kiosk.FrameError(SCAN_REFUSED_KEY)
            except kiosk.FrameError as exc:
                await websocket.send_text(json.dumps(kiosk.render_error(exc.text(exc.locale or locale)),
                                                     ensure_ascii=False))
                if revoked:
                    await _close_revoked(websocket, locale)
                    return
                continue
            if locale != DEFAULT_LOCALE:
                message.metadata.setdefault("language", locale)
            if center != DEFAULT_CENTER:
                message.metadata[CENTER_METADATA] = center
            await websocket.send_text('{"type": "typing"}')
            allowed = ip_limits.take(ip).allowed
            if not enrolled:
                message = seen_from(message, ip)
            reply = await gateway.handle(message) if allowed else ip_limited_reply(message.locale)
            await websocket.send_text(json.dumps(kiosk.render_messages(reply.messages), ensure_ascii=False))
            if revoked:  # answered as an anonymous page; the page reconnects as one
                await _close_revoked(websocket, message.locale or locale)
                return
    except WebSocketDisconnect:
        return
    finally:
        leave()


async def _close_revoked(websocket: WebSocket, locale: str | None) -> None:
    notice = kiosk.render_error(render(KIOSK_REVOKED_KEY, locale=locale))
    await websocket.send_text(json.dumps(notice, ensure_ascii=False))
    await websocket.close(code=1008)
