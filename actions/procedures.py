"""The dialogue's safety nets: a staff member, and the fallback counter.

Questions are answered by :class:`actions.answering.ActionAnswer`."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

STAFF_BUTTONS = [
    {"title": "Gặp cán bộ", "payload": "/request_human"},
    {"title": "Lấy số thứ tự", "payload": "/request_queue_number"},
]


class ActionHandoff(Action):
    """Hands the conversation to a staff member: the gateway routes the custom event."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        dispatcher.utter_message(
            text="Tôi đã chuyển yêu cầu của ông/bà tới cán bộ. Xin vui lòng chờ trong giây lát, "
            "hoặc lấy số thứ tự để được hướng dẫn tại quầy.",
            json_message={"handoff": True, "reason": "citizen_request" if (tracker.latest_message.get("intent") or {})
                          .get("name") == "request_human" else "fallback"},
        )
        return [SlotSet("handoff", True), SlotSet("fallback_count", 0.0)]


class ActionResetFallback(Action):
    def name(self) -> str:
        return "action_reset_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        return [SlotSet("fallback_count", 0.0)]
