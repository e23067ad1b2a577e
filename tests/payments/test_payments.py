"""Payments of dossiers on SQLite and PostgreSQL: the fee, the VietQR request, a bank statement that
pays it, cash, waivers, and every statement line kept with what became of it."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from motcua.db import get_engine, session_scope
from motcua.dossiers.errors import DossierNotFound
from motcua.payments.models import (
    DossierPayment,
    DossierPaymentEvent,
    LineOutcome,
    PaymentMethod,
    PaymentState,
    StatementLineRow,
)
from motcua.payments.service import PaymentError, PaymentService
from motcua.payments.statement import read_statement
from motcua.payments.vietqr import decode_payload
from motcua.staff.models import AuditEntry
from motcua.workdays import VIETNAM_TZ
from tests.dossiers.support import AGENCY, application
from tests.payments.conftest import ACCOUNT


def file_birth(db, dossiers, born: date, **kwargs) -> str:
    values = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": born}
    return db.run(dossiers.file_dossier, application(values=values, form_id="birth_registration", **kwargs)).code


def late_birth(db, dossiers) -> str:
    """A birth registered at the counter on 10/03/2026 for a child born 01/12/2025: 99 days, late."""
    return file_birth(db, dossiers, date(2025, 12, 1), channel="counter", sender_id="")


def count(url: str, model) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_late_birth_is_paid_by_the_transfer_its_vietqr_asked_for(dossiers, payments, catalogue, clock, db):
    code = late_birth(db, dossiers)
    owed = db.run(payments.payment, code)
    assert (owed.state, owed.amount, owed.fee_source) == (PaymentState.UNPAID, 8000, "center_table")

    request = db.run(payments.vietqr, code)
    decoded = decode_payload(request.payload)  # tag by tag, CRC recomputed
    assert (decoded.bank_bin, decoded.account_number, decoded.amount, decoded.note) == \
        (ACCOUNT.bank_bin, ACCOUNT.account_number, 8000, code)
    assert request.account_name == ACCOUNT.account_name

    clock.advance(hours=2)
    statement = read_statement(f"Ngày;Số tiền;Nội dung\n10/03/2026 10:12;8.000;{code} Nguyen Thi Lan\n")
    report = payments.import_statement(db, statement, actor="staff:thuha", source="saoke-10-03.csv")
    assert [line.outcome for line in report.lines] == [LineOutcome.MATCHED]
    assert report.lines[0].dossier_code == code

    paid = db.run(payments.payment, code)
    assert (paid.state, paid.method, paid.paid_amount, paid.paid_by) == \
        (PaymentState.PAID, PaymentMethod.VIETQR, 8000, "staff:thuha")
    assert paid.paid_at == datetime(2026, 3, 10, 10, 12, tzinfo=VIETNAM_TZ)
    assert [(e.from_state, e.to_state) for e in paid.history] == [("", PaymentState.UNPAID),
                                                                   ("unpaid", PaymentState.PAID)]
    assert "saoke-10-03.csv, dòng 2" in paid.history[-1].note
    with pytest.raises(PaymentError, match="đã nộp phí 8.000 đồng bằng chuyển khoản"):
        db.run(payments.vietqr, code)
    with session_scope(catalogue) as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.target == f"dossier:{code}")).all()
        assert [(a.actor, a.action, a.after["method"]) for a in audit] == \
            [("staff:thuha", "dossier.payment.paid", "vietqr")]


def test_a_birth_in_time_owes_nothing_and_gets_no_qr(dossiers, payments, db):
    code = file_birth(db, dossiers, date(2026, 3, 1))
    assert db.run(payments.payment, code).state == PaymentState.NONE_DUE
    with pytest.raises(PaymentError, match="không phải nộp phí"):
        db.run(payments.vietqr, code)
    with pytest.raises(PaymentError, match="không phải nộp phí"):
        db.run(payments.mark_cash, code, actor="staff:thuha")


def test_the_fee_is_kept_once_priced_and_online_filing_pays_the_online_amount(dossiers, payments, catalogue, db):
    code = file_birth(db, dossiers, date(2025, 12, 1))  # from Telegram: online
    assert db.run(payments.payment, code).amount == 4000
    assert db.run(payments.payment, code).amount == 4000
    assert count(catalogue, DossierPayment) == 1 and count(catalogue, DossierPaymentEvent) == 1


def test_cash_at_the_counter_then_a_second_time_is_refused(dossiers, payments, catalogue, db):
    code = late_birth(db, dossiers)
    paid = db.run(payments.mark_cash, code, actor="staff:thuha")
    assert (paid.state, paid.method, paid.paid_amount) == (PaymentState.PAID, PaymentMethod.CASH, 8000)
    with pytest.raises(PaymentError, match="tiền mặt") as caught:
        db.run(payments.mark_cash, code, actor="staff:minh")
    assert caught.value.kind == "conflict"
    assert count(catalogue, DossierPaymentEvent) == 2


def test_a_waiver_needs_a_reason_and_is_audited(dossiers, payments, catalogue, db):
    code = late_birth(db, dossiers)
    with pytest.raises(PaymentError, match="lý do") as caught:
        db.run(payments.waive, code, "  ", actor="staff:thuha")
    assert caught.value.kind == "invalid"
    waived = db.run(payments.waive, code, "Hộ nghèo, sổ hộ nghèo số 12/2026", actor="staff:thuha")
    assert (waived.state, waived.waiver_reason, waived.paid_amount) == \
        (PaymentState.WAIVED, "Hộ nghèo, sổ hộ nghèo số 12/2026", 0)
    with pytest.raises(PaymentError, match="miễn phí"):
        db.run(payments.mark_cash, code, actor="staff:thuha")
    with session_scope(catalogue) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "dossier.payment.waived"))
        assert entry.actor == "staff:thuha" and entry.after["note"].startswith("Hộ nghèo")


def test_every_statement_line_is_kept_with_its_outcome_and_a_second_import_changes_nothing(
        dossiers, payments, catalogue, db):
    first, second, third = (late_birth(db, dossiers) for _ in range(3))
    db.run(payments.mark_cash, third, actor="staff:thuha")
    compact = first.replace(".", "").replace("-", " ")
    text = "\n".join([
        "date,amount,note",
        f"2026-03-10 10:00,8000,{compact}",  # the bank dropped the dots: still the first dossier
        f"2026-03-10 10:05,8000,{first}",  # the first paid twice
        f"2026-03-10 10:06,5000,{second}",  # the wrong amount
        f"2026-03-10 10:07,8000,{third}",  # paid in cash already
        f"2026-03-10 10:08,8000,{AGENCY}-260310-0099",  # no such dossier
        "2026-03-10 10:09,20000,chuyen tien nha",  # no code at all
        "hom nay,8000,x",  # unreadable
    ])
    report = payments.import_statement(db, read_statement(text), actor="cli", source="saoke.csv")
    assert [line.outcome for line in report.lines] == [
        LineOutcome.MATCHED, LineOutcome.ALREADY_PAID, LineOutcome.WRONG_AMOUNT, LineOutcome.ALREADY_PAID,
        LineOutcome.UNMATCHED, LineOutcome.UNMATCHED, LineOutcome.INVALID]
    assert "phải nộp 8.000 đồng" in report.lines[2].message and "hoàn lại" in report.lines[1].message
    assert db.run(payments.payment, second).state == PaymentState.UNPAID
    assert count(catalogue, StatementLineRow) == 7

    again = payments.import_statement(db, read_statement(text), actor="cli", source="saoke.csv")
    assert {line.outcome for line in again.lines} == {LineOutcome.DUPLICATE}
    assert count(catalogue, StatementLineRow) == 7
    assert db.run(payments.payment, first).history[-1].actor == "cli" and len(db.run(payments.payment, first).history) == 2
    assert "khớp, đã ghi nộp phí: 1" in report.summary()


def test_a_statement_line_that_fails_leaves_the_lines_before_it_recorded(dossiers, payments, catalogue, db,
                                                                         monkeypatch):
    """One transaction per line: the second line fails after marking its dossier paid; that line is undone
    whole, the first stays recorded, and importing the statement again pays the second."""
    first, second = (late_birth(db, dossiers) for _ in range(2))
    match = payments._match

    def failing(session, line, *args, **kwargs):
        outcome = match(session, line, *args, **kwargs)  # the dossier is marked paid in the line's transaction…
        if second in line.note:
            raise RuntimeError("the connection dropped")  # …then the line fails
        return outcome

    text = f"date,amount,note\n2026-03-10 10:00,8000,{first}\n2026-03-10 10:05,8000,{second}\n"
    monkeypatch.setattr(payments, "_match", failing)
    with pytest.raises(RuntimeError, match="connection dropped"):
        payments.import_statement(db, read_statement(text), actor="cli", source="saoke.csv")
    monkeypatch.undo()
    assert db.run(payments.payment, first).state == PaymentState.PAID
    assert db.run(payments.payment, second).state == PaymentState.UNPAID
    assert count(catalogue, StatementLineRow) == 1
    again = payments.import_statement(db, read_statement(text), actor="cli", source="saoke.csv")
    assert [line.outcome for line in again.lines] == [LineOutcome.DUPLICATE, LineOutcome.MATCHED]
    assert db.run(payments.payment, second).state == PaymentState.PAID


def test_a_fee_the_catalogue_gives_only_in_words_without_a_table_rule_is_reported(dossiers, payments, catalogue, db):
    code = db.run(dossiers.file_dossier, application("1.009994", channel="counter", sender_id="")).code
    with pytest.raises(PaymentError, match="Chưa có mức phí cho thủ tục 1.009994"):
        db.run(payments.payment, code)
    report = payments.import_statement(db, read_statement(f"2026-03-10,50000,{code}\n"), actor="cli")
    assert report.lines[0].outcome == LineOutcome.UNMATCHED and "Chưa có mức phí" in report.lines[0].message
    assert count(catalogue, DossierPayment) == 0 and count(catalogue, StatementLineRow) == 1


def test_without_an_account_there_is_no_qr_but_cash_still_works(dossiers, catalogue, clock, db):
    payments = PaymentService(agency_code=AGENCY, account=None, clock=clock)
    code = late_birth(db, dossiers)
    with pytest.raises(PaymentError, match="MOTCUA_PAYMENT_BANK_BIN"):
        db.run(payments.vietqr, code)
    assert db.run(payments.mark_cash, code, actor="staff:thuha").state == PaymentState.PAID


def test_a_dossier_of_another_center_is_not_found(dossiers, payments, db):
    code = late_birth(db, dossiers)
    with pytest.raises(DossierNotFound):
        db.run(payments.payment, code, center="000.00.09.H99")


def test_the_migration_matches_the_tables(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from motcua.db import Base, import_all_models

    import_all_models()
    mine = {"dossier_payments", "dossier_payment_events", "payment_statement_lines"}
    with get_engine(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [c for c in diff if any(name in repr(c) for name in mine)] == []


def test_a_transfer_for_another_centre_s_dossier_is_matched_though_the_bank_dropped_its_dots(
        dossiers, payments, catalogue, db):
    from motcua.centers import add_center

    with session_scope(catalogue) as session:
        add_center(session, "xa-an-binh", "Trung tâm Phục vụ hành chính công xã An Bình", agency_code="000.00.05.H51")
    values = {"birth_child_name": "Trần Gia Bảo", "birth_child_birth_date": date(2025, 12, 1)}
    code = db.run(dossiers.file_dossier, application(values=values, form_id="birth_registration", channel="counter",
                                                      sender_id="", center="xa-an-binh")).code
    assert code.startswith("000.00.05.H51-")  # the centre's own agency code
    compact = code.replace(".", "").replace("-", "")
    text = f"date,amount,note\n2026-03-10 10:00,8000,CT DEN {compact} Tran Van Minh\n"
    report = payments.import_statement(db, read_statement(text), actor="cli", source="saoke.csv")
    assert [(line.outcome, line.dossier_code) for line in report.lines] == [(LineOutcome.MATCHED, code)]
    assert db.run(payments.payment, code).state == PaymentState.PAID
