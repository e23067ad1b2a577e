"""The dialogue's safety nets: a staff member, and the fallback counter.

Questions are answered by :class:`actions.answering.ActionAnswer`."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge_base.messages import render


def intent_button(intent: str) -> dict[str, str]:
    """A button that sends a bare intent, titled ``button.<intent>`` from the catalogue (the same label
    wherever it appears, ``domain.yml`` included)."""
    return {"title": render(f"button.{intent}"), "payload": f"/{intent}"}


def staff_buttons() -> list[dict[str, str]]:
    """«Gặp cán bộ» and «Lấy số thứ tự»: the way out when the assistant cannot help."""
    return [intent_button("request_human"), intent_button("request_queue_number")]


class ActionHandoff(Action):
    """Hands the conversation to a staff member: the gateway routes the custom event."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        dispatcher.utter_message(
            text=render("action.procedures.handoff"),
            json_message={"handoff": True, "reason": "citizen_request" if (tracker.latest_message.get("intent") or {})
                          .get("name") == "request_human" else "fallback"},
        )
        return [SlotSet("handoff", True), SlotSet("fallback_count", 0.0)]


class ActionResetFallback(Action):
    def name(self) -> str:
        return "action_reset_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        return [SlotSet("fallback_count", 0.0)]
