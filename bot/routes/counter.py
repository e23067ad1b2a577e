"""The counter page for staff: ``/staff/counter`` and the one reading it needs.

The page drives a counter through the queue's staff operations of :mod:`bot.routes.queue`
(call next, recall, start, finish, no-show, transfer, pause/resume): each of them wakes the board's
stream and, through :class:`motcua.queue.service.QueueService`, writes the called citizen's
notification to the outbox the notification relay sends. What the page reads in one request is
here: the counter, its current number, the numbers waiting for it in calling order (with how long
each has waited), the services and counters a number may be transferred to.

Staff-facing: its Vietnamese texts stay in this module and in ``bot/static/staff/counter.*``.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from bot.auth import Staff
from bot.deps import QueueDep, SettingsDep
from bot.queue_runtime import QueueRuntime
from bot.routes.queue import StaffScope, staff_scope
from bot.routes.staff import page
from motcua.queue.service import CounterView, QueueError, QueueNotFound, TicketView

router = APIRouter(tags=["staff"])
MAX_COUNTER = 999


class TicketRow(BaseModel):
    token: str
    label: str
    service_code: str
    service_name: str
    status: str
    status_text: str
    priority: str = ""
    priority_name: str = ""
    channel: str
    target_counter: int | None = None
    issued_at: datetime | None = None
    issued_time: str = ""
    """HH:MM in the centre's time zone."""
    waited_min: int = 0
    """Minutes since the number was taken (for a called number: until it was called)."""
    called_at: datetime | None = None
    recalls: int = 0

    @classmethod
    def of(cls, ticket: TicketView, runtime: QueueRuntime, now: datetime) -> TicketRow:
        issued = ticket.issued_at
        until = ticket.called_at or now
        waited = max(0, int((until - issued).total_seconds() // 60)) if issued else 0
        return cls(token=ticket.token, label=ticket.label, service_code=ticket.service_code,
                   service_name=ticket.service_name, status=ticket.status, status_text=ticket.status_text,
                   priority=ticket.priority, priority_name=ticket.priority_name, channel=ticket.channel,
                   target_counter=ticket.target_counter, issued_at=issued,
                   issued_time=f"{issued.astimezone(runtime.config.zone):%H:%M}" if issued else "",
                   waited_min=waited, called_at=ticket.called_at, recalls=ticket.recalls)


class Choice(BaseModel):
    code: str
    name: str


class CounterChoice(BaseModel):
    number: int
    name: str
    status: str


class DeskOut(BaseModel):
    number: int
    name: str
    status: str
    services: list[Choice]
    current: TicketRow | None
    waiting: list[TicketRow]
    transfer_services: list[Choice]
    """Active services a current number may be sent to."""
    counters: list[CounterChoice]
    """Every counter (the page's counter picker and the transfer's «to counter»)."""


@router.get("/staff/counter", response_class=HTMLResponse, summary="Quầy: gọi số / the counter page")
async def counter_page(settings: SettingsDep, _: Staff) -> HTMLResponse:
    return page(settings, "counter.html")


@router.get("/api/v1/staff/counters", response_model=list[CounterChoice], summary="Các quầy để chọn")
def counters(runtime: QueueDep, scope: StaffScope = Depends(staff_scope)) -> list[CounterChoice]:
    """The counters of the staff member's centre (an admin: of every centre)."""
    with runtime.database.session() as session:
        return [CounterChoice(number=c.number, name=c.name, status=c.status)
                for c in runtime.service.counters(session, scope.center)]


@router.get("/api/v1/staff/counters/{number}", response_model=DeskOut,
            summary="Một quầy: số đang mời và danh sách chờ / a counter, its current number and its line")
def desk(number: int, runtime: QueueDep, scope: StaffScope = Depends(staff_scope)) -> DeskOut:
    if not 1 <= number <= MAX_COUNTER:
        raise HTTPException(404, f"Không có quầy số {number}.")
    service = runtime.service
    try:
        with runtime.database.session() as session:
            counter = _find(service.counters(session, scope.center), number)  # another centre's: not found
            views = service.counters(session, counter.center_code)  # transfers stay in the counter's centre
            waiting = service.waiting_for_counter(session, number, center=counter.center_code)
            active = service.services(session)
            names = {s.code: s.name for s in service.services(session, active_only=False)}
    except QueueError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    now = service.now()
    return DeskOut(
        number=counter.number, name=counter.name, status=counter.status,
        services=[Choice(code=code, name=names.get(code, code)) for code in counter.services],
        current=TicketRow.of(counter.current, runtime, now) if counter.current else None,
        waiting=[TicketRow.of(t, runtime, now) for t in waiting],
        transfer_services=[Choice(code=s.code, name=s.name) for s in active],
        counters=[CounterChoice(number=c.number, name=c.name, status=c.status) for c in views])


def _find(views: list[CounterView], number: int) -> CounterView:
    for view in views:
        if view.number == number:
            return view
    raise QueueNotFound(f"Không có quầy số {number}.")
