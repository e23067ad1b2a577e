"""The director's four figures (on-time rate, satisfaction, waiting time, share answered by the
assistant) per day / 7 days / 30 days against the period before, and the daily trend — from the
day seeded by test_staff_dashboard plus a month of simpler days before it, checked against
figures worked out here from the seed."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from statistics import mean

import pytest

from motcua.centers import DEFAULT_CENTER
from motcua.db import session_scope
from motcua.models import ConversationMessage
from motcua.staff.dashboard import PERIODS, TREND_MIN_DAYS, DateRange, build_dashboard, period_range, to_csv
from motcua.staff.service import RatingInput, add_rating, record_unanswered
from tests.staff.test_staff_dashboard import CENTER, DAY, at, expected, seed

HISTORY_DAYS = 60


def history_day(k: int) -> dict:
    """What the day ``DAY - k`` holds (k ≥ 1): one rating, two questions (one not answered on even
    days), one ticket waiting 10 + k % 20 minutes, one dossier finished (late when k % 4 == 0)."""
    return {"score": 3 + k % 3, "questions": 2, "not_answered": 1 if k % 2 == 0 else 0,
            "wait": 10 + k % 20, "finished": 1, "on_time": 0 if k % 4 == 0 else 1}


def seed_history(url: str) -> None:
    from motcua.dossiers.models import DossierRow, DossierStatusChange
    from motcua.queue.models import QueueTicket

    with session_scope(url) as session:
        for k in range(1, HISTORY_DAYS + 1):
            day, h = DAY - timedelta(days=k), history_day(k)
            add_rating(session, RatingInput(kind="service", score=h["score"], center_code=DEFAULT_CENTER), created_at=at(10, 0, day))
            for n in range(h["questions"]):
                session.add(ConversationMessage(channel="web", sender_id=f"web:h{k}", direction="in", text=f"câu {n}",
                                                outcome="", created_at=at(11, n, day)))
            if h["not_answered"]:
                record_unanswered(session, channel="web", sender_id=f"web:h{k}", question="câu 0", reply="",
                                  reason="fallback", created_at=at(11, 0, day))
            session.add(QueueTicket(token=f"h{k}", service_code="HT", issued_service="HT", day=day, number=100 + k,
                                    label=f"A{100 + k}", status="done", channel="kiosk", counter_number=1,
                                    issued_at=at(8, 0, day), called_at=at(8, h["wait"], day),
                                    started_at=at(8, h["wait"], day), finished_at=at(8, h["wait"] + 5, day)))
            received = at(8, 0, day - timedelta(days=3))
            row = DossierRow(code=f"H{k}", agency_code=CENTER, day=day - timedelta(days=3), seq=100 + k,
                             procedure_code="1.001193", procedure_name="Đăng ký khai sinh", values={},
                             applicant_name=f"Người nộp H{k}", status="completed", received_at=received,
                             due_date=day - timedelta(days=1 - h["on_time"]))
            session.add(row)
            session.flush()
            session.add(DossierStatusChange(dossier_id=row.id, from_status="in_processing", to_status="completed",
                                            actor="t", created_at=at(15, 0, day)))


@pytest.fixture
def seeded(database_url):
    seed(database_url)
    seed_history(database_url)
    return database_url


def history(days: range) -> dict:
    """The four figures over history days ``DAY - k`` for k in ``days`` (the seeded day excluded)."""
    rows = [history_day(k) for k in days]
    questions = sum(r["questions"] for r in rows)
    return {"satisfaction": round(mean(r["score"] for r in rows), 2),
            "wait_min": round(mean(r["wait"] for r in rows), 1),
            "on_time_rate": round(sum(r["on_time"] for r in rows) / len(rows), 4),
            "answered_share": round((questions - sum(r["not_answered"] for r in rows)) / questions, 4)}


def test_the_headline_of_a_day_matches_the_sections_and_compares_with_the_day_before(seeded):
    with session_scope(seeded) as session:
        board = build_dashboard(session, DateRange(DAY, DAY), today=DAY)
    h, want = board.headline, expected()
    # the same figures as the detailed sections below them on the page
    assert h["on_time_rate"]["value"] == board.dossiers.on_time_rate == want["on_time_rate"]
    assert h["satisfaction"]["value"] == board.ratings.average == want["ratings.average"]
    assert h["wait_min"]["value"] == board.queue.mean_wait_min == want["queue.mean_wait_min"]
    assert h["answered_share"]["value"] == round(want["chatbot.answered"] / want["chatbot.questions"], 4)
    assert (h["on_time_rate"]["count"], h["satisfaction"]["count"], h["answered_share"]["count"]) == (
        want["dossiers.finished"], want["ratings.count"], want["chatbot.questions"])
    assert {s["service_code"]: s["value"] for s in h["wait_min"]["by_service"]} == want["wait"]
    # the day before: one history day, plus the late-evening message of the first seed
    before = history(range(1, 2))
    assert h["previous_start"] == h["previous_end"] == (DAY - timedelta(days=1)).isoformat()
    assert h["satisfaction"]["previous"] == before["satisfaction"]
    assert h["wait_min"]["previous"] == before["wait_min"]
    assert h["on_time_rate"]["previous"] == before["on_time_rate"]
    assert h["answered_share"]["previous"] == 1.0 and h["answered_share"]["previous_count"] == 3
    # change and its direction: a longer wait is worse, a lower score is worse
    assert h["satisfaction"]["change"] == pytest.approx(want["ratings.average"] - before["satisfaction"])
    assert h["satisfaction"]["better"] is (want["ratings.average"] > before["satisfaction"])
    assert h["wait_min"]["change"] == pytest.approx(want["queue.mean_wait_min"] - before["wait_min"])
    assert h["wait_min"]["better"] is (want["queue.mean_wait_min"] < before["wait_min"])
    assert h["on_time_rate"]["better"] is False  # 2 of 3 on time, against 1 of 1 the day before
    ht = next(s for s in h["wait_min"]["by_service"] if s["service_code"] == "HT")
    assert ht["service_name"] == "Hộ tịch" and ht["previous"] == before["wait_min"]


@pytest.mark.parametrize("kind", ["week", "month"])
def test_a_week_and_a_month_compare_with_the_same_number_of_days_before(seeded, kind):
    length = PERIODS[kind]
    with session_scope(seeded) as session:
        h = build_dashboard(session, period_range(kind, DAY), today=DAY).headline
    assert (h["start"], h["end"], h["days"]) == ((DAY - timedelta(days=length - 1)).isoformat(), DAY.isoformat(), length)
    assert h["previous_end"] == (DAY - timedelta(days=length)).isoformat()
    assert h["previous_start"] == (DAY - timedelta(days=2 * length - 1)).isoformat()
    want, now, before = expected(), history(range(1, length)), history(range(length, 2 * length))
    scores = [history_day(k)["score"] for k in range(1, length)] + [5, 4, 5, 3, 1]
    assert h["satisfaction"]["value"] == round(mean(scores), 2) and h["satisfaction"]["previous"] == before["satisfaction"]
    assert h["on_time_rate"]["previous"] == before["on_time_rate"]
    assert h["wait_min"]["previous"] == before["wait_min"]
    assert h["answered_share"]["previous"] == before["answered_share"]
    finished = length - 1 + want["dossiers.finished"]
    on_time = sum(history_day(k)["on_time"] for k in range(1, length)) + round(want["on_time_rate"] * want["dossiers.finished"])
    assert h["on_time_rate"]["value"] == round(on_time / finished, 4) and h["on_time_rate"]["count"] == finished
    assert now["wait_min"] != h["wait_min"]["value"]  # the seeded day's tickets count too


def test_the_daily_trend_reaches_back_two_weeks_and_marks_the_range(seeded):
    with session_scope(seeded) as session:
        day = build_dashboard(session, DateRange(DAY, DAY), today=DAY).trend
        month = build_dashboard(session, period_range("month", DAY), today=DAY).trend
    assert len(day) == TREND_MIN_DAYS and day[-1]["day"] == DAY.isoformat()
    assert [r["in_range"] for r in day] == [False] * (TREND_MIN_DAYS - 1) + [True]
    assert len(month) == 30 and all(r["in_range"] for r in month)
    want = expected()
    today = day[-1]
    assert (today["questions"], today["ratings"], today["finished"]) == (
        want["chatbot.questions"], want["ratings.count"], want["dossiers.finished"])
    assert today["wait_min"] == want["queue.mean_wait_min"] and today["on_time_rate"] == want["on_time_rate"]
    k = 5
    past = next(r for r in day if r["day"] == (DAY - timedelta(days=k)).isoformat())
    h = history_day(k)
    assert (past["questions"], past["answered"], past["called"], past["satisfaction"], past["wait_min"]) == (
        h["questions"], h["questions"] - h["not_answered"], 1, h["score"], float(h["wait"]))


def test_a_day_without_anything_has_no_figures_rather_than_zeros(seeded):
    empty = DAY + timedelta(days=5)
    with session_scope(seeded) as session:
        h = build_dashboard(session, DateRange(empty, empty), today=empty).headline
    for key in ("on_time_rate", "satisfaction", "wait_min", "answered_share"):
        assert h[key]["value"] is None and h[key]["change"] is None and h[key]["better"] is None, key
        assert h[key]["count"] == 0 and h[key]["available"] is True


def test_periods_and_previous_ranges():
    assert period_range("day", DAY) == DateRange(DAY, DAY)
    assert period_range("week", DAY) == DateRange(date(2026, 11, 14), DAY)
    assert period_range("month", DAY).days == 30
    assert DateRange(date(2026, 11, 14), DAY).previous() == DateRange(date(2026, 11, 7), date(2026, 11, 13))
    with pytest.raises(ValueError):
        period_range("year", DAY)


def test_the_csv_export_starts_with_the_headline_and_the_trend(seeded):
    with session_scope(seeded) as session:
        board = build_dashboard(session, period_range("week", DAY), today=DAY)
    text = to_csv(board).lstrip("\ufeff")
    assert text.index("# headline") < text.index("# trend") < text.index("# chatbot")
    rows = list(csv.reader(io.StringIO(to_csv(board, "trend").lstrip("\ufeff"))))
    assert rows[0][0] == "ngày" and len(rows) == 1 + TREND_MIN_DAYS and rows[-1][0] == DAY.isoformat()
    headline_rows = list(csv.reader(io.StringIO(to_csv(board, "headline").lstrip("\ufeff"))))
    assert headline_rows[1][:2] == ["Tỷ lệ hồ sơ đúng hạn", str(board.headline["on_time_rate"]["value"])]
    assert any(r[0] == "Chờ TB (phút) — Hộ tịch" for r in headline_rows)


def test_the_api_gives_the_headline_of_the_requested_period(staff_app):
    from fastapi.testclient import TestClient

    from tests.staff.conftest import PASSWORD, sign_in

    app, settings, _ = staff_app
    seed(settings.sqlalchemy_url)
    seed_history(settings.sqlalchemy_url)
    with TestClient(app) as client:
        sign_in(client, "canbo", PASSWORD)
        week = client.get("/api/v1/staff/dashboard", params={"start": DAY - timedelta(days=6), "end": DAY}).json()
        day = client.get("/api/v1/staff/dashboard", params={"start": DAY, "end": DAY}).json()
    assert week["headline"]["days"] == 7 and day["headline"]["days"] == 1
    assert week["headline"]["satisfaction"]["count"] == 5 + 6 and day["headline"]["satisfaction"]["count"] == 5
    assert len(week["trend"]) == TREND_MIN_DAYS and sum(r["in_range"] for r in week["trend"]) == 7
