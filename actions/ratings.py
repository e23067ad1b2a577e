"""``action_rate_service``: the citizen rates the service (1–5 sao) from any chat channel.

The score comes from the ``rating`` entity (``5 sao``, ``rất hài lòng`` → ``"5"``); without
one the citizen gets five buttons. The rating is stored exactly as ``POST /api/v1/ratings``
stores it (:func:`motcua.staff.service.add_rating`), so it shows on the staff dashboard.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from knowledge_base.messages import render
from motcua.centers import center_in
from motcua.db import Database, shared_database
from motcua.staff.service import RatingInput, add_rating

log = logging.getLogger(__name__)

SCORES = (5, 4, 3, 2, 1)


def rating_buttons() -> list[dict[str, str]]:
    """Five buttons, best first: «5 sao — Rất hài lòng» … «1 sao — Rất không hài lòng»."""
    return [{"title": render("action.ratings.button", score=score, label=render(f"action.ratings.star_{score}")),
             "payload": f'/rate_service{{"rating": "{score}"}}'} for score in SCORES]


def rating_score(values: list[str]) -> int | None:
    """The first 1–5 score among the entity values («5», «4/5», «5 sao»)."""
    for value in values:
        found = re.match(r"\s*([1-5])\b", str(value))
        if found:
            return int(found[1])
    return None


class ActionRateService(Action):
    def __init__(self, settings, database: Database | None = None):
        self.settings = settings
        self._database = database  # the action server's (actions/server.py); else the process's for the settings

    def name(self) -> str:
        return "action_rate_service"

    @property
    def database(self) -> Database:
        return self._database or shared_database(self.settings.sqlalchemy_url)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        values = [str(e.get("value")) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "rating"]
        score = rating_score(values)
        if score is None:
            dispatcher.utter_message(text=render("action.ratings.ask"), buttons=rating_buttons())
            return []
        text = tracker.latest_message.get("text") or ""
        sender = tracker.sender_id or ""
        channel = sender.split(":", 1)[0] if ":" in sender else "rest"
        rating = RatingInput(kind="service", score=score, channel=channel[:16], sender_id=sender,
                             center_code=center_in(tracker.latest_message.get("metadata")),
                             procedure_code=str(tracker.get_slot("procedure_code") or ""),
                             comment="" if text.startswith("/") else text[:2000])

        def store() -> None:
            with self.database.session() as session:
                add_rating(session, rating)

        try:
            await asyncio.to_thread(store)
        except Exception:
            log.exception("storing a rating failed")
            dispatcher.utter_message(text=render("action.ratings.not_stored"))
            return []
        thanks = "action.ratings.thanks_unhappy" if score <= 2 else "action.ratings.thanks"
        dispatcher.utter_message(text=render(thanks, score=score))
        return []
