"""Working days and due dates (ngày hẹn trả kết quả) for dossiers. Plain Python.

Rules, with their sources:

- Weekly rest days are Saturday and Sunday for state agencies.
- Public holidays (Bộ luật Lao động 2019, Điều 112): 1/1 dương lịch; Tết Âm lịch, 5 days;
  30/4; 1/5; 2/9 and one day before or after it; Giỗ Tổ Hùng Vương, 10/3 âm lịch.
  When a holiday falls on a weekly rest day, the next working day is off instead
  (Điều 111 khoản 3).
- Which days exactly are off for Tết and around 2/9 is announced by the Government each
  year, sometimes with swapped working days; ``knowledge_base/holidays.yaml`` records
  those announcements per year and they replace the default rule for that holiday.
- The processing time runs from the moment the dossier is received in full
  (Nghị định 118/2025/NĐ-CP, Điều 17 khoản 3); a dossier received after 15 giờ, or on a
  day off, counts from the start of the next working day (same Nghị định, Điều 18 khoản 2;
  Luật Hộ tịch 2014, Điều 5 khoản 3; Nghị định 23/2015/NĐ-CP, Điều 7). Deadlines in days
  are counted in office hours (8 per day), so "3 ngày làm việc" from Tuesday 10:00 ends
  Friday 10:00, and from Friday after 15:00 ends on Wednesday evening. Deadlines in hours
  ("08 giờ làm việc", Điều 17 khoản 2 điểm c) run from the moment of receipt.

Lunar dates are converted with Hồ Ngọc Đức's algorithm for the Vietnamese calendar,
computed at UTC+7 (it differs from the Chinese calendar, computed at UTC+8, in some years:
Tết 1985 fell on 21/1 in Viet Nam and 20/2 in China).

Public API: :func:`lunar_to_solar`, :func:`solar_to_lunar`, :class:`HolidayCalendar`
(``HolidayCalendar.load()``), :class:`OfficeHours`, :func:`add_working_days`,
:func:`add_working_hours`, :func:`compute_due_date`.
"""

from __future__ import annotations

import calendar as _calendar
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEFAULT_CUTOFF",
    "HOLIDAYS_FILE",
    "HolidayCalendar",
    "HolidayRule",
    "LunarDate",
    "OfficeHours",
    "YearOverride",
    "add_working_days",
    "add_working_hours",
    "compute_due_date",
    "lunar_to_solar",
    "solar_to_lunar",
]

VIETNAM_TZ = timezone(timedelta(hours=7))
VIETNAM_UTC_OFFSET = 7
DEFAULT_CUTOFF = time(15, 0)
HOLIDAYS_FILE = Path(__file__).resolve().parents[1] / "knowledge_base" / "holidays.yaml"

# --- the Vietnamese lunar calendar (Hồ Ngọc Đức) -----------------------------------------

_JD_OFFSET = 1721425  # Julian day number of date.fromordinal(1) minus 1


def _jd(day: date) -> int:
    return day.toordinal() + _JD_OFFSET


def _from_jd(jd: int) -> date:
    return date.fromordinal(jd - _JD_OFFSET)


def _new_moon(k: int) -> float:
    """Julian date of the k-th new moon after 1/1/1900 13:52 UCT (Meeus' approximation)."""
    t = k / 1236.85
    t2, t3 = t * t, t * t * t
    dr = math.pi / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3
    c1 = (0.1734 - 0.000393 * t) * math.sin(m * dr) + 0.0021 * math.sin(2 * dr * m)
    c1 = c1 - 0.4068 * math.sin(mpr * dr) + 0.0161 * math.sin(dr * 2 * mpr)
    c1 = c1 - 0.0004 * math.sin(dr * 3 * mpr)
    c1 = c1 + 0.0104 * math.sin(dr * 2 * f) - 0.0051 * math.sin(dr * (m + mpr))
    c1 = c1 - 0.0074 * math.sin(dr * (m - mpr)) + 0.0004 * math.sin(dr * (2 * f + m))
    c1 = c1 - 0.0004 * math.sin(dr * (2 * f - m)) - 0.0006 * math.sin(dr * (2 * f + mpr))
    c1 = c1 + 0.0010 * math.sin(dr * (2 * f - mpr)) + 0.0005 * math.sin(dr * (2 * mpr + m))
    if t < -11:
        delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - delta_t


