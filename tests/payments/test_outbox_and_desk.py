"""The payment in the portal outbox (its own event, and a block on every status change), and the
desk page's fee block wired to the staff API."""

from __future__ import annotations

from sqlalchemy import select

from motcua.db import session_scope
from motcua.dossiers.models import PortalEvent, PortalOutboxRow
from tests.payments.test_citizen import LATE, ON_TIME, file
from tests.payments.test_routes import app, staff, url  # noqa: F401 — the signed-in desk client and its app


def outbox(database_url: str, code: str) -> list[PortalOutboxRow]:
    with session_scope(database_url) as session:
        rows = session.scalars(select(PortalOutboxRow).where(PortalOutboxRow.dossier_code == code)
                               .order_by(PortalOutboxRow.position)).all()
        session.expunge_all()
        return list(rows)


def test_the_portal_hears_the_fee_the_payment_and_sees_it_on_status_changes(dossiers, payments, catalogue, db):
    code = file(db, dossiers, LATE)
    assert [r.event for r in outbox(catalogue, code)] == [PortalEvent.CREATED]
    db.run(payments.payment, code)  # priced: 8.000 đồng owed
    db.run(dossiers.receive, code, actor="staff:thuha")
    db.run(payments.mark_cash, code, actor="staff:thuha")
    rows = outbox(catalogue, code)
    assert [r.event for r in rows] == [PortalEvent.CREATED, PortalEvent.PAYMENT_CHANGED, PortalEvent.STATUS_CHANGED,
                                       PortalEvent.PAYMENT_CHANGED]
    assert rows[1].payload["payment"]["state"] == "unpaid" and rows[1].payload["payment"]["amount"] == 8000
    assert rows[2].payload["payment"]["state"] == "unpaid"  # the block as it stood at the status change
    paid = rows[3].payload["payment"]
    assert (paid["state"], paid["method"], paid["paid_amount"], paid["recorded_by"]) == ("paid", "cash", 8000,
                                                                                       "staff:thuha")
    assert paid["paid_at"] and "Lan" not in str(rows[3].payload)  # no personal data in the block
    assert [r.position for r in rows] == [1, 2, 3, 4]


def test_a_free_dossier_adds_no_payment_event_and_an_unpriced_one_has_no_block(dossiers, payments, catalogue, db):
    free = file(db, dossiers, ON_TIME)
    assert db.run(payments.payment, free).state == "none_due"
    other = file(db, dossiers, LATE)
    db.run(dossiers.receive, other, actor="staff:thuha")  # never priced
    assert [r.event for r in outbox(catalogue, free)] == [PortalEvent.CREATED]
    assert outbox(catalogue, other)[-1].payload["payment"] is None


def test_the_desk_page_has_the_fee_block_and_its_script(staff):  # noqa: F811
    page = staff.get("/staff/dossiers")
    assert page.status_code == 200
    for needle in ('id="d-payment"', 'id="p-cash"', "Đã thu tiền mặt", 'id="p-waive-open"', "Miễn phí",
                   'id="p-reason"', "/static/desk-payment.js"):
        assert needle in page.text, needle
    script = staff.get("/static/desk-payment.js")
    assert script.status_code == 200
    for needle in ("/api/v1/staff/payments/", '"cash"', '"waive"', "receipt.pdf", "vietqr.svg", "reason"):
        assert needle in script.text, needle
    assert "DeskPayment.show(d.code)" in staff.get("/static/desk.js").text


def test_a_waivers_reason_stays_at_the_centre(dossiers, payments, catalogue, db):
    code = file(db, dossiers, LATE)
    db.run(payments.payment, code)
    db.run(payments.waive, code, reason="Người khuyết tật nặng, ông Nguyễn Văn Lan", actor="staff:thuha")
    block = outbox(catalogue, code)[-1].payload["payment"]
    assert (block["state"], block["waived"]) == ("waived", True)
    assert "khuyết tật" not in str(block) and "Lan" not in str(block)
