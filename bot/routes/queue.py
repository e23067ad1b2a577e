"""The queue over HTTP: tickets for kiosks and staff, staff operations, the display board.

Public: take a plain number (rate-limited per address), see a ticket's status (the QR
code on the paper ticket), the board page ``/board`` with its live stream (server-sent
events). A registered device (:mod:`motcua.devices`) or a signed-in staff member: a number
in a priority group, printing, the voice call-out WAV of a number actually called.
Staff: call next, recall, start, finish, no-show, transfer, pause/resume a counter,
configure services and counters, statistics.

Staff routes sit behind :func:`require_staff`: a signed-in staff member or admin
(``bot.auth``), recorded as the actor of every operation.

Centres (:mod:`motcua.centers`): the public board, its stream and voice, the services' waits and a
kiosk's number are one centre's — ``?center=<code>`` (the pages ``/c/<code>/board``), an enrolled
device's own centre, else the default centre. A staff member acts in their account's centre
(:func:`staff_scope`): another centre's counters and tickets are not found; an admin acts in all.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot import auth
from bot.deps import ClientIP, QueueDep
from bot.devices import AnyCaller, MayPrint, MayVoice, refuse
from bot.queue_runtime import QueueRuntime
from bot.routes.pages import LANGUAGE_VARY, NOINDEX, NOINDEX_META, request_locale, script_json, static_page
from bot.security import site_center_for
from devices.printer import TicketPrint, print_ticket
from devices.voice import VoiceError, spoken_call
from knowledge_base.messages import load_catalogue, render
from motcua.centers import DEFAULT_CENTER, find_center, staff_center
from motcua.devices import Capability
from motcua.queue.config import CounterConfig, ServiceConfig, nfc
from motcua.queue.models import ACTIVE
from motcua.queue.service import (
    Board,
    CounterView,
    QueueError,
    TicketView,
    WaitEstimate,
)
from motcua.queue.views import ticket_status_text
from motcua.staff.accounts import Principal

log = logging.getLogger(__name__)

router = APIRouter(tags=["queue"])
STREAM_POLL_S = 2.0
"""The board stream also re-reads the database this often (calls made by other processes)."""
STREAM_MAX_S = 30.0
"""A stream ends after this long and the browser reconnects at once (EventSource): the server
never waits long for an open board when it shuts down, and proxies see fresh connections."""
LABEL = re.compile(r"^[A-Z]\d{3,6}$")
MAX_COUNTER = 999
"""Counter numbers a request may name at all; the configured counters are checked after."""
TICKET_REFRESH_S = 30
"""Without scripts, the ticket's status page reloads itself this often (with them it is live)."""


# --- what the routes share ----------------------------------------------------------------

async def require_staff(principal: Principal = Depends(auth.require_staff)) -> str:
    """A signed-in staff member or admin; the queue records operations as ``staff:<username>``."""
    return f"staff:{principal.username}"


@dataclass(frozen=True)
class StaffScope:
    """Who acts (``staff:<username>``) and in which centre (None: an admin, every centre)."""

    actor: str
    center: str | None

    @property
    def home(self) -> str:
        """The centre a new counter or number of theirs belongs to."""
        return self.center or DEFAULT_CENTER


async def staff_scope(runtime: QueueDep, principal: Principal = Depends(auth.require_staff)) -> StaffScope:
    """A signed-in staff member in the centre of their account (:func:`motcua.centers.staff_center`),
    or an admin, who sees every centre."""
    actor = f"staff:{principal.username}"
    if principal.is_admin:
        return StaffScope(actor, None)

    def resolve() -> str:
        with runtime.database.session() as session:
            return staff_center(session, principal.center_code)

    return StaffScope(actor, await run_in_threadpool(resolve))


CenterQuery = Annotated[str | None, Query(max_length=32, description="mã trung tâm; trống = trung tâm mặc định")]


def public_center(runtime: QueueRuntime, center: str | None) -> str:
    """The centre a public page or feed names (404 when there is no such centre), else the default."""
    if not center or center == DEFAULT_CENTER:
        return DEFAULT_CENTER
    if runtime.database.run(find_center, center) is not None:
        return center
    raise HTTPException(404, render("page.center.not_found"))


def _board_center(runtime: QueueRuntime, caller, center: str | None) -> str:
    """The centre a board shows: an enrolled board's (or kiosk's) own, whatever page it opened, else
    the one ``?center=`` names, else the default centre."""
    if caller.device is not None:
        return caller.device.center_code
    return public_center(runtime, center)


