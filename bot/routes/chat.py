"""Chat over HTTP (one POST per message) and over a websocket (the kiosk page).

Both are limited per client IP before the per-sender limit (the sender id is the client's
choice): REST answers 429 with ``Retry-After``, the socket the same polite sentence.
"""

from __future__ import annotations

import json
import math
import uuid

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.deps import ChatIpLimitsDep, ClientIP, DatabaseDep, GatewayDep
from bot.devices import device_of
from bot.ratelimit import IP_LIMITED_DETAIL, RATE_LIMITED, RATE_LIMITED_TEXT, ip_limited_reply
from channels import kiosk
from channels.base import UserMessage, clean_text
from motcua.db import Database
from motcua.devices import Capability

router = APIRouter(tags=["chat"])


class MessageIn(BaseModel):
    sender: str = Field(..., min_length=1, max_length=128, description="mã phiên của người dân")
    text: str = Field(..., min_length=1, max_length=20000)


class MessagesOut(BaseModel):
    messages: list[dict]
    outcome: str = ""


def ip_limited_response(retry_after_s: float) -> JSONResponse:
    """429 for a client IP over its chat limit: a Vietnamese detail, and the citizen's polite sentence."""
    return JSONResponse({"detail": IP_LIMITED_DETAIL, "messages": [{"text": RATE_LIMITED_TEXT}],
                         "outcome": RATE_LIMITED}, status_code=429,
                        headers={"Retry-After": str(max(1, math.ceil(retry_after_s)))})


@router.post("/api/v1/messages", response_model=MessagesOut, summary="Gửi một tin nhắn / send a message",
             responses={429: {"description": "quá nhiều tin nhắn từ một địa chỉ IP / too many messages from one IP"}})
async def post_message(body: MessageIn, gateway: GatewayDep, ip_limits: ChatIpLimitsDep,
                       ip: ClientIP) -> MessagesOut | JSONResponse:
    decision = ip_limits.take(ip)
    if not decision.allowed:
        return ip_limited_response(decision.retry_after_s)
    text = clean_text(body.text)
    if not text:
        return MessagesOut(messages=[{"text": "Xin mời nhập câu hỏi."}], outcome="empty")
    message = UserMessage(channel="rest", sender_id=f"rest:{body.sender}", text=text)
    reply = await gateway.handle(message)
    return MessagesOut(messages=[m.to_dict() for m in reply.messages], outcome=reply.outcome)


SCAN_REFUSED = "Dữ liệu máy quét chỉ nhận từ kiosk đã đăng ký của Trung tâm."


async def _relays_scans(database: Database, websocket: WebSocket) -> bool:
    """A scan frame («cccd_scanned»…) is believed only from a page enrolled as a kiosk (checked at
    each frame, so a revoked kiosk stops at once); any other page may type or paste instead."""
    device = await device_of(database, websocket)
    return device is not None and device.can(Capability.EVENTS)


@router.websocket("/ws/kiosk")
async def kiosk_socket(websocket: WebSocket, gateway: GatewayDep, database: DatabaseDep,
                       ip_limits: ChatIpLimitsDep, ip: ClientIP) -> None:
    await websocket.accept()
    session = websocket.query_params.get("session") or uuid.uuid4().hex
    sender_id = f"kiosk:{session[:64]}"
    await websocket.send_text(json.dumps({"type": "session", "session": session}))
    leave = gateway.join(sender_id, websocket.send_text)  # staff replies in a handoff come this way
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(frame.get("code", 1000))
            raw = frame.get("text")
            if raw is None:  # a binary frame: the page never sends one
                await websocket.send_text(json.dumps(kiosk.render_error("Tin nhắn không đúng định dạng."),
                                                     ensure_ascii=False))
                continue
            try:
                message = kiosk.parse_frame(raw, sender_id)
                if message.metadata.get("device_event") and not await _relays_scans(database, websocket):
                    raise kiosk.FrameError(SCAN_REFUSED)
            except kiosk.FrameError as exc:
                await websocket.send_text(json.dumps(kiosk.render_error(str(exc)), ensure_ascii=False))
                continue
            await websocket.send_text('{"type": "typing"}')
            reply = await gateway.handle(message) if ip_limits.take(ip).allowed else ip_limited_reply()
            await websocket.send_text(json.dumps(kiosk.render_messages(reply.messages), ensure_ascii=False))
    except WebSocketDisconnect:
        return
    finally:
        leave()
