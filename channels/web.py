"""The web widget channel: JSON frames over a websocket, like the kiosk's.

A page embeds ``<script src="https://<gateway>/static/widget.js" data-...>``; the script
opens ``/ws/widget?session=<id>`` and speaks:

- page → gateway: ``{"type": "message", "text": "...", "payload": "/intent"?}``,
  ``{"type": "ping"}`` (keep-alive)
- gateway → page: ``{"type": "session", "session": "..."}``, ``{"type": "typing"}``,
  ``{"type": "bot", "messages": [...], "pushed": false}`` (``pushed`` for notifications
  sent while nobody asked), ``{"type": "error", ...}``, ``{"type": "pong"}``

Identity: ``web:<session>``; the page keeps the session id and the history in
sessionStorage, so a reload or a reconnect continues the same conversation. Notices for
a session go through :class:`WidgetChannel`: to the open page, or kept until it returns.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from channels import kiosk
from channels.base import BotMessage, UserMessage
from channels.kiosk import FrameError
from channels.registry import register
from channels.sessions import SessionChannel

NAME = "web"
MAX_FRAME_BYTES = 128 * 1024  # bigger frames are refused before parsing
SESSION_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

__all__ = ["FrameError", "NAME", "WidgetChannel", "parse_frame", "render_messages", "session_or_new",
           "sender_id"]


@register
class WidgetChannel(SessionChannel):
    name = NAME


def session_or_new(raw: str | None) -> str:
    """The page's session id when it is well formed, else a fresh one."""
    if raw and SESSION_PATTERN.match(raw):
        return raw
    return uuid.uuid4().hex


def sender_id(session: str) -> str:
    return f"{NAME}:{session}"


def parse_frame(raw: str | bytes | None, sender: str) -> UserMessage | None:
    """One frame from the page → a user message; ``None`` for a keep-alive ping.

    Raises :class:`FrameError` (a polite sentence from the message catalogue) for anything else.
    """
    if not isinstance(raw, str):
        raise FrameError("channel.frame.malformed")
    if len(raw.encode("utf-8", "replace")) > MAX_FRAME_BYTES:
        raise FrameError("channel.frame.too_long")
    try:
        frame = json.loads(raw)
    except ValueError as exc:
        raise FrameError("channel.frame.malformed") from exc
    if isinstance(frame, dict) and frame.get("type") == "ping":
        return None
    message = kiosk.parse_frame(raw, sender, channel=NAME)
    if message.metadata.get("device_event"):  # devices belong to kiosks only
        raise FrameError("channel.frame.unsupported", kiosk.frame_language(frame))
    return message


def render_messages(messages: list[BotMessage], pushed: bool = False) -> dict[str, Any]:
    frame = kiosk.render_messages(messages)
    frame["pushed"] = pushed
    return frame