def _center_name(runtime: QueueRuntime, center: str) -> str:
    """The name a paper ticket and a board show for ``center`` (the settings' for the default centre)."""
    if center == DEFAULT_CENTER:
        return runtime.settings.center_name
    with runtime.database.session() as session:
        found = find_center(session, center)
    return found.display_name if found is not None else runtime.settings.center_name


def _refuse(exc: Exception) -> HTTPException:
    if isinstance(exc, QueueError):
        return HTTPException(exc.status, str(exc))
    return HTTPException(422, str(exc))


# --- shapes ---------------------------------------------------------------------------------

class TicketOut(BaseModel):
    token: str
    label: str
    number: int
    day: date
    service_code: str
    service_name: str
    status: str
    status_text: str
    priority: str = ""
    priority_name: str = ""
    channel: str
    counter_number: int | None = None
    target_counter: int | None = None
    issued_at: datetime | None = None
    called_at: datetime | None = None
    people_ahead: int | None = None
    estimated_wait_min: int | None = None
    status_url: str = ""

    @classmethod
    def of(cls, ticket: TicketView, runtime: QueueRuntime, people_ahead: int | None = None) -> TicketOut:
        return cls(token=ticket.token, label=ticket.label, number=ticket.number, day=ticket.day,
                   service_code=ticket.service_code, service_name=ticket.service_name, status=ticket.status,
                   status_text=ticket.status_text, priority=ticket.priority, priority_name=ticket.priority_name,
                   channel=ticket.channel, counter_number=ticket.counter_number,
                   target_counter=ticket.target_counter, issued_at=ticket.issued_at, called_at=ticket.called_at,
                   people_ahead=people_ahead, estimated_wait_min=ticket.estimated_wait_min,
                   status_url=runtime.status_url(ticket.token))


class EstimateOut(BaseModel):
    ahead: int
    open_counters: int
    minutes_per_person: float
    minutes: int
    from_history: bool
    text: str

    @classmethod
    def of(cls, estimate: WaitEstimate) -> EstimateOut:
        return cls(**asdict(estimate), text=estimate.describe())


class IssueIn(BaseModel):
    service: str = Field(..., min_length=1, max_length=16, description="mã dịch vụ, ví dụ HT")
    priority: str = Field("", max_length=32, description="mã nhóm ưu tiên; trống = thường")
    phone: str | None = Field(None, max_length=20, description="số điện thoại để báo khi sắp đến lượt")
    print: bool | None = Field(None, description="in phiếu ở máy in của kiosk; trống = in khi là kiosk đã đăng ký")


class StaffIssueIn(IssueIn):
    print: bool | None = False
    channel: str = Field("staff", max_length=32)
    sender_id: str | None = Field(None, max_length=128)


class IssueOut(BaseModel):
    ticket: TicketOut
    estimate: EstimateOut
    printed: bool
    print_message: str
    message: str


class CallOut(BaseModel):
    counter_number: int
    ticket: TicketOut | None
    previous: TicketOut | None = None
    announcement: str = ""
    message: str


class TransferIn(BaseModel):
    service: str | None = Field(None, max_length=16, description="chuyển sang dịch vụ")
    counter: int | None = Field(None, ge=1, description="chuyển tới quầy")


class ServiceIn(BaseModel):
    prefix: str = Field(..., min_length=1, max_length=1)
    name: str = Field(..., min_length=1, max_length=255)
    fields: list[str] = Field(default_factory=list, description="các lĩnh vực thủ tục dịch vụ này tiếp nhận")
    minutes: float = Field(8.0, gt=0)
    active: bool = True
    position: int | None = None


class CounterIn(BaseModel):
    name: str = Field("", max_length=255)
    services: list[str] = Field(..., min_length=1)


class CounterOut(BaseModel):
    number: int
    name: str
    status: str
    services: list[str]
    current: TicketOut | None = None
    priority_streak: int = 0

    @classmethod
    def of(cls, counter: CounterView, runtime: QueueRuntime) -> CounterOut:
        return cls(number=counter.number, name=counter.name, status=counter.status, services=counter.services,
                   current=TicketOut.of(counter.current, runtime) if counter.current else None,
                   priority_streak=counter.priority_streak)


