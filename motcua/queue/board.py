"""What the hall display and the statistics read: the day's calls, each counter's number, the
waiting lines, and per service the day's figures. Reading only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.centers import DEFAULT_CENTER
from motcua.db import as_utc
from motcua.queue.models import ACTIVE, EventKind, QueueCounter, QueueEvent, QueueTicket, TicketStatus
from motcua.queue.models import QueueService as ServiceRow
from motcua.queue.views import Board, BoardCall, BoardCounter, ServiceStats, call_announcement

CALL_KINDS = (EventKind.CALLED, EventKind.RECALLED)
"""The events the board shows and the voice says."""


def service_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(ServiceRow.code, ServiceRow.name)).all())


def read_board(session: Session, day: date, recent: int = 8, center: str = DEFAULT_CENTER) -> Board:
    """The latest calls of ``day`` at ``center`` (newest first), each of its counters' current number,
    the waiting counts; ``version`` changes whenever anything but an issued number happened there.
    Nothing of another centre is read."""
    version = session.scalar(select(func.max(QueueEvent.id)).where(
        QueueEvent.center_code == center, QueueEvent.day == day, QueueEvent.kind != EventKind.ISSUED)) or 0
    counters = {c.number: c for c in session.scalars(select(QueueCounter).where(QueueCounter.center_code == center))}
    names = service_names(session)
    events = session.scalars(select(QueueEvent).where(QueueEvent.center_code == center, QueueEvent.day == day,
                                                      QueueEvent.kind.in_(CALL_KINDS))
                             .order_by(QueueEvent.id.desc()).limit(recent)).all()
    calls = [BoardCall(e.id, e.kind, e.label, e.counter_number or 0,
                       counters[e.counter_number].name if e.counter_number in counters else "",
                       names.get(e.service_code, e.service_code), as_utc(e.at),
                       call_announcement(e.label, e.counter_number or 0)) for e in events]
    current = {t.counter_number: t for t in session.scalars(
        select(QueueTicket).where(QueueTicket.center_code == center, QueueTicket.day == day,
                                  QueueTicket.status.in_(ACTIVE)))}
    board_counters = [BoardCounter(c.number, c.name, c.status,
                                   current[c.number].label if c.number in current else None,
                                   current[c.number].status if c.number in current else None)
                      for c in sorted(counters.values(), key=lambda c: c.number)]
    waiting = dict(session.execute(select(QueueTicket.service_code, func.count()).where(
        QueueTicket.center_code == center, QueueTicket.day == day, QueueTicket.status == TicketStatus.WAITING).group_by(QueueTicket.service_code)).all())
    return Board(version, calls, board_counters, waiting)


def service_stats(session: Session, day: date, services: Iterable[ServiceRow],
                  center: str | None = DEFAULT_CENTER) -> list[ServiceStats]:
    """Per service for ``day`` at ``center`` (None: every centre): issued, waiting, served, absent,
    mean wait and service time."""
    query = select(QueueTicket).where(QueueTicket.day == day)
    if center is not None:
        query = query.where(QueueTicket.center_code == center)
    rows = session.scalars(query).all()
    result = []
    for service in services:
        mine = [t for t in rows if t.service_code == service.code]
        issued = sum(1 for t in rows if t.issued_service == service.code)
        waits = [(as_utc(t.called_at) - as_utc(t.issued_at)).total_seconds() / 60 for t in mine if t.called_at]
        served = [(as_utc(t.finished_at) - as_utc(t.started_at)).total_seconds() / 60
                  for t in mine if t.status == TicketStatus.DONE and t.started_at and t.finished_at]
        result.append(ServiceStats(
            service.code, service.name, issued, sum(1 for t in mine if t.status == TicketStatus.WAITING),
            sum(1 for t in mine if t.status == TicketStatus.DONE),
            sum(1 for t in mine if t.status == TicketStatus.NO_SHOW),
            round(sum(waits) / len(waits), 1) if waits else None,
            round(sum(served) / len(served), 1) if served else None))
    return result


def day_events(session: Session, day: date, kinds: Iterable[str] | None = None,
               center: str | None = None) -> list[QueueEvent]:
    """The day's recorded events, oldest first (optionally only some kinds, only one centre's)."""
    query = select(QueueEvent).where(QueueEvent.day == day).order_by(QueueEvent.id)
    if center is not None:
        query = query.where(QueueEvent.center_code == center)
    if kinds is not None:
        query = query.where(QueueEvent.kind.in_([EventKind(k) for k in kinds]))
    return list(session.scalars(query))
