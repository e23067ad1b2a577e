"""The dashboard's payment figures: the share paid online (VietQR) against cash, by day, week, month."""

from __future__ import annotations

from datetime import date, datetime

from motcua.db import session_scope
from motcua.staff.dashboard import build_dashboard, period_range
from motcua.workdays import VIETNAM_TZ
from tests.payments.test_citizen import LATE, file

DAY = date(2026, 3, 10)


def test_online_and_cash_shares_by_day_week_and_month(dossiers, payments, catalogue, clock, db):
    codes = [file(db, dossiers, LATE) for _ in range(6)]
    # the day before: one cash payment
    clock.advance(days=-1)
    db.run(payments.mark_cash, codes[0], actor="staff:thuha")
    clock.advance(days=1)
    # the day: two online (a gateway, a transfer at 23:30 local — still the 10th), one cash, one waived
    db.run(payments.record_provider_payment, "fake", "evt-1", codes[1], 8000)
    late_evening = datetime(2026, 3, 10, 23, 30, tzinfo=VIETNAM_TZ)
    db.run(payments.record_provider_payment, "fake", "evt-2", codes[2], 8000, paid_at=late_evening)
    db.run(payments.mark_cash, codes[3], actor="staff:thuha")
    db.run(payments.waive, codes[4], "Hộ nghèo, sổ số 12/2026", actor="staff:thuha")
    db.run(payments.payment, codes[5])  # priced, never paid: in no figure

    with session_scope(catalogue) as session:
        day = build_dashboard(session, period_range("day", DAY), today=DAY).payments
        week = build_dashboard(session, period_range("week", DAY), today=DAY).payments
        month = build_dashboard(session, period_range("month", DAY), today=DAY).to_dict()["payments"]
        other_center = build_dashboard(session, period_range("day", DAY), center="KHAC", today=DAY).payments
    assert (day["paid"], day["online"], day["cash"], day["waived"]) == (3, 2, 1, 1)
    assert (day["online_share"], day["cash_share"]) == (0.6667, 0.3333)
    assert (day["amount_online"], day["amount_cash"]) == (16000, 8000)
    assert day["previous"]["online_share"] == 0.0 and day["online_share_change"] == 0.6667
    assert (week["paid"], week["online"], week["cash"], week["online_share"]) == (4, 2, 2, 0.5)
    assert month["paid"] == 4 and month["previous"]["paid"] == 0 and month["online_share_change"] is None
    in_range = [d for d in day["by_day"] if d["in_range"]]
    assert [d["day"] for d in in_range] == ["2026-03-10"] and len(day["by_day"]) == 14
    assert next(d for d in day["by_day"] if d["day"] == "2026-03-09")["cash"] == 1
    assert other_center["paid"] == 0 and other_center["online_share"] is None
