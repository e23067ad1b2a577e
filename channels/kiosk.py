"""The kiosk (and web page) channel: JSON frames over a websocket.

Frames from the page: ``{"type": "message", "text": "...", "payload": "/intent"?, "lang": "vi"?}``
or ``{"type": "device", "event": "cccd_scanned", "data": "..."}``; a ``lang`` the page sends is
kept as ``metadata["language"]`` (the citizen's language, :attr:`UserMessage.locale`).
Frames to the page: ``{"type": "bot", "messages": [...]}`` and ``{"type": "typing"}``.

Notices for a kiosk session (``kiosk:<session>``) come through the notice outbox like everyone
else's (:mod:`bot.notifications`): when staff call a number taken in a kiosk chat session, the
queue records «đến lượt ông/bà» with ``custom.queue_called`` (label, counter, token) and the relay
hands it to :class:`KioskChannel`, which pushes it to that session's event socket
(``/ws/kiosk/events``); the page shows a banner and chimes.

A kiosk is shared: once its page has started a new session (idle reset) or closed, the old
session never comes back, and a notice kept for it would wait for nobody. So :meth:`KioskChannel.send`
reaches only a page that listens now and raises :class:`~channels.registry.RecipientGone`
otherwise; the relay tries such a notice once more shortly after (a page being reloaded is back
in a second or two) and then makes it a dead letter.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.base import BotMessage, UserMessage, clean_text, for_clients
from channels.registry import RecipientGone, register
from channels.sessions import SessionChannel
from knowledge_base.messages import LOCALES, render

log = logging.getLogger(__name__)

NAME = "kiosk"


@register
class KioskChannel(SessionChannel):
    name = NAME

    async def send(self, recipient_id: str, messages: list[BotMessage]) -> bool:
        """To the session's open page; :class:`RecipientGone` when no page of that session listens."""
        key = recipient_id if recipient_id.startswith(f"{NAME}:") else f"{NAME}:{recipient_id}"
        if not await self.sessions.listening(key):
            raise RecipientGone("the kiosk session has no open page (ended, or not back yet)")
        return await self.sessions.publish(key, list(messages)) > 0


class FrameError(ValueError):
    """A frame the page should never send; answered with a polite error frame.

    ``key`` is the sentence's id in the message catalogue; ``str()`` is the Vietnamese sentence,
    :meth:`text` the sentence in the citizen's language.
    """

    def __init__(self, key: str, locale: str | None = None):
        self.key = key
        self.locale = locale
        super().__init__(render(key, locale=locale))

    def text(self, locale: str | None = None) -> str:
        return render(self.key, locale=locale or self.locale)


def frame_language(frame: Any) -> str:
    """The language a frame names (``"lang": "en"``), or "" when it names none the catalogue has."""
    lang = frame.get("lang") if isinstance(frame, dict) else None
    head = str(lang or "").strip().lower().replace("_", "-").split("-")[0]
    return head if head in LOCALES else ""


def parse_frame(raw: str, sender_id: str, channel: str = NAME) -> UserMessage:
    try:
        frame = json.loads(raw)
    except (json.JSONDecodeError, TypeError) as exc:
        raise FrameError("channel.frame.malformed") from exc
    if not isinstance(frame, dict):
        raise FrameError("channel.frame.malformed")
    kind = frame.get("type", "message")
    language = frame_language(frame)
    if kind == "message":
        # A button press sends its payload (e.g. "/ask_fee") as the text Rasa reads.
        text = clean_text(frame.get("payload") or frame.get("text"))
        if not text:
            raise FrameError("channel.ask_question", language)
        metadata = {"display_text": clean_text(frame.get("text"))}
        if language:
            metadata["language"] = language
        return UserMessage(channel=channel, sender_id=sender_id, text=text, metadata=metadata)
    if kind == "device":
        event = clean_text(frame.get("event"))
        data = clean_text(frame.get("data"))
        if not event:
            raise FrameError("channel.frame.no_event", language)
        return UserMessage(channel=channel, sender_id=sender_id, text=data,
                           metadata={"device_event": event})
    raise FrameError("channel.frame.unsupported", language)


def render_messages(messages: list[BotMessage]) -> dict[str, Any]:
    """A frame of bot messages for a page: only what it draws (:func:`channels.base.for_clients`)."""
    return {"type": "bot", "messages": for_clients(messages)}


def render_error(text: str) -> dict[str, Any]:
    return {"type": "error", "messages": [{"text": text}]}
