"""Filing a dossier: its code, the gap-free daily sequence under concurrency, the due date."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from knowledge_base.messages import render
from motcua.db import get_engine, session_scope, shared_database
from motcua.dossier_code import parse_dossier_code
from motcua.dossiers.errors import InvalidApplication
from motcua.dossiers.models import DossierCounter, DossierRow, DossierStatusChange, PortalOutboxRow
from motcua.dossiers.service import Applicant, DossierService
from motcua.workdays import VIETNAM_TZ, HolidayCalendar, compute_due_date
from tests.dossiers.support import AGENCY, Clock, application


def _count(url: str, model) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_filing_gives_a_code_of_the_national_format_and_stores_everything(service, catalogue, db):
    filed = db.run(service.file_dossier, application(values={"birth_child_name": "Nguyễn Minh An",
                                                     "birth_child_birth_date": date(2026, 3, 1)}))
    assert filed.code == "000.00.04.H51-260310-0001"
    assert parse_dossier_code(filed.code).seq == 1
    assert filed.status == "received"
    with session_scope(catalogue) as session:
        row = session.scalar(select(DossierRow))
        assert (row.procedure_code, row.procedure_name) == ("1.001193", "Đăng ký khai sinh")
        assert row.values == {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": "2026-03-01"}
        assert (row.applicant_name, row.applicant_cccd, row.applicant_phone) == (
            "Nguyễn Thị Lan", "001190012345", "0912345678")
        assert (row.channel, row.sender_id, row.submission_kind) == ("telegram", "telegram:42", "truc_tuyen")
        history = session.scalars(select(DossierStatusChange)).all()
        assert [(h.from_status, h.to_status, h.actor) for h in history] == [("", "received", "assistant")]
        outbox = session.scalars(select(PortalOutboxRow)).all()
        assert [(o.event, o.position, o.idempotency_key) for o in outbox] == [
            ("dossier.created", 1, "000.00.04.H51-260310-0001/001")]
        assert outbox[0].payload["applicant"]["cccd"] == "001190012345"
    assert "Mã số hồ sơ: 000.00.04.H51-260310-0001" in filed.confirmation_text()


def test_the_filing_confirmation_says_the_catalogue_s_lines(service, db):
    filed = db.run(service.file_dossier, application())
    received = filed.received_at.astimezone(VIETNAM_TZ)
    assert filed.lookup_pin and filed.due_date
    assert filed.confirmation_text().split("\n") == [
        render("dossier.filed.received", procedure="Đăng ký khai sinh", time=f"{received:%H:%M}",
               date="10/03/2026"),
        render("dossier.filed.code", code=filed.code),
        render("dossier.filed.pin", pin=filed.lookup_pin),
        render("dossier.filed.due", date=f"{filed.due_date:%d/%m/%Y}"),
        render("dossier.filed.keep_code_and_pin"),
    ]
    assert filed.confirmation_text().startswith("Hồ sơ «Đăng ký khai sinh» đã được tiếp nhận lúc ")


def test_the_daily_sequence_restarts_each_day_in_vietnam_time(service, clock, db):
    assert db.run(service.file_dossier, application()).code.endswith("-260310-0001")
    assert db.run(service.file_dossier, application()).code.endswith("-260310-0002")
    clock.at = datetime(2026, 3, 10, 23, 30, tzinfo=clock.at.tzinfo)  # 16:30 UTC, still the 10th here
    assert db.run(service.file_dossier, application()).code.endswith("-260310-0003")
    clock.advance(hours=1)  # 00:30 on the 11th in Viet Nam, still the 10th in UTC
    assert db.run(service.file_dossier, application()).code.endswith("-260311-0001")


def test_32_concurrent_filings_get_32_distinct_gap_free_numbers(service, catalogue, db):
    codes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(32)

    def file_one(i: int) -> None:
        try:
            start.wait()
            codes.append(db.run(service.file_dossier, application(sender_id=f"telegram:{i}")).code)
        except BaseException as exc:  # collected, the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=file_one, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(set(codes)) == 32
    assert sorted(parse_dossier_code(c).seq for c in codes) == list(range(1, 33))
    with session_scope(catalogue) as session:
        assert session.scalar(select(DossierCounter.last_seq)) == 32
        assert sorted(session.scalars(select(DossierRow.seq))) == list(range(1, 33))
        assert session.scalar(select(func.count()).select_from(PortalOutboxRow)) == 32


def test_a_filing_that_fails_gives_its_number_back(service, catalogue, monkeypatch, db):
    db.run(service.file_dossier, application())

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while queueing for the portal")

    monkeypatch.setattr("motcua.dossiers.filing.add_outbox_row", broken)
    with pytest.raises(RuntimeError):
        db.run(service.file_dossier, application())
    monkeypatch.undo()
    assert db.run(service.file_dossier, application()).code.endswith("-0002")
    assert _count(catalogue, DossierRow) == 2
    assert _count(catalogue, PortalOutboxRow) == 2


def test_sqlite_write_transactions_begin_immediate_and_hold_the_write_lock(sqlite_service, sqlite_catalogue, sqlite_db):
    statements: list[str] = []
    engine = get_engine(sqlite_catalogue)

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()[:2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        sqlite_db.run(sqlite_service.file_dossier, application())
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements[0] == "BEGIN IMMEDIATE"

    import sqlite3

    path = sqlite_catalogue.split("///", 1)[1]
    with sqlite_db.write() as session:
        session.execute(select(DossierRow.id)).all()  # only a read so far, yet the lock is held
        other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


def test_an_unknown_procedure_or_a_bad_applicant_is_refused_and_nothing_is_stored(service, catalogue, db):
    with pytest.raises(InvalidApplication, match="Không tìm thấy thủ tục mã «1.234567»"):
        db.run(service.file_dossier, application("1.234567"))
    with pytest.raises(InvalidApplication, match="12 chữ số"):
        db.run(service.file_dossier, application(applicant=Applicant("Nguyễn Thị Lan", "00119001234", "")))
    with pytest.raises(InvalidApplication, match="Số điện thoại phải bắt đầu"):
        db.run(service.file_dossier, application(applicant=Applicant("Nguyễn Thị Lan", "", "12345")))
    with pytest.raises(InvalidApplication, match="số căn cước hoặc số điện thoại"):
        db.run(service.file_dossier, application(applicant=Applicant("Nguyễn Thị Lan")))
    with pytest.raises(ValueError, match="not in form"):
        db.run(service.file_dossier, application(form_id="birth_registration", values={"no_such_field": "x"}))
    assert _count(catalogue, DossierRow) == 0
    assert _count(catalogue, DossierCounter) == 0
    assert _count(catalogue, PortalOutboxRow) == 0


def test_a_malformed_agency_code_or_link_lifetime_fails_when_the_service_is_built():
    with pytest.raises(ValueError, match="agency code"):
        DossierService(agency_code="UBND xã A")
    with pytest.raises(ValueError, match="link_ttl must be positive"):
        DossierService(agency_code=AGENCY, link_ttl=timedelta(0))


# --- due dates ------------------------------------------------------------------------------


def test_the_due_date_skips_tet_and_the_weekend(sqlite_catalogue):
    # Thursday 12/02/2026, 10:00; Tết Bính Ngọ is off from Saturday 14/02 to Sunday 22/02.
    calendar = HolidayCalendar.load()
    db = shared_database(sqlite_catalogue)
    service = DossierService(agency_code=AGENCY, calendar=calendar,
                             clock=Clock(datetime(2026, 2, 12, 10, 0)))
    filed = db.run(service.file_dossier, application("1.004194", channel="counter", sender_id=""))
    # 3 working days of 8 office hours: Thu 5.5 h, Fri 8 h, (Tết, weekend), Mon 23/02 8 h, Tue 2.5 h.
    assert filed.due_date == date(2026, 2, 24)
    assert filed.due_date == compute_due_date(datetime(2026, 2, 12, 10, 0), 3, "ngay_lam_viec", calendar)
    assert filed.processing_time == "3 ngày làm việc"


def test_received_after_15h_on_friday_counts_from_monday(sqlite_catalogue):
    clock = Clock(datetime(2026, 3, 6, 15, 30))
    db = shared_database(sqlite_catalogue)
    service = DossierService(agency_code=AGENCY, clock=clock)
    filed = db.run(service.file_dossier, application("1.001193", channel="kiosk", sender_id="kiosk:abc"))
    assert filed.due_date == date(2026, 3, 9)  # 1 working day, counted from Monday 7:30
    online = db.run(service.file_dossier, application("1.001193"))
    assert online.due_date == date(2026, 3, 10)  # online: 2 working days for this procedure


def test_hours_and_unspecified_processing_times(sqlite_catalogue):
    clock = Clock(datetime(2026, 3, 6, 14, 0))
    db = shared_database(sqlite_catalogue)
    service = DossierService(agency_code=AGENCY, clock=clock)
    assert db.run(service.file_dossier, application("2.000815", channel="counter", sender_id="")).due_date == date(2026, 3, 9)
    assert db.run(service.file_dossier, application("9.999999", channel="counter", sender_id="")).due_date is None


def test_the_confirmation_gives_the_computed_due_date_or_says_the_counter_sets_it(sqlite_catalogue):
    # Friday 06/03/2026 14:00 at the kiosk: 1 working day (in person) ends on Monday 09/03.
    db = shared_database(sqlite_catalogue)
    service = DossierService(agency_code=AGENCY, clock=Clock(datetime(2026, 3, 6, 14, 0)))
    timed = db.run(service.file_dossier, application("1.001193", channel="kiosk", sender_id="kiosk:abc"))
    lines = timed.confirmation_text().split("\n")
    assert "Ngày hẹn trả kết quả: 09/03/2026." in lines
    assert render("dossier.filed.due_at_counter") not in lines
    untimed = db.run(service.file_dossier, application("9.999999", channel="counter", sender_id="")).confirmation_text()
    assert render("dossier.filed.due_at_counter") in untimed.split("\n")
    assert "cán bộ tiếp nhận tại quầy sẽ báo" in untimed and "Ngày hẹn trả kết quả: 0" not in untimed


def test_the_migration_matches_the_tables(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from motcua.db import Base, import_all_models

    import_all_models()
    mine = {"dossiers", "dossier_counters", "dossier_status_changes", "dossier_attachments", "portal_outbox",
            "dossier_notifications", "dossier_filing_pins"}
    with get_engine(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert [c for c in diff if any(name in repr(c) for name in mine)] == []


def test_filing_survives_a_locked_database_by_waiting(sqlite_service, sqlite_catalogue, sqlite_db):
    """A writer holding the lock briefly delays a filing; it does not make it fail."""
    import sqlite3
    import time

    path = sqlite_catalogue.split("///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        filed = sqlite_db.run(sqlite_service.file_dossier, application())
    except OperationalError as exc:  # pragma: no cover - the failure this test guards against
        pytest.fail(f"filing failed instead of waiting: {exc}")
    finally:
        release.join()
        holder.close()
    assert filed.code.endswith("-0001")
    assert time.monotonic() - started >= 0.4