def board_json(board: Board) -> dict:
    return {
        "version": board.version,
        "calls": [{"event": c.event_id, "kind": c.kind, "label": c.label, "counter": c.counter_number,
                   "counter_name": c.counter_name, "service": c.service_name, "at": c.at.isoformat(),
                   "text": c.text} for c in board.calls],
        "counters": [{"number": c.number, "name": c.name, "status": c.status, "label": c.label,
                      "ticket_status": c.ticket_status} for c in board.counters],
        "waiting": board.waiting,
    }


# --- pages ----------------------------------------------------------------------------------

@router.get("/board", response_class=HTMLResponse, summary="Bảng hiển thị số thứ tự / display board")
def board_page(request: Request, runtime: QueueDep) -> HTMLResponse:
    return static_page("board", request_locale(request, browser=False), center=runtime.settings.center_name,
                       timezone=runtime.config.timezone)


@router.get("/c/{center}/board", response_class=HTMLResponse, summary="Bảng hiển thị của một trung tâm / a centre's board")
def center_board_page(center: str, request: Request, runtime: QueueDep) -> HTMLResponse:
    """The board of one centre: its script reads the centre from the address and shows only its numbers."""
    name = _center_name(runtime, public_center(runtime, center))
    return static_page("board", request_locale(request, browser=False), center=name,
                       timezone=runtime.config.timezone)


@router.get("/queue/ticket/{token}", response_class=HTMLResponse, summary="Trang tình trạng một số thứ tự")
def ticket_page(token: str, request: Request, runtime: QueueDep) -> HTMLResponse:
    """The page of one ticket (the QR code on the paper ticket, on the citizen's own phone).

    Live: ``ticket.js`` follows :func:`ticket_stream`; when the number is called it shows a large
    banner and plays a chime; when the ticket is done it offers the service rating (``/api/v1/ratings``).
    """
    locale = request_locale(request)
    try:
        state = _ticket_state(runtime, token, locale)
    except QueueError as exc:
        page = _page(render("page.ticket.not_found", locale=locale), f"<p>{html.escape(str(exc))}</p>", runtime,
                     locale)
        return HTMLResponse(page, status_code=404, headers={**LANGUAGE_VARY, **NOINDEX})
    page = _page(render("page.ticket.title", locale=locale, label=state["label"]), _ticket_body(state, locale),
                 runtime, locale, refresh=TICKET_REFRESH_S, live=True)
    return HTMLResponse(page, headers={**LANGUAGE_VARY, "Cache-Control": "no-store", **NOINDEX})


@router.get("/api/v1/queue/tickets/{token}/stream",
            summary="Luồng sự kiện của một số thứ tự (server-sent events) / one ticket, live")
async def ticket_stream(token: str, request: Request, runtime: QueueDep) -> StreamingResponse:
    """The board's wake-ups (:attr:`QueueRuntime.hub`) filtered to one ticket: an ``event: ticket``
    with :func:`_ticket_state` whenever it changed (called, called again, served, done, people ahead)."""
    locale = request_locale(request)
    try:
        await run_in_threadpool(_ticket_state, runtime, token, locale)
    except QueueError as exc:
        raise _refuse(exc) from exc

    return _live_stream(request, runtime, lambda: _ticket_state(runtime, token, locale), "ticket", with_id=False)


def _ticket_state(runtime: QueueRuntime, token: str, locale: str) -> dict:
    """What the ticket page shows, its sentences in ``locale``; ``version`` changes with any of it."""
    with runtime.database.session() as session:
        ticket = runtime.service.ticket(session, token)
        ahead = runtime.service.people_ahead(session, ticket) if ticket.status == "waiting" else None
    counter = ticket.counter_number
    issued = ticket.issued_at.astimezone(runtime.config.zone) if ticket.issued_at else None
    called = ticket.status in ACTIVE and counter is not None
    state = {
        "token": ticket.token, "label": ticket.label, "service": ticket.service_name,
        "status": str(ticket.status), "status_text": ticket_status_text(ticket.status, locale),
        "ahead": ahead, "ahead_text": render("page.ticket.ahead_people", locale=locale, count=ahead)
        if ahead is not None else "",
        "counter": counter, "counter_text": render("page.ticket.counter_number", locale=locale, counter=counter)
        if counter else "",
        "called": called and ticket.status == "called",
        "call": f"{ticket.called_at.isoformat() if ticket.called_at else ''}#{ticket.recalls}",
        "banner": render("page.ticket.called_banner", locale=locale, label=ticket.label, counter=counter)
        if called else "",
        "issued_text": render("page.ticket.issued_at", locale=locale, time=f"{issued:%H:%M}",
                              date=f"{issued:%d/%m/%Y}") if issued else "",
        "rate": ticket.status == "done",
    }
    state["version"] = "|".join(str(state[k]) for k in ("status", "ahead", "counter", "call"))
    return state