def _sun_longitude(jdn: float) -> float:
    """The sun's apparent longitude in radians, in [0, 2π), at Julian date ``jdn``."""
    t = (jdn - 2451545.0) / 36525
    t2 = t * t
    dr = math.pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(dr * m)
    dl += (0.019993 - 0.000101 * t) * math.sin(dr * 2 * m) + 0.000290 * math.sin(dr * 3 * m)
    longitude = (l0 + dl) * dr
    return longitude - 2 * math.pi * math.floor(longitude / (2 * math.pi))


def _new_moon_day(k: int, tz: int) -> int:
    return math.floor(_new_moon(k) + 0.5 + tz / 24)


def _sun_sector(day_number: int, tz: int) -> int:
    """Which of the 12 thirty-degree sectors the sun is in at the start of the local day."""
    return math.floor(_sun_longitude(day_number - 0.5 - tz / 24) / math.pi * 6)


def _lunar_month_11(year: int, tz: int) -> int:
    """Julian day number of the first day of lunar month 11 (the month holding the winter solstice)."""
    offset = _jd(date(year, 12, 31)) - 2415021
    k = math.floor(offset / 29.530588853)
    new_moon = _new_moon_day(k, tz)
    if _sun_sector(new_moon, tz) >= 9:
        new_moon = _new_moon_day(k - 1, tz)
    return new_moon


def _leap_month_offset(a11: int, tz: int) -> int:
    k = math.floor((a11 - 2415021.076998695) / 29.530588853 + 0.5)
    i = 1
    arc = _sun_sector(_new_moon_day(k + i, tz), tz)
    while True:
        last = arc
        i += 1
        arc = _sun_sector(_new_moon_day(k + i, tz), tz)
        if arc == last or i >= 14:
            break
    return i - 1


@dataclass(frozen=True)
class LunarDate:
    day: int
    month: int
    year: int
    leap: bool = False


def solar_to_lunar(day: date, tz: int = VIETNAM_UTC_OFFSET) -> LunarDate:
    """The Vietnamese lunar date of a Gregorian ``day``."""
    day_number = _jd(day)
    k = math.floor((day_number - 2415021.076998695) / 29.530588853)
    month_start = _new_moon_day(k + 1, tz)
    if month_start > day_number:
        month_start = _new_moon_day(k, tz)
    a11 = _lunar_month_11(day.year, tz)
    b11 = a11
    if a11 >= month_start:
        lunar_year = day.year
        a11 = _lunar_month_11(day.year - 1, tz)
    else:
        lunar_year = day.year + 1
        b11 = _lunar_month_11(day.year + 1, tz)
    lunar_day = day_number - month_start + 1
    diff = math.floor((month_start - a11) / 29)
    leap = False
    lunar_month = diff + 11
    if b11 - a11 > 365:
        leap_diff = _leap_month_offset(a11, tz)
        if diff >= leap_diff:
            lunar_month = diff + 10
            leap = diff == leap_diff
    if lunar_month > 12:
        lunar_month -= 12
    if lunar_month >= 11 and diff < 4:
        lunar_year -= 1
    return LunarDate(lunar_day, lunar_month, lunar_year, leap)


