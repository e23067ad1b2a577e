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

from motcua.db import session_scope
from motcua.staff.service import RatingInput, add_rating

log = logging.getLogger(__name__)

STARS = {5: "Rất hài lòng", 4: "Hài lòng", 3: "Bình thường", 2: "Không hài lòng", 1: "Rất không hài lòng"}
RATING_BUTTONS = [{"title": f"{score} sao — {label}", "payload": f'/rate_service{{"rating": "{score}"}}'}
                  for score, label in STARS.items()]


def rating_score(values: list[str]) -> int | None:
    """The first 1–5 score among the entity values («5», «4/5», «5 sao»)."""
    for value in values:
        found = re.match(r"\s*([1-5])\b", str(value))
        if found:
            return int(found[1])
    return None


class ActionRateService(Action):
    def __init__(self, settings):
        self.settings = settings

    def name(self) -> str:
        return "action_rate_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        values = [str(e.get("value")) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "rating"]
        score = rating_score(values)
        if score is None:
            dispatcher.utter_message(text="Ông/bà đánh giá mức độ hài lòng với dịch vụ của Trung tâm thế nào ạ?",
                                     buttons=RATING_BUTTONS)
            return []
        text = tracker.latest_message.get("text") or ""
        sender = tracker.sender_id or ""
        channel = sender.split(":", 1)[0] if ":" in sender else "rest"
        rating = RatingInput(kind="service", score=score, channel=channel[:16], sender_id=sender,
                             center_code=self.settings.agency_code,
                             procedure_code=str(tracker.get_slot("procedure_code") or ""),
                             comment="" if text.startswith("/") else text[:2000])

        def store() -> None:
            with session_scope(self.settings.sqlalchemy_url) as session:
                add_rating(session, rating)

        try:
            await asyncio.to_thread(store)
        except Exception:
            log.exception("storing a rating failed")
            dispatcher.utter_message(text="Xin lỗi, tôi chưa ghi được đánh giá. Ông/bà vui lòng thử lại sau ạ.")
            return []
        thanks = "Cảm ơn ông/bà đã đánh giá" + (" và góp ý. Trung tâm sẽ xem xét để phục vụ tốt hơn." if score <= 2
                                                else ". Chúc ông/bà một ngày tốt lành!")
        dispatcher.utter_message(text=f"{thanks} ({score}/5 sao)")
        return []
