"""The kiosk (and web page) channel: JSON frames over a websocket.

Frames from the page: ``{"type": "message", "text": "...", "payload": "/intent"?, "lang": "vi"?}``
or ``{"type": "device", "event": "cccd_scanned", "data": "..."}``; a ``lang`` the page sends is
kept as ``metadata["language"]`` (the citizen's language, :attr:`UserMessage.locale`).
Frames to the page: ``{"type": "bot", "messages": [...]}`` and ``{"type": "typing"}``.
Notices for a kiosk session (``kiosk:<session>``) go to the page's event socket
(``/ws/kiosk/events``) through :class:`KioskChannel`.

A number taken at a kiosk has no outbox notification (the queue notifies only citizens who are
elsewhere), yet the citizen may still stand at the kiosk page that took it: :class:`CallWatcher`
(started with the channel, in the gateway's event loop) looks every few seconds for kiosk numbers
called (or called again) since its last pass and pushes «đến lượt ông/bà» to that session's event
socket, with ``custom.queue_called`` (label, counter) so the page shows a banner and chimes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from channels.base import BotMessage, UserMessage, clean_text
from channels.registry import register
from channels.sessions import PushHub, SessionChannel
from knowledge_base.messages import LOCALES, render

log = logging.getLogger(__name__)

NAME = "kiosk"
CALL_POLL_S = 2.0
"""How often the watcher looks for kiosk numbers just called."""


@register
class KioskChannel(SessionChannel):
    name = NAME

    def __init__(self, sessions: PushHub, watcher: CallWatcher | None = None):
        super().__init__(sessions)
        self.watcher = watcher

    @classmethod
    def from_settings(cls, settings, shared) -> KioskChannel:
        """Always on; inside a running event loop (the gateway's lifespan) it also watches the calls."""
        watcher = None
        url = getattr(settings, "sqlalchemy_url", "")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            url = ""
        if url:
            watcher = CallWatcher(url, shared.sessions)
            watcher.start()
        return cls(shared.sessions, watcher)

    async def aclose(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()


def called_message(label: str, counter: int, token: str = "", locale: str | None = None) -> BotMessage:
    """«Dạ, đến lượt ông/bà…» for a kiosk page, marked so the page shows it as a banner."""
    return BotMessage(render("notify.queue.your_turn", locale=locale, label=label, counter=counter),
                      custom={"queue_called": {"label": label, "counter": counter, "token": token}})


class CallWatcher:
    """Pushes a call of a number taken at a kiosk session to that session's page (see the module)."""

    def __init__(self, database_url: str, sessions: PushHub, interval_s: float = CALL_POLL_S):
        self.database_url = database_url
        self.sessions = sessions
        self.interval_s = interval_s
        self._database: Any = None
        self._started = False
        self._seen: dict[int, tuple[Any, int]] = {}  # ticket id: (called_at, recalls) already pushed
        self._task: asyncio.Task[None] | None = None

    def _calls(self) -> list[tuple[str, str, int, str]]:
        """(session key, label, counter, token) of the kiosk numbers called since the last pass.

        A number being called is one in status ``called``; a call again (recall) changes its
        ``recalls``. The first pass only learns what is being called already: that was said before.
        """
        from sqlalchemy import select

        from motcua.db import Database
        from motcua.queue.models import QueueTicket, TicketStatus

        if self._database is None:
            self._database = Database.open(self.database_url)
        first, found = not self._started, []
        with self._database.session() as session:
            rows = session.scalars(select(QueueTicket).where(
                QueueTicket.channel == NAME, QueueTicket.status == TicketStatus.CALLED,
                QueueTicket.sender_id.is_not(None), QueueTicket.counter_number.is_not(None)))
            now: dict[int, tuple[Any, int]] = {}
            for row in rows:
                now[row.id] = mark = (row.called_at, row.recalls)
                if not first and self._seen.get(row.id) != mark:
                    found.append((str(row.sender_id), row.label, int(row.counter_number or 0), row.token))
        self._seen, self._started = now, True
        return found

    def pass_once(self) -> int:
        """One look (in a worker thread): pushes what it found, returns how many."""
        calls = self._calls()
        for key, label, counter, token in calls:
            if key.startswith(f"{NAME}:"):
                self.sessions.publish(key, [called_message(label, counter, token)])
        return len(calls)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.pass_once)
            except Exception as exc:  # no queue tables yet, a database hiccup: look again later
                log.debug("kiosk call watcher pass failed: %r", exc)
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kiosk-call-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._database is not None:
            self._database.engine.dispose()



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
    return {"type": "bot", "messages": [m.to_dict() for m in messages]}


def render_error(text: str) -> dict[str, Any]:
    return {"type": "error", "messages": [{"text": text}]}
