"""The center's payment figures for the dashboard: the share of fees paid online (VietQR transfer,
statement import or gateway) against cash at the counter, over the dashboard's period (a day, 7 or
30 days), against the same number of days before, and day by day.

A payment counts on the local day it was paid (``paid_at``); waivers are counted apart and are not
in either share. Plain SQL over ``dossier_payments`` joined to ``dossiers`` (for the center), summed
in Python, so SQLite and PostgreSQL give the same figures.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["payment_figures"]

ONLINE = "vietqr"
CASH = "cash"
WAIVED = "waived"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _summary(counts: Counter[str], amounts: Counter[str]) -> dict[str, Any]:
    paid = counts[ONLINE] + counts[CASH]
    return {"paid": paid, "online": counts[ONLINE], "cash": counts[CASH], "waived": counts[WAIVED],
            "online_share": _share(counts[ONLINE], paid), "cash_share": _share(counts[CASH], paid),
            "amount_online": amounts[ONLINE], "amount_cash": amounts[CASH]}


def payment_figures(session: Session, start: date, end: date, center: str = "", *,
                    trend_start: date | None = None) -> dict[str, Any]:
    """Figures of the days ``start``..``end`` (inclusive, local), of the as many days before
    (``previous``), and per day from ``trend_start`` (default ``start``) to ``end`` (``by_day``)."""
    from motcua.staff.dashboard import _span_bounds, local

    days = (end - start).days + 1
    previous_start = start - timedelta(days=days)
    first = min(previous_start, trend_start or start)
    lower, upper = _span_bounds(session, first, end)
    sql = ("SELECT p.method, p.paid_amount, p.paid_at FROM dossier_payments p JOIN dossiers d ON d.id = p.dossier_id "
           "WHERE p.paid_at IS NOT NULL AND p.paid_at >= :lower AND p.paid_at < :upper AND p.method IS NOT NULL")
    params: dict[str, Any] = {"lower": lower, "upper": upper}
    if center:
        sql += " AND d.center_code = :center"
        params["center"] = center
    per_day: dict[date, Counter[str]] = {}
    money: dict[date, Counter[str]] = {}
    for method, amount, paid_at in session.execute(text(sql), params):
        moment = local(paid_at)
        if moment is None:
            continue
        per_day.setdefault(moment.date(), Counter())[method] += 1
        money.setdefault(moment.date(), Counter())[method] += int(amount or 0)

    def total(a: date, b: date) -> dict[str, Any]:
        counts: Counter[str] = Counter()
        amounts: Counter[str] = Counter()
        for day, counted in per_day.items():
            if a <= day <= b:
                counts.update(counted)
                amounts.update(money[day])
        return _summary(counts, amounts)

    now, before = total(start, end), total(previous_start, start - timedelta(days=1))
    change = None if now["online_share"] is None or before["online_share"] is None else \
        round(now["online_share"] - before["online_share"], 4)
    trend_from = trend_start or start
    by_day = [{"day": (trend_from + timedelta(days=i)).isoformat(), "in_range": start <= trend_from + timedelta(days=i),
               **total(trend_from + timedelta(days=i), trend_from + timedelta(days=i))}
              for i in range((end - trend_from).days + 1)]
    return {**now, "previous": before, "online_share_change": change, "by_day": by_day}
