"""Chat over HTTP (one POST per message) and over a websocket (the kiosk page)."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field

from channels import kiosk
from channels.base import UserMessage, clean_text

router = APIRouter(tags=["chat"])


class MessageIn(BaseModel):
    sender: str = Field(..., min_length=1, max_length=128, description="mã phiên của người dân")
    text: str = Field(..., min_length=1, max_length=20000)


class MessagesOut(BaseModel):
    messages: list[dict]
    outcome: str = ""


@router.post("/api/v1/messages", response_model=MessagesOut, summary="Gửi một tin nhắn / send a message")
async def post_message(body: MessageIn, request: Request) -> MessagesOut:
    text = clean_text(body.text)
    if not text:
        return MessagesOut(messages=[{"text": "Xin mời nhập câu hỏi."}], outcome="empty")
    message = UserMessage(channel="rest", sender_id=f"rest:{body.sender}", text=text)
    reply = await request.app.state.gateway.handle(message)
    return MessagesOut(messages=[m.to_dict() for m in reply.messages], outcome=reply.outcome)


@router.websocket("/ws/kiosk")
async def kiosk_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    session = websocket.query_params.get("session") or uuid.uuid4().hex
    sender_id = f"kiosk:{session[:64]}"
    await websocket.send_text(json.dumps({"type": "session", "session": session}))
    gateway = websocket.app.state.gateway
    desk = getattr(websocket.app.state, "staff_desk", None)  # staff replies in a handoff come this way
    leave = desk.hub.join(sender_id, websocket.send_text) if desk is not None else (lambda: None)
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
            except kiosk.FrameError as exc:
                await websocket.send_text(json.dumps(kiosk.render_error(str(exc)), ensure_ascii=False))
                continue
            await websocket.send_text('{"type": "typing"}')
            reply = await gateway.handle(message)
            await websocket.send_text(json.dumps(kiosk.render_messages(reply.messages), ensure_ascii=False))
    except WebSocketDisconnect:
        return
    finally:
        leave()
