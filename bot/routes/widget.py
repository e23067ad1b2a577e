"""``/ws/widget``: the web widget's websocket (see ``channels/web.py`` for the frames), and
``/api/v1/widget/allowed``, which the widget asks before it shows itself.

Pages from other sites may talk to it only when their origin is allowed: a site an admin added
on /admin (:mod:`motcua.widget_origins`) or a ``cors_origins`` entry. Browsers do not apply
CORS to websockets, so the gateway-wide Origin check (``bot/security.py``) refuses the handshake
of any other page. A refused handshake looks like a dropped connection to the page, so the widget
first asks ``/api/v1/widget/allowed`` — answered from the request's ``Origin``, readable by any
page — and on a site that is not allowed shows once why, instead of retrying for ever.
Each message counts against its client IP's chat limit before the session's own.
Notices for the session (``channels.web.WidgetChannel``, through the sessions hub) are
pushed while the page is open, and handed over on reconnect when it was not.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from bot.deps import ChannelsDep, ChatIpLimitsDep, ClientIP, DatabaseDep, GatewayDep, SettingsDep
from bot.gateway import seen_from
from bot.ratelimit import ip_limited_reply
from bot.routes.chat import page_center
from bot.routes.pages import request_locale
from bot.security import origin_of, own_site_center, page_allowed
from channels import kiosk, web
from knowledge_base.messages import load_catalogue
from motcua.background import cancel_and_wait
from motcua.centers import CENTER_METADATA, DEFAULT_CENTER

log = logging.getLogger(__name__)

router = APIRouter(tags=["widget"])

WIDGET_PREFIX = "page.widget."


@router.get("/api/v1/widget/allowed", summary="Trang này có được gắn trợ lý không / may this site embed the widget")
async def widget_allowed(request: Request, settings: SettingsDep, database: DatabaseDep) -> JSONResponse:
    """Whether the page asking (its ``Origin``) may use the widget, with the widget's words in
    ``?lang=`` or the browser's language. Any page may read the answer (no credentials), so a
    page that is not allowed learns it and says so; the answer is never cached (an admin may
    allow the site a minute later). ``center``: the centre the site was allowed for (its widget speaks
    for that centre), or null for a site of every centre."""
    origin = request.headers.get("origin")
    allowed = await page_allowed(origin, request.headers.get("host", ""), settings, database)
    locale = request_locale(request)
    shown = origin_of(origin) if origin else origin_of(str(request.base_url))
    own = await own_site_center(origin, database, request.headers.get("host", "")) if allowed else None
    body = {"allowed": allowed, "origin": shown or (origin or ""), "center": own, "locale": locale,
            "messages": load_catalogue(locale).group(WIDGET_PREFIX)}
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store",
                                       "Vary": "Origin, Accept-Language"})


class FrameSender:
    """Serialises frames from the reply loop and the push task onto one socket."""

    def __init__(self, websocket: WebSocket):
        self.websocket = websocket
        self._lock = asyncio.Lock()

    async def __call__(self, frame: dict[str, Any]) -> None:
        await self.raw(json.dumps(frame, ensure_ascii=False))

    async def raw(self, text: str) -> None:
        async with self._lock:
            await self.websocket.send_text(text)


async def forward_pushes(queue: asyncio.Queue, send: FrameSender, render) -> None:
    while True:
        item = await queue.get()
        await send(render(item))


@router.websocket("/ws/widget")
async def widget_socket(websocket: WebSocket, channels: ChannelsDep, gateway: GatewayDep,
                        ip_limits: ChatIpLimitsDep, ip: ClientIP, database: DatabaseDep) -> None:
    # Origin was checked by bot.security.SecurityMiddleware (own host, public_url, cors_origins, the admin's sites)
    await websocket.accept()
    # the centre the embedding page names (<script … data-center="xa-dong">): a number taken here is its
    # (or, on a site an admin allowed for one centre, that centre whatever the page names)
    center = await page_center(database, websocket.query_params.get("center"), websocket.headers.get("origin"),
                               websocket.headers.get("host", ""))
    session = web.session_or_new(websocket.query_params.get("session"))
    sender = web.sender_id(session)
    send = FrameSender(websocket)
    await send({"type": "session", "session": session})
    queue = await channels.sessions.subscribe(sender)
    leave = gateway.join(sender, send.raw)  # staff replies
    pusher = asyncio.create_task(forward_pushes(queue, send, lambda item: web.render_messages(item, pushed=True)))
    try:
        for messages in await channels.sessions.drain(sender):
            await send(web.render_messages(messages, pushed=True))
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                break
            raw = event.get("text") if event.get("text") is not None else event.get("bytes")
            try:
                message = web.parse_frame(raw, sender)
            except web.FrameError as exc:
                await send(kiosk.render_error(str(exc)))
                continue
            if message is None:
                await send({"type": "pong"})
                continue
            await send({"type": "typing"})
            if center != DEFAULT_CENTER:
                message.metadata[CENTER_METADATA] = center
            allowed = ip_limits.take(ip).allowed  # an anonymous page: its address counts (bot.gateway.seen_from)
            reply = await gateway.handle(seen_from(message, ip)) if allowed else ip_limited_reply()
            await send(web.render_messages(reply.messages))
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        try:
            await cancel_and_wait(pusher)
        finally:  # also when this handler is itself cancelled while waiting
            await channels.sessions.unsubscribe(sender, queue)
            leave()
