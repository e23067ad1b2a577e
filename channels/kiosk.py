"""The kiosk (and web page) channel: JSON frames over a websocket.

Frames from the page: ``{"type": "message", "text": "...", "payload": "/intent"?}``
or ``{"type": "device", "event": "cccd_scanned", "data": "..."}``.
Frames to the page: ``{"type": "bot", "messages": [...]}`` and ``{"type": "typing"}``.
Notices for a kiosk session (``kiosk:<session>``) go to the page's event socket
(``/ws/kiosk/events``) through :class:`KioskChannel`.
"""

from __future__ import annotations

import json
from typing import Any

from channels.base import BotMessage, UserMessage, clean_text
from channels.registry import register
from channels.sessions import SessionChannel

NAME = "kiosk"


@register
class KioskChannel(SessionChannel):
    name = NAME


class FrameError(ValueError):
    """A frame the page should never send; answered with a polite error frame."""


def parse_frame(raw: str, sender_id: str, channel: str = NAME) -> UserMessage:
    try:
        frame = json.loads(raw)
    except (json.JSONDecodeError, TypeError) as exc:
        raise FrameError("Tin nhắn không đúng định dạng.") from exc
    if not isinstance(frame, dict):
        raise FrameError("Tin nhắn không đúng định dạng.")
    kind = frame.get("type", "message")
    if kind == "message":
        # A button press sends its payload (e.g. "/ask_fee") as the text Rasa reads.
        text = clean_text(frame.get("payload") or frame.get("text"))
        if not text:
            raise FrameError("Xin mời nhập câu hỏi.")
        return UserMessage(channel=channel, sender_id=sender_id, text=text,
                           metadata={"display_text": clean_text(frame.get("text"))})
    if kind == "device":
        event = clean_text(frame.get("event"))
        data = clean_text(frame.get("data"))
        if not event:
            raise FrameError("Sự kiện thiết bị thiếu tên.")
        return UserMessage(channel=channel, sender_id=sender_id, text=data,
                           metadata={"device_event": event})
    raise FrameError("Loại tin nhắn không được hỗ trợ.")


def render_messages(messages: list[BotMessage]) -> dict[str, Any]:
    return {"type": "bot", "messages": [m.to_dict() for m in messages]}


def render_error(text: str) -> dict[str, Any]:
    return {"type": "error", "messages": [{"text": text}]}
