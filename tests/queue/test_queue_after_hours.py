"""A chat number is for today: once the centre has closed for the day (by ``center.yaml``'s hours, or on a public
holiday) the chat says so, with the hours, instead of giving a number that expires unused; a kiosk always issues."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from actions.queue import ActionIssueQueueNumber, ChatHours, QueueRequest
from actions.server import chat_hours
from knowledge_base.defaults import load_center_info
from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.queue.models import QueueTicket
from motcua.queue.service import QueueService
from motcua.settings import Settings
from motcua.workdays import HolidayCalendar
from tests.queue.queue_fakes import SMALL_CENTRE, Clock
from tests.queue.test_queue_action import COPY, FakeKnowledge, run, tracker

HOURS = ChatHours(load_center_info(), HolidayCalendar.load())  # Mon–Fri 07:30–11:30, 13:30–17:00; Sat morning


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in Hà Nội (UTC+7) as the queue's clock gives it (UTC)."""
    return datetime(year, month, day, hour, minute, tzinfo=SMALL_CENTRE.zone).astimezone(UTC)


def action(tmp_path, database_url, clock) -> ActionIssueQueueNumber:
    settings = Settings(data_dir=tmp_path, database_url=database_url, public_url="https://motcua.example")
    return ActionIssueQueueNumber(FakeKnowledge([COPY]), settings, SMALL_CENTRE, QueueService(SMALL_CENTRE, clock=clock),
                                  hours=HOURS)


def tickets(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(QueueTicket)) or 0


async def test_after_closing_the_chat_is_told_the_hours_a_kiosk_still_issues_a_held_number_is_still_shown(
        tmp_path, database_url):
    clock = Clock(local(2026, 11, 25, 16, 50))  # a Wednesday, ten minutes before closing
    act = action(tmp_path, database_url, clock)
    held, _ = await run(act, tracker("zalo:1", "zalo"))
    assert "T001" in held[0]["text"]

    clock.now = local(2026, 11, 25, 17, 5)
    closed, _ = await run(act, tracker("telegram:2", "telegram"))
    assert closed[0]["text"] == render("action.queue.closed_today", hours=load_center_info().describe_hours())
    assert "13:30–17:00" in closed[0]["text"] and not closed[0].get("buttons") and not closed[0].get("custom")
    assert tickets(database_url) == 1  # nothing issued
    again, _ = await run(act, tracker("zalo:1", "zalo"))  # the number taken before closing is still shown
    assert again[0]["text"].startswith("Ông/bà đang giữ số T001")
    kiosk, _ = await run(act, tracker("kiosk:s1", "kiosk"))  # a kiosk at the centre: the staff are still there
    assert "T002" in kiosk[0]["text"]


async def test_numbers_are_given_before_opening_over_lunch_and_on_saturday_morning_not_on_sunday_or_a_holiday(
        tmp_path, database_url):
    clock = Clock(local(2026, 11, 25, 6, 30))
    act = action(tmp_path, database_url, clock)
    for moment, issued in ((local(2026, 11, 25, 6, 30), True),  # before opening: the day is still ahead
                           (local(2026, 11, 25, 12, 15), True),  # lunch: opens again at 13:30
                           (local(2026, 11, 28, 9, 0), True),  # Saturday morning
                           (local(2026, 11, 28, 14, 0), False),  # Saturday afternoon: closed
                           (local(2026, 11, 29, 9, 0), False),  # Sunday
                           (local(2026, 9, 2, 9, 0), False)):  # Quốc khánh, a Wednesday
        clock.now = moment
        before = tickets(database_url)
        messages, _ = await run(act, tracker(f"web:{moment:%m%d%H}", "web"))
        assert (tickets(database_url) == before + 1) is issued, (moment, messages)
        assert ("Giờ làm việc" in messages[0]["text"]) is not issued
        if not issued:  # Saturday afternoon: closed for the rest of the day; Sunday, a holiday: closed all day
            day_off = moment.weekday() == 6 or moment.month == 9
            assert messages[0]["text"].startswith("Dạ, hôm nay Trung tâm nghỉ" if day_off else
                                                  "Dạ, hôm nay Trung tâm đã hết giờ làm việc")