def _ticket_body(state: dict, locale: str) -> str:
    def say(key: str, **fields: object) -> str:
        return html.escape(render(key, locale=locale, **fields))

    def row(name: str, key: str, value: str) -> str:
        hidden = "" if value else " hidden"
        return f'<tr id="row-{name}"{hidden}><th>{say(key)}</th><td>{html.escape(value)}</td></tr>'

    stars = "".join(
        f'<label class="star"><input type="radio" name="score" value="{n}">'
        f'<span aria-hidden="true">★</span><span class="sr">{say("page.ticket.rate_star", score=n)}</span></label>'
        for n in range(1, 6))
    rating = (
        f'<form id="rating" class="ticket-rating"{"" if state["rate"] else " hidden"}>'
        f'<h2>{say("page.ticket.rate_title")}</h2>'
        f'<fieldset class="stars"><legend>{say("page.ticket.rate_score")}</legend>{stars}</fieldset>'
        f'<label for="comment">{say("page.ticket.rate_comment")}</label>'
        f'<textarea id="comment" name="comment" rows="3" maxlength="2000"></textarea>'
        f'<button type="submit">{say("page.ticket.rate_send")}</button>'
        f'<p id="rating-note" role="status"></p></form>'
    )
    return (
        f'<div id="called" class="ticket-called" role="alert"{"" if state["banner"] else " hidden"}>'
        f'{html.escape(state["banner"])}</div>'
        f'<p class="ticket-label">{html.escape(state["label"])}</p><table class="ticket-rows">'
        + row("service", "page.ticket.service", state["service"])
        + row("status", "page.ticket.status", state["status_text"])
        + row("ahead", "page.ticket.ahead", state["ahead_text"])
        + row("counter", "page.ticket.counter", state["counter_text"])
        + row("issued", "page.ticket.issued", state["issued_text"])
        + f'</table><p class="ticket-live">{say("page.ticket.refresh_note")}'
        f' <button type="button" id="sound" class="ticket-sound">{say("page.ticket.sound_on")}</button></p>'
        f'<p id="link" class="ticket-link" hidden>{say("page.ticket.offline")}</p>'
        + rating
        + f'<script type="application/json" id="ticket-state">{script_json(state)}</script>'
    )


def _page(title: str, body: str, runtime: QueueRuntime, locale: str, refresh: int = 0, live: bool = False) -> str:
    """The ticket page's frame; ``live`` adds its script (and its words), ``refresh`` reloads it without one."""
    meta = f'<noscript><meta http-equiv="refresh" content="{refresh}"></noscript>' if refresh else ""
    scripts = ""
    if live:
        words = script_json(load_catalogue(locale).group("page.ticket."))
        scripts = (f'<script type="application/json" id="page-messages">{words}</script>'
                   '<script src="/static/page-messages.js"></script><script src="/static/ticket.js"></script>')
    return (f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">{NOINDEX_META}{meta}'
            f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/static/board.css">'
            + ('<link rel="stylesheet" href="/static/ticket.css">' if live else "")
            + f'</head><body class="ticket-page"><h1>{html.escape(runtime.settings.center_name)}</h1>{body}{scripts}</body></html>')


# --- public API -----------------------------------------------------------------------------

@router.get("/api/v1/queue/services", summary="Các dịch vụ đang cấp số / services taking numbers")
def list_services(runtime: QueueDep, center: CenterQuery = None) -> list[dict]:
    code = public_center(runtime, center)
    with runtime.database.session() as session:
        result = []
        for service in runtime.service.services(session):
            estimate = runtime.service.estimate(session, service.code, center=code)
            result.append({"code": service.code, "prefix": service.prefix, "name": service.name,
                           "fields": service.fields, "waiting": estimate.ahead,
                           "estimated_wait_min": estimate.minutes, "open_counters": estimate.open_counters})
    return result


