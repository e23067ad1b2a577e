"""The dashboard of a deployment with two centres: staff see their own centre's figures whatever they
ask for; an admin sees every centre, or the one asked for by its code or agency code. A rating given
on a ticket's page counts for the centre that issued the ticket."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from motcua.centers import DEFAULT_CENTER, add_center
from motcua.db import session_scope
from motcua.dossiers.models import DossierRow
from motcua.models import ConversationMessage
from motcua.queue.models import QueueTicket, TicketStatus
from motcua.staff.accounts import create_user
from motcua.staff.models import HandoffConversation, Rating, UnansweredQuestion
from motcua.staff.service import RatingInput, add_rating
from tests.staff.conftest import ADMIN_PASSWORD, PASSWORD, sign_in
from tests.staff.test_staff_dashboard import DAY, at, seed

B = "xa-dong"
B_AGENCY = "000.00.31.H01"
B_TOKEN = "ve-xa-dong-1"


def seed_centre_b(url: str) -> None:
    with session_scope(url) as session:
        add_center(session, B, "Trung tâm PVHCC xã Đông", agency_code=B_AGENCY, actor="test")
        create_user(session, "canbo_dong", PASSWORD, role="staff", full_name="Lê Văn Đông", center_code=B)
        session.add(DossierRow(code=f"{B_AGENCY}-B1", agency_code=B_AGENCY, center_code=B, day=DAY, seq=1,
                               procedure_code="1.001193", procedure_name="Đăng ký khai sinh", values={},
                               applicant_name="Người nộp ở xã Đông", status="received", received_at=at(9, 30),
                               due_date=DAY + timedelta(days=3)))
        session.add(QueueTicket(token=B_TOKEN, service_code="HT", issued_service="HT", day=DAY, number=1, label="A001",
                                status=TicketStatus.WAITING, channel="kiosk", center_code=B, issued_at=at(9, 5)))
        add_rating(session, RatingInput(kind="service", score=1, center_code=B), created_at=at(11))
        for minute, (text, outcome) in enumerate([("lam giay khai sinh", ""), ("xyz", "fallback"),
                                                  ("gap can bo", "handoff")]):
            session.add(ConversationMessage(channel="telegram", sender_id="telegram:31", direction="in", text=text,
                                            outcome=outcome, center_code=B, created_at=at(10, minute)))
        session.add(UnansweredQuestion(channel="telegram", sender_id="telegram:31", question="xyz", reason="fallback",
                                       center_code=B, created_at=at(10, 1)))
        session.add(HandoffConversation(channel="telegram", sender_id="telegram:31", center_code=B,
                                        created_at=at(10, 2), last_message_at=at(10, 2)))


def figures(client: TestClient, **params) -> dict:
    response = client.get("/api/v1/staff/dashboard", params={"start": DAY, "end": DAY, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_staff_see_their_centre_and_an_admin_sees_every_centre_or_the_one_asked(staff_app):
    app, settings, _ = staff_app
    seed(settings.sqlalchemy_url)
    seed_centre_b(settings.sqlalchemy_url)
    with TestClient(app) as default_staff, TestClient(app) as dong_staff, TestClient(app) as admin:
        sign_in(default_staff, "canbo", PASSWORD)
        sign_in(dong_staff, "canbo_dong", PASSWORD)
        sign_in(admin, "quantri", ADMIN_PASSWORD)
        mine = figures(default_staff)
        assert figures(default_staff, center=B) == mine  # asking for another centre changes nothing
        dong = figures(dong_staff)
        assert figures(dong_staff, center="") == dong
        every = figures(admin)
        by_code, by_agency = figures(admin, center=B), figures(admin, center=B_AGENCY)

    assert dong["dossiers"]["received"] == 1 and dong["queue"]["issued"] == 1
    assert dong["ratings"]["count"] == 1 and dong["ratings"]["average"] == 1
    assert mine["dossiers"]["received"] > 0 and mine["queue"]["issued"] > 0 and mine["ratings"]["count"] > 0
    assert every["dossiers"]["received"] == mine["dossiers"]["received"] + 1
    assert every["queue"]["issued"] == mine["queue"]["issued"] + 1
    assert every["ratings"]["count"] == mine["ratings"]["count"] + 1
    assert {row["center"] for row in every["dossiers"]["by_center"]} == {DEFAULT_CENTER, B}
    for asked in (by_code, by_agency):
        assert (asked["dossiers"]["received"], asked["queue"]["issued"], asked["ratings"]["count"]) == (1, 1, 1)
        # the assistant's figures: the three messages written at B (one answered, one not understood, one to staff)
        chat = asked["chatbot"]
        assert (chat["conversations"], chat["questions"], chat["answered"], chat["abstained"], chat["handed_over"],
                chat["to_staff_messages"]) == (1, 2, 1, 1, 1, 1)
    assert dong["chatbot"] == by_code["chatbot"]
    for key in ("conversations", "questions", "abstained", "handed_over"):
        assert every["chatbot"][key] == mine["chatbot"][key] + by_code["chatbot"][key], key
    assert mine["chatbot"]["questions"] > 0  # the default centre's own, from the seed


def test_a_csv_export_is_scoped_the_same_way(staff_app):
    app, settings, _ = staff_app
    seed(settings.sqlalchemy_url)
    seed_centre_b(settings.sqlalchemy_url)
    overdue = {"start": DAY, "end": DAY, "section": "overdue", "center": DEFAULT_CENTER}
    with TestClient(app) as dong_staff, TestClient(app) as admin:
        sign_in(dong_staff, "canbo_dong", PASSWORD)
        sign_in(admin, "quantri", ADMIN_PASSWORD)
        theirs = dong_staff.get("/api/v1/staff/dashboard/export.csv", params=overdue)
        everyone = admin.get("/api/v1/staff/dashboard/export.csv", params={**overdue, "center": ""})
    assert theirs.status_code == everyone.status_code == 200
    assert "Người nộp OLD1" in everyone.text  # the default centre's overdue dossier
    assert "Người nộp OLD1" not in theirs.text and len(theirs.text.splitlines()) == 1  # the heading only


def test_a_rating_on_a_tickets_page_counts_for_the_centre_that_issued_the_ticket(staff_app):
    app, settings, _ = staff_app
    seed_centre_b(settings.sqlalchemy_url)
    with TestClient(app) as citizen:
        for token in (B_TOKEN, "khong-co-ve-nay"):
            response = citizen.post("/api/v1/ratings", json={"kind": "service", "score": 5, "channel": "queue",
                                                             "session": token})
            assert response.status_code == 201, response.text
    with session_scope(settings.sqlalchemy_url) as session:
        stored = [r.center_code for r in session.scalars(select(Rating).where(Rating.score == 5).order_by(Rating.id))]
    assert stored == [B, DEFAULT_CENTER]  # an unknown ticket: the default centre, as the page would be
