"""The queue's operations over a SQLAlchemy Session: issuing, calling, counters, configuration.

Plain Python, no web framework: the gateway's routes, the Rasa action and the
benchmark all call :class:`QueueService`, each inside its own transaction
(``motcua.db.session_scope``); the caller commits. The service reads through
:mod:`.waits` (people ahead, expected minutes) and :mod:`.board` (the display and the
day's statistics), and answers with the dataclasses of :mod:`.views`.

- **Numbers** restart each day in the centre's time zone, per centre and service prefix
  (A001, A002…: two centres of one deployment both issue A001; :mod:`motcua.centers`).
  The per-(centre, service, day) row in ``queue_day_counters`` is bumped
  by one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING``; every write starts
  with :func:`motcua.db.write_transaction` (on SQLite ``BEGIN IMMEDIATE``, so
  concurrent writers wait for the lock instead of failing), and the unique
  (centre, service, day, number) constraint on tickets is the last guard.
- **Centres**: a counter calls only its own centre's tickets; a staff operation given a
  ``center`` finds only that centre's counters (``None``: an admin, any counter).
- **Order**: a higher priority weight first, then the earliest ticket; after
  ``anti_starvation`` priority calls in a row at a counter, that counter calls the
  earliest ordinary ticket.
- **Every operation** writes a ``queue_events`` row with its time.
- **Near turn**: after each call, citizens who took a number from a chat channel
  and now have ``near_turn_ahead`` or fewer people ahead get one message through
  the :class:`Notifier`; the called citizen is told «your turn» on each call and recall.
- **Messages** a citizen may read (taking a number, a ticket's status) come from the
  catalogue (``queue.*``); refusals only staff meet at the counter stay here, marked.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge_base.messages import render
from motcua.centers import DEFAULT_CENTER
from motcua.db import as_utc, utcnow, write_transaction
from motcua.queue.board import day_events, read_board, service_names, service_stats
from motcua.queue.config import CounterConfig, QueueConfig, ServiceConfig, nfc
from motcua.queue.limits import SENDER, ChatTicketLimits, LimitReached, Requester, first_reached, serialise
from motcua.queue.models import (
    ACTIVE,
    CounterStatus,
    EventKind,
    QueueCounter,
    QueueCounterService,
    QueueDayCounter,
    QueueEvent,
    QueueNotification,
    QueueTicket,
    TicketStatus,
)
from motcua.queue.models import (
    QueueService as ServiceRow,
)
from motcua.queue.views import (
    Board,
    CallResult,
    ChatIssue,
    CounterView,
    IssuedTicket,
    ServiceStats,
    TicketView,
    WaitEstimate,
    call_announcement,
    near_turn_text,
    ticket_label,
)
from motcua.queue.waits import estimate_wait, people_ahead

__all__ = [
    "LOCAL_CHANNELS",
    "Board",
    "CallResult",
    "ChatIssue",
    "CounterView",
    "IssuedTicket",
    "Notifier",
    "OutboxNotifier",
    "QueueError",
    "QueueNotFound",
    "QueueService",
    "ServiceStats",
    "TicketLimitReached",
    "TicketView",
    "WaitEstimate",
    "seed_queue",
]

Clock = Callable[[], datetime]

LOCAL_CHANNELS = frozenset({"kiosk", "staff"})
"""Tickets from these channels are not notified in chat: the citizen is in the hall."""


class QueueError(Exception):
    """Refused operation; ``str(exc)`` is a polite Vietnamese message for staff or citizens."""

    status = 409


class QueueNotFound(QueueError):
    status = 404


class TicketLimitReached(QueueError):
    """A chat conversation or a client address took as many numbers as it may for now
    (:mod:`.limits`); ``str(exc)`` says so politely, ``reached`` says which bound and for how long."""

    status = 429

    def __init__(self, reached: LimitReached):
        key = "queue.limit_sender" if reached.scope == SENDER else "queue.limit_address"
        super().__init__(render(key, count=reached.count, window=reached.window_minutes, wait=reached.wait_minutes))
        self.reached = reached


class Notifier(Protocol):
    """Tells a citizen something through the channel they took their number from."""

    def notify(self, channel: str, sender_id: str, text: str, custom: dict[str, Any] | None = None) -> None: ...


class OutboxNotifier:
    """Records each notification in ``queue_notifications`` in the same transaction.

    The notification relay (``bot.notifications``) sends them through the citizens' channels,
    following :mod:`motcua.delivery` (a row in state "pending" is still to send).
    """

    def __init__(self, session: Session):
        self.session = session

    def notify(self, channel: str, sender_id: str, text: str, custom: dict[str, Any] | None = None) -> None:
        now = utcnow()
        self.session.add(QueueNotification(source="queue", channel=channel, sender_id=sender_id, text=text,
                                           custom=custom, created_at=now, state="pending", attempts=0, next_attempt_at=now,
                                           last_error=""))


def _begin_write(session: Session) -> None:
    """:func:`motcua.db.write_transaction`, refusing politely when the queue stays busy."""
    write_transaction(session, on_busy=_busy)


def _busy() -> QueueError:
    return QueueError(render("queue.busy"))


_TICKETS = cast(Table, QueueTicket.__table__)
_SERVICE_ROW = select(ServiceRow.code, ServiceRow.prefix, ServiceRow.name, ServiceRow.minutes, ServiceRow.active) \
    .where(ServiceRow.code == bindparam("code"))
_INSERT_TICKET = _TICKETS.insert().returning(_TICKETS.c.id)
_INSERT_EVENT = cast(Table, QueueEvent.__table__).insert()
_UPSERTS: dict[str, Callable[..., Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_BUMPS: dict[str, Any] = {}


def _bump_statement(session: Session):
    """``INSERT … ON CONFLICT (centre, service, day) DO UPDATE SET last = last + 1 RETURNING last``."""
    name = session.get_bind().dialect.name
    statement = _BUMPS.get(name)
    if statement is None:
        insert = _UPSERTS.get(name)
        if insert is None:  # pragma: no cover - only the two supported databases
            raise RuntimeError(f"queue numbering needs SQLite or PostgreSQL, not {name}")
        table = cast(Table, QueueDayCounter.__table__)
        statement = insert(table).values(center_code=bindparam("center"), service_code=bindparam("service"),
                                         day=bindparam("day"), last_number=1)
        statement = statement.on_conflict_do_update(index_elements=[table.c.center_code, table.c.service_code,
                                                                    table.c.day],
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

    def counters(self, session: Session, center: str | None = DEFAULT_CENTER) -> list[CounterView]:
        """The counters of ``center`` (None: of every centre) with the number each calls now."""
        links = session.execute(select(QueueCounterService.counter_number, QueueCounterService.service_code)).all()
        services: dict[int, list[str]] = {}
        for number, code in links:
            services.setdefault(number, []).append(code)
        active = select(QueueTicket).where(QueueTicket.status.in_(ACTIVE), QueueTicket.day == self.today())
        rows = select(QueueCounter).order_by(QueueCounter.number)
        if center is not None:
            active = active.where(QueueTicket.center_code == center)
            rows = rows.where(QueueCounter.center_code == center)
        current = {t.counter_number: t for t in session.scalars(active)}
        names = self._service_names(session)
        return [CounterView(c.number, c.name, c.status, sorted(services.get(c.number, [])),
                            self._view(current[c.number], names) if c.number in current else None, c.priority_streak,
                            c.center_code)
                for c in session.scalars(rows)]

    def ticket(self, session: Session, token: str) -> TicketView:
        row = session.scalar(select(QueueTicket).where(QueueTicket.token == token))
        if row is None:
            raise QueueNotFound(render("queue.ticket_not_found"))
        return self._view(row, self._service_names(session))

    def ticket_by_label(self, session: Session, label: str, day: date | None = None,
                        center: str = DEFAULT_CENTER) -> TicketView:
        row = session.scalar(select(QueueTicket).where(QueueTicket.center_code == center,
                                                       QueueTicket.label == label.upper(),
                                                       QueueTicket.day == (day or self.today()))
                             .order_by(QueueTicket.id.desc()).limit(1))
        if row is None:
            raise QueueNotFound(f"Hôm nay không có số {label}.")  # staff-facing (the board's voice)
        return self._view(row, self._service_names(session))

    def people_ahead(self, session: Session, ticket: TicketView | QueueTicket) -> int:
        """Waiting tickets of the same service that come before this one."""
        return people_ahead(session, ticket)

    def waiting_for_counter(self, session: Session, counter_number: int,
                            center: str | None = None) -> list[TicketView]:
        """Today's waiting tickets this counter may call, in the order it calls them: its services'
        tickets not sent to another counter, and those sent to it; a higher priority first, then the
        earliest (the anti-starvation turn may still pick an ordinary ticket first). ``center``: the
        centre the caller works in (None: any); another centre's counter is not found."""
        counter = self._counter(session, counter_number, center=center)
        services = self._counter_services(session, counter.number)
        rows = session.scalars(select(QueueTicket).where(*self._callable(services, counter))
                               .order_by(QueueTicket.weight.desc(), QueueTicket.issued_at, QueueTicket.id))
        names = self._service_names(session)
        return [self._view(row, names) for row in rows]

    def waiting_for_sender(self, session: Session, sender_id: str) -> TicketView | None:
        """Today's ticket of this chat user still waiting or being called, if any."""
        row = session.scalar(select(QueueTicket).where(
            QueueTicket.sender_id == sender_id, QueueTicket.day == self.today(),
            QueueTicket.status.in_((TicketStatus.WAITING, *ACTIVE))).order_by(QueueTicket.id.desc()).limit(1))
        return self._view(row, self._service_names(session)) if row is not None else None

    def estimate(self, session: Session, service_code: str, weight: int = 0,
                 center: str = DEFAULT_CENTER) -> WaitEstimate:
        """Expected wait of a new ticket: people ahead × mean service time ÷ open counters.

        The mean is today's rolling mean of the service's last finished tickets; with
        fewer than three, the configured minutes of the service fill the missing samples.
        """
        service = session.execute(_SERVICE_ROW, {"code": service_code}).first()
        if service is None:
            raise QueueNotFound(f"Không có dịch vụ {service_code}.")  # staff-facing
        return self._estimate(session, service_code, float(service.minutes), weight, self.today(), center=center)

    def estimate_for(self, session: Session, ticket: TicketView) -> WaitEstimate:
        """The remaining wait of an existing ticket, from the people ahead of it now."""
        service = session.execute(_SERVICE_ROW, {"code": ticket.service_code}).first()
        minutes = float(service.minutes) if service is not None else self.config.default_minutes
        return self._estimate(session, ticket.service_code, minutes, ticket.weight, ticket.day,
                              ahead=people_ahead(session, ticket), center=ticket.center_code)

    def _estimate(self, session: Session, service_code: str, minutes: float, weight: int,
                  day: date, ahead: int | None = None, center: str = DEFAULT_CENTER) -> WaitEstimate:
        return estimate_wait(session, service_code, minutes or self.config.default_minutes, weight, day,
                             ahead=ahead, center=center)

    # --- issuing --------------------------------------------------------------------------

    def issue_for_chat(self, session: Session, service_code: str, *, requester: Requester,
                       limits: ChatTicketLimits, phone: str | None = None, actor: str = "",
                       center: str = DEFAULT_CENTER) -> ChatIssue:
        """A plain number of ``service_code`` for a chat conversation, within :mod:`.limits`.

        A chat user (not a kiosk session: each of its requests is a new person) who still holds a
        number of this service today — waiting or being called — gets that number back
        (``already_had``), not a second one. Otherwise :class:`TicketLimitReached` when the
        conversation, or the origin of an anonymous client, took its last allowed number within the
        window; else the next number, remembering the origin. Checked in the write transaction that
        issues (serialised per requester on PostgreSQL), so simultaneous requests cannot both pass.
        """
        _begin_write(session)
        serialise(session, requester)
        if requester.channel not in LOCAL_CHANNELS:
            held = session.scalar(select(QueueTicket).where(
                QueueTicket.sender_id == requester.sender_id, QueueTicket.day == self.today(),
                QueueTicket.center_code == center, QueueTicket.service_code == service_code.upper(),
                QueueTicket.status.in_((TicketStatus.WAITING, *ACTIVE))).order_by(QueueTicket.id.desc()).limit(1))
            if held is not None:
                view = self._view(held, self._service_names(session))
                return ChatIssue(view, self.estimate_for(session, view), already_had=True)
        reached = first_reached(session, requester, limits, self.now())
        if reached is not None:
            raise TicketLimitReached(reached)
        issued = self.issue(session, service_code, channel=requester.channel, sender_id=requester.sender_id,
                            phone=phone, priority="", actor=actor, origin=requester.origin, center=center)
        return ChatIssue(issued.ticket, issued.estimate, already_had=False)

    def issue(self, session: Session, service_code: str, *, channel: str, sender_id: str | None = None,
              phone: str | None = None, priority: str = "", actor: str = "", origin: str = "",
              center: str = DEFAULT_CENTER) -> IssuedTicket:
        """Take the next number of ``service_code`` for today at ``center`` (``origin``: see
        :class:`.limits.Requester`). Each centre numbers on its own: two centres both issue A001.

        The hot path of the kiosks: a handful of prebuilt Core statements in one
        write transaction (bump the day counter, read the wait figures, insert the
        ticket and its event).
        """
        if not channel:
            raise ValueError("issue() needs the channel the ticket comes from")
        category = self.config.priority(priority)
        _begin_write(session)
        service = session.execute(_SERVICE_ROW, {"code": service_code}).first()
        if service is None or not service.active:
            raise QueueNotFound(render("queue.service_unavailable", service=service_code))
        now, day = self.now(), self.today()
        number = session.execute(_bump_statement(session),
                                 {"center": center, "service": service.code, "day": day}).scalar_one()
        weight = category.weight if category else 0
        estimate = self._estimate(session, service.code, float(service.minutes), weight, day, center=center)
        values = dict(token=secrets.token_urlsafe(12), center_code=center, service_code=service.code, issued_service=service.code,
                      day=day, number=number, label=ticket_label(service.prefix, number),
                      priority=category.code if category else "", weight=weight, status=TicketStatus.WAITING,
                      channel=channel, sender_id=sender_id or None, phone=phone or None, origin=origin[:64] or None,
                      counter_number=None,
                      target_counter=None,
                      estimated_wait_min=estimate.minutes, ahead_at_issue=estimate.ahead, recalls=0, issued_at=now,
                      called_at=None, started_at=None, finished_at=None,
                      near_notified_at=now if estimate.ahead <= self.config.near_turn_ahead else None)
        ticket_id = session.execute(_INSERT_TICKET, values).scalar_one()
        session.execute(_INSERT_EVENT, dict(kind=EventKind.ISSUED, center_code=center, day=day, at=now, ticket_id=ticket_id,
                                            label=values["label"], service_code=service.code, counter_number=None,
                                            actor=actor or channel,
                                            detail={"channel": channel, "priority": values["priority"]}))
        view = TicketView(id=ticket_id, token=values["token"], label=values["label"], number=number, day=day,
                          service_code=service.code, service_name=service.name, status=TicketStatus.WAITING,
                          channel=channel, priority=values["priority"],
                          priority_name=category.name if category else "", weight=weight,
                          sender_id=values["sender_id"], phone=values["phone"], issued_at=now,
                          estimated_wait_min=estimate.minutes, center_code=center)
        return IssuedTicket(view, estimate)

    # --- staff operations -----------------------------------------------------------------

    def call_next(self, session: Session, counter_number: int, actor: str = "",
                   center: str | None = None) -> CallResult:
        """Finish the counter's current ticket, if any, and call the next one for it."""
        _begin_write(session)
        counter = self._counter(session, counter_number, lock=True, center=center)
        if counter.status != CounterStatus.OPEN:
            raise QueueError(f"{counter.name} đang tạm dừng; xin mở lại quầy trước khi gọi số.")  # staff-facing
        previous = self._finish_current(session, counter, actor, auto=True)
        services = self._counter_services(session, counter.number)
        base = self._callable(services, counter)
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
        ticket.status, ticket.counter_number, ticket.target_counter = TicketStatus.CALLED, counter.number, None
        ticket.called_at = now
        counter.priority_streak = counter.priority_streak + 1 if ticket.weight > 0 else 0
        counter.updated_at = now
        text = call_announcement(ticket.label, counter.number)
        self._event(session, EventKind.CALLED, ticket, counter.number, actor, text=text, anti_starvation=guard
                    and ticket.weight == 0, wait_s=round((now - as_utc(ticket.issued_at)).total_seconds()))
        self._notify_called(session, ticket, counter.number)
        self._notify_near_turn(session, {*services, ticket.service_code}, names, counter.center_code)
        return CallResult(counter.number, self._view(ticket, names), previous, text)

    def recall(self, session: Session, counter_number: int, actor: str = "",
                center: str | None = None) -> CallResult:
        """Call the counter's current number again (board and voice repeat it)."""
        _begin_write(session)
        counter = self._counter(session, counter_number, lock=True, center=center)
        ticket = self._current(session, counter.number, (TicketStatus.CALLED,))
        ticket.recalls += 1
        text = call_announcement(ticket.label, counter.number)
        self._event(session, EventKind.RECALLED, ticket, counter.number, actor, text=text, recalls=ticket.recalls)
        self._notify_called(session, ticket, counter.number)
        return CallResult(counter.number, self._view(ticket, self._service_names(session)), None, text)

    def start(self, session: Session, counter_number: int, actor: str = "",
               center: str | None = None) -> TicketView:
        """The called citizen has come to the counter: service starts."""
        _begin_write(session)
        counter = self._counter(session, counter_number, lock=True, center=center)
        ticket = self._current(session, counter.number, (TicketStatus.CALLED,))
        ticket.status, ticket.started_at = TicketStatus.SERVING, self.now()
        self._event(session, EventKind.STARTED, ticket, counter.number, actor)
        return self._view(ticket, self._service_names(session))

    def finish(self, session: Session, counter_number: int, actor: str = "",
                center: str | None = None) -> TicketView:
        _begin_write(session)
        counter = self._counter(session, counter_number, lock=True, center=center)
        finished = self._finish_current(session, counter, actor, auto=False)
        if finished is None:
            raise QueueError(f"{counter.name} không có số nào đang phục vụ.")  # staff-facing
        return finished

    def no_show(self, session: Session, counter_number: int, actor: str = "",
                 center: str | None = None) -> TicketView:
        """The called citizen did not come: the number is closed as absent."""
        _begin_write(session)
        counter = self._counter(session, counter_number, lock=True, center=center)
        ticket = self._current(session, counter.number, (TicketStatus.CALLED,))
        ticket.status, ticket.finished_at = TicketStatus.NO_SHOW, self.now()
        self._event(session, EventKind.NO_SHOW, ticket, counter.number, actor, recalls=ticket.recalls)
        return self._view(ticket, self._service_names(session))

    def transfer(self, session: Session, counter_number: int, *, to_service: str | None = None,
                 to_counter: int | None = None, actor: str = "", center: str | None = None) -> TicketView:
        """Send the counter's current ticket to another service and/or counter.

        The number stays the same and keeps its place by issue time, so the citizen
        does not start again at the end of the line.
        """
        if not to_service and to_counter is None:
            raise QueueError("Xin chọn dịch vụ hoặc quầy để chuyển số.")  # staff-facing
        _begin_write(session)
        counter = self._counter(session, counter_number, lock=True, center=center)
        ticket = self._current(session, counter.number, ACTIVE)
        if to_service:
            service = session.get(ServiceRow, to_service)
            if service is None or not service.active:
                raise QueueNotFound(f"Không có dịch vụ {to_service}.")  # staff-facing
        if to_counter is not None:
            self._counter(session, to_counter, center=counter.center_code)  # within the counter's own centre
            if to_counter == counter.number:
                raise QueueError("Không thể chuyển số về chính quầy đang phục vụ.")  # staff-facing
        now = self.now()
        served_s = round((now - as_utc(ticket.started_at)).total_seconds()) if ticket.started_at else 0
        from_service = ticket.service_code
        ticket.status, ticket.counter_number = TicketStatus.WAITING, None
        ticket.service_code = to_service or ticket.service_code
        ticket.target_counter = to_counter
        ticket.called_at = ticket.started_at = None
        self._event(session, EventKind.TRANSFERRED, ticket, counter.number, actor, from_service=from_service,
                    to_service=ticket.service_code, to_counter=to_counter, served_s=served_s)
        return self._view(ticket, self._service_names(session))

    def set_priority(self, session: Session, token: str, priority: str, actor: str,
                     center: str | None = None) -> TicketView:
        """Staff put a waiting ticket in a priority group (or back to ordinary) after seeing the citizen.

        The one road to a priority for a number taken on a chat channel or anonymously: the
        group is never self-declared, a person at the counter confirms it.
        """
        category = self.config.priority(priority)
        _begin_write(session)
        ticket = session.scalar(select(QueueTicket).where(QueueTicket.token == token))
        if ticket is None or (center is not None and ticket.center_code != center):
            raise QueueNotFound("Không tìm thấy số thứ tự này.")  # staff-facing
        if ticket.status != TicketStatus.WAITING:
            raise QueueError(f"Số {ticket.label} không còn chờ, không đổi được nhóm ưu tiên.")  # staff-facing
        before = ticket.priority
        ticket.priority, ticket.weight = (category.code, category.weight) if category else ("", 0)
        self._event(session, EventKind.PRIORITY_SET, ticket, None, actor, before=before, after=ticket.priority)
        return self._view(ticket, self._service_names(session))

    def pause(self, session: Session, counter_number: int, actor: str = "", center: str | None = None) -> CounterView:
        return self._set_counter_status(session, counter_number, CounterStatus.PAUSED, EventKind.PAUSED, actor, center)

    def resume(self, session: Session, counter_number: int, actor: str = "", center: str | None = None) -> CounterView:
        return self._set_counter_status(session, counter_number, CounterStatus.OPEN, EventKind.RESUMED, actor, center)

    def record(self, session: Session, kind: str | EventKind, ticket: TicketView | None = None, actor: str = "",
               counter_number: int | None = None, center: str = DEFAULT_CENTER, **detail) -> None:
        """Record an event that happened outside the queue's rules (e.g. a printer failure), in the
        ticket's centre (else ``center``).

        ``kind`` must be an :class:`~motcua.queue.models.EventKind` (a ``ValueError`` otherwise)."""
        day = ticket.day if ticket else self.today()
        center = ticket.center_code if ticket else center
        session.add(QueueEvent(kind=EventKind(kind), center_code=center, day=day, at=self.now(), ticket_id=ticket.id if ticket else None,
                               label=ticket.label if ticket else "", service_code=ticket.service_code if ticket else "",
                               counter_number=counter_number, actor=actor, detail=detail))

    # --- board and statistics -------------------------------------------------------------

    def board(self, session: Session, recent: int = 8, center: str = DEFAULT_CENTER) -> Board:
        """What the display of ``center`` shows: its latest calls (newest first) and each of its counters' number."""
        return read_board(session, self.today(), recent, center)

    def stats(self, session: Session, day: date | None = None,
              center: str | None = DEFAULT_CENTER) -> list[ServiceStats]:
        """Per service for a day at ``center`` (None: every centre): issued, waiting, served, absent,
        mean wait and service time."""
        return service_stats(session, day or self.today(), self.services(session, active_only=False), center)

    def events(self, session: Session, day: date | None = None,
               kinds: Iterable[str] | None = None, center: str | None = None) -> list[QueueEvent]:
        """The day's recorded events, oldest first (optionally only some kinds, only one centre's)."""
        return day_events(session, day or self.today(), kinds, center)

    # --- configuration --------------------------------------------------------------------

    def save_service(self, session: Session, service: ServiceConfig, active: bool = True,
                     position: int | None = None, actor: str = "") -> ServiceRow:
        """Create or change a service (staff). A prefix already used by another service is refused."""
        _begin_write(session)
        clash = session.scalar(select(ServiceRow).where(ServiceRow.prefix == service.prefix,
                                                        ServiceRow.code != service.code))
        if clash is not None:
            raise QueueError(f"Chữ cái {service.prefix} đã dùng cho dịch vụ «{clash.name}».")  # staff-facing
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
        self.record(session, EventKind.SERVICE_SAVED, actor=actor, service=service.code, prefix=service.prefix,
                    active=active)
        return row

    def save_counter(self, session: Session, counter: CounterConfig, actor: str = "",
                     center: str = DEFAULT_CENTER) -> CounterView:
        """Create or change a counter of ``center`` and the services it calls from (staff). Counter
        numbers are unique in the deployment: another centre's number is refused."""
        _begin_write(session)
        known = set(session.scalars(select(ServiceRow.code)))
        unknown = [code for code in counter.services if code not in known]
        if unknown:
            raise QueueNotFound(f"Không có dịch vụ: {', '.join(unknown)}.")  # staff-facing
        row = session.get(QueueCounter, counter.number)
        if row is not None and row.center_code != center:
            raise QueueError(f"Quầy số {counter.number} đã thuộc trung tâm khác.")  # staff-facing
        if row is None:
            row = QueueCounter(number=counter.number, center_code=center, status=CounterStatus.OPEN,
                               priority_streak=0)
            session.add(row)
        row.name, row.updated_at = counter.name, self.now()
        session.flush()
        session.execute(delete(QueueCounterService).where(QueueCounterService.counter_number == counter.number))
        session.add_all(QueueCounterService(counter_number=counter.number, service_code=code)
                        for code in dict.fromkeys(counter.services))
        session.flush()
        self.record(session, EventKind.COUNTER_SAVED, actor=actor, center=center, counter=counter.number,
                    services=list(counter.services))
        return next(c for c in self.counters(session, center) if c.number == counter.number)

    # --- inside ---------------------------------------------------------------------------

    def _first(self, session: Session, query) -> QueueTicket | None:
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return session.scalar(query.limit(1))

    def _counter(self, session: Session, number: int, lock: bool = False, center: str | None = None) -> QueueCounter:
        """The counter ``number``; with ``center``, only if it is that centre's (another centre's
        counter is not found, as if it did not exist)."""
        query = select(QueueCounter).where(QueueCounter.number == number)
        if center is not None:
            query = query.where(QueueCounter.center_code == center)
        if lock and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        counter = session.scalar(query)
        if counter is None:
            raise QueueNotFound(f"Không có quầy số {number}.")  # staff-facing
        return counter

    def _counter_services(self, session: Session, number: int) -> list[str]:
        return list(session.scalars(select(QueueCounterService.service_code)
                                    .where(QueueCounterService.counter_number == number)))

    def _current(self, session: Session, counter_number: int, statuses: Iterable[TicketStatus]) -> QueueTicket:
        ticket = session.scalar(select(QueueTicket).where(QueueTicket.counter_number == counter_number,
                                                          QueueTicket.status.in_(ACTIVE))
                                .order_by(QueueTicket.called_at.desc()).limit(1))
        if ticket is None:
            raise QueueError(f"Quầy số {counter_number} không có số nào đang được mời.")  # staff-facing
        if ticket.status not in tuple(statuses):
            raise QueueError(f"Quầy số {counter_number}: số {ticket.label} đang được phục vụ; "  # staff-facing
                             "thao tác này chỉ dùng khi số đang được mời.")  # staff-facing
        return ticket

    def _callable(self, services: list[str], counter: QueueCounter) -> list[Any]:
        """The conditions of a ticket waiting today, in the counter's centre, that this counter may call."""
        return [QueueTicket.center_code == counter.center_code, QueueTicket.day == self.today(),
                QueueTicket.status == TicketStatus.WAITING,
                or_(and_(QueueTicket.service_code.in_(services), QueueTicket.target_counter.is_(None)),
                    QueueTicket.target_counter == counter.number)]

    def _finish_current(self, session: Session, counter: QueueCounter, actor: str, auto: bool) -> TicketView | None:
        ticket = session.scalar(select(QueueTicket).where(QueueTicket.counter_number == counter.number,
                                                          QueueTicket.status.in_(ACTIVE)))
        if ticket is None:
            return None
        now = self.now()
        if ticket.started_at is None:
            ticket.started_at = ticket.called_at or now
        ticket.status, ticket.finished_at = TicketStatus.DONE, now
        self._event(session, EventKind.FINISHED, ticket, counter.number, actor, auto=auto,
                    served_s=round((now - as_utc(ticket.started_at)).total_seconds()))
        return self._view(ticket, self._service_names(session))

    def _set_counter_status(self, session: Session, number: int, status: CounterStatus, kind: EventKind,
                            actor: str, center: str | None = None) -> CounterView:
        _begin_write(session)
        counter = self._counter(session, number, lock=True, center=center)
        if counter.status != status:
            counter.status, counter.updated_at = status, self.now()
            self.record(session, kind, actor=actor, counter_number=number, center=counter.center_code)
        return next(c for c in self.counters(session, counter.center_code) if c.number == number)

    def _notify_called(self, session: Session, ticket: QueueTicket, counter_number: int) -> None:
        """Tell the citizen whose number is called (or called again) through their own channel, in
        the outbox of this transaction (the gateway then wakes the relay, so it goes out at once)."""
        target = _notification_target(ticket)
        text = render("notify.queue.your_turn", label=ticket.label, counter=counter_number)
        if target is not None:
            self.notifier(session).notify(target[0], target[1], text)
        elif (page := _kiosk_session(ticket)) is not None:  # the page shows it as a banner, and chimes
            banner = {"queue_called": {"label": ticket.label, "counter": counter_number, "token": ticket.token}}
            self.notifier(session).notify(page[0], page[1], text, custom=banner)

    def _notify_near_turn(self, session: Session, services: set[str], names: dict[str, str], center: str) -> None:
        near = self.config.near_turn_ahead
        notifier: Notifier | None = None
        day = self.today()
        for code in sorted(services):
            upcoming = session.scalars(select(QueueTicket).where(
                QueueTicket.center_code == center, QueueTicket.day == day, QueueTicket.status == TicketStatus.WAITING, QueueTicket.service_code == code)
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
                self._event(session, EventKind.NOTIFIED, ticket, None, "", channel=target[0], ahead=ahead)

    def _event(self, session: Session, kind: EventKind, ticket: QueueTicket, counter: int | None = None,
               actor: str = "", **detail) -> None:
        session.add(QueueEvent(kind=kind, center_code=ticket.center_code, day=ticket.day, at=self.now(), ticket_id=ticket.id, label=ticket.label,
                               service_code=ticket.service_code, counter_number=counter, actor=actor or "",
                               detail=detail))

    def _service_names(self, session: Session) -> dict[str, str]:
        return service_names(session)

    def _view(self, row: QueueTicket, names: dict[str, str]) -> TicketView:
        return TicketView(
            id=row.id, token=row.token, label=row.label, number=row.number, day=row.day,
            service_code=row.service_code, service_name=names.get(row.service_code, row.service_code),
            status=row.status, channel=row.channel, priority=row.priority,
            priority_name=self.config.priority_name(row.priority), weight=row.weight, sender_id=row.sender_id,
            phone=row.phone, counter_number=row.counter_number, target_counter=row.target_counter,
            issued_at=as_utc(row.issued_at), called_at=as_utc(row.called_at), started_at=as_utc(row.started_at),
            finished_at=as_utc(row.finished_at), estimated_wait_min=row.estimated_wait_min, recalls=row.recalls,
            center_code=row.center_code)

def _notification_target(ticket: QueueTicket) -> tuple[str, str] | None:
    """Where to tell the ticket's holder: their chat, else their phone by SMS — only when an SMS
    sender is configured (a notice for a channel nobody sends on would wait for nothing)."""
    if ticket.sender_id and ticket.channel not in LOCAL_CHANNELS:
        return ticket.channel, ticket.sender_id
    if ticket.phone and sms_configured():
        return "sms", ticket.phone
    return None


def _kiosk_session(ticket: QueueTicket) -> tuple[str, str] | None:
    """A number taken in a kiosk chat session: its call goes to that session's page (a banner while
    the citizen is still there; the kiosk channel makes it a dead letter once the session ended)."""
    if ticket.channel == "kiosk" and (ticket.sender_id or "").startswith("kiosk:"):
        return "kiosk", ticket.sender_id or ""
    return None


def sms_configured() -> bool:
    """Whether a channel called "sms" is registered and turned on by the settings."""
    from channels.registry import channel_configured, kinds
    from motcua.settings import get_settings

    return "sms" in kinds() and channel_configured("sms", get_settings())


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
                session.add(QueueCounter(number=counter.number, name=counter.name, status=CounterStatus.OPEN, priority_streak=0,
                                         updated_at=now))
            session.flush()
            session.add_all(QueueCounterService(counter_number=c.number, service_code=code)
                            for c in config.counters for code in dict.fromkeys(c.services))
            session.flush()
    except IntegrityError:  # another process seeded at the same moment
        return False
    return True
