"""Dashboard figures for a center or a province, over a date range (Vietnam local days).

The four figures a center's director answers for come first (:func:`headline`): on-time rate
(dossiers finished by their due date), satisfaction (mean score of the ratings), waiting time
(issued → called, per service) and the share of questions the assistant answered itself — each
against the same number of days just before, with a daily trend (:func:`daily_trend`). The
period switch of the page asks for a day, 7 days or 30 days (:data:`PERIODS`).

``center`` is a centre's code (``centers.code``: the dossiers filed there, its queue, the ratings
given there, the questions written there — a kiosk's, a widget's, a Telegram link's) or empty for
every centre.

Each section reads its own tables with plain SQL and is ``None`` when those tables do not
exist yet (the page then says «chưa có dữ liệu»). Aggregation is done in Python over the
rows of the range, so SQLite and PostgreSQL give the same figures.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from statistics import mean
from typing import Any

from sqlalchemy import bindparam, inspect, text
from sqlalchemy.orm import Session

from motcua.dossiers.status import DossierStatus
from motcua.queue.models import TicketStatus

VIETNAM_TZ = timezone(timedelta(hours=7))
UNANSWERED_REASONS = ("busy", "empty", "fallback", "handoff")
DOSSIER_OPEN = (DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING)
"""Dossiers whose due date runs (a requested supplement stops the clock)."""
DOSSIER_DONE = (DossierStatus.COMPLETED, DossierStatus.RESULT_RETURNED)
STATUS_LABELS = {s.value: s.label for s in DossierStatus}


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if (self.end - self.start).days > 366:
            raise ValueError("a range is at most one year")

    @property
    def utc_bounds(self) -> tuple[datetime, datetime]:
        return _utc_bounds(self.start, self.end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> DateRange:
        """The same number of days just before this range (what the headline compares with)."""
        return DateRange(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


PERIODS = {"day": 1, "week": 7, "month": 30}
"""The page's period switch: the day, the 7 days or the 30 days that end on the chosen date."""
TREND_MIN_DAYS = 14
"""A day or a week alone shows no trend: the daily chart reaches back at least this many days."""


def period_range(kind: str, end: date) -> DateRange:
    """The range of a period of :data:`PERIODS` ending on ``end`` (inclusive)."""
    if kind not in PERIODS:
        raise ValueError(f"unknown period {kind!r}; expected one of {', '.join(PERIODS)}")
    return DateRange(end - timedelta(days=PERIODS[kind] - 1), end)


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    lower = datetime.combine(start, time(0), VIETNAM_TZ).astimezone(UTC)
    upper = datetime.combine(end + timedelta(days=1), time(0), VIETNAM_TZ).astimezone(UTC)
    return lower, upper


def local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite through text() gives strings back
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM_TZ)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(str(value)[:10])


def _minutes(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (local(later) - local(earlier)).total_seconds() / 60


def _avg(values: list[float]) -> float | None:
    return round(mean(values), 1) if values else None


@dataclass
class ChatbotFigures:
    conversations: int
    questions: int
    answered: int
    abstained: int  # busy, empty, fallback
    handed_over: int  # conversations handed to staff
    to_staff_messages: int  # citizen messages that went to the inbox
    unhelpful: int
    by_reason: dict[str, int]
    by_hour: list[int]  # questions per local hour 0..23
    by_day: list[dict[str, Any]]


@dataclass
class RatingFigures:
    count: int
    average: float | None
    distribution: list[int]  # 1..5 stars
    helpful: int
    unhelpful: int
    by_center: list[dict[str, Any]]


@dataclass
class DossierFigures:
    received: int
    by_status: list[dict[str, Any]]
    by_procedure: list[dict[str, Any]]
    finished: int
    on_time: int
    on_time_rate: float | None
    overdue: list[dict[str, Any]]
    by_center: list[dict[str, Any]]


@dataclass
class QueueFigures:
    issued: int
    served: int
    no_show: int
    mean_wait_min: float | None
    mean_service_min: float | None
    by_service: list[dict[str, Any]]
    by_counter: list[dict[str, Any]]
    by_hour: list[dict[str, Any]]  # per service and hour: issued, mean wait, mean service
    hours: list[int]


@dataclass
class Dashboard:
    start: date
    end: date
    center: str
    chatbot: ChatbotFigures
    ratings: RatingFigures
    dossiers: DossierFigures | None
    queue: QueueFigures | None
    missing: list[str] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)
    trend: list[dict[str, Any]] = field(default_factory=list)
    payments: dict[str, Any] | None = None  # online (VietQR) vs cash: motcua.payments.figures

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data


