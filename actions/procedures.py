"""The dialogue's safety nets: a staff member, and the fallback counter.

Questions are answered by :class:`actions.answering.ActionAnswer`."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from knowledge_base.messages import render
from motcua.db import Database, shared_database
from motcua.origin import PLATFORM_CHANNELS, origin_in
from motcua.staff.service import BACK_PAYLOAD
from motcua.throttle import SlidingWindow, sliding_window

log = logging.getLogger(__name__)


def intent_button(intent: str) -> dict[str, str]:
    """A button that sends a bare intent, titled ``button.<intent>`` from the catalogue (the same label
    wherever it appears, ``domain.yml`` included)."""
    return {"title": render(f"button.{intent}"), "payload": f"/{intent}"}


def staff_buttons() -> list[dict[str, str]]:
    """«Gặp cán bộ» and «Lấy số thứ tự»: the way out when the assistant cannot help."""
    return [intent_button("request_human"), intent_button("request_queue_number")]


def back_button() -> dict[str, str]:
    """«Quay lại trợ lý ảo» under «đã chuyển tới cán bộ»: the gateway gives the assistant back (bot/staff_desk.py)."""
    return {"title": render("button.back_to_assistant"), "payload": BACK_PAYLOAD}


DEFAULT_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


class ActionHandoff(Action):
    """Hands the conversation to a staff member: the gateway routes the custom event.

    **One open handoff a conversation.** While a conversation is with staff the gateway keeps its
    messages from Rasa; should one still reach here (its handoff open in the database: another
    gateway process, a lost memory), the citizen is told it is still waiting and the same handoff
    goes on (the inbox adds the message to the open thread).

    **Per address.** The anonymous chats of one client address (the origin the gateway put in the
    metadata, :mod:`motcua.origin`: web widget, REST, a kiosk page that is not enrolled) hand at most
    ``per_address`` new conversations to staff within ``window_s`` (``MOTCUA_HANDOFFS_PER_ADDRESS``,
    ``MOTCUA_HANDOFF_WINDOW_MINUTES``), counted like the gateway's throttles: in Redis for every action
    server when the deployment has one, else in this process's memory (a restart only gives a fresh
    small budget). Over it nothing reaches the staff inbox: the citizen
    is told politely when to try again and offered a queue number instead.

    **Per chat.** A Telegram or Zalo chat carries no origin, but its id is one person's: it hands at most
    ``per_chat`` new conversations to staff within the same window (``MOTCUA_HANDOFFS_PER_CHAT``) when the
    citizen asks for them — «gặp cán bộ», «quay lại trợ lý ảo», «gặp cán bộ»… would otherwise open a
    conversation each time (a handoff the assistant makes after failing to understand is not counted). An
    enrolled kiosk has the one-open rule only (its session serves one citizen after another).
    """

    def __init__(self, database: Database | None = None, *, per_address: int = 3, per_chat: int = 3,
                 window_s: float = 1800.0, clock: Callable[[], float] = time.monotonic,
                 hours: Any = None, now: Callable[[], datetime] | None = None):
        self.database = database  # the database of the staff inbox; None = no look-up (tests of the reply alone)
        # the default centre's hours (actions.queue.ChatHours) and its local time: outside them the citizen is
        # told staff will answer when the centre opens, not «in a moment»; None: always «in a moment»
        self.hours = hours
        self.now = now or (lambda: datetime.now(DEFAULT_ZONE))
        self.per_address = SlidingWindow(per_address, window_s, clock=clock)
        self.per_chat = SlidingWindow(per_chat, window_s, clock=clock)

    @classmethod
    def from_settings(cls, settings: Any, database: Database | None = None, hours: Any = None,
                      zone: tzinfo | None = None) -> ActionHandoff:
        """On ``database`` (the action server's), or else the process's one for the settings' URL; ``hours``
        and ``zone``: the default centre's opening hours and time zone (see ``__init__``)."""
        action = cls(database or shared_database(settings.sqlalchemy_url), hours=hours,
                     now=lambda: datetime.now(zone or DEFAULT_ZONE))
        action.per_address = sliding_window(settings, "handoff-address", settings.handoffs_per_address,
                                            settings.handoff_window_minutes * 60.0)
        action.per_chat = sliding_window(settings, "handoff-chat", settings.handoffs_per_chat,
                                         settings.handoff_window_minutes * 60.0)
        return action

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        reason = "citizen_request" if (tracker.latest_message.get("intent") or {}).get("name") == "request_human" \
            else "fallback"
        if await asyncio.to_thread(self.already_open, tracker.sender_id):
            dispatcher.utter_message(text=render("action.procedures.handoff_waiting"), buttons=[back_button()],
                                     json_message={"handoff": True, "reason": reason, "repeat": True})
            return [SlotSet("handoff", True), SlotSet("fallback_count", 0.0)]
        metadata = tracker.latest_message.get("metadata") or {}
        origin = origin_in(metadata)
        channel = str(metadata.get("channel") or tracker.sender_id.split(":", 1)[0])
        limited_key, wait_s = "action.procedures.handoff_limited", 0.0
        if origin:
            wait_s = self.per_address.hit(origin)
        elif channel in PLATFORM_CHANNELS and reason == "citizen_request":  # a loop of taps, not the assistant's own
            limited_key, wait_s = "action.procedures.handoff_limited_chat", self.per_chat.hit(tracker.sender_id)
        if wait_s > 0:
            dispatcher.utter_message(text=render(limited_key, wait=math.ceil(wait_s / 60)),
                                     buttons=[intent_button("request_queue_number")])
            return [SlotSet("fallback_count", 0.0)]
        closed = self.hours is not None and not self.hours.open_now(self.now())
        text = (render("action.procedures.handoff_closed", hours=self.hours.describe()) if closed
                else render("action.procedures.handoff"))
        dispatcher.utter_message(text=text, buttons=[back_button()], json_message={"handoff": True, "reason": reason})
        return [SlotSet("handoff", True), SlotSet("fallback_count", 0.0)]

    def already_open(self, sender_id: str) -> bool:
        """Whether this conversation has an open handoff in the staff inbox (False when unknown)."""
        if self.database is None:
            return False
        from motcua.staff.models import HandoffConversation, HandoffStatus

        try:
            with self.database.session() as session:
                return session.scalar(select(HandoffConversation.id).where(
                    HandoffConversation.sender_id == sender_id,
                    HandoffConversation.status == HandoffStatus.OPEN).limit(1)) is not None
        except Exception:  # the inbox cannot be read: hand over anyway, the inbox keeps one thread a sender
            log.warning("could not look for an open handoff", exc_info=True)
            return False


class ActionResetFallback(Action):
    def name(self) -> str:
        return "action_reset_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        return [SlotSet("fallback_count", 0.0)]