async def test_after_hours_no_service_is_offered_before_the_centre_is_said_to_be_closed(tmp_path, database_url):
    """Words that fit two services («lấy số tư pháp» …) would offer a choice first; closed, the citizen hears that
    at once instead of picking a service for nothing."""
    clock = Clock(local(2026, 11, 25, 10, 0))
    act = action(tmp_path, database_url, clock)
    two = tracker("zalo:7", "zalo")
    two.latest_message["text"] = "lấy số hộ tịch hay chứng thực"
    opened, _ = await run(act, two)
    assert len(opened[0]["buttons"]) == 2  # open: the citizen picks one of the two services
    clock.now = local(2026, 11, 25, 18, 0)
    closed, _ = await run(act, two)
    assert "Giờ làm việc" in closed[0]["text"] and not closed[0].get("buttons")
    assert tickets(database_url) == 0


def test_other_centres_and_the_setting_are_not_held_to_the_default_centres_hours(tmp_path, database_url):
    act = action(tmp_path, database_url, Clock(local(2026, 11, 29, 9, 0)))  # Sunday
    assert act._closed_for(QueueRequest(channel="web", sender_id="web:a")) == ChatHours.DAY_OFF
    assert not act._closed_for(QueueRequest(channel="web", sender_id="web:a", center="xa-dong"))  # hours as free text
    assert not act._closed_for(QueueRequest(channel="kiosk", sender_id="kiosk:a"))
    assert chat_hours(Settings(data_dir=tmp_path, chat_numbers_after_hours=True)) is None
    given = chat_hours(Settings(data_dir=tmp_path))
    assert given is not None and given.center == HOURS.center and given.holidays is not None
    assert not ChatHours(load_center_info().__class__(name="x", address="y", phone="z")).closed_for_the_day(
        local(2026, 11, 29, 23, 0))  # no hours in the file: numbers at any time


def test_a_weekend_day_worked_in_exchange_for_a_holiday_has_a_working_days_hours():
    """Saturday 26/4/2025 was worked in exchange for 2/5 (``holidays.yaml``): numbers all afternoon, as on a Monday."""
    from datetime import datetime as moment

    made_up, plain = (2025, 4, 26), (2025, 4, 19)  # both Saturdays
    assert HOURS.closed_for_the_day(moment(*made_up, 14, 0)) == ""
    assert HOURS.closed_for_the_day(moment(*made_up, 17, 30)) == ChatHours.AFTER_HOURS
    assert HOURS.closed_for_the_day(moment(*plain, 14, 0)) == ChatHours.AFTER_HOURS  # a Saturday afternoon
    assert HOURS.closed_for_the_day(moment(*plain, 9, 0)) == ""
    assert HOURS.closed_for_the_day(moment(2025, 5, 2, 9, 0)) == ChatHours.DAY_OFF  # the day it was exchanged for


async def test_staff_asked_for_outside_the_hours_answer_when_the_centre_opens():
    """At 07:00, before opening, «gặp cán bộ» is still put in the inbox, but the citizen is told when staff are in
    (it said «chờ trong giây lát»)."""
    from datetime import datetime as moment

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.procedures import ActionHandoff

    now = [moment(2026, 11, 25, 7, 0)]  # a Wednesday
    handoff = ActionHandoff(hours=HOURS, now=lambda: now[0])

    async def ask() -> dict:
        latest = {"text": "gặp cán bộ", "intent": {"name": "request_human"}, "entities": [], "metadata": {}}
        dispatcher = CollectingDispatcher()
        await handoff.run(dispatcher, Tracker(f"web:{now[0]:%d%H}", {}, latest, [], False, None, {}, "action_listen"),
                          {})
        return dispatcher.messages[0]

    closed = render("action.procedures.handoff_closed", hours=HOURS.describe())
    early = await ask()
    assert early["text"] == closed and early["custom"]["handoff"] is True  # in the inbox all the same
    for hour, day, said in ((9, 25, render("action.procedures.handoff")), (12, 25, closed),  # lunch: nobody in
                            (9, 29, closed)):  # Sunday
        now[0] = moment(2026, 11, day, hour, 0)
        assert (await ask())["text"] == said, (day, hour)
