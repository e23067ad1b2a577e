"""Status changes: the allowed road, history with actor and time, outbox rows, notices."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from motcua.db import session_scope, shared_database
from motcua.dossiers.errors import DossierError, DossierNotFound
from motcua.dossiers.models import DossierNotification, DossierStatusChange, PortalOutboxRow
from motcua.dossiers.notifications import RecordingNotifier
from motcua.dossiers.service import DossierService
from motcua.dossiers.status import TRANSITIONS, DossierStatus, InvalidTransition, check_transition
from tests.dossiers.support import AGENCY, Clock, application


def test_the_whole_road_is_recorded_with_actor_time_and_one_outbox_row_each(service, catalogue, clock, db):
    code = db.run(service.file_dossier, application()).code
    clock.advance(minutes=5)
    db.run(service.receive, code, actor="staff:Hà")
    clock.advance(hours=1)
    db.run(service.change_status, code, "completed", actor="staff:Hà")
    clock.advance(days=1)
    detail = db.run(service.change_status, code, "result_returned", actor="staff:Minh")
    assert [(h.status, h.actor) for h in detail.history] == [
        ("received", "assistant"), ("in_processing", "staff:Hà"), ("completed", "staff:Hà"),
        ("result_returned", "staff:Minh")]
    assert [h.at for h in detail.history] == sorted(h.at for h in detail.history)
    assert detail.history[-1].at == clock.at
    assert [(o.position, o.event) for o in detail.outbox] == [
        (1, "dossier.created"), (2, "dossier.status_changed"), (3, "dossier.status_changed"),
        (4, "dossier.status_changed")]
    with session_scope(catalogue) as session:
        payloads = session.scalars(select(PortalOutboxRow.payload).order_by(PortalOutboxRow.position)).all()
    assert [(p.get("from"), p.get("to")) for p in payloads[1:]] == [
        ("received", "in_processing"), ("in_processing", "completed"), ("completed", "result_returned")]
    assert detail.next_statuses == ()


def test_invalid_transitions_are_refused_and_change_nothing(service, catalogue, db):
    code = db.run(service.file_dossier, application()).code
    with pytest.raises(InvalidTransition, match="không chuyển sang «Đã trả kết quả» được"):
        db.run(service.change_status, code, "result_returned", actor="staff:Hà")
    with pytest.raises(InvalidTransition, match="«dang_lam» không có"):
        db.run(service.change_status, code, "dang_lam", actor="staff:Hà")
    with pytest.raises(InvalidTransition, match="ghi rõ lý do"):
        db.run(service.change_status, code, "rejected", actor="staff:Hà", note="   ")
    db.run(service.change_status, code, "rejected", actor="staff:Hà", note="Không thuộc thẩm quyền của xã.")
    with pytest.raises(InvalidTransition, match="không chuyển được nữa"):
        db.run(service.receive, code, actor="staff:Hà")
    with session_scope(catalogue) as session:
        assert session.scalar(select(func.count()).select_from(DossierStatusChange)) == 2
        assert session.scalar(select(func.count()).select_from(PortalOutboxRow)) == 2


def test_every_status_has_a_label_and_terminal_statuses_go_nowhere():
    for status in DossierStatus:
        assert status.label and status.action_label
    assert TRANSITIONS[DossierStatus.RESULT_RETURNED] == TRANSITIONS[DossierStatus.REJECTED] == frozenset()
    assert check_transition("supplement_requested", "in_processing") == DossierStatus.IN_PROCESSING


def test_a_supplement_request_needs_a_note_reaches_the_citizen_and_restarts_the_clock(
    sqlite_catalogue, notifier
):
    clock = Clock(datetime(2026, 3, 9, 9, 0))  # Monday
    db = shared_database(sqlite_catalogue)
    service = DossierService(agency_code=AGENCY, notifier=notifier, clock=clock)
    filed = db.run(service.file_dossier, application("1.004194", channel="zalo", sender_id="zalo:9"))
    assert filed.due_date == date(2026, 3, 12)
    with pytest.raises(InvalidTransition, match="nội dung cần bổ sung"):
        db.run(service.request_supplement, filed.code, "", actor="staff:Hà")
    assert notifier.notices == []
    detail = db.run(service.request_supplement, filed.code, "Thiếu bản sao sổ hộ khẩu.", actor="staff:Hà")
    assert detail.supplement_note == "Thiếu bản sao sổ hộ khẩu."
    notice = notifier.notices[-1]
    assert (notice.channel, notice.sender_id, notice.status) == ("zalo", "zalo:9", "supplement_requested")
    assert "cần bổ sung: Thiếu bản sao sổ hộ khẩu." in notice.text
    clock.at = datetime(2026, 3, 13, 16, 0, tzinfo=clock.at.tzinfo)  # the supplement arrives Friday after 15:00
    detail = db.run(service.change_status, filed.code, "in_processing", actor="staff:Hà")
    assert detail.due_date == date(2026, 3, 18)  # 3 working days from Monday 16/03
    assert detail.supplement_note == ""
    assert "đã nhận đủ giấy tờ bổ sung" in notifier.notices[-1].text
    assert "18/03/2026" in notifier.notices[-1].text


def test_no_notice_for_a_dossier_without_a_channel_or_for_a_refused_change(service, notifier, db):
    counter = db.run(service.file_dossier, application(channel="counter", sender_id="")).code
    db.run(service.receive, counter, actor="staff:Hà")
    chat = db.run(service.file_dossier, application()).code
    with pytest.raises(InvalidTransition):
        db.run(service.change_status, chat, "completed", actor="staff:Hà")
    assert notifier.notices == []


def test_a_change_and_its_notice_commit_together_a_failing_notice_undoes_the_change(catalogue, clock):
    class Broken:
        def notify(self, notice, session):
            RecordingNotifier().notify(notice, session)  # written, then the transaction fails
            raise ConnectionError("database gone")

    db = shared_database(catalogue)

    service = DossierService(agency_code=AGENCY, notifier=Broken(), clock=clock)
    code = db.run(service.file_dossier, application()).code
    with pytest.raises(ConnectionError):
        db.run(service.receive, code, actor="staff:Hà")
    assert db.run(service.get, code).status == "received"  # neither the change nor its notice
    with session_scope(catalogue) as session:
        assert session.scalars(select(DossierNotification)).all() == []
        assert [c.to_status for c in session.scalars(select(DossierStatusChange))] == ["received"]


def test_the_recording_notifier_writes_notices_for_the_channels(catalogue, clock):
    notifier = RecordingNotifier(shared_database(catalogue))
    db = shared_database(catalogue)
    service = DossierService(agency_code=AGENCY, notifier=notifier, clock=clock)
    code = db.run(service.file_dossier, application()).code
    db.run(service.receive, code, actor="staff:Hà")
    db.run(service.change_status, code, "completed", actor="staff:Hà")
    with session_scope(catalogue) as session:
        rows = session.scalars(select(DossierNotification).order_by(DossierNotification.id)).all()
        assert [(r.dossier_code, r.sender_id, r.status, r.sent_at) for r in rows] == [
            (code, "telegram:42", "in_processing", None), (code, "telegram:42", "completed", None)]
        assert "đã có kết quả" in rows[1].text


def test_changing_an_unknown_or_malformed_code(service, db):
    with pytest.raises(DossierNotFound, match="Không tìm thấy hồ sơ mã 000.00.04.H51-260310-0099"):
        db.run(service.receive, "000.00.04.H51-260310-0099", actor="staff:Hà")
    with pytest.raises(DossierError, match="không phải mã số hồ sơ"):
        db.run(service.receive, "HS-2026-0001", actor="staff:Hà")
    with pytest.raises(ValueError, match="actor"):
        db.run(service.receive, "000.00.04.H51-260310-0001", actor=" ")


def test_staff_changing_one_dossier_at_the_same_moment_cannot_both_win(service, catalogue, db):
    import threading

    code = db.run(service.file_dossier, application()).code
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def receive() -> None:
        start.wait()
        try:
            db.run(service.receive, code, actor="staff:Hà")
            outcomes.append("ok")
        except InvalidTransition:
            outcomes.append("refused")

    threads = [threading.Thread(target=receive) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    detail = db.run(service.get, code)
    assert [o.position for o in detail.outbox] == [1, 2]
    assert [h.status for h in detail.history] == ["received", "in_processing"]


def test_statuses_and_portal_events_are_enums_in_python_and_plain_text_in_the_database(service, catalogue, db):
    from sqlalchemy import text

    from motcua.dossiers.models import DossierRow, PortalEvent

    filed = db.run(service.file_dossier, application())
    assert filed.status is DossierStatus.RECEIVED
    detail = db.run(service.change_status, filed.code, "in_processing", actor="staff:Hà")
    assert detail.status is DossierStatus.IN_PROCESSING and detail.status_label == "Đang giải quyết"
    assert [type(h.status) for h in detail.history] == [DossierStatus, DossierStatus]
    assert [o.event for o in detail.outbox] == [PortalEvent.CREATED, PortalEvent.STATUS_CHANGED]
    assert [s.status for s in db.run(service.list_dossiers, status="in_processing")] == [DossierStatus.IN_PROCESSING]
    with session_scope(catalogue) as session:
        assert session.scalar(select(DossierRow.status)) is DossierStatus.IN_PROCESSING
        stored = session.execute(text("SELECT status FROM dossiers")).scalar()
        events = session.execute(text("SELECT event FROM portal_outbox ORDER BY position")).scalars().all()
    assert type(stored) is str and stored == "in_processing"
    assert events == ["dossier.created", "dossier.status_changed"]
