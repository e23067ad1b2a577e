"""Taking a queue number from any chat channel, and looking at it again: ``action_issue_queue_number``.

**Which service.** A tapped service button (``/request_queue_number{"queue_service": "CT"}``)
decides. Otherwise the citizen's words: the services whose names, parts of names, lĩnh vực or
everyday names (``aliases`` in ``knowledge_base/queue.yaml``) the message contains, compared without
diacritics («lay so chung thuc» → Chứng thực); several that fit equally well are offered as buttons
instead of a guess. Then a procedure the message names, then the procedure in context (slots
``procedure_code`` and ``procedure``): the service that takes its lĩnh vực. The centre's general
service only when nothing says which.

**One number a service.** A chat user (Zalo, Telegram, web…) who already holds a number today for
that service — still waiting, or being called — is shown it again instead of getting a second one; a
number for another service is fine. At a kiosk each request is a new person and gets a new number.

**Limits.** A conversation (channel + sender id; a kiosk session too) takes at most
``MOTCUA_CHAT_TICKETS_PER_SENDER`` numbers within ``MOTCUA_CHAT_TICKET_WINDOW_MINUTES``, and the
anonymous web, REST and kiosk-page chats of one client address at most
``MOTCUA_CHAT_TICKETS_PER_ADDRESS`` (the address as the gateway's keyed hash in the metadata,
:mod:`motcua.origin`; an enrolled kiosk sends none). The queue checks them where it issues
(:meth:`~motcua.queue.service.QueueService.issue_for_chat`); over one, the citizen is told politely
when to come back, with a «Xem lại số» button for each number still held.

**After hours.** A chat number is for today: once the default centre has closed for the day (its last
opening hours in ``center.yaml`` are over, or it is a Sunday or a public holiday), a chat asking for a new
number is told the centre is closed and its hours instead (:class:`ChatHours`; a number already held
is still shown). A kiosk always issues; ``MOTCUA_CHAT_NUMBERS_AFTER_HOURS=true`` issues at any hour.
Other centres' hours are free text (their row): their numbers are issued as before.

**Looking again.** The «Xem lại số A002» button (``/request_queue_number{"queue_ticket": "A002"}``)
shows that number of this citizen today — its status, the people ahead, the expected wait — and
never issues one, however often it is tapped.

The action writes to the database through the queue's rules (:mod:`motcua.queue.service`); it never
prints — a kiosk page that wants paper asks the gateway with the ticket's token
(``custom.queue_ticket``, whose ``new`` says whether the number was just issued).

A chat number is always a plain one: whatever the message says or carries (an entity,
metadata), a priority group is never self-declared — staff set it at the counter
(``/api/v1/queue/staff/tickets``) or a registered kiosk issues it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.knowledge import KnowledgeBase
from knowledge_base.defaults import CenterInfo, OpeningPeriod
from knowledge_base.messages import render
from knowledge_base.schema import Procedure
from motcua.centers import DEFAULT_CENTER, center_in
from motcua.db import Database, shared_database
from motcua.origin import origin_in
from motcua.queue.config import QueueConfig, load_queue_config, service_phrases, services_named
from motcua.queue.limits import ChatTicketLimits, Requester
from motcua.queue.models import ACTIVE, QueueTicket, TicketStatus
from motcua.queue.models import QueueService as ServiceRow
from motcua.queue.service import (
    LOCAL_CHANNELS,
    QueueError,
    QueueService,
    TicketLimitReached,
    TicketView,
    WaitEstimate,
    seed_queue,
)
from motcua.queue.words import looks_up, names_a_paper_not_a_number, paper_cues
from motcua.settings import Settings
from motcua.workdays import HolidayCalendar

log = logging.getLogger(__name__)

INTENT = "request_queue_number"
TICKET_ENTITY = "queue_ticket"  # in the review button's payload: the label of the number to show again
SERVICE_ENTITY = "queue_service"  # in a service button's payload: the code of the service chosen

_OPEN = (TicketStatus.WAITING, *ACTIVE)


def review_payload(label: str) -> str:
    """The payload of «Xem lại số {label}»: the same intent, asking to see that number, not for a new one."""
    return f"/{INTENT}{json.dumps({TICKET_ENTITY: label}, ensure_ascii=False)}"


def service_payload(code: str) -> str:
    """The payload of a service button: a number of that service."""
    return f"/{INTENT}{json.dumps({SERVICE_ENTITY: code}, ensure_ascii=False)}"


@dataclass(frozen=True)
class QueueRequest:
    """What the citizen asked, read from the tracker before the database is touched."""

    channel: str
    sender_id: str
    phone: str | None = None
    text: str = ""  # the citizen's words ("" for a button payload)
    chosen_service: str = ""  # a service button tapped
    ticket_label: str = ""  # «Xem lại số»: the number to show
    named_procedure: Procedure | None = None  # a procedure the words name
    procedure: Procedure | None = None  # the procedure in context (slot procedure_code)
    procedure_text: str = ""  # the procedure named earlier (slot procedure)
    origin: str = ""  # the gateway's hash of an anonymous client's address (motcua.origin); "" otherwise
    center: str = DEFAULT_CENTER  # the centre the message was written at (a kiosk's; motcua.centers)


@dataclass(frozen=True)
class QueueReply:
    """A ticket to show, or the services to choose from, or the label asked for that was not found."""

    ticket: TicketView | None = None
    estimate: WaitEstimate | None = None
    already_had: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (code, name)
    missing: str = ""
    limited: str = ""  # over a limit: the polite sentence (queue.limit_*)
    held: tuple[str, ...] = ()  # with ``limited``: the labels of the numbers still held today
    closed: str = ""  # no new chat number: the centre is closed for the day (ChatHours.AFTER_HOURS / DAY_OFF)


@dataclass(frozen=True)
class ChatHours:
    """When the chat gives today's numbers: while the default centre is open or opens again today by its
    hours in ``center.yaml``, and not on a public holiday. A Saturday or Sunday worked in exchange for a
    holiday (``working_days`` of ``holidays.yaml``, «ngày làm bù») has a Monday's hours. No hours in the
    file: at any time."""

    center: CenterInfo
    holidays: HolidayCalendar | None = None

    AFTER_HOURS = "after_hours"
    DAY_OFF = "day_off"

    def closed_for_the_day(self, moment: datetime) -> str:
        """``moment`` in the centre's local time: :data:`DAY_OFF` (a public holiday, or no hours that weekday),
        :data:`AFTER_HOURS` (the day's last hours are over), "" (open now or later today)."""
        if not self.center.opening_hours:
            return ""
        periods = self._periods(moment)
        if not periods:
            return self.DAY_OFF
        return "" if any(moment.time() < period.closes for period in periods) else self.AFTER_HOURS

    def open_now(self, moment: datetime) -> bool:
        """Whether the centre is open at ``moment`` (local time): staff are at their desks. No hours: always."""
        if not self.center.opening_hours:
            return True
        return any(period.opens <= moment.time() < period.closes for period in self._periods(moment))

    def _periods(self, moment: datetime) -> list[OpeningPeriod]:
        """The opening periods of ``moment``'s day: none on a public holiday; a Monday's on a weekend day
        worked in exchange."""
        day, weekday = moment.date(), moment.weekday()
        if self.holidays is not None:
            if self.holidays.holiday_name(day) is not None:
                return []
            if weekday in self.holidays.weekend and self.holidays.is_working_day(day):
                weekday = 0  # a weekend day worked in exchange: a working day's hours
        return [period for period in self.center.opening_hours if weekday in period.days]

    def describe(self) -> str:
        return self.center.describe_hours()


def _entity(tracker: Tracker, name: str) -> str:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"]).strip()
    return ""


def _names(procedure: Procedure | None) -> list[str]:
    return [procedure.name, *procedure.aliases] if procedure is not None else []


def _phone(tracker: Tracker) -> str | None:
    return _entity(tracker, "phone_number")[:20] or None


class ActionIssueQueueNumber(Action):
    def __init__(self, knowledge: KnowledgeBase, settings: Settings, config: QueueConfig | None = None,
                 service: QueueService | None = None, *, database: Database | None = None,
                 hours: ChatHours | None = None, answer: Action | None = None):
        self.knowledge = knowledge
        self.answer = answer  # the answering action, for a paper's name read as a request for a number
        self.hours = hours  # None: chat numbers at any hour (actions/server.py gives the centre's)
        self.settings = settings
        self.config = config or load_queue_config()
        self.service = service or QueueService(self.config)
        self._database = database  # the action server's (actions/server.py); else the process's for the settings
        self.limits = ChatTicketLimits.from_settings(settings)
        self._seeded = False

    def name(self) -> str:
        return "action_issue_queue_number"

    @property
    def database(self) -> Database:
        return self._database or shared_database(self.settings.sqlalchemy_url)

    @property
    def public_url(self) -> str:
        return (self.settings.public_url or f"http://{self.settings.host}:{self.settings.gateway_port}").rstrip("/")

    # --- deciding (blocking: run in a thread) ------------------------------------------------

    def take_number(self, request: QueueRequest) -> QueueReply:
        """Show the number asked about, show the number already held, offer a choice, or issue one."""
        if not self._seeded:
            with self.database.session() as session:
                seed_queue(session, self.config)
            self._seeded = True
        with self.database.session() as session:
            if request.ticket_label:
                return self._review(session, request)
            if looks_up(request.text):  # «xem lại số», «còn bao nhiêu người»: show, never issue
                held = self._tickets(session, request.sender_id, _OPEN)
                if not held:
                    return QueueReply(missing="")
                return self._held(session, held[0])
            closed = self._closed_for(request)
            if closed:  # before any choice of service: a number already held is still shown
                held = self._tickets(session, request.sender_id, _OPEN)
                if held:
                    return self._held(session, held[0])
                return QueueReply(closed=closed)
            wanted, choices = self.wanted_services(session, request)
            if choices:
                return QueueReply(choices=tuple((s.code, s.name) for s in choices))
            # a kiosk session serves one person after another: only chat users keep "their" numbers
            held = [] if request.channel in LOCAL_CHANNELS else self._tickets(session, request.sender_id, _OPEN)
            same = next((t for t in held if wanted is None or t.service_code == wanted.code), None)
            if same is not None:
                return self._held(session, same)
            wanted = wanted or self.service.default_service(session)
            if wanted is None:
                raise QueueError(render("action.queue.no_service"))
            requester = Requester(request.channel, request.sender_id, request.origin)
            try:  # a plain number (a priority group is never self-declared), within the chat limits
                issued = self.service.issue_for_chat(session, wanted.code, requester=requester, limits=self.limits,
                                                     phone=request.phone, actor=f"chat:{request.channel}",
                                                     center=request.center)
            except TicketLimitReached as exc:
                still = held or self._tickets(session, request.sender_id, _OPEN)
                return QueueReply(limited=str(exc), held=tuple(dict.fromkeys(t.label for t in still)))
            return QueueReply(issued.ticket, issued.estimate, already_had=issued.already_had)

    def _held(self, session: Session, ticket: TicketView) -> QueueReply:
        """A number this citizen already holds, shown again with its wait now."""
        return QueueReply(ticket, self.service.estimate_for(session, ticket), already_had=True)

    def _closed_for(self, request: QueueRequest) -> str:
        """Why a chat of the default centre gets no new number now (:meth:`ChatHours.closed_for_the_day`), or ""."""
        if self.hours is None or request.channel in LOCAL_CHANNELS or request.center != DEFAULT_CENTER:
            return ""
        return self.hours.closed_for_the_day(self.service.now().astimezone(self.config.zone))

    def wanted_services(self, session: Session, request: QueueRequest) -> tuple[ServiceRow | None, list[ServiceRow]]:
        """(the service asked for or None, the services to choose from when the words fit several)."""
        active = self.service.services(session)
        by_code = {s.code: s for s in active}
        if request.chosen_service:
            return by_code.get(request.chosen_service.upper()), []
        phrases = {s.code: self._phrases(s) for s in active}
        named = [by_code[code] for code in services_named(request.text, phrases)]
        if len(named) > 1:  # the general service is what is left when nothing fits: no need to offer it
            named = [s for s in named if s.code != self.config.default_service] or named
        if len(named) > 1:
            return None, named
        if named:
            return named[0], []
        for procedure in (request.named_procedure, request.procedure):
            if procedure is None:
                continue
            service = self.service.service_for_field(session, procedure.field) if procedure.field else None
            fitting = [by_code[code] for code in services_named(procedure.name, phrases)]
            if service is None and len(fitting) == 1:
                service = fitting[0]
            if service is not None:
                return service, []
        fitting = [by_code[code] for code in services_named(request.procedure_text, phrases)]
        return (fitting[0] if len(fitting) == 1 else None), []

    def _phrases(self, service: ServiceRow) -> frozenset[str]:
        configured = self.config.service(service.code)
        return service_phrases(service.name, service.fields or [], configured.aliases if configured else ())

    def _tickets(self, session: Session, sender_id: str, statuses: tuple[TicketStatus, ...] = (),
                 label: str = "") -> list[TicketView]:
        """Today's tickets of this citizen, the newest first (only those in ``statuses``, of ``label``)."""
        query = select(QueueTicket.token).where(QueueTicket.sender_id == sender_id,
                                                QueueTicket.day == self.service.today())
        if statuses:
            query = query.where(QueueTicket.status.in_(statuses))
        if label:
            query = query.where(QueueTicket.label == label)
        return [self.service.ticket(session, token) for token in session.scalars(query.order_by(QueueTicket.id.desc()))]

    def _review(self, session: Session, request: QueueRequest) -> QueueReply:
        label = request.ticket_label.upper()
        found = self._tickets(session, request.sender_id, label=label)
        if not found:
            return QueueReply(missing=label)
        ticket = found[0]
        return self._held(session, ticket)

    # --- the conversation --------------------------------------------------------------------

    def names_a_paper(self, text: str) -> bool:
        """Whether every «số», «phiếu» of ``text`` belongs to the name of a procedure it names («xin phiếu lý lịch
        tư pháp», «xin xác nhận số cmnd 9 số»): the names staff keep first, then the search's first three."""
        if not paper_cues(text):  # «cho tôi lấy số»: no name is looked up
            return False
        named = [m.code for m in self.knowledge.find_named(text, top_k=3).matches]
        names = [name for code in named for name in _names(self.knowledge.get(code))]
        if names_a_paper_not_a_number(text, names):
            return True
        found = self.knowledge.find(text, top_k=3)
        return not found.abstained and names_a_paper_not_a_number(
            text, [name for m in found.matches for name in [m.name, *_names(self.knowledge.get(m.code))]])

    def read_request(self, tracker: Tracker) -> QueueRequest:
        metadata = tracker.latest_message.get("metadata") or {}
        channel = str(metadata.get("channel") or tracker.sender_id.split(":", 1)[0] or "chat")[:32]
        text = str(tracker.latest_message.get("text") or "")
        text = "" if text.startswith("/") else text[:500]  # a payload is no one's words
        code = tracker.get_slot("procedure_code")
        named = self.knowledge.find_named(text, top_k=1).matches if text else []
        return QueueRequest(
            channel=channel, sender_id=tracker.sender_id, phone=_phone(tracker), text=text,
            chosen_service=_entity(tracker, SERVICE_ENTITY)[:16],
            ticket_label="".join(filter(str.isalnum, _entity(tracker, TICKET_ENTITY)))[:12],  # typed «B 005», «b-005»
            named_procedure=self.knowledge.get(named[0].code) if named else None,
            procedure=self.knowledge.get(code) if code else None,
            procedure_text=str(tracker.get_slot("procedure") or ""),
            origin=origin_in(metadata),
            center=center_in(metadata),
        )

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        request = self.read_request(tracker)
        if self.answer is not None and await asyncio.to_thread(self.names_a_paper, request.text):
            return await self.answer.run(dispatcher, tracker, domain)  # a question about that paper, not a number
        try:
            reply = await asyncio.to_thread(self.take_number, request)
        except QueueError as exc:
            dispatcher.utter_message(text=render("action.queue.not_issued", reason=exc))
            return []
        except Exception:  # the database is down: say so politely, never crash the conversation
            log.exception("queue number not issued")
            dispatcher.utter_message(text=render("action.queue.trouble"))
            return []
        if reply.limited:
            dispatcher.utter_message(text=reply.limited,
                                     buttons=[{"title": render("action.queue.button_review", label=label),
                                               "payload": review_payload(label)} for label in reply.held[:3]])
        elif reply.closed and self.hours is not None:
            key = "action.queue.closed_day_off" if reply.closed == ChatHours.DAY_OFF else "action.queue.closed_today"
            dispatcher.utter_message(text=render(key, hours=self.hours.describe()))
        elif reply.choices:
            dispatcher.utter_message(text=render("action.queue.choose_service"),
                                     buttons=[{"title": name, "payload": service_payload(code)}
                                              for code, name in reply.choices])
        elif reply.ticket is None or reply.estimate is None:
            key = "action.queue.review_missing" if reply.missing else "action.queue.none_held"
            dispatcher.utter_message(text=render(key, label=reply.missing), buttons=[self._new_number_button()])
        else:
            self._say_ticket(dispatcher, request.channel, reply.ticket, reply.estimate, reply.already_had)
        return []

    def _say_ticket(self, dispatcher: CollectingDispatcher, channel: str, ticket: TicketView,
                    estimate: WaitEstimate, already_had: bool) -> None:
        status_url = f"{self.public_url}/queue/ticket/{ticket.token}"
        still_open = ticket.status in _OPEN
        if not still_open:
            lines = [render("action.queue.review_closed", label=ticket.label, service=ticket.service_name,
                            status=ticket.status_text)]
        elif already_had:
            lines = [render("action.queue.holding", label=ticket.label, service=ticket.service_name),
                     render("action.queue.status", status=ticket.status_text)]
        else:
            lines = [render("action.queue.issued", label=ticket.label, service=ticket.service_name)]
        if ticket.status == TicketStatus.WAITING:
            lines.append(estimate.describe())
            if channel not in LOCAL_CHANNELS:
                lines.append(render("action.queue.will_notify", ahead=self.config.near_turn_ahead))
        elif still_open and ticket.counter_number:
            lines.append(render("action.queue.called", counter=ticket.counter_number))
        lines.append(render("action.queue.status_link", url=status_url))
        button = ({"title": render("action.queue.button_review", label=ticket.label),
                   "payload": review_payload(ticket.label)} if still_open else self._new_number_button())
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[button],
            json_message={"queue_ticket": {"token": ticket.token, "label": ticket.label,
                                           "service": ticket.service_name, "status_url": status_url,
                                           "status": str(ticket.status), "new": not already_had,
                                           "people_ahead": estimate.ahead, "estimated_wait_min": estimate.minutes}},
        )

    @staticmethod
    def _new_number_button() -> dict[str, str]:
        return {"title": render("button.request_queue_number"), "payload": f"/{INTENT}"}
