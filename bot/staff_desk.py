"""The gateway's side of the staff desk: what the assistant could not answer goes on the
review list, handed-over conversations go to the staff inbox, staff replies go back out.

Kept off the reply's critical path like the message log: the gateway only does a dict
look-up and queues a write; one background task writes the queue to the database in order.
Which conversations are with staff is held in memory (loaded from the database at start),
so this supports one gateway process.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from bot.batch_writer import BatchWriter
from bot.dialogue import DialogueReply
from channels import kiosk
from channels.base import BotMessage, UserMessage
from motcua.db import Database, utcnow

log = logging.getLogger(__name__)

FALLBACK_PREFIXES = ("Xin lỗi, tôi chưa", "Xin lỗi, tôi vẫn chưa")
"""How a reply of action_clarify begins (until it carries a custom marker)."""
RESUMED_TEXT = "Cán bộ đã kết thúc trao đổi. Trợ lý ảo tiếp tục hỗ trợ ông/bà — xin mời hỏi tiếp."
Send = Callable[[str], Awaitable[None]]


class SessionHub:
    """Open websocket sessions (kiosk and web page) by sender id, so staff can push to them."""

    def __init__(self) -> None:
        self._sockets: dict[str, list[Send]] = {}

    def join(self, sender_id: str, send: Send) -> Callable[[], None]:
        self._sockets.setdefault(sender_id, []).append(send)

        def leave() -> None:
            sends = self._sockets.get(sender_id, [])
            if send in sends:
                sends.remove(send)
            if not sends:
                self._sockets.pop(sender_id, None)

        return leave

    def is_open(self, sender_id: str) -> bool:
        return bool(self._sockets.get(sender_id))

    async def push(self, sender_id: str, messages: list[BotMessage]) -> bool:
        frame = json.dumps(kiosk.render_messages(messages), ensure_ascii=False)
        delivered = False
        for send in list(self._sockets.get(sender_id, [])):
            try:
                await send(frame)
                delivered = True
            except Exception:  # a closed socket: the page reconnects and joins again
                log.info("could not push to %s", sender_id)
        return delivered


@dataclass(frozen=True)
class _Write:
    kind: str  # "unanswered" | "handoff_open" | "handoff_in"
    channel: str
    sender_id: str
    question: str = ""
    reply: str = ""
    reason: str = ""


class StaffDesk:
    def __init__(self, database: Database, max_remembered: int = 10_000):
        self.database = database
        self.hub = SessionHub()
        self._handed_off: dict[str, str] = {}
        self._last_question: OrderedDict[str, str] = OrderedDict()
        self._max_remembered = max_remembered
        self._writer: BatchWriter[_Write] = BatchWriter("staff-desk", self._write)

    # --- lifecycle ---
    async def start(self) -> None:
        from motcua.staff.service import open_handoff_senders

        def load() -> list[tuple[str, str]]:
            with self.database.session() as session:
                return open_handoff_senders(session)

        try:
            self._handed_off.update(await run_in_threadpool(load))
        except Exception:  # tables missing (not migrated): the desk still runs in memory
            log.exception("could not load open handoff conversations")
        self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()

    async def flush(self) -> None:
        await self._writer.flush()

    # --- the gateway's hot path ---
    def is_handed_off(self, sender_id: str) -> bool:
        return sender_id in self._handed_off

    def citizen_message(self, message: UserMessage) -> None:
        """A message of a conversation that is with staff: to the inbox, not to Rasa."""
        self._writer.put(_Write("handoff_in", message.channel, message.sender_id, _shown(message)))

    def observe(self, message: UserMessage, reply: DialogueReply) -> None:
        """After Rasa's reply: put abstentions and fallbacks on the review list, start handoffs."""
        shown = _shown(message)
        asked = shown if not message.text.startswith("/") else ""
        question = asked or self._last_question.get(message.sender_id, shown)
        reply_text = "\n".join(m.text for m in reply.messages if m.text)
        handoff = next((m.custom for m in reply.messages if m.custom and m.custom.get("handoff")), None)
        if reply.outcome in ("busy", "empty"):
            reason = reply.outcome
        elif handoff is not None:
            reason = "handoff"
        elif any((m.custom or {}).get("fallback") or m.text.startswith(FALLBACK_PREFIXES) for m in reply.messages):
            reason = "fallback"
        else:
            reason = ""
        if reason:
            self._writer.put(_Write("unanswered", message.channel, message.sender_id, question, reply_text,
                                          reason))
        if handoff is not None:
            self._handed_off[message.sender_id] = message.channel
            self._writer.put(_Write("handoff_open", message.channel, message.sender_id, question, reply_text,
                                          str(handoff.get("reason") or "")))
        if asked:
            self._last_question[message.sender_id] = asked
            self._last_question.move_to_end(message.sender_id)
            while len(self._last_question) > self._max_remembered:
                self._last_question.popitem(last=False)

    # --- staff side ---
    def release(self, sender_id: str) -> None:
        """Staff handed the conversation back: the next message goes to Rasa again."""
        self._handed_off.pop(sender_id, None)

    async def deliver(self, channel: str, sender_id: str, messages: list[BotMessage], notifier=None) -> bool:
        """Send staff messages through the citizen's own channel; False when nothing could carry them.

        An open chat socket (kiosk page) gets them at once; otherwise ``notifier``
        (:class:`channels.registry.Channels`: Telegram, Zalo, web-widget sessions…) carries them.
        """
        if self.hub.is_open(sender_id) and await self.hub.push(sender_id, messages):
            return True
        if notifier is None:
            return False
        delivered = False
        for message in messages:
            try:
                result = await notifier.notify(channel, sender_id, message.as_plain_text(), message.buttons)
            except Exception:
                log.exception("could not notify %s", sender_id)
                return False
            delivered = bool(getattr(result, "delivered", False) or getattr(result, "queued", False))
        return delivered

    # --- the writer ---
    def _write(self, batch: Sequence[_Write]) -> None:
        from motcua.staff.service import add_handoff_message, open_handoff, record_unanswered

        with self.database.session() as session:
            for item in batch:
                now = utcnow()
                if item.kind == "unanswered":
                    record_unanswered(session, channel=item.channel, sender_id=item.sender_id,
                                      question=item.question, reply=item.reply, reason=item.reason, created_at=now)
                elif item.kind == "handoff_open":
                    conversation = open_handoff(session, channel=item.channel, sender_id=item.sender_id,
                                                reason=item.reason, question=item.question, at=now)
                    if item.question:
                        add_handoff_message(session, conversation, "in", item.question, at=now)
                    if item.reply:
                        add_handoff_message(session, conversation, "bot", item.reply, author="trợ lý ảo", at=now)
                elif item.kind == "handoff_in":
                    conversation = open_handoff(session, channel=item.channel, sender_id=item.sender_id, at=now)
                    add_handoff_message(session, conversation, "in", item.question, at=now)


def _shown(message: UserMessage) -> str:
    return message.metadata.get("display_text") or message.text