@router.get("/api/v1/queue/priorities", summary="Các nhóm ưu tiên / priority categories")
def list_priorities(runtime: QueueDep) -> list[dict]:
    return [{"code": p.code, "name": p.name, "weight": p.weight} for p in runtime.config.priorities]


def _issue(runtime: QueueRuntime, body: IssueIn, channel: str, sender_id: str | None, actor: str,
           locale: str = "vi", center: str = DEFAULT_CENTER) -> IssueOut:
    try:
        with runtime.database.session() as session:
            issued = runtime.service.issue(session, nfc(body.service).upper(), channel=channel, sender_id=sender_id,
                                           phone=body.phone, priority=body.priority, actor=actor, center=center)
    except (QueueError, ValueError) as exc:
        raise _refuse(exc) from exc
    ticket, estimate = issued.ticket, issued.estimate
    printed, print_message = False, ""
    if body.print:
        issued_at = ticket.issued_at.astimezone(runtime.config.zone)
        outcome = print_ticket(runtime.printer, TicketPrint(
            center_name=_center_name(runtime, center), label=ticket.label, service_name=ticket.service_name,
            issued_at=issued_at, people_ahead=estimate.ahead, estimated_wait_min=estimate.minutes,
            status_url=runtime.status_url(ticket.token), priority_name=ticket.priority_name))
        printed, print_message = outcome.printed, outcome.message
        if not outcome.printed and runtime.printer is not None:
            with runtime.database.session() as session:
                runtime.service.record(session, "print_failed", ticket, actor=channel, message=outcome.message)
    runtime.hub.publish()
    message = render("page.queue.ticket_issued", locale=locale, label=ticket.label, service=ticket.service_name,
                     estimate=estimate.describe())
    return IssueOut(ticket=TicketOut.of(ticket, runtime, estimate.ahead), estimate=EstimateOut.of(estimate),
                    printed=printed, print_message=print_message, message=message)


@router.post("/api/v1/queue/tickets", response_model=IssueOut, summary="Lấy số thứ tự tại kiosk / take a number")
def issue_at_kiosk(body: IssueIn, request: Request, runtime: QueueDep, caller: AnyCaller, ip: ClientIP,
                   center: CenterQuery = None) -> IssueOut:
    """Anyone may take a plain number; a priority group or paper needs a registered device or staff.

    A priority group jumps the line, so it is never self-declared from an unknown machine;
    anonymous callers are limited per address so nobody can empty a day's numbers. The number is
    of the enrolled device's centre (a kiosk at A issues A's numbers, whatever it asks), else of
    the centre ``?center=`` names, else of the default centre — but a page of a site an admin allowed for
    one centre takes that centre's numbers only (:func:`bot.security.site_center_for`).
    """
    if caller.device is not None:
        code = caller.device.center_code
    else:
        own = site_center_for(request.headers.get("origin"), runtime.database, request.headers.get("host", ""))
        code = public_center(runtime, own or center)
    if body.priority and not caller.may(Capability.PRIORITY):
        raise refuse(caller, Capability.PRIORITY)
    if body.print and not caller.may(Capability.PRINT):
        raise refuse(caller, Capability.PRINT)
    locale = request_locale(request)
    if caller.anonymous and not runtime.anonymous_tickets.take(ip).allowed:
        raise HTTPException(429, render("page.queue.too_many_tickets", locale=locale), headers={"Retry-After": "60"})
    wanted = body.model_copy(update={"print": caller.may(Capability.PRINT) if body.print is None else body.print})
    return _issue(runtime, wanted, "kiosk", None, caller.actor, locale, code)


@router.get("/api/v1/queue/tickets/{token}", response_model=TicketOut, summary="Tình trạng một số thứ tự")
def ticket_status(token: str, runtime: QueueDep) -> TicketOut:
    try:
        with runtime.database.session() as session:
            ticket = runtime.service.ticket(session, token)
            return TicketOut.of(ticket, runtime, runtime.service.people_ahead(session, ticket))
    except QueueError as exc:
        raise _refuse(exc) from exc


@router.get("/api/v1/queue/tickets/{token}/qr.svg", summary="Mã QR trang tình trạng số / QR code of the status page",
            responses={200: {"content": {"image/svg+xml": {}}}})
