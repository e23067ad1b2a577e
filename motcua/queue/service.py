"""The queue's business rules over a SQLAlchemy Session: numbering, ordering, staff operations.

Plain Python, no web framework: the gateway's routes, the Rasa action and the
benchmark all call :class:`QueueService`, each inside its own transaction
(``motcua.db.session_scope``); the caller commits.

- **Numbers** restart each day in the centre's time zone, per service prefix
  (A001, A002…). The per-(service, day) row in ``queue_day_counters`` is bumped
  by one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING``; on SQLite every
  write transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers wait
  for the lock instead of failing, and the unique (service, day, number)
  constraint on tickets is the last guard.
- **Order**: a higher priority weight first, then the earliest ticket; after
  ``anti_starvation`` priority calls in a row at a counter, that counter calls the
  earliest ordinary ticket.
- **Every operation** writes a ``queue_events`` row with its time.
- **Near turn**: after each call, citizens who took a number from a chat channel
  and now have ``near_turn_ahead`` or fewer people ahead get one message through
  the :class:`Notifier`.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import Engine, and_, bindparam, delete, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from motcua.db import as_utc, utcnow
from motcua.queue.config import CounterConfig, QueueConfig, ServiceConfig, nfc
from motcua.queue.models import (
    QueueCounter,
    QueueCounterService,
    QueueDayCounter,
    QueueEvent,
    QueueNotification,
    QueueTicket,
)
from motcua.queue.models import (
    QueueService as ServiceRow,
)

Clock = Callable[[], datetime]

WAITING, CALLED, SERVING, DONE, NO_SHOW = "waiting", "called", "serving", "done", "no_show"
ACTIVE = (CALLED, SERVING)
OPEN, PAUSED = "open", "paused"
LOCAL_CHANNELS = frozenset({"kiosk", "staff"})
"""Tickets from these channels are not notified in chat: the citizen is in the hall."""
HISTORY_SAMPLES = 20
"""The rolling mean service time uses today's last this many finished tickets of the service."""
MIN_HISTORY = 3
"""Below this many samples the configured minutes fill the gap (a smoothed mean)."""


class QueueError(Exception):
    """Refused operation; ``str(exc)`` is a polite Vietnamese message for staff or citizens."""

    status = 409


class QueueNotFound(QueueError):
    status = 404


class Notifier(Protocol):
    """Tells a citizen something through the channel they took their number from."""

    def notify(self, channel: str, sender_id: str, text: str) -> None: ...


class OutboxNotifier:
    """Records each notification in ``queue_notifications`` in the same transaction.

    The channels send them later (outbound messaging arrives in its own issue);
    a row with ``sent_at`` empty is still to send.
    """

    def __init__(self, session: Session):
        self.session = session

    def notify(self, channel: str, sender_id: str, text: str) -> None:
        self.session.add(QueueNotification(channel=channel, sender_id=sender_id, text=text, created_at=utcnow()))


@dataclass(frozen=True)
class WaitEstimate:
    ahead: int
    open_counters: int
    minutes_per_person: float
    minutes: int
    from_history: bool

    def describe(self) -> str:
        if self.ahead == 0:
            return "Ông/bà sẽ được phục vụ ngay khi có quầy trống."
        text = f"Phía trước còn {self.ahead} người, thời gian chờ dự kiến khoảng {self.minutes} phút."
        if self.open_counters == 0:
            text += " Hiện chưa có quầy nào mở cho dịch vụ này."
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
    status: str
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

    @property
    def status_text(self) -> str:
        return STATUS_TEXT.get(self.status, self.status)


STATUS_TEXT = {WAITING: "Đang chờ", CALLED: "Đang được mời", SERVING: "Đang được phục vụ", DONE: "Đã xong",
               NO_SHOW: "Vắng mặt khi gọi"}


@dataclass(frozen=True)
class IssuedTicket:
    ticket: TicketView
    estimate: WaitEstimate


@dataclass(frozen=True)
class CallResult:
    counter_number: int
    ticket: TicketView | None  # None: nobody is waiting for this counter
    previous: TicketView | None = None  # the ticket the call finished, if any
    announcement: str = ""


@dataclass(frozen=True)
class BoardCall:
    event_id: int
    kind: str  # called | recalled
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
    status: str
    label: str | None
    ticket_status: str | None


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
    status: str
    services: list[str]
    current: TicketView | None = None
    priority_streak: int = 0


def call_announcement(label: str, counter_number: int) -> str:
    """What the board shows and the voice says: «Mời số A012 đến quầy số 3»."""
    return f"Mời số {label} đến quầy số {counter_number}"


