"""Dashboard figures from a seeded day of chat, ratings, dossiers and the queue — computed by the
module and shown by the page in headless Chromium, checked against figures computed here from the
same rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from statistics import mean

import httpx
import pytest

from motcua.centers import DEFAULT_CENTER
from motcua.db import session_scope
from motcua.models import ConversationMessage
from motcua.staff.dashboard import DateRange, build_dashboard, to_csv
from motcua.staff.models import HandoffConversation
from motcua.staff.service import RatingInput, add_rating, record_unanswered
from tests.browser import wait_for_js

VN = timezone(timedelta(hours=7))
DAY = date(2026, 11, 20)
CENTER = "000.00.00.H01"


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN).astimezone(UTC)


# ticket: (label, service, counter, status, issued, called, started, finished) in local hh:mm
TICKETS = [
    ("A001", "HT", 1, "done", (8, 5), (8, 15), (8, 16), (8, 26)),
    ("A002", "HT", 1, "done", (8, 20), (8, 40), (8, 41), (8, 49)),
    ("A003", "HT", 1, "no_show", (9, 10), (9, 30), None, None),
    ("B001", "CT", 2, "done", (8, 30), (8, 35), (8, 35), (8, 40)),
    ("B002", "CT", 2, "done", (9, 5), (9, 20), (9, 21), (9, 36)),
    ("B003", "CT", None, "waiting", (10, 0), None, None, None),
]
# dossier: (code, procedure, status, received (day offset, h), due (day offset), completed (day offset, h) or None)
DOSSIERS = [
    ("D1", "1.001193", "received", (0, 8), 3, None),
    ("D2", "1.001193", "in_processing", (0, 9), 2, None),
    ("D3", "1.000894", "completed", (0, 10), 0, (0, 15)),
    ("D4", "1.000894", "result_returned", (0, 8), 1, (0, 11)),
    ("D5", "2.000908", "supplement_requested", (0, 14), 5, None),
    ("OLD1", "1.001193", "in_processing", (-10, 9), -2, None),  # overdue
    ("OLD2", "2.000908", "completed", (-5, 9), -1, (0, 9)),  # finished today, one day late
]
NAMES = {"1.001193": "Đăng ký khai sinh", "1.000894": "Đăng ký kết hôn", "2.000908": "Chứng thực bản sao"}
SCORES = [5, 4, 5, 3, 1]
HELPFUL = [True, True, False]
# chat: (sender, hour, text, outcome of the in-message)
CHAT = [("kiosk:a", 8, "xin chào", ""), ("kiosk:a", 8, "lệ phí khai sinh", ""), ("kiosk:b", 9, "xyz", ""),
        ("kiosk:b", 9, "gặp cán bộ", ""), ("kiosk:b", 9, "tôi cần hỏi", "handoff"), ("web:c", 14, "giờ làm việc", ""),
        ("web:c", 14, "im lặng", ""), ("web:c", 23, "khuya rồi", "")]
UNANSWERED = [("kiosk:b", 9, "xyz", "fallback"), ("kiosk:b", 9, "gặp cán bộ", "handoff"),
              ("web:c", 14, "im lặng", "empty"), ("web:c", 23, "khuya rồi", "busy")]


def seed(url: str) -> None:
    from motcua.dossiers.models import DossierRow, DossierStatusChange
    from motcua.queue.models import QueueCounter, QueueService, QueueTicket

    with session_scope(url) as session:
        for sender, hour, text, outcome in CHAT:
            session.add(ConversationMessage(channel=sender.split(":")[0], sender_id=sender, direction="in", text=text,
                                            outcome=outcome, created_at=at(hour, 10)))
            session.add(ConversationMessage(channel=sender.split(":")[0], sender_id=sender, direction="out",
                                            text="…", created_at=at(hour, 11)))
        # a message the day before: outside the range
        session.add(ConversationMessage(channel="kiosk", sender_id="kiosk:z", direction="in", text="hôm qua",
                                        created_at=at(23, 59, DAY - timedelta(days=1))))
        for sender, hour, text, reason in UNANSWERED:
            record_unanswered(session, channel="kiosk", sender_id=sender, question=text, reply="", reason=reason,
                              created_at=at(hour, 10))
        session.add(HandoffConversation(channel="kiosk", sender_id="kiosk:b", created_at=at(9, 10),
                                        last_message_at=at(9, 10)))
        for i, score in enumerate(SCORES):
            add_rating(session, RatingInput(kind="service", score=score, center_code=DEFAULT_CENTER, counter="1"),
                       created_at=at(10 + i))
        for i, helpful in enumerate(HELPFUL):
            add_rating(session, RatingInput(kind="answer", helpful=helpful, channel="kiosk", sender_id="kiosk:a",
                                            center_code=DEFAULT_CENTER), created_at=at(15, i))

        session.add_all([QueueService(code="HT", prefix="A", name="Hộ tịch", fields=[]),
                         QueueService(code="CT", prefix="B", name="Chứng thực", fields=[]),
                         QueueCounter(number=1, name="Quầy 1"), QueueCounter(number=2, name="Quầy 2")])
        for n, (label, service, counter, status, issued, called, started, finished) in enumerate(TICKETS):
            session.add(QueueTicket(token=f"t{n}", service_code=service, issued_service=service, day=DAY,
                                    number=int(label[1:]), label=label, status=status, channel="kiosk",
                                    counter_number=counter, issued_at=at(*issued),
                                    called_at=at(*called) if called else None,
                                    started_at=at(*started) if started else None,
                                    finished_at=at(*finished) if finished else None))
        for seq, (code, procedure, status, (offset, hour), due, completed) in enumerate(DOSSIERS, start=1):
            received = at(hour, 0, DAY + timedelta(days=offset))
            row = DossierRow(code=code, agency_code=CENTER, day=DAY + timedelta(days=offset), seq=seq,
                             procedure_code=procedure, procedure_name=NAMES[procedure], values={},
                             applicant_name=f"Người nộp {code}", status=status, received_at=received,
                             due_date=DAY + timedelta(days=due))
            session.add(row)
            session.flush()
            session.add(DossierStatusChange(dossier_id=row.id, from_status="", to_status="received", actor="t",
                                            created_at=received))
            if completed:
                session.add(DossierStatusChange(dossier_id=row.id, from_status="in_processing", to_status="completed",
                                                actor="t", created_at=at(completed[1], 0, DAY + timedelta(days=completed[0]))))


def expected() -> dict:
    """The figures, worked out here from the seed rows."""
    to_bot = [c for c in CHAT if c[3] != "handoff"]
    reasons = [u[3] for u in UNANSWERED]
    abstained = sum(reasons.count(r) for r in ("busy", "empty", "fallback"))
    by_hour = [0] * 24
    for c in to_bot:
        by_hour[c[1]] += 1

    def minutes(a, b):
        return (a[0] * 60 + a[1]) - (b[0] * 60 + b[1])

    waits = {s: [minutes(t[5], t[4]) for t in TICKETS if t[1] == s and t[5]] for s in ("HT", "CT")}
    services = {s: [minutes(t[7], t[6]) for t in TICKETS if t[1] == s and t[3] == "done"] for s in ("HT", "CT")}
    received_today = [d for d in DOSSIERS if d[3][0] == 0]
    finished = [d for d in DOSSIERS if d[5] and d[5][0] == 0]
    on_time = [d for d in finished if d[5][0] <= d[4]]
    overdue = [d for d in DOSSIERS if d[2] in ("received", "in_processing") and d[4] < 0]
    return {
        "chatbot.conversations": len({c[0] for c in CHAT}), "chatbot.questions": len(to_bot),
        "chatbot.abstained": abstained, "chatbot.answered": len(to_bot) - abstained - reasons.count("handoff"),
        "chatbot.handed_over": 1, "chatbot.unhelpful": HELPFUL.count(False), "by_hour": by_hour,
        "ratings.count": len(SCORES), "ratings.average": round(mean(SCORES), 2),
        "ratings.helpful": HELPFUL.count(True), "ratings.unhelpful": HELPFUL.count(False),
        "distribution": [SCORES.count(i) for i in range(1, 6)],
        "dossiers.received": len(received_today), "dossiers.finished": len(finished),
        "on_time_rate": round(len(on_time) / len(finished), 4), "overdue": [d[0] for d in overdue],
        "by_status": {s: sum(1 for d in received_today if d[2] == s) for s in {d[2] for d in received_today}},
        "by_procedure": {p: sum(1 for d in received_today if d[1] == p) for p in {d[1] for d in received_today}},
        "queue.issued": len(TICKETS), "queue.served": sum(1 for t in TICKETS if t[3] == "done"),
        "queue.no_show": sum(1 for t in TICKETS if t[3] == "no_show"),
        "queue.mean_wait_min": round(mean(waits["HT"] + waits["CT"]), 1),
        "queue.mean_service_min": round(mean(services["HT"] + services["CT"]), 1),
        "wait": {s: round(mean(v), 1) for s, v in waits.items()},
        "service": {s: round(mean(v), 1) for s, v in services.items()},
        "counter_served": {1: 2, 2: 2},
    }


def test_dashboard_figures_match_the_seeded_rows(database_url):
    seed(database_url)
    want = expected()
    with session_scope(database_url) as session:
        board = build_dashboard(session, DateRange(DAY, DAY), today=DAY + timedelta(days=30))
        other_center = build_dashboard(session, DateRange(DAY, DAY), center="khác", today=DAY)
    c, r, d, q = board.chatbot, board.ratings, board.dossiers, board.queue
    assert (c.conversations, c.questions, c.answered, c.abstained, c.handed_over, c.unhelpful) == (
        want["chatbot.conversations"], want["chatbot.questions"], want["chatbot.answered"],
        want["chatbot.abstained"], want["chatbot.handed_over"], want["chatbot.unhelpful"])
    assert c.by_hour == want["by_hour"] and c.to_staff_messages == 1
    assert (r.count, r.average, r.distribution, r.helpful, r.unhelpful) == (
        want["ratings.count"], want["ratings.average"], want["distribution"], want["ratings.helpful"],
        want["ratings.unhelpful"])
    assert (d.received, d.finished, d.on_time_rate) == (want["dossiers.received"], want["dossiers.finished"],
                                                        want["on_time_rate"])
    assert {e["status"]: e["count"] for e in d.by_status} == want["by_status"]
    assert {e["procedure_code"]: e["count"] for e in d.by_procedure} == want["by_procedure"]
    assert [o["code"] for o in d.overdue] == want["overdue"]  # as of the range's end, not today
    assert d.overdue[0]["days_late"] == 2
    assert (q.issued, q.served, q.no_show, q.mean_wait_min, q.mean_service_min) == (
        want["queue.issued"], want["queue.served"], want["queue.no_show"], want["queue.mean_wait_min"],
        want["queue.mean_service_min"])
    assert {s["service_code"]: s["mean_wait_min"] for s in q.by_service} == want["wait"]
    assert {s["service_code"]: s["mean_service_min"] for s in q.by_service} == want["service"]
    assert {x["counter"]: x["served"] for x in q.by_counter} == want["counter_served"]
    assert {(h["service_code"], h["hour"]): h["issued"] for h in q.by_hour} == {
        ("HT", 8): 2, ("HT", 9): 1, ("CT", 8): 1, ("CT", 9): 1, ("CT", 10): 1}
    # a province view filtered to another center has no ratings or dossiers of this one
    assert other_center.ratings.count == 0 and other_center.dossiers.received == 0
    rows = list(csv.reader(io.StringIO(to_csv(board, "queue_services").lstrip("\ufeff"))))
    assert rows[0][0] == "dịch vụ"
    assert ["HT", "Hộ tịch", "3", "2", "1", str(float(want["wait"]["HT"])),
                                        str(float(want["service"]["HT"]))] in rows


def test_without_dossier_and_queue_tables_the_dashboard_says_no_data(tmp_path):
    from motcua.db import Base, get_engine, import_all_models

    import_all_models()
    url = f"sqlite:///{tmp_path / 'bare.sqlite3'}"
    keep = [t for name, t in Base.metadata.tables.items() if not name.startswith(("dossier", "queue", "portal"))]
    Base.metadata.create_all(get_engine(url), tables=keep)
    with session_scope(url) as session:
        board = build_dashboard(session, DateRange(DAY, DAY))
    assert board.dossiers is None and board.queue is None and set(board.missing) == {"dossiers", "queue"}
    assert "chưa có dữ liệu" in to_csv(board)


# --- the page in headless Chromium -------------------------------------------------------------------

@pytest.mark.integration
def test_dashboard_page_in_chromium_shows_the_seeded_figures(tmp_path, browser_page):
    from bot.app import create_app
    from motcua.db import upgrade_database
    from tests.servers import serve_in_thread
    from tests.staff.conftest import PASSWORD, add_accounts, make_settings

    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    upgrade_database(settings.sqlalchemy_url)
    add_accounts(settings.sqlalchemy_url)
    seed(settings.sqlalchemy_url)
    want = expected()
    page = browser_page
    with serve_in_thread(create_app(settings)) as base:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base}/staff/dashboard?start={DAY}&end={DAY}")
        assert "/staff/login" in page.url  # anonymous: sent to sign in first
        page.fill("#username", "canbo")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        wait_for_js(page, "document.body.dataset.loaded === '1'", timeout=15_000)
        assert page.url.endswith(f"/staff/dashboard?start={DAY}&end={DAY}")

        def figure(key: str) -> str:
            return page.text_content(f"[data-figure='{key}'] .value")

        def number(text: str) -> float:
            return float(text.replace(".", "").replace(",", ".").rstrip("%"))

        for key in ("chatbot.conversations", "chatbot.questions", "chatbot.answered", "chatbot.abstained",
                    "chatbot.handed_over", "chatbot.unhelpful", "ratings.count", "ratings.helpful",
                    "ratings.unhelpful", "dossiers.received", "dossiers.finished", "queue.issued",
                    "queue.served", "queue.no_show"):
            assert number(figure(key)) == want[key], key
        for key in ("ratings.average", "queue.mean_wait_min", "queue.mean_service_min"):
            assert number(figure(key)) == pytest.approx(want[key]), key
        assert number(figure("dossiers.on_time_rate")) == pytest.approx(round(want["on_time_rate"] * 100, 1))
        assert number(figure("dossiers.overdue")) == len(want["overdue"])

        # charts are inline SVG: one bar per hour, one per star; one line point per service and hour
        bars = page.eval_on_selector_all("svg[data-chart='chatbot-hours'] rect",
                                         "els => els.map(e => Number(e.dataset.value))")
        assert bars == want["by_hour"]
        stars = page.eval_on_selector_all("svg[data-chart='ratings'] rect",
                                          "els => els.map(e => Number(e.dataset.value))")
        assert stars == want["distribution"]
        points = page.eval_on_selector_all("svg[data-chart='queue-wait'] circle",
                                           "els => els.map(e => [e.dataset.series, e.dataset.label])")
        # a point per service and hour with a called ticket (B003, still waiting at 10h, has no wait yet)
        assert sorted(points) == [["Chứng thực", "8h"], ["Chứng thực", "9h"], ["Hộ tịch", "8h"], ["Hộ tịch", "9h"]]

        overdue = page.locator("#dossiers-overdue tbody tr td:first-child").all_text_contents()
        assert overdue == want["overdue"]
        services = {row[0]: row for row in (r.split("\t") for r in page.eval_on_selector_all(
            "#queue-services tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent).join('\\t'))"))}
        assert number(services["Chứng thực"][4]) == pytest.approx(want["wait"]["CT"])
        statuses = page.locator("#dossiers-status tbody tr").all_text_contents()
        assert len(statuses) == len(want["by_status"])
        assert errors == []

        # the CSV link carries the same range; the export answers for a signed-in browser only
        href = page.get_attribute("#csv", "href")
        assert f"start={DAY}" in href and f"end={DAY}" in href
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        exported = httpx.get(base + href, cookies=cookies).text.lstrip("\ufeff")
        assert "# chatbot" in exported and "# overdue" in exported and "OLD1" in exported
        assert httpx.get(base + href).status_code == 401
