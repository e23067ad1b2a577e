"""A conversation handed over to staff, and a question on the review list, belong to the centre the citizen
wrote from (issue 24): staff of one centre see and act on only their centre's, an admin every centre's."""

from __future__ import annotations

from contextlib import contextmanager

from fastapi.testclient import TestClient

from motcua.centers import DEFAULT_CENTER, add_center
from motcua.db import session_scope
from motcua.staff.accounts import create_user
from tests.staff.conftest import ADMIN_PASSWORD, PASSWORD, sign_in
from tests.staff.test_staff_handoff import wait_for

AN_BINH = "xa-an-binh"
AN_BINH_PASSWORD = "mat-khau-an-binh-2026"


def _setup(url: str) -> None:
    with session_scope(url) as session:
        add_center(session, AN_BINH, "Trung tâm Phục vụ hành chính công xã An Bình", agency_code="000.00.05.H51")
        create_user(session, "canbo-an-binh", AN_BINH_PASSWORD, role="staff", center_code=AN_BINH)


@contextmanager
def _clients(app):
    """(a citizen's client, the default centre's staff, An Bình's staff, an admin), the staff signed in."""
    with TestClient(app) as citizen, TestClient(app) as default_staff, TestClient(app) as an_binh_staff, \
            TestClient(app) as admin:
        sign_in(default_staff, "canbo", PASSWORD)
        sign_in(an_binh_staff, "canbo-an-binh", AN_BINH_PASSWORD)
        sign_in(admin, "quantri", ADMIN_PASSWORD)
        yield citizen, default_staff, an_binh_staff, admin


def _inbox(client: TestClient) -> dict[str, str]:
    return {row["sender_id"]: row["center_code"] for row in client.get("/api/v1/staff/handoffs").json()}


def test_each_centre_s_staff_see_and_answer_only_their_centre_s_conversations(staff_app):
    app, settings, _ = staff_app
    _setup(settings.sqlalchemy_url)
    with _clients(app) as (citizen, default_staff, an_binh_staff, admin):
        for body in ({"sender": "lan", "text": "/request_human", "center": AN_BINH},
                     {"sender": "minh", "text": "/request_human"}):
            assert citizen.post("/api/v1/messages", json=body).status_code == 200
        everything = wait_for(lambda: _inbox(admin), lambda rows: len(rows) == 2)
        assert everything == {"rest:lan": AN_BINH, "rest:minh": DEFAULT_CENTER}
        assert _inbox(default_staff) == {"rest:minh": DEFAULT_CENTER}
        assert _inbox(an_binh_staff) == {"rest:lan": AN_BINH}

        ids = {row["sender_id"]: row["id"] for row in admin.get("/api/v1/staff/handoffs").json()}
        lan = ids["rest:lan"]
        # another centre's conversation is as absent: not read, not answered, not handed back
        assert default_staff.get(f"/api/v1/staff/handoffs/{lan}").status_code == 404
        assert default_staff.post(f"/api/v1/staff/handoffs/{lan}/reply", json={"text": "chào chị"}).status_code == 404
        assert default_staff.post(f"/api/v1/staff/handoffs/{lan}/release").status_code == 404
        thread = an_binh_staff.get(f"/api/v1/staff/handoffs/{lan}").json()
        assert thread["center_code"] == AN_BINH and thread["status"] == "open"
        assert an_binh_staff.post(f"/api/v1/staff/handoffs/{lan}/reply", json={"text": "chào chị"}).status_code == 200
        assert an_binh_staff.post(f"/api/v1/staff/handoffs/{lan}/release").status_code == 200
        assert admin.get(f"/api/v1/staff/handoffs/{ids['rest:minh']}").status_code == 200
        # the citizen's next message after the hand-back goes to the assistant again, and a new
        # hand-over from the same chat opens in the centre it is written from
        assert citizen.post("/api/v1/messages", json={"sender": "lan", "text": "/request_human",
                                                      "center": AN_BINH}).status_code == 200
        reopened = wait_for(lambda: an_binh_staff.get("/api/v1/staff/handoffs").json(), lambda rows: len(rows) == 1)
        assert [row["center_code"] for row in reopened] == [AN_BINH] and reopened[0]["id"] != lan


