"""Actions about the center itself: opening hours, address, contacts."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionCenterInfo(Action):
    def __init__(self, info_text: str):
        self.info_text = info_text

    def name(self) -> str:
        return "action_center_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        dispatcher.utter_message(text=self.info_text)
        return []
