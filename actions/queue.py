"""Taking a queue number from any chat channel: ``action_issue_queue_number``.

The service is the one that takes the lĩnh vực (field) of the procedure the
citizen asked about (slot ``procedure_code``), else the centre's general service.
A chat user (Zalo, Telegram, web…) who already holds a number today for that
service is shown it again instead of getting a second one; at a kiosk each request
is a new person and gets a new number. The action writes to the database through the
queue's rules (:mod:`motcua.queue.service`); it never prints — a kiosk page that
wants paper asks the gateway with the ticket's token (``custom.queue_ticket``).

A chat number is always a plain one: whatever the message says or carries (an entity,
metadata), a priority group is never self-declared — staff set it at the counter
(``/api/v1/queue/staff/tickets``) or a registered kiosk issues it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import KnowledgeBase
from motcua.db import session_scope
from motcua.queue.config import QueueConfig, load_queue_config
from motcua.queue.service import (
    LOCAL_CHANNELS,
    QueueError,
    QueueService,
    TicketView,
    WaitEstimate,
    seed_queue,
)
from motcua.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueReply:
    ticket: TicketView
    estimate: WaitEstimate
    already_had: bool


def _phone(tracker: Tracker) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "phone_number" and entity.get("value"):
            return str(entity["value"])[:20]
    return None


class ActionIssueQueueNumber(Action):
    def __init__(self, knowledge: KnowledgeBase, settings: Settings, config: QueueConfig | None = None,
                 service: QueueService | None = None):
        self.knowledge = knowledge
        self.settings = settings
        self.config = config or load_queue_config()
        self.service = service or QueueService(self.config)
        self.url = settings.sqlalchemy_url
        self._seeded = False

    def name(self) -> str:
        return "action_issue_queue_number"

    @property
    def public_url(self) -> str:
        return (self.settings.public_url or f"http://{self.settings.host}:{self.settings.gateway_port}").rstrip("/")

    def take_number(self, channel: str, sender_id: str, field: str, phone: str | None) -> QueueReply:
        """Find today's number of this citizen for the service, or issue one (blocking: run in a thread)."""
        if not self._seeded:
            with session_scope(self.url) as session:
                seed_queue(session, self.config)
            self._seeded = True
        with session_scope(self.url) as session:
            wanted = self.service.service_for_field(session, field) if field else None
            # a kiosk session serves one person after another: only chat users keep "their" number
            held = None if channel in LOCAL_CHANNELS else self.service.waiting_for_sender(session, sender_id)
            if held is not None and (wanted is None or wanted.code == held.service_code):
                return QueueReply(held, self.service.estimate_for(session, held), already_had=True)
            wanted = wanted or self.service.default_service(session)
            if wanted is None:
                raise QueueError("Trung tâm chưa mở dịch vụ cấp số nào.")
            issued = self.service.issue(session, wanted.code, channel=channel, sender_id=sender_id, phone=phone,
                                        priority="", actor=f"chat:{channel}")  # never self-declared
            return QueueReply(issued.ticket, issued.estimate, already_had=False)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        metadata = tracker.latest_message.get("metadata") or {}
        channel = str(metadata.get("channel") or tracker.sender_id.split(":", 1)[0] or "chat")[:32]
        code = tracker.get_slot("procedure_code")
        procedure = self.knowledge.get(code) if code else None
        try:
            reply = await asyncio.to_thread(self.take_number, channel, tracker.sender_id,
                                            procedure.field if procedure else "", _phone(tracker))
        except QueueError as exc:
            dispatcher.utter_message(text=f"Xin lỗi, chưa lấy được số: {exc} Ông/bà vui lòng hỏi cán bộ tại quầy.")
            return []
        except Exception:  # the database is down: say so politely, never crash the conversation
            log.exception("queue number not issued")
            dispatcher.utter_message(text="Xin lỗi, hệ thống cấp số đang gặp sự cố. "
                                          "Ông/bà vui lòng lấy số tại kiosk hoặc hỏi cán bộ tại quầy.")
            return []
        ticket, estimate = reply.ticket, reply.estimate
        status_url = f"{self.public_url}/queue/ticket/{ticket.token}"
        lines = [f"Ông/bà đang giữ số {ticket.label} — {ticket.service_name}." if reply.already_had
                 else f"Ông/bà đã lấy số thành công: {ticket.label} — {ticket.service_name}."]
        if ticket.status == "waiting":
            lines.append(estimate.describe())
        elif ticket.counter_number:
            lines.append(f"Số của ông/bà đang được mời tới quầy số {ticket.counter_number}.")
        if channel not in LOCAL_CHANNELS and ticket.status == "waiting":
            lines.append(f"Khi chỉ còn {self.config.near_turn_ahead} người phía trước, "
                         "chúng tôi sẽ nhắn tin báo ông/bà tại đây.")
        lines.append(f"Xem tình trạng số: {status_url}")
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[{"title": f"Xem lại số {ticket.label}", "payload": "/request_queue_number"}],
            json_message={"queue_ticket": {"token": ticket.token, "label": ticket.label,
                                           "service": ticket.service_name, "status_url": status_url,
                                           "people_ahead": estimate.ahead, "estimated_wait_min": estimate.minutes}},
        )
        return []
