"""How long a citizen waits: the people ahead of a ticket and the expected minutes.

The expected wait is people ahead × mean service time ÷ open counters. The mean is today's
rolling mean of the service's last finished tickets; with fewer than :data:`MIN_HISTORY`,
the service's configured minutes fill the missing samples (a smoothed mean).
"""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from motcua.centers import DEFAULT_CENTER
from motcua.db import as_utc
from motcua.queue.models import CounterStatus, QueueCounter, QueueCounterService, QueueTicket, TicketStatus
from motcua.queue.views import TicketView, WaitEstimate

HISTORY_SAMPLES = 20
"""The rolling mean service time uses today's last this many finished tickets of the service."""
MIN_HISTORY = 3
"""Below this many samples the configured minutes fill the gap (a smoothed mean)."""

_TICKETS = QueueTicket.__table__
_SERVING_COUNTERS = select(QueueCounter.status).join(
    QueueCounterService, QueueCounterService.counter_number == QueueCounter.number) \
    .where(QueueCounterService.service_code == bindparam("service"), QueueCounter.center_code == bindparam("center"))
_WAIT_FIGURES = select(
    select(func.count()).select_from(_TICKETS).where(
        _TICKETS.c.center_code == bindparam("center"), _TICKETS.c.day == bindparam("day"),
        _TICKETS.c.status == TicketStatus.WAITING, _TICKETS.c.service_code == bindparam("service"), _TICKETS.c.weight >= bindparam("weight")).scalar_subquery(),
    select(func.count()).select_from(_SERVING_COUNTERS.where(QueueCounter.status == CounterStatus.OPEN).subquery())
    .scalar_subquery(),
    select(func.count()).select_from(_SERVING_COUNTERS.subquery()).scalar_subquery(),
)
_RECENT_SERVICE_TIMES = select(_TICKETS.c.started_at, _TICKETS.c.finished_at).where(
    _TICKETS.c.center_code == bindparam("center"), _TICKETS.c.day == bindparam("day"), _TICKETS.c.service_code == bindparam("service"),
    _TICKETS.c.status == TicketStatus.DONE, _TICKETS.c.started_at.is_not(None), _TICKETS.c.finished_at.is_not(None),
).order_by(_TICKETS.c.finished_at.desc()).limit(HISTORY_SAMPLES)


def estimate_wait(session: Session, service_code: str, minutes: float, weight: int, day: date, *,
                  ahead: int | None = None, center: str = DEFAULT_CENTER) -> WaitEstimate:
    """The wait behind the tickets of ``service_code`` at ``center`` on ``day`` with ``weight`` or more
    (or behind ``ahead`` people when given); ``minutes`` is the service time assumed without history.
    Only that centre's tickets and counters count."""
    params = {"service": service_code, "day": day, "weight": weight, "center": center}
    waiting, open_counters, all_counters = session.execute(_WAIT_FIGURES, params).one()
    ahead = waiting if ahead is None else ahead
    durations = session.execute(_RECENT_SERVICE_TIMES, params).all()
    samples = [(as_utc(end) - as_utc(start)).total_seconds() / 60 for start, end in durations]
    samples = [s for s in samples if s >= 0]
    if len(samples) >= MIN_HISTORY:
        mean = sum(samples) / len(samples)
    else:
        mean = (sum(samples) + minutes * (MIN_HISTORY - len(samples))) / MIN_HISTORY
    servers = open_counters or max(1, all_counters)
    expected = math.ceil(ahead * mean / servers) if ahead else 0
    return WaitEstimate(ahead=ahead, open_counters=open_counters, minutes_per_person=round(mean, 1),
                        minutes=expected, from_history=len(samples) >= MIN_HISTORY)


def people_ahead(session: Session, ticket: TicketView | QueueTicket) -> int:
    """Waiting tickets of the same service and centre that come before this one (higher weight, or
    the same weight and issued earlier)."""
    if ticket.status != TicketStatus.WAITING:
        return 0
    return session.scalar(select(func.count()).select_from(QueueTicket).where(
        QueueTicket.center_code == ticket.center_code, QueueTicket.day == ticket.day, QueueTicket.status == TicketStatus.WAITING,
        QueueTicket.service_code == ticket.service_code, QueueTicket.id != ticket.id,
        or_(QueueTicket.weight > ticket.weight,
            and_(QueueTicket.weight == ticket.weight,
                 or_(QueueTicket.issued_at < ticket.issued_at,
                     and_(QueueTicket.issued_at == ticket.issued_at, QueueTicket.id < ticket.id)))))) or 0
