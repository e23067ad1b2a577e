"""``/ws/widget``: the web widget's websocket (see ``channels/web.py`` for the frames).

Pages from other sites may talk to it only when their origin is in ``cors_origins``
(browsers do not apply CORS to websockets, so the ``Origin`` header is checked here).
Every socket also passes the gateway-wide Origin check (``bot/security.py``), and each
message counts against its client IP's chat limit before the session's own.
Notices for the session (``channels.web.WidgetChannel``, through the sessions hub) are
pushed while the page is open, and handed over on reconnect when it was not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from bot.deps import ChannelsDep, ChatIpLimitsDep, ClientIP, GatewayDep
from bot.ratelimit import ip_limited_reply
from channels import kiosk, web

log = logging.getLogger(__name__)

router = APIRouter(tags=["widget"])


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
                        ip_limits: ChatIpLimitsDep, ip: ClientIP) -> None:
    # Origin was checked by bot.security.SecurityMiddleware (own host, public_url, cors_origins)
    await websocket.accept()
    session = web.session_or_new(websocket.query_params.get("session"))
    sender = web.sender_id(session)
    send = FrameSender(websocket)
    await send({"type": "session", "session": session})
    queue = channels.sessions.subscribe(sender)
    leave = gateway.join(sender, send.raw)  # staff replies
    pusher = asyncio.create_task(forward_pushes(queue, send, lambda item: web.render_messages(item, pushed=True)))
    try:
        for messages in channels.sessions.drain(sender):
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
            reply = await gateway.handle(message) if ip_limits.take(ip).allowed else ip_limited_reply()
            await send(web.render_messages(reply.messages))
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pusher
        channels.sessions.unsubscribe(sender, queue)
        leave()
