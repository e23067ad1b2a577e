"""Tables of the queue: services, counters, tickets, the daily number counters, events, notifications.

Every staff operation writes one :class:`QueueEvent` row (statistics read them);
numbers come from :class:`QueueDayCounter`, one row per centre, service and day, bumped
atomically, with the unique constraint on tickets as the last guard.

A ticket's life, a counter's state and the kinds of event are string enums (:class:`~enum.StrEnum`),
stored as their plain values (the columns are strings)::

    waiting ──► called ──► serving ──► done
                  │  └─────────────────► done      (finished without being started)
                  └──► no_show
    called, serving ──► waiting                    (transferred to another service or counter)
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from knowledge_base.messages import render
from motcua.centers import DEFAULT_CENTER
from motcua.db import Base, EnumText, utcnow
from motcua.delivery import DeliveryColumns


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        """The name a citizen reads on the ticket's status page (``status.ticket.*`` in the catalogue)."""
        return self.label_in()

    def label_in(self, locale: str | None = None) -> str:
        """The name a citizen reads, in ``locale`` when the catalogue has it."""
        return render(f"status.ticket.{self.value}", locale=locale)


ACTIVE = (TicketStatus.CALLED, TicketStatus.SERVING)
"""A counter's current ticket is in one of these."""


class CounterStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"


class EventKind(StrEnum):
    """What a :class:`QueueEvent` records."""

    ISSUED = "issued"
    CALLED = "called"
    RECALLED = "recalled"
    STARTED = "started"
    FINISHED = "finished"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    PRIORITY_SET = "priority_set"
    NOTIFIED = "notified"
    PAUSED = "paused"
    RESUMED = "resumed"
    SERVICE_SAVED = "service_saved"
    COUNTER_SAVED = "counter_saved"
    PRINT_FAILED = "print_failed"


class QueueService(Base):
    """A service with its own line of numbers (A001, A002…) and the procedure fields it takes."""

    __tablename__ = "queue_services"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(1), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # lĩnh vực of the procedures it handles
    minutes: Mapped[float] = mapped_column(default=8.0)  # service time assumed without history
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # display order
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QueueCounter(Base):
    """A counter (quầy), open or paused, in one centre (counter numbers are unique in the deployment)."""

    __tablename__ = "queue_counters"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    center_code: Mapped[str] = mapped_column(String(32), default=DEFAULT_CENTER, index=True)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[CounterStatus] = mapped_column(EnumText(CounterStatus, 16), default=CounterStatus.OPEN)
    priority_streak: Mapped[int] = mapped_column(Integer, default=0)  # priority calls in a row
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QueueCounterService(Base):
    """Which services a counter calls from."""

    __tablename__ = "queue_counter_services"

    counter_number: Mapped[int] = mapped_column(ForeignKey("queue_counters.number", ondelete="CASCADE"),
                                                primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("queue_services.code", ondelete="CASCADE"),
                                              primary_key=True)


class QueueDayCounter(Base):
    """The last number a centre issued for a service on a day (in the centre's time zone)."""

    __tablename__ = "queue_day_counters"

    center_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class QueueTicket(Base):
    """One number taken by one citizen.

    ``status``: see :class:`TicketStatus`; a transfer puts it back to waiting for another
    service or a given counter (``target_counter``).
    """

    __tablename__ = "queue_tickets"
    __table_args__ = (
        UniqueConstraint("center_code", "issued_service", "day", "number",
                         name="uq_queue_tickets_center_service_day_number"),
        Index("ix_queue_tickets_center_day_status", "center_code", "day", "status"),
        Index("ix_queue_tickets_day_status_service", "day", "status", "service_code"),
        Index("ix_queue_tickets_counter_status", "counter_number", "status"),
        Index("ix_queue_tickets_sender_day", "sender_id", "day"),
        Index("ix_queue_tickets_origin_day", "origin", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # in the status URL of the QR code
    center_code: Mapped[str] = mapped_column(String(32), default=DEFAULT_CENTER)  # the centre it was taken at
    service_code: Mapped[str] = mapped_column(String(16))  # the service it waits for now
    issued_service: Mapped[str] = mapped_column(String(16))  # the service whose number it bears
    day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(16))  # "A012"
    priority: Mapped[str] = mapped_column(String(32), default="")  # category code, "" = ordinary
    weight: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[TicketStatus] = mapped_column(EnumText(TicketStatus, 16), default=TicketStatus.WAITING)
    channel: Mapped[str] = mapped_column(String(32))  # kiosk, staff, telegram, zalo, web, rest
    sender_id: Mapped[str | None] = mapped_column(String(128), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    origin: Mapped[str | None] = mapped_column(String(64), default=None)
    """A chat number from an anonymous client: the gateway's keyed hash of its address (never the
    address), so one address's numbers can be counted (:mod:`motcua.queue.limits`)."""
    counter_number: Mapped[int | None] = mapped_column(Integer, default=None)  # calling / serving it
    target_counter: Mapped[int | None] = mapped_column(Integer, default=None)  # transferred to a counter
    estimated_wait_min: Mapped[int | None] = mapped_column(Integer, default=None)  # told at issue
    ahead_at_issue: Mapped[int] = mapped_column(Integer, default=0)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    called_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    near_notified_at: Mapped[datetime | None] = mapped_column(default=None)


class QueueEvent(Base):
    """One thing that happened in the queue, with its time: for the board and for statistics."""

    __tablename__ = "queue_events"
    __table_args__ = (Index("ix_queue_events_day_kind", "day", "kind"),
                      Index("ix_queue_events_center_day", "center_code", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EventKind] = mapped_column(EnumText(EventKind, 32))
    center_code: Mapped[str] = mapped_column(String(32), default=DEFAULT_CENTER)
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    label: Mapped[str] = mapped_column(String(16), default="")
    service_code: Mapped[str] = mapped_column(String(16), default="")
    counter_number: Mapped[int | None] = mapped_column(Integer, default=None)
    actor: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class QueueNotification(DeliveryColumns, Base):
    """A message for a citizen, sent later through their channel (outbox; :mod:`motcua.delivery`):
    a queue call (``source`` "queue"), or a staff or bot message a platform refused ("staff", "reply")."""

    __tablename__ = "queue_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16), default="queue")
    channel: Mapped[str] = mapped_column(String(32))
    sender_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    custom: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """What a page shows beside the text (``{"queue_called": …}``: the kiosk's banner); platforms ignore it."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