def _review(client: TestClient) -> dict[str, str]:
    rows = client.get("/api/v1/staff/unanswered").json()
    assert all("sender_id" not in row for row in rows)  # staff review questions, not who asked them
    return {row["question"]: row["center_code"] for row in rows}


def test_each_centre_s_staff_review_only_their_centre_s_unanswered_questions(staff_app):
    app, settings, _ = staff_app
    _setup(settings.sqlalchemy_url)
    with _clients(app) as (citizen, default_staff, an_binh_staff, admin):
        for body in ({"sender": "lan", "text": "xyz abc", "center": AN_BINH},  # the assistant did not understand
                     {"sender": "minh", "text": "xyz def"}):
            assert citizen.post("/api/v1/messages", json=body).status_code == 200
        assert wait_for(lambda: _review(admin), lambda rows: len(rows) == 2) == {
            "xyz abc": AN_BINH, "xyz def": DEFAULT_CENTER}
        assert _review(default_staff) == {"xyz def": DEFAULT_CENTER}
        assert _review(an_binh_staff) == {"xyz abc": AN_BINH}
        lan = next(r["id"] for r in admin.get("/api/v1/staff/unanswered").json() if r["question"] == "xyz abc")
        assert default_staff.post(f"/api/v1/staff/unanswered/{lan}/dismiss").status_code == 404
        assert default_staff.post(f"/api/v1/staff/unanswered/{lan}/faq", json={"answer": "x"}).status_code == 404
        dismissed = an_binh_staff.post(f"/api/v1/staff/unanswered/{lan}/dismiss")
        assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"


def test_the_migration_matches_the_table_and_old_conversations_are_the_default_centre_s(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from motcua.db import Base, get_engine, import_all_models
    from motcua.staff import service

    import_all_models()
    with get_engine(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [change for change in diff if "handoff_conversations" in repr(change)
            or "unanswered_questions" in repr(change)] == []
    with session_scope(database_url) as session:
        row = service.open_handoff(session, channel="zalo", sender_id="zalo:9")
        assert row.center_code == DEFAULT_CENTER


def test_an_answer_rated_unhelpful_goes_to_the_review_list_of_the_centre_the_conversation_was_with(staff_app):
    app, settings, _ = staff_app
    _setup(settings.sqlalchemy_url)
    with _clients(app) as (citizen, default_staff, an_binh_staff, admin):
        assert citizen.post("/api/v1/messages", json={"sender": "hoa", "text": "thủ tục nhận con nuôi",
                                                      "center": AN_BINH}).status_code == 200
        rated = citizen.post("/api/v1/ratings", json={"kind": "answer", "helpful": False, "channel": "rest",
                                                      "session": "hoa"})
        assert rated.status_code == 201
        assert wait_for(lambda: _review(an_binh_staff), lambda rows: len(rows) == 1) == {
            "thủ tục nhận con nuôi": AN_BINH}
        assert _review(default_staff) == {}
        with session_scope(settings.sqlalchemy_url) as session:
            from sqlalchemy import select

            from motcua.staff.models import Rating
            assert session.scalar(select(Rating.center_code)) == AN_BINH  # the rating counts for An Bình too


def test_a_public_rating_cannot_pull_a_telegram_chat_s_question_onto_the_review_list(staff_app):
    from motcua.models import ConversationMessage

    app, settings, _ = staff_app
    _setup(settings.sqlalchemy_url)
    with session_scope(settings.sqlalchemy_url) as session:  # a Telegram chat's question in the message log
        session.add(ConversationMessage(channel="telegram", sender_id="telegram:424242", direction="in",
                                        text="con tôi bị ốm, xin nghỉ học thế nào"))
    with _clients(app) as (citizen, _default_staff, _an_binh_staff, admin):
        rated = citizen.post("/api/v1/ratings", json={"kind": "answer", "helpful": False, "channel": "telegram",
                                                      "session": "424242", "comment": "trả lời sai"})
        assert rated.status_code == 201
        assert wait_for(lambda: _review(admin), lambda rows: len(rows) == 1) == {"trả lời sai": DEFAULT_CENTER}
