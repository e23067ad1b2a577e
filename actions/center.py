"""Actions about the center itself, and the ones whose services arrive in later work."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.procedures import STAFF_BUTTONS


class ActionCenterInfo(Action):
    def __init__(self, info_text: str):
        self.info_text = info_text

    def name(self) -> str:
        return "action_center_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        dispatcher.utter_message(text=self.info_text)
        return []


class ActionNotYetAvailable(Action):
    """Says honestly that a service is not open in this installation, and offers a person.

    Registered under the names of services that a deployment has not switched on
    yet, so a conversation never breaks on a missing action.
    """

    def __init__(self, action_name: str, what: str):
        self._name = action_name
        self.what = what

    def name(self) -> str:
        return self._name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        dispatcher.utter_message(
            text=f"Xin lỗi, chức năng {self.what} chưa được mở ở trung tâm này. "
            "Ông/bà vui lòng liên hệ cán bộ tại quầy.",
            buttons=STAFF_BUTTONS,
        )
        return []
