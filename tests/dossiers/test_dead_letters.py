"""The portal outbox's dead letters, dossier notices in the change's transaction, /health and
/staff/deliveries figures."""

from __future__ import annotations

from sqlalchemy import select

from motcua import delivery
from motcua.db import session_scope, shared_database
from motcua.delivery import DeliveryPolicy
from motcua.dossiers.models import DossierNotification, PortalOutboxRow
from motcua.dossiers.outbox import deliver_pending, outbox_summary
from motcua.dossiers.portal import MemoryPortal
from tests.dossiers.support import application

POLICY = DeliveryPolicy(max_attempts=3, base_delay_s=60, max_delay_s=600, jitter=0)


def _rows(url: str) -> list[PortalOutboxRow]:
    with session_scope(url) as session:
        return list(session.scalars(select(PortalOutboxRow).order_by(PortalOutboxRow.id)))


def test_a_refused_portal_event_is_a_dead_letter_after_n_tries_and_then_holds_nothing_back(service, catalogue,
                                                                                            clock, db):
    code = db.run(service.file_dossier, application()).code
    db.run(service.receive, code, actor="staff:Hà")  # position 2: refused
    db.run(service.request_supplement, code, "Thiếu giấy chứng sinh.", actor="staff:Hà")  # position 3: refused too
    portal = MemoryPortal(reject_events={"dossier.status_changed"})
    assert deliver_pending(db, portal, policy=POLICY, clock=clock).delivered == 1
    clock.advance(seconds=61)
    report = deliver_pending(db, portal, policy=POLICY, clock=clock)
    assert (report.failed, report.dead) == (1, 0)  # the refused row retries; the later row waits behind it
    assert _rows(catalogue)[2].attempts == 0
    clock.advance(seconds=121)
    report = deliver_pending(db, portal, policy=POLICY, clock=clock)
    assert (report.failed, report.dead) == (2, 1)  # the third refusal: dead, and the later row is tried at once
    second, third = _rows(catalogue)[1:]
    assert (second.state, second.attempts, second.delivered_at) == ("dead", 3, None)
    assert (third.state, third.attempts) == ("pending", 1)
    portal.reject_events.clear()
    clock.advance(seconds=61)
    assert deliver_pending(db, portal, policy=POLICY, clock=clock).delivered == 1  # no longer held
    assert portal.order == [f"{code}/001", f"{code}/003"]
    summary = outbox_summary(catalogue)
    assert (summary.pending, summary.dead) == (0, 1) and "từ chối" in summary.message
    with session_scope(catalogue) as session:
        [letter] = delivery.dead_letters(session)
        assert (letter.kind, letter.channel, letter.attempts) == ("portal", "portal", 3)
        assert code in letter.what and "HTTP 422" in letter.last_error
        delivery.resend(session, "portal", letter.id, actor="ha", now=clock())
    assert deliver_pending(db, portal, policy=POLICY, clock=clock).delivered == 1
    assert portal.order[-1] == f"{code}/002" and _rows(catalogue)[1].state == "sent"


def test_an_unavailable_portal_never_makes_a_dead_letter(service, catalogue, clock, db):
    db.run(service.file_dossier, application())
    portal = MemoryPortal(down=True)
    for _ in range(5):
        deliver_pending(db, portal, policy=POLICY, clock=clock)
        clock.advance(seconds=601)
    [row] = _rows(catalogue)
    assert (row.state, row.attempts) == ("pending", 5)


def test_the_status_change_and_its_notice_are_one_transaction(catalogue, clock):
    from motcua.dossiers.notifications import RecordingNotifier
    from motcua.dossiers.service import DossierService
    from tests.dossiers.support import AGENCY

    db = shared_database(catalogue)

    service = DossierService(agency_code=AGENCY, notifier=RecordingNotifier(), clock=clock)
    code = db.run(service.file_dossier, application()).code
    db.run(service.receive, code, actor="staff:Hà")
    with session_scope(catalogue) as session:
        [notice] = session.scalars(select(DossierNotification)).all()
        assert (notice.state, notice.attempts, notice.status) == ("pending", 0, "in_processing")
        figures = delivery.outbox_figures(session, clock())
    assert figures.pending == 1 + 2  # the notice and the two portal rows
