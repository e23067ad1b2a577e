"""``action_check_dossier_status``: a citizen asks how their dossier is doing.

The dossier code comes from the ``dossier_code`` entity, the slot, or a code written
anywhere in the message (a scanned receipt QR). Without a second factor the answer holds
only the status and the dates (not even the procedure); the second factor is the
lookup PIN written after «mã tra cứu» in the message, or the CCCD number AND the phone
recorded on the dossier (``cccd_number`` / ``phone_number``, entity or slot).
Without a code, a lost-code search needs both numbers (see
:meth:`DossierService.find_for_applicant`). Wrong factors are counted per conversation and
per code like the gateway does (:class:`~motcua.dossiers.guard.LookupGuard`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.procedures import staff_buttons
from knowledge_base.messages import render
from motcua.db import Database
from motcua.dossier_code import find_dossier_codes
from motcua.dossiers.errors import DossierError
from motcua.dossiers.guard import LookupGuard, throttled_text
from motcua.dossiers.service import DossierService, is_second_factor, parse_lookup_payload
from motcua.privacy import LOOKUP_PIN

log = logging.getLogger(__name__)

ASK_CODE = render("action.dossiers.ask_code")
"""The question for the dossier code, as the catalogue says it (``action.dossiers.ask_code``)."""
def lookup_pin(text: str) -> str:
    """The lookup PIN written after «mã tra cứu» (or «PIN») in the message; "" when none (the pattern the logs
    and Rasa's tracker store hide it by: :data:`motcua.privacy.LOOKUP_PIN`)."""
    found = LOOKUP_PIN.search(text or "")
    return re.sub(r"\D", "", found.group(2)) if found else ""


def _entity(tracker: Tracker, name: str) -> str:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return ""


def _value(tracker: Tracker, name: str, slot: str | None = None) -> str:
    return _entity(tracker, name) or str(tracker.get_slot(slot or name) or "")


class ActionCheckDossierStatus(Action):
    def __init__(self, service: DossierService, database: Database, guard: LookupGuard | None = None):
        self.service = service
        self.database = database
        self.guard = guard or LookupGuard()

    def name(self) -> str:
        return "action_check_dossier_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        text = tracker.latest_message.get("text") or ""
        code = _entity(tracker, "dossier_code")
        if not code and not text.startswith("/"):
            found = find_dossier_codes(text)
            code = str(found[0]) if found else ""
        code = code or str(tracker.get_slot("dossier_code") or "")
        cccd = _value(tracker, "cccd_number")
        phone = _value(tracker, "phone_number")
        pin = lookup_pin(text)
        try:
            if code:
                return await self._by_code(dispatcher, tracker.sender_id or "", code, cccd, phone, pin)
            if cccd or phone:
                return await self._by_numbers(dispatcher, tracker, cccd, phone)
        except DossierError as exc:  # malformed code, not found: the message says what to do
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("dossier_code", None)]
        except Exception:
            log.exception("dossier lookup failed")
            dispatcher.utter_message(text=render("action.dossiers.trouble"), buttons=staff_buttons())
            return []
        dispatcher.utter_message(text=ASK_CODE)
        return []

    async def _by_code(self, dispatcher: CollectingDispatcher, client: str, code: str, cccd: str, phone: str,
                       pin: str):
        client = f"chat:{client}"
        try:
            code = parse_lookup_payload(code)
        except DossierError:
            self.guard.failed(client)
            raise
        wait = self.guard.wait(client, code)
        if wait > 0:
            dispatcher.utter_message(text=throttled_text(wait))
            return []
        try:
            view = await asyncio.to_thread(self.database.run, self.service.lookup, code, cccd=cccd,
                                           phone=phone, pin=pin)
        except DossierError:
            self.guard.failed(client)
            raise
        if view.verified:
            self.guard.succeeded(client, code)
        elif is_second_factor(cccd=cccd, phone=phone, pin=pin) and self.guard.failed(client, code) > 0:
            dispatcher.utter_message(text=throttled_text(self.guard.wait(client, code)))
            return [SlotSet("dossier_code", view.code)]
        dispatcher.utter_message(text=view.describe())
        return [SlotSet("dossier_code", view.code)]

    async def _by_numbers(self, dispatcher: CollectingDispatcher, tracker: Tracker, cccd: str, phone: str):
        client = f"chat:{tracker.sender_id or ''}"
        wait = self.guard.wait(client)
        if wait > 0:
            dispatcher.utter_message(text=throttled_text(wait))
            return []
        views = await asyncio.to_thread(
            self.database.run, self.service.find_for_applicant, cccd=cccd, phone=phone, sender_id=tracker.sender_id or ""
        )
        if views:
            intro = render("action.dossiers.found_one" if len(views) == 1 else "action.dossiers.found_many",
                           count=len(views))
            dispatcher.utter_message(text=intro + "\n\n" + "\n\n".join(v.describe() for v in views))
            return [SlotSet("dossier_code", views[0].code)]
        if cccd and phone:
            self.guard.failed(client)
            dispatcher.utter_message(
                text=f"{render('action.dossiers.not_found')} {ASK_CODE}"
            )
        else:
            dispatcher.utter_message(
                text=render("action.dossiers.ask_second_number",
                            missing=render("action.dossiers.missing_phone" if cccd else "action.dossiers.missing_cccd"))
            )
        return []