def _bounds(session: Session, period: DateRange) -> tuple[Any, Any]:
    """The range's UTC bounds as the database compares them (SQLite keeps UTC wall-clock text)."""
    return _span_bounds(session, period.start, period.end)


def _span_bounds(session: Session, start: date, end: date) -> tuple[Any, Any]:
    lower, upper = _utc_bounds(start, end)
    if session.get_bind().dialect.name == "sqlite":
        return tuple(m.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") for m in (lower, upper))
    return lower, upper


def _has_tables(session: Session, *names: str) -> bool:
    inspector = inspect(session.connection())
    return all(inspector.has_table(name) for name in names)


def build_dashboard(session: Session, period: DateRange, center: str = "", today: date | None = None) -> Dashboard:
    today = today or datetime.now(VIETNAM_TZ).date()
    missing: list[str] = []
    dossiers = None
    if _has_tables(session, "dossiers", "dossier_status_changes"):
        dossiers = dossier_figures(session, period, center, min(today, period.end))
    else:
        missing.append("dossiers")
    queue = None
    if _has_tables(session, "queue_tickets", "queue_services"):
        queue = queue_figures(session, period, center)
    else:
        missing.append("queue")
    first = min(period.previous().start, _trend_start(period))
    days = day_figures(session, first, period.end, center, dossiers=dossiers is not None, queue=queue is not None)
    names = _service_names(session) if queue is not None else {}
    payments = None
    if _has_tables(session, "dossiers", "dossier_payments"):
        from motcua.payments.figures import payment_figures

        payments = payment_figures(session, period.start, period.end, center, trend_start=_trend_start(period))
    return Dashboard(period.start, period.end, center, chatbot_figures(session, period, center),
                     rating_figures(session, period, center), dossiers, queue, missing,
                     headline(days, period, names, missing), daily_trend(days, period), payments)


def _of_center(center: str) -> str:
    """The SQL condition keeping a conversation table's rows of ``center`` (none: every centre)."""
    return " AND center_code = :center" if center else ""


def chatbot_figures(session: Session, period: DateRange, center: str = "") -> ChatbotFigures:
    lower, upper = _bounds(session, period)
    span = {"lower": lower, "upper": upper, "center": center}
    where = _of_center(center)
    rows = session.execute(text(
        "SELECT sender_id, outcome, created_at FROM conversation_messages "
        "WHERE direction = 'in' AND created_at >= :lower AND created_at < :upper" + where), span).all()
    to_bot = [r for r in rows if r.outcome != "handoff"]
    by_hour = [0] * 24
    by_day: Counter[date] = Counter()
    for row in to_bot:
        moment = local(row.created_at)
        by_hour[moment.hour] += 1
        by_day[moment.date()] += 1
    reasons = Counter(r for (r,) in session.execute(text(
        "SELECT reason FROM unanswered_questions WHERE created_at >= :lower AND created_at < :upper" + where), span))
    handed = session.execute(text(
        "SELECT count(*) FROM handoff_conversations WHERE created_at >= :lower AND created_at < :upper" + where),
        span).scalar() or 0
    abstained = reasons["busy"] + reasons["empty"] + reasons["fallback"]
    answered = max(0, len(to_bot) - abstained - reasons["handoff"])
    days = [{"day": d.isoformat(), "questions": n} for d, n in sorted(by_day.items())]
    return ChatbotFigures(len({r.sender_id for r in rows}), len(to_bot), answered, abstained, handed,
                          len(rows) - len(to_bot), reasons["unhelpful"],
                          {k: reasons[k] for k in (*UNANSWERED_REASONS, "unhelpful")}, by_hour, days)


def _ratings(session: Session, sql: str, params: dict[str, Any], center: str) -> Any:
    """The rows of ``sql`` (a query of ``ratings`` ending in its WHERE clause), kept to ``center``'s ratings
    when one is named: those holding the centre's code, or (ratings from before centres) its agency code."""
    if not center:
        return session.execute(text(sql), params)
    agency = session.execute(text("SELECT agency_code FROM centers WHERE code = :code"), {"code": center}).scalar() \
        if _has_tables(session, "centers") else None
    query = text(sql + " AND center_code IN :centers").bindparams(bindparam("centers", expanding=True))
    return session.execute(query, {**params, "centers": [center, agency] if agency else [center]})


def rating_figures(session: Session, period: DateRange, center: str = "") -> RatingFigures:
    lower, upper = _bounds(session, period)
    sql = "SELECT kind, score, helpful, center_code FROM ratings WHERE created_at >= :lower AND created_at < :upper"
    rows = _ratings(session, sql, {"lower": lower, "upper": upper}, center).all()
    scores = [r.score for r in rows if r.score is not None]
    distribution = [sum(1 for s in scores if s == star) for star in range(1, 6)]
    per_center: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.score is not None:
            per_center[row.center_code or "—"].append(row.score)
    by_center = [{"center": c, "count": len(v), "average": _avg(v)} for c, v in sorted(per_center.items())]
    helpful = sum(1 for r in rows if r.helpful is not None and bool(r.helpful))
    unhelpful = sum(1 for r in rows if r.helpful is not None and not r.helpful)
    return RatingFigures(len(scores), round(mean(scores), 2) if scores else None, distribution, helpful, unhelpful,
                         by_center)


def dossier_figures(session: Session, period: DateRange, center: str, as_of: date) -> DossierFigures:
    lower, upper = _bounds(session, period)
    where, params = "", {"lower": lower, "upper": upper}
    if center:
        where = " AND center_code = :center"
        params["center"] = center
    received = session.execute(text(
        "SELECT id, code, center_code, procedure_code, procedure_name, status FROM dossiers "
        "WHERE received_at >= :lower AND received_at < :upper" + where), params).all()
    by_status = Counter(r.status for r in received)
    by_procedure: dict[str, dict[str, Any]] = {}
    per_center: Counter[str] = Counter()
    for row in received:
        entry = by_procedure.setdefault(row.procedure_code, {"procedure_code": row.procedure_code,
                                                             "procedure_name": row.procedure_name, "count": 0})
        entry["count"] += 1
        per_center[row.center_code] += 1
    finished = _finished_dossiers(session, center, *period.utc_bounds)
    on_time = sum(1 for due, done in finished if _on_time(due, done))
    overdue_rows = session.execute(text(
        "SELECT code, center_code, procedure_code, procedure_name, applicant_name, status, received_at, due_date "
        "FROM dossiers WHERE status IN :open AND due_date IS NOT NULL AND due_date < :as_of" + where +
        " ORDER BY due_date, code").bindparams(bindparam("open", expanding=True)),
        {**params, "open": [s.value for s in DOSSIER_OPEN], "as_of": as_of}).all()
    overdue = [{"code": r.code, "procedure_code": r.procedure_code, "procedure_name": r.procedure_name,
                "applicant_name": r.applicant_name, "status": r.status,
                "status_label": STATUS_LABELS.get(r.status, r.status), "due_date": _day(r.due_date).isoformat(),
                "days_late": (as_of - _day(r.due_date)).days, "center": r.center_code} for r in overdue_rows]
    return DossierFigures(
        len(received),
        [{"status": s, "label": STATUS_LABELS.get(s, s), "count": n} for s, n in sorted(by_status.items())],
        sorted(by_procedure.values(), key=lambda e: (-e["count"], e["procedure_code"])),
        len(finished), on_time, round(on_time / len(finished), 4) if finished else None, overdue,
        [{"center": c, "received": n} for c, n in sorted(per_center.items())])


def _finished_dossiers(session: Session, center: str, first: datetime, last: datetime
                       ) -> list[tuple[date | None, datetime]]:
    """(due date, local moment) of the dossiers finished in [first, last): the first change to
    "completed" (or straight to "result_returned")."""
    where, params = "", {}
    if center:
        where = " AND d.center_code = :center"
        params["center"] = center
    rows = session.execute(text(
        "SELECT d.id, d.due_date, min(c.created_at) AS done_at FROM dossiers d "
        "JOIN dossier_status_changes c ON c.dossier_id = d.id "
        "WHERE c.to_status IN :done" + where +
        " GROUP BY d.id, d.due_date").bindparams(bindparam("done", expanding=True)),
        {**params, "done": [s.value for s in DOSSIER_DONE]}).all()
    finished = [(_day(r.due_date), local(r.done_at)) for r in rows]
    return [(due, done) for due, done in finished if done is not None and first <= done < last]


def _on_time(due: date | None, done: datetime) -> bool:
    """Returned by the appointment date (a dossier without one is on time)."""
    return due is None or done.date() <= due


def _service_names(session: Session) -> dict[str, str]:
    return dict(session.execute(text("SELECT code, name FROM queue_services")).all())


def queue_figures(session: Session, period: DateRange, center: str = "") -> QueueFigures:
    names = _service_names(session)
    where = " AND center_code = :center" if center else ""
    rows = session.execute(text(
        "SELECT service_code, issued_service, counter_number, status, issued_at, called_at, started_at, finished_at "
        "FROM queue_tickets WHERE day >= :start AND day <= :end" + where),
        {"start": period.start, "end": period.end, "center": center}).all()
    waits: dict[str, list[float]] = defaultdict(list)
    services: dict[str, list[float]] = defaultdict(list)
    counter_service: dict[int, list[float]] = defaultdict(list)
    counter_served: Counter[int] = Counter()
    issued: Counter[str] = Counter()
    served: Counter[str] = Counter()
    no_show: Counter[str] = Counter()
    hour_issued: Counter[tuple[str, int]] = Counter()
    hour_wait: dict[tuple[str, int], list[float]] = defaultdict(list)
    hour_service: dict[tuple[str, int], list[float]] = defaultdict(list)
    for row in rows:
        code = row.service_code
        hour = local(row.issued_at).hour
        issued[code] += 1
        hour_issued[(code, hour)] += 1
        wait = _minutes(row.called_at, row.issued_at)
        if wait is not None:
            waits[code].append(wait)
            hour_wait[(code, hour)].append(wait)
        if row.status == TicketStatus.NO_SHOW:
            no_show[code] += 1
        if row.status == TicketStatus.DONE:
            served[code] += 1
            if row.counter_number is not None:
                counter_served[row.counter_number] += 1
            spent = _minutes(row.finished_at, row.started_at)
            if spent is not None:
                services[code].append(spent)
                hour_service[(code, hour)].append(spent)
                if row.counter_number is not None:
                    counter_service[row.counter_number].append(spent)
    codes = sorted(issued)
    by_service = [{"service_code": c, "service_name": names.get(c, c), "issued": issued[c], "served": served[c],
                   "no_show": no_show[c], "mean_wait_min": _avg(waits[c]), "mean_service_min": _avg(services[c])}
                  for c in codes]
    counter_names = dict(session.execute(text("SELECT number, name FROM queue_counters"
                                              + (" WHERE center_code = :center" if center else "")),
                                         {"center": center}).all()) \
        if _has_tables(session, "queue_counters") else {}
    by_counter = [{"counter": n, "counter_name": counter_names.get(n, f"Quầy {n}"), "served": counter_served[n],
                   "mean_service_min": _avg(counter_service[n])} for n in sorted(counter_served)]
    hours = sorted({h for (_, h) in hour_issued})
    by_hour = [{"service_code": c, "service_name": names.get(c, c), "hour": h, "issued": hour_issued[(c, h)],
                "mean_wait_min": _avg(hour_wait[(c, h)]), "mean_service_min": _avg(hour_service[(c, h)])}
               for c in codes for h in hours if hour_issued[(c, h)]]
    all_waits = [w for values in waits.values() for w in values]
    all_services = [s for values in services.values() for s in values]
    return QueueFigures(sum(issued.values()), sum(served.values()), sum(no_show.values()), _avg(all_waits),
                        _avg(all_services), by_service, by_counter, by_hour, hours)


# --- headline and daily trend ----------------------------------------------------------------------

@dataclass
class DayFigures:
    """The sums of one local day behind the headline figures (summed over a range, they give them)."""
    questions: int = 0  # citizen messages to the assistant (not those typed to staff)
    not_answered: int = 0  # of those: abstained (busy, empty, fallback) or handed to staff
    scores: list[int] = field(default_factory=list)
    finished: int = 0
    on_time: int = 0
    waits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # per service, minutes


def _trend_start(period: DateRange) -> date:
    return min(period.start, period.end - timedelta(days=TREND_MIN_DAYS - 1))


def day_figures(session: Session, start: date, end: date, center: str = "", *, dossiers: bool = True,
                queue: bool = True) -> dict[date, DayFigures]:
    """One :class:`DayFigures` per local day from ``start`` to ``end`` (inclusive; any length)."""
    days = {start + timedelta(days=i): DayFigures() for i in range((end - start).days + 1)}
    lower, upper = _span_bounds(session, start, end)
    span = {"lower": lower, "upper": upper}

    def bucket(moment: Any) -> DayFigures | None:
        moment = local(moment)
        return days.get(moment.date()) if moment is not None else None

    mine = {**span, "center": center}
    for (created_at,) in session.execute(text(
            "SELECT created_at FROM conversation_messages WHERE direction = 'in' "
            "AND (outcome IS NULL OR outcome != 'handoff') "
            "AND created_at >= :lower AND created_at < :upper" + _of_center(center)), mine):
        if (day := bucket(created_at)) is not None:
            day.questions += 1
    for (created_at,) in session.execute(text(
            "SELECT created_at FROM unanswered_questions WHERE reason IN :reasons "
            "AND created_at >= :lower AND created_at < :upper" + _of_center(center))
            .bindparams(bindparam("reasons", expanding=True)), {**mine, "reasons": list(UNANSWERED_REASONS)}):
        if (day := bucket(created_at)) is not None:
            day.not_answered += 1
    sql = "SELECT score, created_at FROM ratings WHERE score IS NOT NULL AND created_at >= :lower AND created_at < :upper"
    for score, created_at in _ratings(session, sql, dict(span), center):
        if (day := bucket(created_at)) is not None:
            day.scores.append(score)
    if dossiers:
        for due, done in _finished_dossiers(session, center, *_utc_bounds(start, end)):
            if (day := days.get(done.date())) is not None:
                day.finished += 1
                day.on_time += _on_time(due, done)
    if queue:
        for row in session.execute(text(
                "SELECT service_code, day, issued_at, called_at FROM queue_tickets "
                "WHERE day >= :start AND day <= :end AND called_at IS NOT NULL"
                + (" AND center_code = :center" if center else "")), {"start": start, "end": end, "center": center}):
            wait = _minutes(row.called_at, row.issued_at)
            if wait is not None and (ticket_day := _day(row.day)) in days:
                days[ticket_day].waits[row.service_code].append(wait)
    return days


def _sum(days: list[DayFigures]) -> DayFigures:
    total = DayFigures()
    for day in days:
        total.questions += day.questions
        total.not_answered += day.not_answered
        total.scores += day.scores
        total.finished += day.finished
        total.on_time += day.on_time
        for code, waits in day.waits.items():
            total.waits[code] += waits
    return total


def _answered(figures: DayFigures) -> int:
    return max(0, figures.questions - figures.not_answered)


def _values(figures: DayFigures) -> dict[str, Any]:
    """The four headline values of a day or a range (None where there is nothing to measure)."""
    all_waits = [w for waits in figures.waits.values() for w in waits]
    return {
        "on_time_rate": round(figures.on_time / figures.finished, 4) if figures.finished else None,
        "satisfaction": round(mean(figures.scores), 2) if figures.scores else None,
        "wait_min": _avg(all_waits),
        "answered_share": round(_answered(figures) / figures.questions, 4) if figures.questions else None,
    }


LOWER_IS_BETTER = frozenset({"wait_min"})


def _compare(key: str, value: float | None, previous: float | None, count: int, previous_count: int) -> dict[str, Any]:
    change = None if value is None or previous is None else round(value - previous, 4)
    better = None if not change else (change < 0) == (key in LOWER_IS_BETTER)
    return {"value": value, "previous": previous, "change": change, "better": better, "count": count,
            "previous_count": previous_count}


def headline(days: dict[date, DayFigures], period: DateRange, service_names: dict[str, str] | None = None,
             missing: list[str] | None = None) -> dict[str, Any]:
    """The four figures of ``period`` against the range of the same length just before.

    ``change`` is the difference (a rate in parts of one, so 0.05 is five percentage points;
    minutes; score points) and ``better`` says whether it went the right way (None: no change or
    nothing to compare). ``count`` is what the figure is measured over: finished dossiers,
    ratings, called tickets, questions to the assistant.
    """
    previous = period.previous()
    now = _sum([f for d, f in days.items() if period.start <= d <= period.end])
    before = _sum([f for d, f in days.items() if previous.start <= d <= previous.end])
    values, old = _values(now), _values(before)
    counts = {"on_time_rate": (now.finished, before.finished), "satisfaction": (len(now.scores), len(before.scores)),
              "wait_min": (sum(map(len, now.waits.values())), sum(map(len, before.waits.values()))),
              "answered_share": (now.questions, before.questions)}
    figures = {key: _compare(key, values[key], old[key], *counts[key]) for key in values}
    names = service_names or {}
    figures["wait_min"]["by_service"] = [
        {"service_code": code, "service_name": names.get(code, code),
         **_compare("wait_min", _avg(now.waits.get(code, [])), _avg(before.waits.get(code, [])),
                    len(now.waits.get(code, [])), len(before.waits.get(code, [])))}
        for code in sorted(set(now.waits) | set(before.waits))]
    for key, section in (("on_time_rate", "dossiers"), ("wait_min", "queue")):
        figures[key]["available"] = section not in (missing or [])
    for key in ("satisfaction", "answered_share"):
        figures[key]["available"] = True
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), "days": period.days,
            "previous_start": previous.start.isoformat(), "previous_end": previous.end.isoformat(), **figures}


