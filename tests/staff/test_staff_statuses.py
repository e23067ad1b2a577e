"""The review list's and the handoff inbox's statuses: enums in Python, plain text in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from motcua.db import session_scope
from motcua.staff import service
from motcua.staff.models import HandoffStatus, QuestionStatus


def test_a_question_moves_from_open_to_dismissed_and_is_listed_by_status(database_url):
    with session_scope(database_url) as session:
        kept = service.record_unanswered(session, channel="web", sender_id="web:1", question="giờ mở cửa?",
                                         reply="", reason="empty")
        dropped = service.record_unanswered(session, channel="web", sender_id="web:2", question="xyz",
                                            reply="", reason="fallback")
        session.flush()
        assert kept.status is QuestionStatus.OPEN
        service.dismiss(session, dropped.id, actor="canbo")
    with session_scope(database_url) as session:
        assert [q.question for q in service.list_unanswered(session)] == ["giờ mở cửa?"]
        dismissed = service.list_unanswered(session, "dismissed")
        assert [(q.question, q.status) for q in dismissed] == [("xyz", QuestionStatus.DISMISSED)]
        assert service.STATUS_LABELS[dismissed[0].status] == "Đã bỏ qua"
        assert len(service.list_unanswered(session, "all")) == 2
        stored = session.execute(text("SELECT status FROM unanswered_questions ORDER BY id")).scalars().all()
    assert stored == ["open", "dismissed"]
    with pytest.raises(ValueError, match="answered"):
        with session_scope(database_url) as session:
            service.list_unanswered(session, "answered")


def test_a_closed_handoff_is_no_longer_open_and_cannot_be_closed_twice(database_url):
    with session_scope(database_url) as session:
        conversation = service.open_handoff(session, channel="zalo", sender_id="zalo:9", reason="handoff")
        assert conversation.status is HandoffStatus.OPEN
        assert service.open_handoff_senders(session) == [("zalo:9", "zalo")]
        service.close_handoff(session, conversation.id, actor="canbo")
    with session_scope(database_url) as session:
        assert service.open_handoff_senders(session) == []
        assert [h["status"] for h in service.list_handoffs(session, "closed")] == [HandoffStatus.CLOSED]
        stored = session.execute(text("SELECT status FROM handoff_conversations")).scalar()
        with pytest.raises(service.ReviewError):
            service.close_handoff(session, conversation.id, actor="canbo")
    assert stored == "closed"
