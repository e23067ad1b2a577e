"""The gateway's side of the staff desk: what the assistant could not answer goes on the
review list, handed-over conversations go to the staff inbox, staff replies go back out.

Kept off the reply's critical path like the message log: the gateway only does a dict
look-up and queues a write; one background task writes the queue to the database in order.
Which conversations are with staff is held in memory (loaded from the database at start) and,
with several gateway processes, told to the others through Redis (:mod:`motcua.bus`), as is the
last question a conversation typed (kept an hour, identifiers masked), so a tap on «Gặp cán bộ»
that lands on another gateway still puts the typed question on the review list.

A staff reply is reported as it went (:class:`Delivery`): shown on an open page, accepted by a
platform (Zalo, Telegram), or not delivered — a kiosk session the citizen has left (the kiosk
starts a new session after a while idle) never gets it, and staff are told so, not «sent».
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from starlette.concurrency import run_in_threadpool

from bot.batch_writer import BatchWriter
from bot.dialogue import DialogueReply
from channels import kiosk
from channels.base import BotMessage, Button, UserMessage
from knowledge_base.messages import render
from knowledge_base.text import fold
from motcua.bus import Background, redis_client
from motcua.centers import DEFAULT_CENTER, center_in
from motcua.db import Database, utcnow
from motcua.delivery import mask_recipient
from motcua.privacy import mask_identifiers
from motcua.staff.service import (
    BACK_PAYLOAD,
    add_handoff_message,
    close_by_citizen,
    open_handoff,
    record_unanswered,
)

log = logging.getLogger(__name__)

FALLBACK_PATTERNS = ("Xin lỗi, tôi chưa", "Xin lỗi, tôi vẫn chưa")
"""How a reply of action_clarify begins (until it carries a custom marker): recognised, not said."""
RESUMED_TEXT = render("notify.handoff.resumed")
"""What the citizen reads when staff hand the conversation back to the assistant."""
ACK_KEY = "notify.handoff.ack"
"""What the citizen reads after each message typed while the conversation is with staff."""
BACK_KEY = "notify.handoff.back"
"""What the citizen reads on leaving the staff desk for the assistant."""
BACK_BUTTON_KEY = "button.back_to_assistant"
BACK_WORDS = frozenset({"quay lai tro ly", "quay lai tro ly ao", "hoi tro ly ao", "back to the assistant"})
"""Words that mean the same as the button (compared without diacritics), alone or in a short message."""
BACK_MESSAGE_WORDS = 12
"""A message to staff this short that says one of :data:`BACK_WORDS` is the citizen leaving the desk; a longer one
is a message to staff that mentions the assistant."""
BACK_NOTE = "Người dân đã quay lại hỏi trợ lý ảo; cuộc trò chuyện đã đóng."  # staff-facing: the inbox thread's note
HANDOFF_CHANNEL = "handoffs"
"""Live-bus channel on which gateways tell each other a conversation went to staff or came back."""
PAGE_CHANNELS = frozenset({"kiosk", "web", "widget"})
"""Channels whose citizen is an open page: nothing reaches a page that is closed."""
PLATFORM_LABELS = {"zalo": "Zalo", "telegram": "Telegram", "messenger": "Messenger", "sms": "SMS"}
LEFT_NOTE = "Người dân đã rời kiosk (phiên kiosk đã đóng)."  # staff-facing: a note in the inbox thread
RECONNECTED_NOTE = "Người dân đã kết nối lại kiosk."  # staff-facing
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
                log.info("could not push to %s", mask_recipient(sender_id))
        return delivered


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"  # shown on the citizen's open page
    SENT = "sent"  # accepted by the citizen's platform (Zalo, Telegram…)
    LEFT = "left"  # the kiosk session is gone: nobody can read it
    WAITING = "waiting"  # the web page is closed: shown when it is opened again
    FAILED = "failed"  # refused by the platform, or no channel to carry it
    RETRYING = "retrying"  # refused by the platform for now: kept in the notice outbox, tried again


@dataclass(frozen=True)
class Delivery:
    """How a staff message went; ``note`` is the inbox's sentence for staff (not citizen-facing)."""

    status: DeliveryStatus
    channel: str = ""

    @property
    def delivered(self) -> bool:
        return self.status in (DeliveryStatus.DELIVERED, DeliveryStatus.SENT)

    @property
    def note(self) -> str:
        label = PLATFORM_LABELS.get(self.channel, self.channel) or DEFAULT_CHANNEL_LABEL
        return DELIVERY_NOTES[self.status].format(channel=label)