def lunar_to_solar(day: int, month: int, year: int, leap: bool = False, tz: int = VIETNAM_UTC_OFFSET) -> date:
    """The Gregorian date of a Vietnamese lunar date; ``ValueError`` if it does not exist."""
    if not (1 <= month <= 12 and 1 <= day <= 30):
        raise ValueError(f"no lunar date {day}/{month}/{year}")
    if month < 11:
        a11 = _lunar_month_11(year - 1, tz)
        b11 = _lunar_month_11(year, tz)
    else:
        a11 = _lunar_month_11(year, tz)
        b11 = _lunar_month_11(year + 1, tz)
    k = math.floor(0.5 + (a11 - 2415021.076998695) / 29.530588853)
    offset = month - 11
    if offset < 0:
        offset += 12
    if b11 - a11 > 365:
        leap_offset = _leap_month_offset(a11, tz)
        leap_month = leap_offset - 2
        if leap_month < 0:
            leap_month += 12
        if leap and month != leap_month:
            raise ValueError(f"lunar year {year} has no leap month {month}")
        if leap or offset >= leap_offset:
            offset += 1
    elif leap:
        raise ValueError(f"lunar year {year} has no leap month")
    month_start = _new_moon_day(k + offset, tz)
    result = _from_jd(month_start + day - 1)
    if solar_to_lunar(result, tz) != LunarDate(day, month, year, leap):
        raise ValueError(f"lunar month {month}/{year} has no day {day}")
    return result


# --- holiday calendar ---------------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class HolidayRule:
    """One public holiday as the law defines it, before the Government's yearly decisions.

    ``kind`` is ``solar`` or ``lunar`` (``month``/``day`` in that calendar), ``days_before``
    and ``days_after`` widen it (Tết: the last day of the old year and 4 days of the new);
    ``adjacent_day`` (``auto``, ``before`` or ``after``) adds the extra day 2/9 has.
    """

    key: str
    name: str
    kind: str
    month: int
    day: int
    days_before: int = 0
    days_after: int = 0
    adjacent_day: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("solar", "lunar"):
            raise ValueError(f"holiday {self.key!r}: kind must be 'solar' or 'lunar', got {self.kind!r}")
        if self.adjacent_day not in (None, "auto", "before", "after"):
            raise ValueError(f"holiday {self.key!r}: adjacent_day must be auto, before or after")
        if self.days_before < 0 or self.days_after < 0:
            raise ValueError(f"holiday {self.key!r}: days_before/days_after must not be negative")

    def dates(self, year: int) -> list[date]:
        """The holiday's days in Gregorian ``year`` (before weekend compensation)."""
        if self.kind == "solar":
            anchor = date(year, self.month, self.day)
        else:
            anchor = lunar_to_solar(self.day, self.month, year)
        days = [anchor + timedelta(days=i) for i in range(-self.days_before, self.days_after + 1)]
        if self.adjacent_day:
            side = self.adjacent_day
            if side == "auto":
                # Make the longest break: the day that touches a weekend, as decided in
                # 2021–2025 (Thursday→Friday, Monday→Tuesday, Tuesday→Monday, Friday→Thursday).
                side = "after" if anchor.weekday() in (0, 2, 3) else "before"
            days.append(anchor + timedelta(days=1 if side == "after" else -1))
        return sorted(days)


@dataclass(frozen=True)
class YearOverride:
    """The Government's announcement for one year.

    ``holidays`` maps a rule key to the days actually off for it (replacing the rule and its
    compensation days), ``extra_days_off`` adds days, ``working_days`` makes weekend days
    working days (ngày làm bù).
    """

    holidays: Mapping[str, tuple[date, ...]] = field(default_factory=dict)
    extra_days_off: tuple[date, ...] = ()
    working_days: tuple[date, ...] = ()
    note: str = ""


DEFAULT_RULES: tuple[HolidayRule, ...] = (
    HolidayRule("new_year", "Tết Dương lịch", "solar", 1, 1),
    HolidayRule("tet", "Tết Âm lịch", "lunar", 1, 1, days_before=1, days_after=3),
    HolidayRule("hung_kings", "Giỗ Tổ Hùng Vương", "lunar", 3, 10),
    HolidayRule("reunification", "Ngày Chiến thắng", "solar", 4, 30),
    HolidayRule("labour_day", "Ngày Quốc tế Lao động", "solar", 5, 1),
    HolidayRule("national_day", "Quốc khánh", "solar", 9, 2, adjacent_day="auto"),
)


