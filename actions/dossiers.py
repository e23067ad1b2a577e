"""``action_check_dossier_status``: a citizen asks how their dossier is doing.

The dossier code comes from the ``dossier_code`` entity, the slot, or a code written
anywhere in the message (a scanned receipt QR). Without the CCCD number or phone recorded
on the dossier the answer holds only the safe fields (procedure, status, dates); with one
of them (``cccd_number`` / ``phone_number``, entity or slot) it holds the details.
Without a code, a lost-code search needs both numbers, or one of them for dossiers filed
from this same conversation (see :meth:`DossierService.find_for_applicant`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.procedures import STAFF_BUTTONS
from motcua.dossier_code import find_dossier_codes
from motcua.dossiers.errors import DossierError
from motcua.dossiers.service import DossierService

log = logging.getLogger(__name__)

ASK_CODE = (
    "Ông/bà có mã số hồ sơ không ạ? Mã in trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả, "
    "dạng 000.00.04.H51-240315-0001. Ông/bà nhắn mã đó cho em nhé."
)
ASK_SECOND_NUMBER = (
    "Để giữ bí mật thông tin cá nhân, khi không có mã số hồ sơ em cần cả số căn cước và số điện thoại "
    "đã khai khi nộp hồ sơ. Ông/bà cho em thêm {missing}, hoặc nhắn mã số hồ sơ ạ."
)
TROUBLE = "Xin lỗi, hệ thống tra cứu hồ sơ đang gặp sự cố. Ông/bà vui lòng hỏi cán bộ tại quầy."


def _entity(tracker: Tracker, name: str) -> str:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return ""


def _value(tracker: Tracker, name: str, slot: str | None = None) -> str:
    return _entity(tracker, name) or str(tracker.get_slot(slot or name) or "")


class ActionCheckDossierStatus(Action):
    def __init__(self, service: DossierService):
        self.service = service

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
        try:
            if code:
                return await self._by_code(dispatcher, code, cccd, phone)
            if cccd or phone:
                return await self._by_numbers(dispatcher, tracker, cccd, phone)
        except DossierError as exc:  # malformed code, not found: the message says what to do
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("dossier_code", None)]
        except Exception:
            log.exception("dossier lookup failed")
            dispatcher.utter_message(text=TROUBLE, buttons=STAFF_BUTTONS)
            return []
        dispatcher.utter_message(text=ASK_CODE)
        return []

    async def _by_code(self, dispatcher: CollectingDispatcher, code: str, cccd: str, phone: str):
        view = await asyncio.to_thread(self.service.lookup, code, cccd=cccd, phone=phone)
        dispatcher.utter_message(text=view.describe())
        return [SlotSet("dossier_code", view.code)]

    async def _by_numbers(self, dispatcher: CollectingDispatcher, tracker: Tracker, cccd: str, phone: str):
        views = await asyncio.to_thread(
            self.service.find_for_applicant, cccd=cccd, phone=phone, sender_id=tracker.sender_id or ""
        )
        if views:
            intro = "Em tìm thấy hồ sơ sau:" if len(views) == 1 else f"Em tìm thấy {len(views)} hồ sơ gần đây:"
            dispatcher.utter_message(text=intro + "\n\n" + "\n\n".join(v.describe() for v in views))
            return [SlotSet("dossier_code", views[0].code)]
        if cccd and phone:
            dispatcher.utter_message(
                text="Em không tìm thấy hồ sơ nào khớp cả số căn cước và số điện thoại này. " + ASK_CODE
            )
        else:
            dispatcher.utter_message(
                text=ASK_SECOND_NUMBER.format(missing="số điện thoại" if cccd else "số căn cước")
            )
        return []