# What the staff inbox says after «Gửi» (staff-facing: the citizen never reads these).
DELIVERY_NOTES = {
    DeliveryStatus.DELIVERED: "Đã gửi tới người dân.",  # staff-facing
    DeliveryStatus.SENT: "Đã gửi qua {channel}.",  # staff-facing
    DeliveryStatus.LEFT: "Người dân đã rời kiosk — tin nhắn chưa tới được.",  # staff-facing
    DeliveryStatus.WAITING: ("Người dân đang không mở trang — tin nhắn chưa tới được; "  # staff-facing
                             "tin nhắn sẽ hiện khi họ mở lại trang."),
    DeliveryStatus.FAILED: "Không gửi được qua {channel}; tin nhắn đã lưu trong cuộc trò chuyện.",  # staff-facing
    DeliveryStatus.RETRYING: ("Chưa gửi được qua {channel}; hệ thống sẽ tự gửi lại "  # staff-facing
                              "(xem trang «Thư chưa gửi được»)."),
}
DEFAULT_CHANNEL_LABEL = "kênh của người dân"  # staff-facing


@dataclass(frozen=True)
class _Write:
    kind: str  # "unanswered" | "handoff_open" | "handoff_in" | "handoff_note" | "handoff_back" | "remember" (Redis)
    channel: str
    sender_id: str
    question: str = ""
    reply: str = ""
    reason: str = ""
    center: str = DEFAULT_CENTER  # the centre the citizen wrote from (a new conversation is that centre's)
    recall: bool = False  # a tap whose typed question this process never saw: ask Redis for it first


LAST_QUESTION_TTL_S = 3600
"""How long another gateway may still find a conversation's last typed question (a tap comes soon after)."""


