"""Actions about the center itself: opening hours, address, contacts.

The centre is the one the message was written at (a kiosk's, a widget's site's, a Telegram link's:
:func:`motcua.centers.center_in`). The default centre's card comes from ``center.yaml`` (with its
structured hours, e-mail and note); another centre's from its row in the ``centers`` table, which an
admin fills on /admin — a citizen at one commune's kiosk is never told another commune's address."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from knowledge_base.defaults import CenterInfo
from knowledge_base.messages import render
from motcua.centers import DEFAULT_CENTER, CenterView, center_in, find_center
from motcua.db import Database

log = logging.getLogger(__name__)


def center_card(center: CenterView) -> str:
    """A centre's card from its row: its name, then address, hours and phone when known, one per line."""
    lines = [center.display_name]
    if center.address:
        lines.append(render("center.address", address=center.address))
    if center.hours:
        lines.append(render("center.hours", hours=center.hours))
    if center.phone:
        lines.append(render("center.phone", phone=center.phone))
    return "\n".join(lines)


class CenterPlaces:
    """Where a centre is, in one line («name — address»), said with «nộp ở đâu» for a commune procedure:
    the default centre's from ``center.yaml``, another's from its row; "" when it cannot be said."""

    KEPT_S = 60.0
    """How long another centre's line is kept (the action answers from its event loop: one short read a minute)."""

    def __init__(self, default: CenterInfo | None, database: Database | None = None, clock=time.monotonic):
        self.default = default
        self.database = database
        self.clock = clock
        self._kept: dict[str, tuple[float, tuple[str, str] | None]] = {}

    def __call__(self, code: str) -> str:
        found = self._read(code)
        return self._line(*found) if found is not None else ""

    def name(self, code: str) -> str:
        """The centre's name as its card gives it ("" when it cannot be read)."""
        found = self._read(code)
        return found[0] if found is not None else ""

    def _read(self, code: str) -> tuple[str, str] | None:
        """(name, address) of centre ``code``: the default's from ``center.yaml``, another's from its row."""
        if code == DEFAULT_CENTER or self.database is None:
            return (self.default.name, self.default.address) if self.default is not None else None
        kept = self._kept.get(code)
        if kept is not None and self.clock() - kept[0] < self.KEPT_S:
            return kept[1]
        try:
            center = self.database.run(find_center, code)
        except SQLAlchemyError:
            log.warning("could not read centre %s; its place is not said", code, exc_info=True)
            return None
        found = (center.display_name, center.address) if center is not None else None
        self._kept[code] = (self.clock(), found)
        return found

    @staticmethod
    def _line(name: str, address: str) -> str:
        return f"{name} — {address}" if name and address else name


class ActionGreet(Action):
    """«Xin chào»: the assistant greets in the caller's language and names the centre the citizen writes from
    (a kiosk's, a widget's or a Telegram/Zalo chat's centre; the default centre's name from ``center.yaml``)."""

    def __init__(self, places: CenterPlaces):
        self.places = places

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        code = center_in(tracker.latest_message.get("metadata"))
        name = self.places.name(code) if code == DEFAULT_CENTER else await asyncio.to_thread(self.places.name, code)
        dispatcher.utter_message(text=render("action.greet", center=name) if name else render("action.greet_unnamed"))
        return []


class ActionCenterInfo(Action):
    def __init__(self, info_text: str | Callable[[], str], database: Database | None = None):
        self._info_text = info_text  # the default centre's card, or what writes it in the call's language
        self.database = database

    @property
    def info_text(self) -> str:
        return self._info_text() if callable(self._info_text) else self._info_text

    def name(self) -> str:
        return "action_center_info"

    def card_for(self, code: str) -> str:
        """The card of centre ``code``; the default centre's when it is the default, or gone, or unreadable."""
        if code == DEFAULT_CENTER or self.database is None:
            return self.info_text
        try:
            center = self.database.run(find_center, code)
        except SQLAlchemyError:
            log.warning("could not read centre %s; the default centre's card is given", code, exc_info=True)
            return self.info_text
        return center_card(center) if center is not None else self.info_text

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        code = center_in(tracker.latest_message.get("metadata"))
        text = self.info_text if code == DEFAULT_CENTER else await asyncio.to_thread(self.card_for, code)
        dispatcher.utter_message(text=text)
        return []