def daily_trend(days: dict[date, DayFigures], period: DateRange) -> list[dict[str, Any]]:
    """One row per day, from at least :data:`TREND_MIN_DAYS` days back to the range's end;
    ``in_range`` marks the days of the range itself."""
    rows = []
    for day in sorted(d for d in days if _trend_start(period) <= d <= period.end):
        figures = days[day]
        rows.append({"day": day.isoformat(), "in_range": period.start <= day <= period.end,
                     "questions": figures.questions, "answered": _answered(figures), "ratings": len(figures.scores),
                     "finished": figures.finished, "on_time": figures.on_time,
                     "called": sum(map(len, figures.waits.values())), **_values(figures)})
    return rows


# --- CSV -----------------------------------------------------------------------------------------

HEADLINE_LABELS = {"on_time_rate": "Tỷ lệ hồ sơ đúng hạn", "satisfaction": "Mức hài lòng (điểm TB 1–5)",
                   "wait_min": "Thời gian chờ TB (phút)", "answered_share": "Tỷ lệ câu hỏi trợ lý tự trả lời"}

SECTIONS = ("headline", "trend", "chatbot", "ratings", "dossiers_status", "dossiers_procedure", "overdue", "queue_services",
            "queue_counters", "queue_hours")


def csv_rows(dashboard: Dashboard, section: str) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of one section (Vietnamese column names)."""
    c, r, d, q = dashboard.chatbot, dashboard.ratings, dashboard.dossiers, dashboard.queue
    if section == "headline":
        h = dashboard.headline
        rows = [[HEADLINE_LABELS[k], h[k]["value"], h[k]["previous"], h[k]["change"], h[k]["count"]]
                for k in HEADLINE_LABELS]
        rows += [[f"Chờ TB (phút) — {e['service_name']}", e["value"], e["previous"], e["change"], e["count"]]
                 for e in h["wait_min"]["by_service"]]
        return ["chỉ số", f"kỳ này ({h['start']} – {h['end']})",
                f"kỳ trước ({h['previous_start']} – {h['previous_end']})", "thay đổi", "tính trên"], rows
    if section == "trend":
        return (["ngày", "câu hỏi tới trợ lý", "trợ lý tự trả lời", "tỷ lệ tự trả lời", "lượt chấm điểm",
                 "điểm TB", "hồ sơ giải quyết xong", "đúng hạn", "tỷ lệ đúng hạn", "lượt gọi số", "chờ TB (phút)"],
                [[e["day"], e["questions"], e["answered"], e["answered_share"], e["ratings"], e["satisfaction"],
                  e["finished"], e["on_time"], e["on_time_rate"], e["called"], e["wait_min"]]
                 for e in dashboard.trend])
    if section == "chatbot":
        return (["chỉ số", "giá trị"],
                [["Cuộc trò chuyện", c.conversations], ["Câu hỏi tới trợ lý", c.questions],
                 ["Đã trả lời", c.answered], ["Chưa trả lời được", c.abstained],
                 ["Chuyển cán bộ (cuộc)", c.handed_over], ["Tin nhắn gửi cán bộ", c.to_staff_messages],
                 ["Bị đánh giá chưa hữu ích", c.unhelpful]]
                + [[f"Câu hỏi lúc {h:02d} giờ", n] for h, n in enumerate(c.by_hour)])
    if section == "ratings":
        return (["chỉ số", "giá trị"],
                [["Số lượt đánh giá", r.count], ["Điểm trung bình", r.average], ["Hữu ích", r.helpful],
                 ["Chưa hữu ích", r.unhelpful]] + [[f"{i} sao", n] for i, n in enumerate(r.distribution, 1)])
    if section in ("dossiers_status", "dossiers_procedure", "overdue"):
        if d is None:
            return ["ghi chú"], [["chưa có dữ liệu"]]
        if section == "dossiers_status":
            return ["trạng thái", "tên", "số hồ sơ"], [[e["status"], e["label"], e["count"]] for e in d.by_status]
        if section == "dossiers_procedure":
            return (["mã thủ tục", "tên thủ tục", "số hồ sơ"],
                    [[e["procedure_code"], e["procedure_name"], e["count"]] for e in d.by_procedure])
        return (["mã hồ sơ", "thủ tục", "người nộp", "trạng thái", "hạn trả", "số ngày quá hạn"],
                [[e["code"], e["procedure_name"], e["applicant_name"], e["status_label"], e["due_date"],
                  e["days_late"]] for e in d.overdue])
    if section.startswith("queue_"):
        if q is None:
            return ["ghi chú"], [["chưa có dữ liệu"]]
        if section == "queue_services":
            return (["dịch vụ", "tên", "số đã cấp", "đã phục vụ", "vắng mặt", "chờ TB (phút)", "phục vụ TB (phút)"],
                    [[e["service_code"], e["service_name"], e["issued"], e["served"], e["no_show"],
                      e["mean_wait_min"], e["mean_service_min"]] for e in q.by_service])
        if section == "queue_counters":
            return (["quầy", "tên", "đã phục vụ", "phục vụ TB (phút)"],
                    [[e["counter"], e["counter_name"], e["served"], e["mean_service_min"]] for e in q.by_counter])
        if section == "queue_hours":
            return (["dịch vụ", "giờ", "số đã cấp", "chờ TB (phút)", "phục vụ TB (phút)"],
                    [[e["service_code"], e["hour"], e["issued"], e["mean_wait_min"], e["mean_service_min"]]
                     for e in q.by_hour])
    raise ValueError(f"unknown section {section!r}; expected one of {SECTIONS}")


def to_csv(dashboard: Dashboard, section: str = "all") -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for name in (SECTIONS if section == "all" else (section,)):
        header, rows = csv_rows(dashboard, name)
        if section == "all":
            writer.writerow([f"# {name}", f"{dashboard.start.isoformat()} – {dashboard.end.isoformat()}"])
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        if section == "all":
            writer.writerow([])
    return "\ufeff" + out.getvalue()  # BOM: Excel opens UTF-8 Vietnamese correctly