class HolidayCalendar:
    """Which days a commune's one-stop office is open.

    Build it with :meth:`load` (``knowledge_base/holidays.yaml``) or directly from rules and
    per-year overrides. Days are computed per year on first use and cached.
    """

    def __init__(
        self,
        rules: Iterable[HolidayRule] = DEFAULT_RULES,
        overrides: Mapping[int, YearOverride] | None = None,
        weekend: Iterable[int] = (5, 6),
        min_year: int = 1900,
        max_year: int = 2199,
    ) -> None:
        self.rules = tuple(rules)
        keys = [r.key for r in self.rules]
        if len(set(keys)) != len(keys):
            raise ValueError(f"holiday rule keys must be unique, got {keys}")
        self.overrides = dict(overrides or {})
        for year, override in self.overrides.items():
            unknown = set(override.holidays) - set(keys)
            if unknown:
                raise ValueError(
                    f"year {year}: override for unknown holiday(s) {sorted(unknown)}; known: {keys}"
                )
        self.weekend = frozenset(weekend)
        if not self.weekend <= set(range(7)):
            raise ValueError(f"weekend must hold weekday numbers 0–6, got {sorted(self.weekend)}")
        self.min_year, self.max_year = min_year, max_year
        self._cache: dict[int, tuple[dict[date, str], frozenset[date]]] = {}

    # construction from YAML ------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> HolidayCalendar:
        """Read the calendar from ``knowledge_base/holidays.yaml`` (or ``path``)."""
        path = Path(path) if path else HOLIDAYS_FILE
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"holiday calendar not found: {path}") from None
        except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for 2026-02-30
            raise ValueError(f"{path}: not valid YAML: {exc}") from exc
        try:
            return cls.from_dict(data)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{path}: {exc}") from exc

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HolidayCalendar:
        if not isinstance(data, Mapping):
            raise ValueError("the holiday calendar must be a mapping with 'holidays' and 'years'")
        rules = []
        for i, item in enumerate(data.get("holidays") or []):
            try:
                month, day = (int(part) for part in str(item["date"]).split("-"))
                rules.append(
                    HolidayRule(
                        key=str(item["key"]),
                        name=str(item.get("name", item["key"])),
                        kind=str(item.get("calendar", "solar")),
                        month=month,
                        day=day,
                        days_before=int(item.get("days_before", 0)),
                        days_after=int(item.get("days_after", 0)),
                        adjacent_day=item.get("adjacent_day"),
                    )
                )
            except (KeyError, ValueError, TypeError) as exc:
                raise ValueError(f"holidays[{i}] ({item!r}): needs key and date 'MM-DD': {exc}") from None
        overrides: dict[int, YearOverride] = {}
        for year, entry in (data.get("years") or {}).items():
            entry = entry or {}
            try:
                overrides[int(year)] = YearOverride(
                    holidays={k: tuple(_parse_days(v)) for k, v in (entry.get("holidays") or {}).items()},
                    extra_days_off=tuple(_parse_days(entry.get("extra_days_off") or [])),
                    working_days=tuple(_parse_days(entry.get("working_days") or [])),
                    note=str(entry.get("note", "")),
                )
            except ValueError as exc:
                raise ValueError(f"years.{year}: {exc}") from None
        weekend = [_WEEKDAYS.index(str(d).lower()) for d in data.get("weekend", ["saturday", "sunday"])]
        return cls(rules or DEFAULT_RULES, overrides, weekend)

    # queries ---------------------------------------------------------------------------

    def _year(self, year: int) -> tuple[dict[date, str], frozenset[date]]:
        """(days off with their reason, weekend days declared working) of ``year``."""
        if not self.min_year <= year <= self.max_year:
            raise ValueError(f"the holiday calendar covers {self.min_year}–{self.max_year}, not {year}")
        cached = self._cache.get(year)
        if cached is not None:
            return cached
        off: dict[date, str] = {}
        working: set[date] = set()
        # The neighbouring years are evaluated too: Tết's eve, a compensation day or an
        # announced range can cross 1 January.
        for rule_year in (year - 1, year, year + 1):
            override = self.overrides.get(rule_year, YearOverride())
            holiday_days: dict[date, str] = {}
            for rule in self.rules:
                if rule.key in override.holidays:
                    for day in override.holidays[rule.key]:
                        off.setdefault(day, rule.name)
                    continue
                try:
                    days = rule.dates(rule_year)
                except ValueError:  # a lunar date that does not exist that year
                    continue
                for day in days:
                    holiday_days.setdefault(day, rule.name)
            off.update({d: n for d, n in holiday_days.items() if d not in off})
            # Compensation: a holiday on a weekly rest day moves to the next working day.
            for day in sorted(holiday_days):
                if day.weekday() in self.weekend:
                    extra = day + timedelta(days=1)
                    while extra.weekday() in self.weekend or extra in off:
                        extra += timedelta(days=1)
                    off[extra] = f"Nghỉ bù {holiday_days[day]}"
            for day in override.extra_days_off:
                off.setdefault(day, override.note or "Ngày nghỉ theo thông báo")
            working.update(override.working_days)
        for day in working:
            off.pop(day, None)
        result = (
            {d: n for d, n in off.items() if d.year == year},
            frozenset(d for d in working if d.year == year),
        )
        self._cache[year] = result
        return result

    def holiday_name(self, day: date) -> str | None:
        """The reason ``day`` is a day off other than the weekly rest, or ``None``."""
        return self._year(day.year)[0].get(day)

    def days_off(self, year: int) -> dict[date, str]:
        """Public holidays and compensation days of ``year`` (weekends not included)."""
        return dict(sorted(self._year(year)[0].items()))

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = day.date()
        off, working = self._year(day.year)
        if day in working:
            return True
        return day.weekday() not in self.weekend and day not in off

    def next_working_day(self, day: date, *, include: bool = False) -> date:
        """The first working day after ``day`` (or ``day`` itself with ``include=True``)."""
        current = day if include else day + timedelta(days=1)
        for _ in range(370):
            if self.is_working_day(current):
                return current
            current += timedelta(days=1)
        raise ValueError(f"no working day within a year after {day}")


