"""Lunar calendar, public holidays and due dates (ngày hẹn trả)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from motcua.workdays import (
    HolidayCalendar,
    LunarDate,
    OfficeHours,
    add_working_days,
    add_working_hours,
    compute_due_date,
    lunar_to_solar,
    solar_to_lunar,
)


@pytest.fixture(scope="module")
def calendar() -> HolidayCalendar:
    return HolidayCalendar.load()


# --- lunar calendar ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "tet"),
    [
        (1985, date(1985, 1, 21)),  # China: 20/2/1985 — the Vietnamese calendar differs
        (2007, date(2007, 2, 17)),  # China: 18/2/2007
        (2024, date(2024, 2, 10)),
        (2025, date(2025, 1, 29)),
        (2026, date(2026, 2, 17)),
        (2027, date(2027, 2, 6)),
        (2030, date(2030, 2, 2)),  # China: 3/2/2030
    ],
)
def test_tet_falls_on_the_vietnamese_date(year, tet):
    assert lunar_to_solar(1, 1, year) == tet
    assert solar_to_lunar(tet) == LunarDate(1, 1, year)


@pytest.mark.parametrize(
    ("year", "day"),
    [
        (2023, date(2023, 4, 29)),
        (2024, date(2024, 4, 18)),
        (2025, date(2025, 4, 7)),
        (2026, date(2026, 4, 26)),
    ],
)
def test_hung_kings_day_is_the_tenth_of_the_third_lunar_month(year, day):
    assert lunar_to_solar(10, 3, year) == day


def test_leap_month_is_handled():
    assert lunar_to_solar(1, 2, 2023, leap=True) == date(2023, 3, 22)
    assert solar_to_lunar(date(2023, 3, 22)) == LunarDate(1, 2, 2023, leap=True)
    with pytest.raises(ValueError):
        lunar_to_solar(1, 3, 2023, leap=True)


def test_solar_lunar_round_trip_over_three_years():
    day = date(2025, 1, 1)
    while day < date(2028, 1, 1):
        lunar = solar_to_lunar(day)
        assert lunar_to_solar(lunar.day, lunar.month, lunar.year, lunar.leap) == day
        day += timedelta(days=1)


def test_day_thirty_of_a_short_month_does_not_exist():
    # Tháng Chạp Ất Tỵ (lunar year 2025) has 29 days: Tết 2026 is the next day.
    with pytest.raises(ValueError):
        lunar_to_solar(30, 12, 2025)


# --- holiday calendar -------------------------------------------------------------------


def test_tet_2026_follows_the_announced_days(calendar):
    for offset in range(9):
        day = date(2026, 2, 14) + timedelta(days=offset)
        assert not calendar.is_working_day(day), day
    assert calendar.is_working_day(date(2026, 2, 13))
    assert calendar.is_working_day(date(2026, 2, 23))
    assert calendar.holiday_name(date(2026, 2, 17)) == "Tết Âm lịch"


def test_tet_2027_uses_the_default_rule_with_compensation(calendar):
    # Mùng 1 is Saturday 6/2/2027: eve (5/2) + mùng 1–4, and two days in lieu of the weekend.
    off = [d for d in calendar.days_off(2027) if d.month == 2]
    assert off == [date(2027, 2, d) for d in range(5, 12)]
    assert calendar.holiday_name(date(2027, 2, 10)) == "Nghỉ bù Tết Âm lịch"
    assert calendar.is_working_day(date(2027, 2, 12))


def test_fixed_holidays_and_national_day_extra_day(calendar):
    for day in [date(2026, 1, 1), date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 2)]:
        assert not calendar.is_working_day(day), day
    assert len([d for d in calendar.days_off(2026) if d.month == 9]) == 2
    assert not calendar.is_working_day(date(2025, 9, 1))  # announced: 2/9 and the day before


def test_holiday_on_a_weekend_gives_the_next_working_day_off(calendar):
    assert date(2027, 5, 1).weekday() == 5
    assert not calendar.is_working_day(date(2027, 5, 3))
    assert not calendar.is_working_day(date(2026, 4, 27))  # Giỗ Tổ on Sunday 26/4/2026


def test_announced_swapped_saturday_is_a_working_day(calendar):
    assert calendar.is_working_day(date(2025, 4, 26))
    assert not calendar.is_working_day(date(2025, 5, 2))


def test_weekends_are_days_off(calendar):
    assert not calendar.is_working_day(date(2026, 3, 7))
    assert not calendar.is_working_day(date(2026, 3, 8))
    assert calendar.next_working_day(date(2026, 3, 6)) == date(2026, 3, 9)


def test_yaml_override_for_an_unknown_holiday_is_refused():
    with pytest.raises(ValueError, match="unknown holiday"):
        HolidayCalendar.from_dict({"years": {2026: {"holidays": {"christmas": ["2026-12-25"]}}}})


def test_bad_date_range_in_yaml_is_refused(tmp_path):
    path = tmp_path / "holidays.yaml"
    path.write_text("years:\n  2026:\n    extra_days_off: [2026-02-30]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holidays.yaml"):
        HolidayCalendar.load(path)


def test_extra_day_off_from_yaml(tmp_path):
    path = tmp_path / "holidays.yaml"
    path.write_text("years:\n  2026:\n    extra_days_off: [2026-11-24]\n", encoding="utf-8")
    assert not HolidayCalendar.load(path).is_working_day(date(2026, 11, 24))


# --- due dates --------------------------------------------------------------------------


def test_received_friday_after_cutoff_before_tet_2026(calendar):
    # Friday 13/2/2026 16:00: counting starts Monday 23/2 after the 9-day Tết break.
    assert add_working_days(datetime(2026, 2, 13, 16, 0), 3, calendar) == date(2026, 2, 25)


def test_received_friday_morning_before_tet_2026(calendar):
    # 10:00 Friday: 5.5 office hours that day, then Mon 23, Tue 24, and 2.5 hours on Wed 25.
    assert add_working_days(datetime(2026, 2, 13, 10, 0), 3, calendar) == date(2026, 2, 25)
    assert add_working_days(datetime(2026, 2, 12, 10, 0), 1, calendar) == date(2026, 2, 13)
    assert add_working_days(datetime(2026, 2, 12, 10, 0), 2, calendar) == date(2026, 2, 23)


def test_received_before_tet_2027(calendar):
    # Thursday 4/2/2027 after the cut-off: counting starts Friday 12/2 after the break.
    assert add_working_days(datetime(2027, 2, 4, 16, 0), 2, calendar) == date(2027, 2, 15)
    assert add_working_days(datetime(2027, 2, 4, 9, 0), 1, calendar) == date(2027, 2, 12)


def test_weekend_is_skipped(calendar):
    assert add_working_days(datetime(2026, 3, 6, 14, 0), 1, calendar) == date(2026, 3, 9)
    # Received on Saturday: counting starts Monday morning.
    assert add_working_days(datetime(2026, 3, 7, 9, 0), 1, calendar) == date(2026, 3, 9)
    assert add_working_days(datetime(2026, 3, 7, 9, 0), 3, calendar) == date(2026, 3, 11)


def test_cutoff_hour_moves_the_start_to_the_next_working_day(calendar):
    assert add_working_days(datetime(2026, 3, 4, 15, 0), 0, calendar) == date(2026, 3, 4)
    assert add_working_days(datetime(2026, 3, 4, 15, 1), 0, calendar) == date(2026, 3, 5)
    assert add_working_days(datetime(2026, 3, 4, 14, 59), 3, calendar) == date(2026, 3, 9)
    assert add_working_days(datetime(2026, 3, 4, 15, 30), 3, calendar) == date(2026, 3, 9)
    assert add_working_days(datetime(2026, 3, 4, 15, 30), 3, calendar, cutoff=time(16, 0)) == date(2026, 3, 9)
    # 7:00 before opening: the whole of Wednesday counts.
    assert add_working_days(datetime(2026, 3, 4, 7, 0), 3, calendar) == date(2026, 3, 6)


def test_half_a_working_day(calendar):
    assert add_working_days(datetime(2026, 3, 4, 8, 0), 0.5, calendar) == date(2026, 3, 4)
    assert add_working_days(datetime(2026, 3, 4, 14, 0), 0.5, calendar) == date(2026, 3, 5)


def test_aware_datetimes_are_read_in_vietnam_time(calendar):
    received = datetime(2026, 2, 13, 9, 0, tzinfo=UTC)  # 16:00 in Hà Nội
    assert add_working_days(received, 0, calendar) == date(2026, 2, 23)


def test_working_hours_skip_lunch_nights_and_weekends(calendar):
    assert add_working_hours(datetime(2026, 3, 6, 14, 0), 8, calendar) == datetime(2026, 3, 9, 14, 0)
    assert add_working_hours(datetime(2026, 3, 4, 11, 0), 1, calendar) == datetime(2026, 3, 4, 13, 30)
    assert add_working_hours(datetime(2026, 2, 13, 16, 0), 8, calendar) == datetime(2026, 2, 23, 16, 0)


def test_office_hours_are_configurable(calendar):
    hours = OfficeHours(((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0))))
    assert hours.hours_per_day == 8
    assert add_working_hours(datetime(2026, 3, 4, 11, 0), 1, calendar, hours) == datetime(2026, 3, 4, 14, 0)
    with pytest.raises(ValueError):
        OfficeHours(((time(13, 0), time(11, 0)),))


def test_negative_durations_are_refused(calendar):
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 3, 4, 9, 0), -1, calendar)
    with pytest.raises(ValueError):
        add_working_hours(datetime(2026, 3, 4, 9, 0), -1, calendar)


def test_due_date_in_catalogue_units(calendar):
    received = datetime(2026, 3, 6, 9, 0)  # Friday
    assert compute_due_date(received, 3, "ngay_lam_viec", calendar) == date(2026, 3, 11)
    assert compute_due_date(received, 8, "gio", calendar) == date(2026, 3, 9)
    # 15 calendar days from 6/3 end on Saturday 21/3: moved to Monday 23/3.
    assert compute_due_date(received, 15, "ngay", calendar) == date(2026, 3, 23)
    assert compute_due_date(datetime(2026, 1, 31, 9, 0), 1, "thang", calendar) == date(2026, 3, 2)
    with pytest.raises(ValueError):
        compute_due_date(received, 1, "tuan", calendar)


def test_default_calendar_is_loaded_when_none_given():
    assert add_working_days(datetime(2026, 2, 13, 16, 0), 3) == date(2026, 2, 25)