def ticket_qr(token: str, runtime: QueueDep) -> Response:
    """The QR code (SVG) of the ticket's status page, for the kiosk's ticket card; 404 for no such ticket."""
    import io

    import qrcode
    import qrcode.image.svg

    try:
        with runtime.database.session() as session:
            ticket = runtime.service.ticket(session, token)
    except QueueError as exc:
        raise _refuse(exc) from exc
    image = qrcode.make(runtime.status_url(ticket.token), image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = io.BytesIO()
    image.save(svg)
    return Response(svg.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/api/v1/queue/tickets/{token}/print", summary="In lại phiếu / print a ticket again")
def reprint(token: str, runtime: QueueDep, caller: MayPrint) -> dict:
    try:
        with runtime.database.session() as session:
            ticket = runtime.service.ticket(session, token)
            estimate = runtime.service.estimate_for(session, ticket)
    except QueueError as exc:
        raise _refuse(exc) from exc
    outcome = print_ticket(runtime.printer, TicketPrint(
        _center_name(runtime, ticket.center_code), ticket.label, ticket.service_name,
        ticket.issued_at.astimezone(runtime.config.zone), estimate.ahead, estimate.minutes,
        runtime.status_url(ticket.token), ticket.priority_name))
    if not outcome.printed and runtime.printer is not None:
        with runtime.database.session() as session:
            runtime.service.record(session, "print_failed", ticket, actor=caller.actor, message=outcome.message)
    return {"printed": outcome.printed, "print_message": outcome.message}


@router.get("/api/v1/queue/board", summary="Những số đang được mời / what the board shows")
def board_snapshot(runtime: QueueDep, caller: AnyCaller, center: CenterQuery = None) -> dict:
    code = _board_center(runtime, caller, center)
    with runtime.database.session() as session:
        return board_json(runtime.service.board(session, center=code))


@router.get("/api/v1/queue/stream", summary="Luồng sự kiện của bảng hiển thị (server-sent events)")
async def board_stream(request: Request, runtime: QueueDep, caller: AnyCaller,
                       center: CenterQuery = None) -> StreamingResponse:
    code = await run_in_threadpool(_board_center, runtime, caller, center)

    def snapshot() -> dict:
        with runtime.database.session() as session:
            return board_json(runtime.service.board(session, center=code))

    return _live_stream(request, runtime, snapshot, "board", with_id=True)


def _live_stream(request: Request, runtime, read: Callable[[], dict], event: str, *,
                 with_id: bool) -> StreamingResponse:
    """Server-sent events woken by the board's hub (:attr:`QueueRuntime.hub`): ``read()`` again on each
    wake-up (or every ``STREAM_POLL_S``), an ``event`` when its ``version`` changed, a ping otherwise;
    ends when the client leaves, after ``STREAM_MAX_S`` (the browser reconnects), or when ``read``
    finds nothing any more (:class:`QueueError`)."""

    async def events():
        wake = runtime.hub.subscribe()
        last = None
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_MAX_S
        try:
            yield "retry: 1000\n\n"
            while loop.time() < ends:
                try:
                    state = await run_in_threadpool(read)
                except QueueError:
                    return
                if state["version"] != last:
                    last = state["version"]
                    head = f"id: {last}\n" if with_id else ""
                    yield f"{head}event: {event}\ndata: {json.dumps(state, ensure_ascii=False)}\n\n"
                try:
                    await asyncio.wait_for(wake.wait(), timeout=STREAM_POLL_S)
                except TimeoutError:
                    yield ": ping\n\n"
                wake.clear()
                if await request.is_disconnected():
                    return
        finally:
            runtime.hub.unsubscribe(wake)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/api/v1/queue/voice/{label}.wav", summary="Tiếng gọi số (WAV) / the spoken call-out")
def voice(label: str, runtime: QueueDep, caller: MayVoice,
          counter: int | None = Query(None, ge=1, le=MAX_COUNTER), center: CenterQuery = None) -> Response:
    """The call-out of a number called today, for the board or staff only.

    Each synthesis costs a process and a file, so only what the hall may really hear is
    spoken: the label and counter of a ticket being called (or served) there right now.
    """
    label = label.upper()
    if not LABEL.match(label):
        raise HTTPException(404, "Số thứ tự không hợp lệ.")  # staff-facing (the board never shows it)
    if caller.device is not None:
        code = caller.device.center_code
    elif caller.principal is not None and not caller.principal.is_admin:
        with runtime.database.session() as session:
            code = staff_center(session, caller.principal.center_code)
    else:
        code = public_center(runtime, center)
    counter = _called_at(runtime, label, counter, code)
    try:
        audio = runtime.voice.say(spoken_call(label, counter))
    except VoiceError as exc:
        log.warning("voice unavailable: %s", exc)
        raise HTTPException(503, "Chưa có giọng đọc gọi số (espeak-ng chưa được cài).") from exc  # staff-facing
    return Response(audio, media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"})


def _called_at(runtime: QueueRuntime, label: str, counter: int | None, center: str) -> int:
    """The counter ``label`` is called at today in ``center`` (it must be ``counter`` when given), else 404."""
    try:
        with runtime.database.session() as session:
            if counter is not None and counter not in {c.number for c in runtime.service.counters(session, center)}:
                raise HTTPException(404, f"Không có quầy số {counter}.")  # staff-facing
            ticket = runtime.service.ticket_by_label(session, label, center=center)
    except QueueError as exc:
        raise _refuse(exc) from exc
    if ticket.status not in ACTIVE or ticket.counter_number is None:
        raise HTTPException(404, f"Số {label} hiện không được mời tới quầy nào.")  # staff-facing
    if counter is not None and ticket.counter_number != counter:
        raise HTTPException(404, f"Số {label} không được mời tới quầy số {counter}.")  # staff-facing
    return ticket.counter_number


# --- staff API ------------------------------------------------------------------------------

@router.post("/api/v1/queue/staff/tickets", response_model=IssueOut, summary="Cán bộ cấp số / staff issues a number")
def issue_by_staff(body: StaffIssueIn, runtime: QueueDep, scope: StaffScope = Depends(staff_scope)) -> IssueOut:
    return _issue(runtime, body, body.channel or "staff", body.sender_id, scope.actor, center=scope.home)


class PriorityIn(BaseModel):
    priority: str = Field("", max_length=32, description="mã nhóm ưu tiên; trống = thường")


@router.post("/api/v1/queue/tickets/{token}/priority", response_model=TicketOut,
             summary="Cán bộ xác nhận nhóm ưu tiên của một số đang chờ")
def set_priority(token: str, body: PriorityIn, runtime: QueueDep,
                 scope: StaffScope = Depends(staff_scope)) -> TicketOut:
    try:
        with runtime.database.session() as session:
            ticket = runtime.service.set_priority(session, token, body.priority, scope.actor, center=scope.center)
            ahead = runtime.service.people_ahead(session, ticket)
    except (QueueError, ValueError) as exc:
        raise _refuse(exc) from exc
    runtime.hub.publish()
    return TicketOut.of(ticket, runtime, ahead)


@router.get("/api/v1/queue/counters", response_model=list[CounterOut], summary="Các quầy và số đang phục vụ")
def list_counters(runtime: QueueDep, scope: StaffScope = Depends(staff_scope)) -> list[CounterOut]:
    """The counters of the staff member's centre (an admin: of every centre)."""
    with runtime.database.session() as session:
        return [CounterOut.of(c, runtime) for c in runtime.service.counters(session, scope.center)]


_OPERATIONS = {"recall", "start", "finish", "no-show", "pause", "resume"}


@router.post("/api/v1/queue/counters/{number}/call-next", response_model=CallOut, summary="Gọi số tiếp theo")
def call_next(number: int, runtime: QueueDep, scope: StaffScope = Depends(staff_scope)) -> CallOut:
    try:
        with runtime.database.session() as session:
            result = runtime.service.call_next(session, number, scope.actor, center=scope.center)
    except QueueError as exc:
        raise _refuse(exc) from exc
    runtime.hub.publish()
    runtime.wake_notifications()  # the called citizen is told at once
    message = result.announcement or "Hiện không còn ai chờ ở quầy này."  # staff-facing
    return CallOut(counter_number=number, ticket=TicketOut.of(result.ticket, runtime) if result.ticket else None,
                   previous=TicketOut.of(result.previous, runtime) if result.previous else None,
                   announcement=result.announcement, message=message)


@router.post("/api/v1/queue/counters/{number}/transfer", response_model=TicketOut, summary="Chuyển số sang dịch vụ/quầy khác")
def transfer(number: int, body: TransferIn, runtime: QueueDep,
             scope: StaffScope = Depends(staff_scope)) -> TicketOut:
    try:
        with runtime.database.session() as session:
            ticket = runtime.service.transfer(session, number, to_service=body.service.upper() if body.service else None,
                                              to_counter=body.counter, actor=scope.actor, center=scope.center)
    except QueueError as exc:
        raise _refuse(exc) from exc
    runtime.hub.publish()
    return TicketOut.of(ticket, runtime)


@router.post("/api/v1/queue/counters/{number}/{operation}", summary="Gọi lại, bắt đầu, xong, vắng mặt, tạm dừng, mở lại")
def counter_operation(number: int, operation: str, runtime: QueueDep,
                      scope: StaffScope = Depends(staff_scope)) -> dict:
    if operation not in _OPERATIONS:
        raise HTTPException(404, f"Thao tác không có: {operation} "  # staff-facing
                                 f"(dùng: {', '.join(sorted(_OPERATIONS))}).")
    service = runtime.service
    actor, center = scope.actor, scope.center
    try:
        with runtime.database.session() as session:
            if operation == "recall":
                result = service.recall(session, number, actor, center=center)
                body = {"ticket": TicketOut.of(result.ticket, runtime).model_dump(mode="json"),
                        "announcement": result.announcement, "message": result.announcement}
            elif operation in ("pause", "resume"):
                counter = (service.pause if operation == "pause" else service.resume)(session, number, actor, center)
                body = {"counter": CounterOut.of(counter, runtime).model_dump(mode="json"),
                        "message": f"{counter.name} "
                                   + ("tạm dừng." if operation == "pause" else "đã mở lại.")}  # staff-facing
            else:
                action = {"start": service.start, "finish": service.finish, "no-show": service.no_show}[operation]
                ticket = action(session, number, actor, center=center)
                body = {"ticket": TicketOut.of(ticket, runtime).model_dump(mode="json"),
                        "message": f"Số {ticket.label}: {ticket.status_text.lower()}."}  # staff-facing
    except QueueError as exc:
        raise _refuse(exc) from exc
    runtime.hub.publish()
    if operation == "recall":
        runtime.wake_notifications()  # the called citizen is told again at once
    return body


@router.put("/api/v1/queue/services/{code}", summary="Thêm/sửa dịch vụ / create or change a service")
def save_service(code: str, body: ServiceIn, runtime: QueueDep, actor: str = Depends(require_staff)) -> dict:
    try:
        config = ServiceConfig(code=nfc(code).upper(), prefix=nfc(body.prefix).upper(), name=nfc(body.name),
                               fields=tuple(nfc(f) for f in body.fields), minutes=body.minutes)
        with runtime.database.session() as session:
            row = runtime.service.save_service(session, config, body.active, body.position, actor)
            return {"code": row.code, "prefix": row.prefix, "name": row.name, "fields": row.fields,
                    "minutes": row.minutes, "active": row.active}
    except (QueueError, ValueError) as exc:
        raise _refuse(exc) from exc


@router.put("/api/v1/queue/counters/{number}", response_model=CounterOut, summary="Thêm/sửa quầy / create or change a counter")
def save_counter(number: int, body: CounterIn, runtime: QueueDep,
                 scope: StaffScope = Depends(staff_scope)) -> CounterOut:
    try:
        default_name = render("page.board.counter_default_name", number=number)  # shown on the board
        config = CounterConfig(number=number, name=nfc(body.name) or default_name,
                               services=tuple(nfc(s).upper() for s in body.services))
        with runtime.database.session() as session:
            counter = runtime.service.save_counter(session, config, scope.actor, center=scope.home)
    except (QueueError, ValueError) as exc:
        raise _refuse(exc) from exc
    runtime.hub.publish()
    return CounterOut.of(counter, runtime)


@router.get("/api/v1/queue/stats", summary="Thống kê trong ngày / statistics of a day")
def stats(runtime: QueueDep, day: date | None = None, scope: StaffScope = Depends(staff_scope)) -> list[dict]:
    """The day's figures of the staff member's centre (an admin: of every centre together)."""
    with runtime.database.session() as session:
        return [asdict(s) for s in runtime.service.stats(session, day, center=scope.center)]


@router.get("/api/v1/queue/alerts", summary="Sự cố trong ngày (máy in) / today's printer failures")
def alerts(runtime: QueueDep, scope: StaffScope = Depends(staff_scope)) -> list[dict]:
    with runtime.database.session() as session:
        return [{"kind": e.kind, "label": e.label, "at": e.at.isoformat(), "message": e.detail.get("message", "")}
                for e in runtime.service.events(session, kinds=("print_failed",), center=scope.center)]