def _parse_days(items: Any) -> list[date]:
    """Dates from YAML: ``2026-02-16`` or a range ``2026-02-14..2026-02-22``."""
    if isinstance(items, (str, date)):
        items = [items]
    days: list[date] = []
    for item in items:
        if isinstance(item, date):
            days.append(item)
            continue
        text = str(item).strip()
        try:
            if ".." in text:
                first, last = (date.fromisoformat(p.strip()) for p in text.split(".."))
                if last < first:
                    raise ValueError(f"range {text!r} ends before it starts")
                days.extend(first + timedelta(days=i) for i in range((last - first).days + 1))
            else:
                days.append(date.fromisoformat(text))
        except ValueError as exc:
            raise ValueError(
                f"bad date {text!r} (want YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD): {exc}"
            ) from None
    return days


@lru_cache(maxsize=4)
def _load_default(path: str) -> HolidayCalendar:
    return HolidayCalendar.load(path)


# --- office hours and due dates ---------------------------------------------------------


@dataclass(frozen=True)
class OfficeHours:
    """The opening periods of a working day; the default is 7:30–11:30 and 13:00–17:00 (8 hours)."""

    periods: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 0), time(17, 0)))

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("office hours need at least one period")
        previous = time(0, 0)
        for start, end in self.periods:
            if not previous <= start < end:
                raise ValueError(f"office periods must be increasing and non-empty, got {self.periods}")
            previous = end

    @property
    def hours_per_day(self) -> float:
        return sum(_seconds(end) - _seconds(start) for start, end in self.periods) / 3600

    @property
    def opening(self) -> time:
        return self.periods[0][0]


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _local(moment: datetime) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is not None:
        moment = moment.astimezone(VIETNAM_TZ).replace(tzinfo=None)
    return moment


def _calendar_or_default(calendar: HolidayCalendar | None) -> HolidayCalendar:
    return calendar if calendar is not None else _load_default(str(HOLIDAYS_FILE))