def ticket_label(prefix: str, number: int) -> str:
    return f"{prefix}{number:03d}"


WRITE_LOCK_TIMEOUT_S = 30.0
_WRITE_LOCK_KEY = "motcua.queue.write_lock"
_WRITE_LOCKS: dict[int, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


@event.listens_for(Session, "after_transaction_end")
def _release_write_lock(session: Session, transaction) -> None:
    """The outermost transaction ended (after the real COMMIT or ROLLBACK): let the next writer in."""
    if transaction.parent is None:
        lock = session.info.pop(_WRITE_LOCK_KEY, None)
        if lock is not None:
            lock.release()


def _engine_write_lock(engine: Engine) -> threading.Lock:
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(id(engine), threading.Lock())


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock now, so a
    concurrent writer waits (``busy_timeout``) instead of failing half-way when
    its read transaction cannot be upgraded. Threads of this process first queue
    on a Python lock held until the transaction ends: they wake as soon as the
    writer before them commits, instead of sleeping in SQLite's busy handler
    (other processes still wait on SQLite's own lock). PostgreSQL: nothing to
    do; rows are locked by the statements themselves.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is None or raw.in_transaction or _WRITE_LOCK_KEY in session.info:
        return  # already writing in this transaction
    lock = _engine_write_lock(connection.engine)
    if not lock.acquire(timeout=WRITE_LOCK_TIMEOUT_S):
        raise QueueError("Hệ thống cấp số đang bận, xin thử lại sau giây lát.")
    session.info[_WRITE_LOCK_KEY] = lock
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # on failure the session rolls back and the lock is freed


_TICKETS = QueueTicket.__table__
_SERVICE_ROW = select(ServiceRow.code, ServiceRow.prefix, ServiceRow.name, ServiceRow.minutes, ServiceRow.active) \
    .where(ServiceRow.code == bindparam("code"))
_SERVING_COUNTERS = select(QueueCounter.status).join(
    QueueCounterService, QueueCounterService.counter_number == QueueCounter.number) \
    .where(QueueCounterService.service_code == bindparam("service"))
_WAIT_FIGURES = select(
    select(func.count()).select_from(_TICKETS).where(
        _TICKETS.c.day == bindparam("day"), _TICKETS.c.status == WAITING,
        _TICKETS.c.service_code == bindparam("service"), _TICKETS.c.weight >= bindparam("weight")).scalar_subquery(),
    select(func.count()).select_from(_SERVING_COUNTERS.where(QueueCounter.status == OPEN).subquery())
    .scalar_subquery(),
    select(func.count()).select_from(_SERVING_COUNTERS.subquery()).scalar_subquery(),
)
_RECENT_SERVICE_TIMES = select(_TICKETS.c.started_at, _TICKETS.c.finished_at).where(
    _TICKETS.c.day == bindparam("day"), _TICKETS.c.service_code == bindparam("service"),
    _TICKETS.c.status == DONE, _TICKETS.c.started_at.is_not(None), _TICKETS.c.finished_at.is_not(None),
).order_by(_TICKETS.c.finished_at.desc()).limit(HISTORY_SAMPLES)
_INSERT_TICKET = _TICKETS.insert().returning(_TICKETS.c.id)
_INSERT_EVENT = QueueEvent.__table__.insert()
_BUMPS: dict[str, object] = {}


def _bump_statement(session: Session):
    """``INSERT … ON CONFLICT (service, day) DO UPDATE SET last = last + 1 RETURNING last``."""
    name = session.get_bind().dialect.name
    statement = _BUMPS.get(name)
    if statement is None:
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - only the two supported databases
            raise RuntimeError(f"queue numbering needs SQLite or PostgreSQL, not {name}")
        table = QueueDayCounter.__table__
        statement = insert(table).values(service_code=bindparam("service"), day=bindparam("day"), last_number=1)
        statement = statement.on_conflict_do_update(index_elements=[table.c.service_code, table.c.day],
                                                    set_={"last_number": table.c.last_number + 1})
        statement = _BUMPS[name] = statement.returning(table.c.last_number)
    return statement


class QueueService:
    """The queue's operations; one instance serves every request (it keeps no session)."""

    def __init__(self, config: QueueConfig, clock: Clock = utcnow,
                 notifier: Callable[[Session], Notifier] = OutboxNotifier):
        self.config = config
        self.clock = clock
        self.notifier = notifier

    # --- time -----------------------------------------------------------------------------

    def now(self) -> datetime:
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the queue clock must return timezone-aware datetimes")
        return moment.astimezone(UTC)

    def today(self) -> date:
        """The centre's calendar day now (numbers restart at its midnight)."""
        return self.now().astimezone(self.config.zone).date()

    # --- reading --------------------------------------------------------------------------

    def services(self, session: Session, active_only: bool = True) -> list[ServiceRow]:
        query = select(ServiceRow).order_by(ServiceRow.position, ServiceRow.code)
        if active_only:
            query = query.where(ServiceRow.active.is_(True))
        return list(session.scalars(query))

    def service_for_field(self, session: Session, procedure_field: str) -> ServiceRow | None:
        """The active service that takes procedures of this lĩnh vực (any letter case, Unicode NFC)."""
        wanted = nfc(procedure_field).casefold()
        for service in self.services(session):
            if any(nfc(f).casefold() == wanted for f in service.fields or []):
                return service
        return None

    def default_service(self, session: Session) -> ServiceRow | None:
        code = self.config.default_service
        service = session.get(ServiceRow, code) if code else None
        if service is not None and service.active:
            return service
        services = self.services(session)
        return services[0] if services else None

    def counters(self, session: Session) -> list[CounterView]:
        links = session.execute(select(QueueCounterService.counter_number, QueueCounterService.service_code)).all()
        services: dict[int, list[str]] = {}
        for number, code in links:
            services.setdefault(number, []).append(code)
        current = {t.counter_number: t for t in session.scalars(
            select(QueueTicket).where(QueueTicket.status.in_(ACTIVE), QueueTicket.day == self.today()))}
        names = self._service_names(session)
        return [CounterView(c.number, c.name, c.status, sorted(services.get(c.number, [])),
                            self._view(current[c.number], names) if c.number in current else None, c.priority_streak)
                for c in session.scalars(select(QueueCounter).order_by(QueueCounter.number))]

    def ticket(self, session: Session, token: str) -> TicketView:
        row = session.scalar(select(QueueTicket).where(QueueTicket.token == token))
        if row is None:
            raise QueueNotFound("Không tìm thấy số thứ tự này.")
        return self._view(row, self._service_names(session))

    def ticket_by_label(self, session: Session, label: str, day: date | None = None) -> TicketView:
        row = session.scalar(select(QueueTicket).where(QueueTicket.label == label.upper(),
                                                       QueueTicket.day == (day or self.today()))
                             .order_by(QueueTicket.id.desc()).limit(1))
        if row is None:
            raise QueueNotFound(f"Hôm nay không có số {label}.")
        return self._view(row, self._service_names(session))

    def people_ahead(self, session: Session, ticket: TicketView | QueueTicket) -> int:
        """Waiting tickets of the same service that come before this one."""
        if ticket.status != WAITING:
            return 0
        return session.scalar(select(func.count()).select_from(QueueTicket).where(
            QueueTicket.day == ticket.day, QueueTicket.status == WAITING,
            QueueTicket.service_code == ticket.service_code, QueueTicket.id != ticket.id,
            or_(QueueTicket.weight > ticket.weight,
                and_(QueueTicket.weight == ticket.weight,
                     or_(QueueTicket.issued_at < ticket.issued_at,
                         and_(QueueTicket.issued_at == ticket.issued_at, QueueTicket.id < ticket.id))))))

    def waiting_for_sender(self, session: Session, sender_id: str) -> TicketView | None:
        """Today's ticket of this chat user still waiting or being called, if any."""
        row = session.scalar(select(QueueTicket).where(
            QueueTicket.sender_id == sender_id, QueueTicket.day == self.today(),
            QueueTicket.status.in_((WAITING, CALLED, SERVING))).order_by(QueueTicket.id.desc()).limit(1))
        return self._view(row, self._service_names(session)) if row is not None else None

    def estimate(self, session: Session, service_code: str, weight: int = 0) -> WaitEstimate:
        """Expected wait of a new ticket: people ahead × mean service time ÷ open counters.

        The mean is today's rolling mean of the service's last finished tickets; with
        fewer than three, the configured minutes of the service fill the missing samples.
        """
        service = session.execute(_SERVICE_ROW, {"code": service_code}).first()
        if service is None:
            raise QueueNotFound(f"Không có dịch vụ {service_code}.")
        return self._estimate(session, service_code, float(service.minutes), weight, self.today())

    def estimate_for(self, session: Session, ticket: TicketView) -> WaitEstimate:
        """The remaining wait of an existing ticket, from the people ahead of it now."""
        service = session.execute(_SERVICE_ROW, {"code": ticket.service_code}).first()
        minutes = float(service.minutes) if service is not None else self.config.default_minutes
        return self._estimate(session, ticket.service_code, minutes, ticket.weight, ticket.day,
                              ahead=self.people_ahead(session, ticket))

    def _estimate(self, session: Session, service_code: str, default_minutes: float, weight: int,
                  day: date, ahead: int | None = None) -> WaitEstimate:
        params = {"service": service_code, "day": day, "weight": weight}
        waiting, open_counters, all_counters = session.execute(_WAIT_FIGURES, params).one()
        ahead = waiting if ahead is None else ahead
        durations = session.execute(_RECENT_SERVICE_TIMES, params).all()
        samples = [(as_utc(end) - as_utc(start)).total_seconds() / 60 for start, end in durations]
        samples = [s for s in samples if s >= 0]
        default = default_minutes or self.config.default_minutes
        if len(samples) >= MIN_HISTORY:
            mean = sum(samples) / len(samples)
        else:
            mean = (sum(samples) + default * (MIN_HISTORY - len(samples))) / MIN_HISTORY
        servers = open_counters or max(1, all_counters)
        minutes = math.ceil(ahead * mean / servers) if ahead else 0
        return WaitEstimate(ahead=ahead, open_counters=open_counters, minutes_per_person=round(mean, 1),
                            minutes=minutes, from_history=len(samples) >= MIN_HISTORY)

    # --- issuing --------------------------------------------------------------------------

    def issue(self, session: Session, service_code: str, *, channel: str, sender_id: str | None = None,
              phone: str | None = None, priority: str = "", actor: str = "") -> IssuedTicket:
        """Take the next number of ``service_code`` for today.

        The hot path of the kiosks: a handful of prebuilt Core statements in one
        write transaction (bump the day counter, read the wait figures, insert the
        ticket and its event).
        """
        if not channel:
            raise ValueError("issue() needs the channel the ticket comes from")
        category = self.config.priority(priority)
        begin_write(session)
        service = session.execute(_SERVICE_ROW, {"code": service_code}).first()
        if service is None or not service.active:
            raise QueueNotFound(f"Dịch vụ «{service_code}» không có hoặc đang tạm ngừng cấp số.")
        now, day = self.now(), self.today()
        number = session.execute(_bump_statement(session), {"service": service.code, "day": day}).scalar_one()
        weight = category.weight if category else 0
        estimate = self._estimate(session, service.code, float(service.minutes), weight, day)
        values = dict(token=secrets.token_urlsafe(12), service_code=service.code, issued_service=service.code,
                      day=day, number=number, label=ticket_label(service.prefix, number),
                      priority=category.code if category else "", weight=weight, status=WAITING, channel=channel,
                      sender_id=sender_id or None, phone=phone or None, counter_number=None, target_counter=None,
                      estimated_wait_min=estimate.minutes, ahead_at_issue=estimate.ahead, recalls=0, issued_at=now,
                      called_at=None, started_at=None, finished_at=None,
                      near_notified_at=now if estimate.ahead <= self.config.near_turn_ahead else None)
        ticket_id = session.execute(_INSERT_TICKET, values).scalar_one()
        session.execute(_INSERT_EVENT, dict(kind="issued", day=day, at=now, ticket_id=ticket_id,
                                            label=values["label"], service_code=service.code, counter_number=None,
                                            actor=actor or channel,
                                            detail={"channel": channel, "priority": values["priority"]}))
        view = TicketView(id=ticket_id, token=values["token"], label=values["label"], number=number, day=day,
                          service_code=service.code, service_name=service.name, status=WAITING, channel=channel,
                          priority=values["priority"], priority_name=category.name if category else "",
                          weight=weight, sender_id=values["sender_id"], phone=values["phone"], issued_at=now,
                          estimated_wait_min=estimate.minutes)
        return IssuedTicket(view, estimate)

    # --- staff operations -----------------------------------------------------------------

    def call_next(self, session: Session, counter_number: int, actor: str = "") -> CallResult:
        """Finish the counter's current ticket, if any, and call the next one for it."""
        begin_write(session)
        counter = self._counter(session, counter_number, lock=True)
        if counter.status != OPEN:
            raise QueueError(f"{counter.name} đang tạm dừng; xin mở lại quầy trước khi gọi số.")
        previous = self._finish_current(session, counter, actor, auto=True)
        services = self._counter_services(session, counter.number)
        day = self.today()
        base = [QueueTicket.day == day, QueueTicket.status == WAITING,
                or_(and_(QueueTicket.service_code.in_(services), QueueTicket.target_counter.is_(None)),
                    QueueTicket.target_counter == counter.number)]
        order = (QueueTicket.weight.desc(), QueueTicket.issued_at, QueueTicket.id)
        ticket = None
        guard = counter.priority_streak >= self.config.anti_starvation
        if guard:
            ticket = self._first(session, select(QueueTicket).where(*base, QueueTicket.weight == 0)
                                 .order_by(QueueTicket.issued_at, QueueTicket.id))
        if ticket is None:
            ticket = self._first(session, select(QueueTicket).where(*base).order_by(*order))
        names = self._service_names(session)
        if ticket is None:
            return CallResult(counter.number, None, previous)
        now = self.now()
        ticket.status, ticket.counter_number, ticket.target_counter = CALLED, counter.number, None
        ticket.called_at = now
        counter.priority_streak = counter.priority_streak + 1 if ticket.weight > 0 else 0
        counter.updated_at = now
        text = call_announcement(ticket.label, counter.number)
        self._event(session, "called", ticket, counter.number, actor, text=text, anti_starvation=guard
                    and ticket.weight == 0, wait_s=round((now - as_utc(ticket.issued_at)).total_seconds()))
        self._notify_near_turn(session, {*services, ticket.service_code}, names)
        return CallResult(counter.number, self._view(ticket, names), previous, text)

    def recall(self, session: Session, counter_number: int, actor: str = "") -> CallResult:
        """Call the counter's current number again (board and voice repeat it)."""
        begin_write(session)
        counter = self._counter(session, counter_number, lock=True)
        ticket = self._current(session, counter.number, (CALLED,))
        ticket.recalls += 1
        text = call_announcement(ticket.label, counter.number)
        self._event(session, "recalled", ticket, counter.number, actor, text=text, recalls=ticket.recalls)
        return CallResult(counter.number, self._view(ticket, self._service_names(session)), None, text)

    def start(self, session: Session, counter_number: int, actor: str = "") -> TicketView:
        """The called citizen has come to the counter: service starts."""
        begin_write(session)
        counter = self._counter(session, counter_number, lock=True)
        ticket = self._current(session, counter.number, (CALLED,))
        ticket.status, ticket.started_at = SERVING, self.now()
        self._event(session, "started", ticket, counter.number, actor)
        return self._view(ticket, self._service_names(session))

    def finish(self, session: Session, counter_number: int, actor: str = "") -> TicketView:
        begin_write(session)
        counter = self._counter(session, counter_number, lock=True)
        finished = self._finish_current(session, counter, actor, auto=False)
        if finished is None:
            raise QueueError(f"{counter.name} không có số nào đang phục vụ.")
        return finished

    def no_show(self, session: Session, counter_number: int, actor: str = "") -> TicketView:
        """The called citizen did not come: the number is closed as absent."""
        begin_write(session)
        counter = self._counter(session, counter_number, lock=True)
        ticket = self._current(session, counter.number, (CALLED,))
        ticket.status, ticket.finished_at = NO_SHOW, self.now()
        self._event(session, "no_show", ticket, counter.number, actor, recalls=ticket.recalls)
        return self._view(ticket, self._service_names(session))

    def transfer(self, session: Session, counter_number: int, *, to_service: str | None = None,
                 to_counter: int | None = None, actor: str = "") -> TicketView:
        """Send the counter's current ticket to another service and/or counter.

        The number stays the same and keeps its place by issue time, so the citizen
        does not start again at the end of the line.
        """
        if not to_service and to_counter is None:
            raise QueueError("Xin chọn dịch vụ hoặc quầy để chuyển số.")
        begin_write(session)
        counter = self._counter(session, counter_number, lock=True)
        ticket = self._current(session, counter.number, ACTIVE)
        if to_service:
            service = session.get(ServiceRow, to_service)
            if service is None or not service.active:
                raise QueueNotFound(f"Không có dịch vụ {to_service}.")
        if to_counter is not None:
            self._counter(session, to_counter)
            if to_counter == counter.number:
                raise QueueError("Không thể chuyển số về chính quầy đang phục vụ.")
        now = self.now()
        served_s = round((now - as_utc(ticket.started_at)).total_seconds()) if ticket.started_at else 0
        from_service = ticket.service_code
        ticket.status, ticket.counter_number = WAITING, None
        ticket.service_code = to_service or ticket.service_code
        ticket.target_counter = to_counter
        ticket.called_at = ticket.started_at = None
        self._event(session, "transferred", ticket, counter.number, actor, from_service=from_service,
                    to_service=ticket.service_code, to_counter=to_counter, served_s=served_s)
        return self._view(ticket, self._service_names(session))

    def set_priority(self, session: Session, token: str, priority: str, actor: str) -> TicketView:
        """Staff put a waiting ticket in a priority group (or back to ordinary) after seeing the citizen.

        The one road to a priority for a number taken on a chat channel or anonymously: the
        group is never self-declared, a person at the counter confirms it.
        """
        category = self.config.priority(priority)
        begin_write(session)
        ticket = session.scalar(select(QueueTicket).where(QueueTicket.token == token))
        if ticket is None:
            raise QueueNotFound("Không tìm thấy số thứ tự này.")
        if ticket.status != WAITING:
            raise QueueError(f"Số {ticket.label} không còn chờ, không đổi được nhóm ưu tiên.")
        before = ticket.priority
        ticket.priority, ticket.weight = (category.code, category.weight) if category else ("", 0)
        self._event(session, "priority_set", ticket, None, actor, before=before, after=ticket.priority)
        return self._view(ticket, self._service_names(session))

    def pause(self, session: Session, counter_number: int, actor: str = "") -> CounterView:
        return self._set_counter_status(session, counter_number, PAUSED, "paused", actor)

    def resume(self, session: Session, counter_number: int, actor: str = "") -> CounterView:
        return self._set_counter_status(session, counter_number, OPEN, "resumed", actor)

    def record(self, session: Session, kind: str, ticket: TicketView | None = None, actor: str = "",
               counter_number: int | None = None, **detail) -> None:
        """Record an event that happened outside the queue's rules (e.g. a printer failure)."""
        day = ticket.day if ticket else self.today()
        session.add(QueueEvent(kind=kind, day=day, at=self.now(), ticket_id=ticket.id if ticket else None,
                               label=ticket.label if ticket else "", service_code=ticket.service_code if ticket else "",
                               counter_number=counter_number, actor=actor, detail=detail))

    # --- board and statistics -------------------------------------------------------------

    def board(self, session: Session, recent: int = 8) -> Board:
        """What the display shows: the latest calls (newest first) and each counter's number."""
        day = self.today()
        version = session.scalar(select(func.max(QueueEvent.id)).where(QueueEvent.day == day,
                                                                        QueueEvent.kind != "issued")) or 0
        counters = {c.number: c for c in session.scalars(select(QueueCounter))}
        names = self._service_names(session)
        events = session.scalars(select(QueueEvent).where(QueueEvent.day == day,
                                                          QueueEvent.kind.in_(("called", "recalled")))
                                 .order_by(QueueEvent.id.desc()).limit(recent)).all()
        calls = [BoardCall(e.id, e.kind, e.label, e.counter_number or 0,
                           counters[e.counter_number].name if e.counter_number in counters else "",
                           names.get(e.service_code, e.service_code), as_utc(e.at),
                           call_announcement(e.label, e.counter_number or 0)) for e in events]
        current = {t.counter_number: t for t in session.scalars(
            select(QueueTicket).where(QueueTicket.day == day, QueueTicket.status.in_(ACTIVE)))}
        board_counters = [BoardCounter(c.number, c.name, c.status,
                                       current[c.number].label if c.number in current else None,
                                       current[c.number].status if c.number in current else None)
                          for c in sorted(counters.values(), key=lambda c: c.number)]
        waiting = dict(session.execute(select(QueueTicket.service_code, func.count()).where(
            QueueTicket.day == day, QueueTicket.status == WAITING).group_by(QueueTicket.service_code)).all())
        return Board(version, calls, board_counters, waiting)

    def stats(self, session: Session, day: date | None = None) -> list[ServiceStats]:
        """Per service for a day: issued, waiting, served, absent, mean wait and service time."""
        day = day or self.today()
        rows = session.scalars(select(QueueTicket).where(QueueTicket.day == day)).all()
        result = []
        for service in self.services(session, active_only=False):
            mine = [t for t in rows if t.service_code == service.code]
            issued = sum(1 for t in rows if t.issued_service == service.code)
            waits = [(as_utc(t.called_at) - as_utc(t.issued_at)).total_seconds() / 60 for t in mine if t.called_at]
            served = [(as_utc(t.finished_at) - as_utc(t.started_at)).total_seconds() / 60
                      for t in mine if t.status == DONE and t.started_at and t.finished_at]
            result.append(ServiceStats(
                service.code, service.name, issued, sum(1 for t in mine if t.status == WAITING),
                sum(1 for t in mine if t.status == DONE), sum(1 for t in mine if t.status == NO_SHOW),
                round(sum(waits) / len(waits), 1) if waits else None,
                round(sum(served) / len(served), 1) if served else None))
        return result

    def events(self, session: Session, day: date | None = None,
               kinds: Iterable[str] | None = None) -> list[QueueEvent]:
        """The day's recorded events, oldest first (optionally only some kinds)."""
        query = select(QueueEvent).where(QueueEvent.day == (day or self.today())).order_by(QueueEvent.id)
        if kinds is not None:
            query = query.where(QueueEvent.kind.in_(tuple(kinds)))
        return list(session.scalars(query))

    # --- configuration --------------------------------------------------------------------

    def save_service(self, session: Session, service: ServiceConfig, active: bool = True,
                     position: int | None = None, actor: str = "") -> ServiceRow:
        """Create or change a service (staff). A prefix already used by another service is refused."""
        begin_write(session)
        clash = session.scalar(select(ServiceRow).where(ServiceRow.prefix == service.prefix,
                                                        ServiceRow.code != service.code))
        if clash is not None:
            raise QueueError(f"Chữ cái {service.prefix} đã dùng cho dịch vụ «{clash.name}».")
        row = session.get(ServiceRow, service.code)
        if row is None:
            count = session.scalar(select(func.count()).select_from(ServiceRow)) or 0
            row = ServiceRow(code=service.code, position=count if position is None else position)
            session.add(row)
        elif position is not None:
            row.position = position
        row.prefix, row.name, row.fields = service.prefix, service.name, list(service.fields)
        row.minutes, row.active, row.updated_at = service.minutes, active, self.now()
        session.flush()
        self.record(session, "service_saved", actor=actor, service=service.code, prefix=service.prefix,
                    active=active)
        return row

    def save_counter(self, session: Session, counter: CounterConfig, actor: str = "") -> CounterView:
        """Create or change a counter and the services it calls from (staff)."""
        begin_write(session)
        known = set(session.scalars(select(ServiceRow.code)))
        unknown = [code for code in counter.services if code not in known]
        if unknown:
            raise QueueNotFound(f"Không có dịch vụ: {', '.join(unknown)}.")
        row = session.get(QueueCounter, counter.number)
        if row is None:
            row = QueueCounter(number=counter.number, status=OPEN, priority_streak=0)
            session.add(row)
        row.name, row.updated_at = counter.name, self.now()
        session.flush()
        session.execute(delete(QueueCounterService).where(QueueCounterService.counter_number == counter.number))
        session.add_all(QueueCounterService(counter_number=counter.number, service_code=code)
                        for code in dict.fromkeys(counter.services))
        session.flush()
        self.record(session, "counter_saved", actor=actor, counter=counter.number, services=list(counter.services))
        return next(c for c in self.counters(session) if c.number == counter.number)

    # --- inside ---------------------------------------------------------------------------

    def _first(self, session: Session, query) -> QueueTicket | None:
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return session.scalar(query.limit(1))

    def _counter(self, session: Session, number: int, lock: bool = False) -> QueueCounter:
        query = select(QueueCounter).where(QueueCounter.number == number)
        if lock and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        counter = session.scalar(query)
        if counter is None:
            raise QueueNotFound(f"Không có quầy số {number}.")
        return counter

    def _counter_services(self, session: Session, number: int) -> list[str]:
        return list(session.scalars(select(QueueCounterService.service_code)
                                    .where(QueueCounterService.counter_number == number)))

    def _current(self, session: Session, counter_number: int, statuses: Iterable[str]) -> QueueTicket:
        ticket = session.scalar(select(QueueTicket).where(QueueTicket.counter_number == counter_number,
                                                          QueueTicket.status.in_(ACTIVE))
                                .order_by(QueueTicket.called_at.desc()).limit(1))
        if ticket is None or ticket.status not in tuple(statuses):
            state = "không có số nào đang được mời" if ticket is None else f"số {ticket.label} đang được phục vụ"
            raise QueueError(f"Quầy số {counter_number} {state}.")
        return ticket

    def _finish_current(self, session: Session, counter: QueueCounter, actor: str, auto: bool) -> TicketView | None:
        ticket = session.scalar(select(QueueTicket).where(QueueTicket.counter_number == counter.number,
                                                          QueueTicket.status.in_(ACTIVE)))
        if ticket is None:
            return None
        now = self.now()
        if ticket.started_at is None:
            ticket.started_at = ticket.called_at or now
        ticket.status, ticket.finished_at = DONE, now
        self._event(session, "finished", ticket, counter.number, actor, auto=auto,
                    served_s=round((now - as_utc(ticket.started_at)).total_seconds()))
        return self._view(ticket, self._service_names(session))

    def _set_counter_status(self, session: Session, number: int, status: str, kind: str, actor: str) -> CounterView:
        begin_write(session)
        counter = self._counter(session, number, lock=True)
        if counter.status != status:
            counter.status, counter.updated_at = status, self.now()
            self.record(session, kind, actor=actor, counter_number=number)
        return next(c for c in self.counters(session) if c.number == number)

    def _notify_near_turn(self, session: Session, services: set[str], names: dict[str, str]) -> None:
        near = self.config.near_turn_ahead
        notifier: Notifier | None = None
        day = self.today()
        for code in sorted(services):
            upcoming = session.scalars(select(QueueTicket).where(
                QueueTicket.day == day, QueueTicket.status == WAITING, QueueTicket.service_code == code)
                .order_by(QueueTicket.weight.desc(), QueueTicket.issued_at, QueueTicket.id).limit(near + 1)).all()
            for ahead, ticket in enumerate(upcoming):
                if ticket.near_notified_at is not None:
                    continue
                target = _notification_target(ticket)
                if target is None:
                    continue
                notifier = notifier or self.notifier(session)
                notifier.notify(target[0], target[1], near_turn_text(ticket.label, names.get(code, code), ahead))
                ticket.near_notified_at = self.now()
                self._event(session, "notified", ticket, None, "", channel=target[0], ahead=ahead)

    def _event(self, session: Session, kind: str, ticket: QueueTicket, counter: int | None = None,
               actor: str = "", **detail) -> None:
        session.add(QueueEvent(kind=kind, day=ticket.day, at=self.now(), ticket_id=ticket.id, label=ticket.label,
                               service_code=ticket.service_code, counter_number=counter, actor=actor or "",
                               detail=detail))

    def _service_names(self, session: Session) -> dict[str, str]:
        return dict(session.execute(select(ServiceRow.code, ServiceRow.name)).all())

    def _view(self, row: QueueTicket, names: dict[str, str]) -> TicketView:
        return TicketView(
            id=row.id, token=row.token, label=row.label, number=row.number, day=row.day,
            service_code=row.service_code, service_name=names.get(row.service_code, row.service_code),
            status=row.status, channel=row.channel, priority=row.priority,
            priority_name=self.config.priority_name(row.priority), weight=row.weight, sender_id=row.sender_id,
            phone=row.phone, counter_number=row.counter_number, target_counter=row.target_counter,
            issued_at=as_utc(row.issued_at), called_at=as_utc(row.called_at), started_at=as_utc(row.started_at),
            finished_at=as_utc(row.finished_at), estimated_wait_min=row.estimated_wait_min, recalls=row.recalls)


def _notification_target(ticket: QueueTicket) -> tuple[str, str] | None:
    if ticket.sender_id and ticket.channel not in LOCAL_CHANNELS:
        return ticket.channel, ticket.sender_id
    if ticket.phone:
        return "sms", ticket.phone
    return None


def near_turn_text(label: str, service_name: str, ahead: int) -> str:
    if ahead == 0:
        return f"Số {label} ({service_name}) là lượt kế tiếp. Mời ông/bà có mặt trước quầy và chú ý bảng gọi số."
    return (f"Số {label} ({service_name}) sắp đến lượt: còn {ahead} người phía trước. "
            "Mời ông/bà có mặt tại Trung tâm và chú ý bảng gọi số.")


def seed_queue(session: Session, config: QueueConfig) -> bool:
    """Copy the file's services and counters into an empty database; False when already there."""
    if session.scalar(select(func.count()).select_from(ServiceRow)):
        return False
    now = utcnow()
    try:
        with session.begin_nested():
            for position, service in enumerate(config.services):
                session.add(ServiceRow(code=service.code, prefix=service.prefix, name=service.name,
                                       fields=list(service.fields), minutes=service.minutes, active=True,
                                       position=position, updated_at=now))
            session.flush()
            for counter in config.counters:
                session.add(QueueCounter(number=counter.number, name=counter.name, status=OPEN, priority_streak=0,
                                         updated_at=now))
            session.flush()
            session.add_all(QueueCounterService(counter_number=c.number, service_code=code)
                            for c in config.counters for code in dict.fromkeys(c.services))
            session.flush()
    except IntegrityError:  # another process seeded at the same moment
        return False
    return True