class StaffDesk:
    def __init__(self, database: Database, max_remembered: int = 10_000, bus: Any = None):
        """``bus`` (:class:`motcua.bus.RedisBus`, several gateways): a conversation handed to staff, or
        handed back, on one gateway is known to all, so the citizen's next message goes to the inbox
        whichever gateway takes it."""
        self.database = database
        self.bus = bus
        self._told = Background(bus)
        self.hub = SessionHub()
        self._handed_off: dict[str, str] = {}
        self._left: set[str] = set()
        self._last_question: OrderedDict[str, str] = OrderedDict()
        self._max_remembered = max_remembered
        self._writer: BatchWriter[_Write] = BatchWriter("staff-desk", self._write)
        # with several gateways, a conversation's last typed question is kept in Redis (written by the writer)
        self._memory = redis_client(bus.url) if getattr(bus, "url", "") else None
        self._memory_prefix = f"{getattr(bus, 'prefix', '')}last-question:"

    # --- lifecycle ---
    async def start(self) -> None:
        from motcua.staff.service import open_handoff_senders

        def load() -> list[tuple[str, str]]:
            with self.database.session() as session:
                return open_handoff_senders(session)

        if self.bus is not None:  # before loading, so that nothing said meanwhile is missed
            await self.bus.subscribe(HANDOFF_CHANNEL, self._heard)
        try:
            self._handed_off.update(await run_in_threadpool(load))
        except Exception:  # tables missing (not migrated): the desk still runs in memory
            log.exception("could not load open handoff conversations")
        self._writer.start()

    async def stop(self) -> None:
        await self._told.flush()
        if self.bus is not None:
            await self.bus.unsubscribe(HANDOFF_CHANNEL, self._heard)
        await self._writer.stop()

    def _heard(self, item: dict) -> None:
        """Another gateway handed a conversation to staff (``channel``) or back (``channel`` null)."""
        sender, channel = str(item.get("sender") or ""), item.get("channel")
        if not sender:
            return
        if channel:
            self._handed_off[sender] = str(channel)
        else:
            self._forget(sender)

    async def flush(self) -> None:
        await self._writer.flush()

    # --- the gateway's hot path ---
    def is_handed_off(self, sender_id: str) -> bool:
        return sender_id in self._handed_off

    def citizen_message(self, message: UserMessage) -> BotMessage:
        """A message of a conversation that is with staff: to the inbox, not to Rasa.

        Returns the acknowledgement the citizen reads at once, so waiting is never silence.
        """
        self._writer.put(_Write("handoff_in", message.channel, message.sender_id, _shown(message),
                                center=center_in(message.metadata)))
        return BotMessage(render(ACK_KEY, locale=message.locale), buttons=(back_button(message.locale),),
                          custom={"handoff_ack": True})

    def wants_assistant(self, message: UserMessage) -> bool:
        """The citizen tapped «Quay lại trợ lý ảo» (also late, after staff handed the conversation back: it is
        never Rasa's), or wrote it while with staff, alone or in a short message («thôi không cần nữa, quay lại
        trợ lý»)."""
        if message.text == BACK_PAYLOAD:
            return True
        words = fold(message.text).split()
        if not words or len(words) > BACK_MESSAGE_WORDS or not self.is_handed_off(message.sender_id):
            return False
        said = f" {' '.join(words)} "
        return any(f" {phrase} " in said for phrase in BACK_WORDS)

    def back_to_assistant(self, message: UserMessage) -> BotMessage:
        """The citizen leaves the staff desk: the conversation is closed with a note for staff, and the next
        message goes to the assistant again (on every gateway)."""
        self._writer.put(_Write("handoff_back", message.channel, message.sender_id, BACK_NOTE))
        self.release(message.sender_id)
        return BotMessage(render(BACK_KEY, locale=message.locale))

    # --- open pages ---
    def join(self, sender_id: str, send: Send) -> Callable[[], None]:
        """A page's chat socket opened; returns ``leave``. While a kiosk conversation is with
        staff, the inbox thread notes when its last socket closes (the citizen left the kiosk, or
        the kiosk reset its session) and when it comes back."""
        if sender_id in self._left:
            self._left.discard(sender_id)
            self._note(sender_id, RECONNECTED_NOTE)
        leave = self.hub.join(sender_id, send)

        def leave_and_note() -> None:
            leave()
            if (self._handed_off.get(sender_id) == "kiosk" and not self.hub.is_open(sender_id)
                    and sender_id not in self._left):
                self._left.add(sender_id)
                self._note(sender_id, LEFT_NOTE)

        return leave_and_note

    def has_left(self, sender_id: str) -> bool:
        """A kiosk conversation with staff whose page closed and has not come back."""
        return sender_id in self._left

    def _note(self, sender_id: str, text: str) -> None:
        channel = self._handed_off.get(sender_id)
        if channel is not None:
            self._writer.put(_Write("handoff_note", channel, sender_id, text))

    def observe(self, message: UserMessage, reply: DialogueReply) -> None:
        """After Rasa's reply: put abstentions and fallbacks on the review list, start handoffs."""
        shown = _shown(message)
        asked = shown if not message.text.startswith("/") else ""
        question = asked or self._last_question.get(message.sender_id, shown)
        # a tap after a question typed through another gateway: that gateway left it in Redis
        recall = not asked and self._memory is not None and message.sender_id not in self._last_question
        reply_text = "\n".join(m.text for m in reply.messages if m.text)
        handoff = next((m.custom for m in reply.messages if m.custom and m.custom.get("handoff")), None)
        if reply.outcome in ("busy", "empty"):
            reason = reply.outcome
        elif handoff is not None:
            reason = "handoff"
        elif any((m.custom or {}).get("fallback") or m.text.startswith(FALLBACK_PATTERNS) for m in reply.messages):
            reason = "fallback"
        else:
            reason = ""
        if reason:
            self._writer.put(_Write("unanswered", message.channel, message.sender_id, question, reply_text,
                                    reason, center_in(message.metadata), recall))
        if handoff is not None:
            self._handed_off[message.sender_id] = message.channel
            self._told.publish(HANDOFF_CHANNEL, {"sender": message.sender_id, "channel": message.channel})
            self._writer.put(_Write("handoff_open", message.channel, message.sender_id, question, reply_text,
                                    str(handoff.get("reason") or ""), center_in(message.metadata), recall))
        if asked and self._memory is not None:
            self._writer.put(_Write("remember", message.channel, message.sender_id, asked))
        if asked:
            self._last_question[message.sender_id] = asked
            self._last_question.move_to_end(message.sender_id)
            while len(self._last_question) > self._max_remembered:
                self._last_question.popitem(last=False)

    # --- staff side ---
    def release(self, sender_id: str) -> None:
        """Staff handed the conversation back: the next message goes to Rasa again."""
        self._forget(sender_id)
        self._told.publish(HANDOFF_CHANNEL, {"sender": sender_id, "channel": None})

    def _forget(self, sender_id: str) -> None:
        self._handed_off.pop(sender_id, None)
        self._left.discard(sender_id)

    async def deliver(self, channel: str, sender_id: str, messages: list[BotMessage], notifier=None) -> Delivery:
        """Send staff messages through the citizen's own channel and say honestly how it went.

        An open chat socket (kiosk page) gets them at once; otherwise ``notifier``
        (:class:`channels.registry.Channels`: Telegram, Zalo, a page's event socket…) carries them.
        A kiosk with no open page is a session the citizen has left: nothing is sent or kept.
        """
        if self.hub.is_open(sender_id) and await self.hub.push(sender_id, messages):
            return Delivery(DeliveryStatus.DELIVERED, channel)
        page = channel in PAGE_CHANNELS
        if channel == "kiosk" and not await _listening(notifier, sender_id):
            return Delivery(DeliveryStatus.LEFT, channel)
        if notifier is None:
            return Delivery(DeliveryStatus.FAILED, channel)
        reached = queued = True
        refused: list[str] = []  # texts a platform did not take, kept for a later try
        error = ""
        for message in messages:
            try:
                result = await notifier.notify(channel, sender_id, message.as_plain_text(), message.buttons)
            except Exception as exc:
                log.exception("could not notify %s", mask_recipient(sender_id))
                result, error = None, f"{type(exc).__name__}: {exc}"
            delivered = bool(getattr(result, "delivered", False))
            queued_now = bool(getattr(result, "queued", False))
            if not (delivered or queued_now):
                refused.append(message.as_plain_text())
                error = error or str(getattr(result, "error", "") or "not delivered")
            reached = reached and delivered
            queued = queued and queued_now
        if reached:
            return Delivery(DeliveryStatus.DELIVERED if page else DeliveryStatus.SENT, channel)
        if page and queued:
            return Delivery(DeliveryStatus.LEFT if channel == "kiosk" else DeliveryStatus.WAITING, channel)
        if refused and not page and await self._keep_refused(channel, sender_id, refused, error):
            return Delivery(DeliveryStatus.RETRYING, channel)
        return Delivery(DeliveryStatus.FAILED, channel)

    async def _keep_refused(self, channel: str, sender_id: str, texts: list[str], error: str) -> bool:
        """Staff messages a platform (Telegram, Zalo…) refused go to the notice outbox to be retried
        rather than lost; False when there is no database to keep them in."""
        if self.database is None:
            return False
        from motcua.delivery import keep_notices

        def keep() -> int:
            with self.database.session() as session:
                return keep_notices(session, source="staff", channel=channel, sender_id=sender_id, texts=texts,
                                    error=error)

        try:
            return await run_in_threadpool(keep) > 0
        except Exception:
            log.exception("could not keep the refused staff message to %s", mask_recipient(sender_id))
            return False

    # --- the writer ---
    def _write(self, batch: Sequence[_Write]) -> None:
        if self._memory is not None:
            batch = self._through_memory(batch)
        with self.database.session() as session:
            for item in batch:
                now = utcnow()
                if item.kind == "unanswered":
                    record_unanswered(session, channel=item.channel, sender_id=item.sender_id,
                                      question=item.question, reply=item.reply, reason=item.reason, created_at=now,
                                      center=item.center)
                elif item.kind == "handoff_open":
                    conversation = open_handoff(session, channel=item.channel, sender_id=item.sender_id,
                                                reason=item.reason, question=item.question, at=now,
                                                center=item.center)
                    if item.question:
                        add_handoff_message(session, conversation, "in", item.question, at=now)
                    if item.reply:
                        add_handoff_message(session, conversation, "bot", item.reply, author="trợ lý ảo", at=now)  # staff-facing: the inbox's author
                elif item.kind == "handoff_in":
                    conversation = open_handoff(session, channel=item.channel, sender_id=item.sender_id, at=now,
                                                center=item.center)
                    add_handoff_message(session, conversation, "in", item.question, at=now)
                elif item.kind == "handoff_note":
                    conversation = open_handoff(session, channel=item.channel, sender_id=item.sender_id, at=now)
                    add_handoff_message(session, conversation, "note", item.question, at=now)
                elif item.kind == "handoff_back":
                    close_by_citizen(session, item.sender_id, item.question, at=now)


    def _through_memory(self, batch: Sequence[_Write]) -> list[_Write]:
        """Keep the typed questions in Redis for the other gateways («remember», nothing for the database) and
        give a tap whose question this process never saw the one another gateway kept; Redis away: the tap
        keeps the button's title."""
        assert self._memory is not None
        kept: list[_Write] = []
        for item in batch:
            key = self._memory_prefix + item.sender_id
            try:
                if item.kind == "remember":
                    self._memory.set(key, mask_identifiers(item.question)[:2000], ex=LAST_QUESTION_TTL_S)
                elif item.recall and (found := self._memory.get(key)):
                    item = replace(item, question=found.decode("utf-8"))
            except Exception:
                log.warning("a conversation's last question: Redis did not answer", exc_info=True)
            if item.kind != "remember":
                kept.append(item)
        return kept


def back_button(locale: str | None = None) -> Button:
    """«Quay lại trợ lý ảo»: leave the staff desk (:data:`BACK_PAYLOAD`)."""
    return Button(render(BACK_BUTTON_KEY, locale=locale), BACK_PAYLOAD)


async def _listening(notifier, sender_id: str) -> bool:
    """Whether a kiosk page still listens for ``sender_id`` on its event socket (on any gateway)."""
    sessions = getattr(notifier, "sessions", None)
    key = sender_id if sender_id.startswith("kiosk:") else f"kiosk:{sender_id}"
    return bool(sessions is not None and await sessions.listening(key))


def _shown(message: UserMessage) -> str:
    return message.metadata.get("display_text") or message.text
