"""What the queue answers: tickets, waits, calls, the board, statistics — frozen dataclasses
built from the rows, and the sentences the board and the chat say about them (from the message
catalogue: ``status.ticket.*``, ``status.queue.*``, ``notify.queue.*``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from knowledge_base.messages import render
from motcua.centers import DEFAULT_CENTER
from motcua.queue.models import CounterStatus, EventKind, TicketStatus


@dataclass(frozen=True)
class WaitEstimate:
    ahead: int
    open_counters: int
    minutes_per_person: float
    minutes: int
    from_history: bool

    def describe(self, locale: str | None = None) -> str:
        if self.ahead == 0:
            return render("status.queue.serve_now", locale=locale)
        text = render("status.queue.wait", locale=locale, ahead=self.ahead, minutes=self.minutes)
        if self.open_counters == 0:
            text += " " + render("status.queue.no_counter", locale=locale)
        return text


@dataclass(frozen=True)
class TicketView:
    id: int
    token: str
    label: str
    number: int
    day: date
    service_code: str
    service_name: str
    status: TicketStatus
    channel: str
    priority: str = ""
    priority_name: str = ""
    weight: int = 0
    sender_id: str | None = None
    phone: str | None = None
    counter_number: int | None = None
    target_counter: int | None = None
    issued_at: datetime | None = None
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    estimated_wait_min: int | None = None
    recalls: int = 0
    center_code: str = DEFAULT_CENTER

    @property
    def status_text(self) -> str:
        """The ticket's status as the citizen reads it."""
        return ticket_status_text(self.status)


def ticket_status_text(status: TicketStatus | str, locale: str | None = None) -> str:
    return render(f"status.ticket.{TicketStatus(status).value}", locale=locale)


@dataclass(frozen=True)
class IssuedTicket:
    ticket: TicketView
    estimate: WaitEstimate


@dataclass(frozen=True)
class ChatIssue:
    """A chat conversation's number: just issued, or the one of that service it still held (``already_had``)."""

    ticket: TicketView
    estimate: WaitEstimate
    already_had: bool = False


@dataclass(frozen=True)
class CallResult:
    counter_number: int
    ticket: TicketView | None  # None: nobody is waiting for this counter
    previous: TicketView | None = None  # the ticket the call finished, if any
    announcement: str = ""


@dataclass(frozen=True)
class BoardCall:
    event_id: int
    kind: EventKind  # called | recalled
    label: str
    counter_number: int
    counter_name: str
    service_name: str
    at: datetime
    text: str


@dataclass(frozen=True)
class BoardCounter:
    number: int
    name: str
    status: CounterStatus
    label: str | None
    ticket_status: TicketStatus | None


@dataclass(frozen=True)
class Board:
    version: int
    calls: list[BoardCall]
    counters: list[BoardCounter]
    waiting: dict[str, int]


@dataclass(frozen=True)
class ServiceStats:
    service_code: str
    service_name: str
    issued: int
    waiting: int
    served: int
    no_show: int
    mean_wait_min: float | None
    mean_service_min: float | None


@dataclass
class CounterView:
    number: int
    name: str
    status: CounterStatus
    services: list[str]
    current: TicketView | None = None
    priority_streak: int = 0
    center_code: str = DEFAULT_CENTER


def call_announcement(label: str, counter_number: int, locale: str | None = None) -> str:
    """What the board shows and the voice says: «Mời số A012 đến quầy số 3»."""
    return render("notify.queue.called", locale=locale, label=label, counter=counter_number)


def ticket_label(prefix: str, number: int) -> str:
    return f"{prefix}{number:03d}"


def near_turn_text(label: str, service_name: str, ahead: int, locale: str | None = None) -> str:
    """What the citizen's channel is told when their turn is near (``ahead`` people before them)."""
    key = "notify.queue.next" if ahead == 0 else "notify.queue.near"
    return render(key, locale=locale, label=label, service=service_name, ahead=ahead)