def _advance(start: datetime, seconds: float, calendar: HolidayCalendar, hours: OfficeHours) -> datetime:
    """Move ``seconds`` of office time forward from ``start``; stops at a period's end exactly."""
    day = start.date()
    clock = _seconds(start.time())
    remaining = seconds
    if not calendar.is_working_day(day):
        day, clock = calendar.next_working_day(day), 0
    while True:
        for period_start, period_end in hours.periods:
            begin = max(clock, _seconds(period_start))
            end = _seconds(period_end)
            if begin >= end:
                continue
            if remaining <= end - begin:
                at = begin + remaining
                whole = int(at)
                return datetime.combine(day, time(whole // 3600, whole % 3600 // 60, whole % 60))
            remaining -= end - begin
        day, clock = calendar.next_working_day(day), 0


def _start_of_count(
    received: datetime, calendar: HolidayCalendar, hours: OfficeHours, cutoff: time | None
) -> datetime:
    received = _local(received)
    day = received.date()
    late = cutoff is not None and received.time() > cutoff
    if not calendar.is_working_day(day) or late or received.time() >= hours.periods[-1][1]:
        return datetime.combine(calendar.next_working_day(day), hours.opening)
    return received


def add_working_hours(
    start: datetime,
    hours: float,
    calendar: HolidayCalendar | None = None,
    office_hours: OfficeHours | None = None,
) -> datetime:
    """The moment ``hours`` office hours after ``start`` (e.g. "08 giờ làm việc").

    Time outside office hours, weekends and days off does not count. No cut-off applies:
    hour deadlines run from the moment of receipt. Naive datetimes are Vietnam time; aware
    ones are converted to UTC+7 and the result is naive Vietnam time.
    """
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours}")
    office_hours = office_hours or OfficeHours()
    calendar = _calendar_or_default(calendar)
    return _advance(_local(start), hours * 3600, calendar, office_hours)


def add_working_days(
    start: datetime,
    days: float,
    calendar: HolidayCalendar | None = None,
    cutoff: time | None = DEFAULT_CUTOFF,
    office_hours: OfficeHours | None = None,
) -> date:
    """The due date of a dossier received at ``start`` with ``days`` working days to process.

    Received on a working day up to ``cutoff`` (15:00 by default), counting starts at once;
    received later, or on a day off, it starts when the office opens on the next working
    day. Each working day is a full day of office hours, so fractions (0.5 ngày) work, and
    ``days=0`` ("giải quyết ngay") gives the day counting starts.
    """
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    office_hours = office_hours or OfficeHours()
    calendar = _calendar_or_default(calendar)
    begin = _start_of_count(start, calendar, office_hours, cutoff)
    if days == 0:
        return begin.date()
    return _advance(begin, days * office_hours.hours_per_day * 3600, calendar, office_hours).date()


def compute_due_date(
    received: datetime,
    value: float,
    unit: str,
    calendar: HolidayCalendar | None = None,
    cutoff: time | None = DEFAULT_CUTOFF,
    office_hours: OfficeHours | None = None,
) -> date:
    """The due date for a processing time in any catalogue unit.

    ``unit`` is a :class:`knowledge_base.schema.TimeUnit` value: ``ngay_lam_viec``
    (working days), ``gio`` (office hours), ``ngay`` (calendar days) or ``thang``
    (months). Calendar days and months follow Bộ luật Dân sự 2015, Điều 147–148: the day of
    receipt is not counted, and a period ending on a day off ends on the next working day.
    """
    calendar = _calendar_or_default(calendar)
    if unit == "ngay_lam_viec":
        return add_working_days(received, value, calendar, cutoff, office_hours)
    if unit == "gio":
        return add_working_hours(received, value, calendar, office_hours).date()
    if value < 0:
        raise ValueError(f"value must not be negative, got {value}")
    first = _local(received).date()
    if unit == "ngay":
        end = first + timedelta(days=math.ceil(value))
    elif unit == "thang":
        months = first.month - 1 + math.ceil(value)
        year, month = first.year + months // 12, months % 12 + 1
        end = date(year, month, min(first.day, _calendar.monthrange(year, month)[1]))
    else:
        raise ValueError(f"unknown time unit {unit!r}; expected ngay_lam_viec, gio, ngay or thang")
    return calendar.next_working_day(end, include=True)
