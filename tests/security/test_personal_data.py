"""Personal data (except the read-aloud): identity-card and phone numbers masked in the message
log and the application logs; conversations deleted after the retention period (dossiers kept);
the SQLite file owner-only; Rasa's HTTP API behind a token (see also tests/motcua/test_runtime.py
and tests/bot/test_gateway.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import subprocess
import sys
from datetime import timedelta

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, func, insert, select

from bot.app import create_app
from bot.message_log import LogEntry, MessageLog
from motcua.centers import SenderCenter
from motcua.db import (
    get_engine,
    protect_sqlite_files,
    session_scope,
    shared_database,
    upgrade_database,
    utcnow,
)
from motcua.dossiers.models import DossierRow
from motcua.models import ConversationMessage
from motcua.origin import origin_of
from motcua.privacy import (
    PersonalDataFilter,
    RetentionJob,
    install_log_masking,
    mask_data,
    mask_identifiers,
    purge_expired,
)
from motcua.settings import ROOT
from motcua.staff.models import HandoffConversation, HandoffMessage, Rating, UnansweredQuestion
from tests.servers import serve_in_thread
from tests.staff.conftest import make_settings

CCCD, CMND, PHONE = "001190012345", "123456789", "0912 345 678"


# --- masking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "masked"), [
    (f"Số căn cước của tôi là {CCCD}.", "Số căn cước của tôi là *********345."),
    (f"CMND cũ {CMND}", "CMND cũ ******789"),
    (f"gọi {PHONE} nhé", "gọi *******678 nhé"),
    ("0912.345.678", "*******678"),
    ("+84912345678", "********678"),
    ("cccd:001190012345|sdt:0912345678", "cccd:*********345|sdt:*******678"),
    # as people type them, in groups (found by trying the assistant, 2026-12-07)
    ("cccd 079-095-001-234 ạ", "cccd *********234 ạ"),
    ("cccd của tôi 079 095 001 234", "cccd của tôi *********234"),
    ("cccd 0790 9500 1234", "cccd *********234"),
    ("so dien thoai +84 912 345 678", "so dien thoai ********678"),
    ("sdt (+84) 912-345-678", "sdt ********678"),
])
def test_identity_card_and_phone_numbers_are_masked_keeping_the_last_three_digits(text, masked):
    assert mask_identifiers(text) == masked


@pytest.mark.parametrize("text", [
    "Mã hồ sơ 000.00.04.H51-260310-0001, hẹn trả 17/03/2026",
    "Lệ phí 8.000 đồng, số thứ tự A012, quầy 3",
    "dấu thời gian 1733459876123",  # 13 digits: not an identifier
    "thủ tục 1.001193",
    "giá đất 500.000.000 đồng, tiền sử dụng đất 1.200.000.000 đồng",  # sums, not a card or a phone
    "hẹn ngày 07/12/2026 lúc 10:30",
])
def test_codes_dates_fees_and_ticket_numbers_are_left_alone(text):
    assert mask_identifiers(text) == text


def test_mask_data_masks_every_string_of_a_payload():
    payload = {"device_event": "cccd_scanned", "qr": f"{CCCD}||Nguyễn Thị Lan", "list": [PHONE, 3]}
    assert mask_data(payload) == {"device_event": "cccd_scanned", "qr": "*********345||Nguyễn Thị Lan",
                                  "list": ["*******678", 3]}


def test_log_records_are_masked_whichever_logger_writes_them(caplog):
    install_log_masking()
    access = logging.getLogger("uvicorn.access")  # uvicorn may have stopped it propagating to the root
    access.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO), caplog.at_level(logging.INFO, logger="uvicorn.access"):
            logging.getLogger("motcua.test").warning("hồ sơ của %s, điện thoại %s", CCCD, PHONE)
            access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", f"/tra-cuu?cccd={CCCD}", "1.1", 200)
    finally:
        access.removeHandler(caplog.handler)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "hồ sơ của *********345, điện thoại *******678"
    assert "*********345" in messages[1] and CCCD not in messages[1]
    assert isinstance(caplog.records[1].args, tuple) and len(caplog.records[1].args) == 5  # uvicorn's formatter


def test_a_logged_traceback_is_masked_too(caplog):
    install_log_masking()
    try:
        raise ValueError(f"số căn cước không hợp lệ: {CCCD}")
    except ValueError:
        logging.getLogger("actions.test").exception("không nộp được hồ sơ")
    assert "*********345" in caplog.text and CCCD not in caplog.text


def test_the_filter_masks_mapping_arguments_too():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "người nộp %(cccd)s", ({"cccd": CCCD},), None)
    PersonalDataFilter().filter(record)
    assert record.getMessage() == "người nộp *********345"


# --- the message log ---------------------------------------------------------------------------


def _echo_rasa() -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        body = await request.json()
        return [{"recipient_id": body["sender"], "text": f"Tôi đã ghi nhận: {body['message']}"}]

    return app


def test_the_message_log_keeps_only_masked_numbers(tmp_path, database_url):
    with serve_in_thread(_echo_rasa()) as rasa_url:
        settings = make_settings(tmp_path, rasa_url, database_url)
        with TestClient(create_app(settings)) as client:
            reply = client.post("/api/v1/messages", json={
                "sender": "lan", "text": f"số căn cước {CCCD}, điện thoại {PHONE}, cmnd {CMND}"}).json()
            # the citizen's own conversation is not altered: only what is stored
            assert CCCD in reply["messages"][0]["text"]
    with session_scope(database_url) as session:
        rows = session.scalars(select(ConversationMessage).order_by(ConversationMessage.id)).all()
        stored = [(r.direction, r.text, r.payload) for r in rows]
    assert [d for d, _, _ in stored] == ["in", "out"]
    everything = repr(stored)
    assert "*********345" in everything and "*******678" in everything
    for full in (CCCD, "0912345678", PHONE, CMND):
        assert full not in everything


def test_a_card_scan_payload_is_masked_in_the_message_log(database_url):
    async def log_one() -> None:
        log = MessageLog(shared_database(database_url))
        log.start()
        log.record(LogEntry("kiosk", "kiosk:s1", "in", "(quét thẻ căn cước)",
                            {"device_event": "cccd_scanned", "qr": f"{CCCD}|{CMND}|Nguyễn Thị Lan"}))
        await log.stop()

    asyncio.run(log_one())
    with session_scope(database_url) as session:
        payload = session.scalar(select(ConversationMessage.payload))
    assert payload == {"device_event": "cccd_scanned", "qr": "*********345|******789|Nguyễn Thị Lan"}


def test_link_secrets_sent_to_a_citizen_are_redacted_in_the_message_log(database_url):
    payment = "/dossiers/HT-2026-000012/payment?token=Zq8vS3cr3tT0k3n"
    ticket = "/queue/ticket/abcDEF123secret"

    async def log_two() -> None:
        log = MessageLog(shared_database(database_url))
        log.start()
        log.record(LogEntry("telegram", "telegram:7", "out", f"Ông/bà nộp lệ phí tại {payment} nhé.",
                            {"buttons": [{"title": "Xem số", "url": f"https://motcua.example{ticket}"}]}))
        await log.stop()

    asyncio.run(log_two())
    with session_scope(database_url) as session:
        row = session.scalars(select(ConversationMessage)).one()
        text, payload = row.text, row.payload
    assert "Zq8vS3cr3tT0k3n" not in text and "abcDEF123secret" not in repr(payload)
    assert text == "Ông/bà nộp lệ phí tại /dossiers/HT-2026-000012/payment?token=[redacted] nhé."
    assert payload == {"buttons": [{"title": "Xem số", "url": "https://motcua.example/queue/ticket/[redacted]"}]}


# --- retention ---------------------------------------------------------------------------------


def _rasa_events(url: str) -> Table:
    """The table Rasa's SQL tracker store creates (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent)."""
    table = Table("events", MetaData(), Column("id", Integer, primary_key=True),
                  Column("sender_id", String(255), nullable=False), Column("type_name", String(255), nullable=False),
                  Column("timestamp", Float), Column("intent_name", String(255)), Column("action_name", String(255)),
                  Column("data", Text))
    table.create(get_engine(url), checkfirst=True)
    return table


def _seed(url: str) -> None:
    """Two of everything: one 100 days old, one from an hour ago."""
    old, new = utcnow() - timedelta(days=100), utcnow() - timedelta(hours=1)
    events = _rasa_events(url)
    with session_scope(url) as session:
        for when in (old, new):
            session.add(ConversationMessage(channel="rest", sender_id="rest:lan", direction="in",
                                            text="*********345", created_at=when))
            session.add(UnansweredQuestion(channel="rest", sender_id="rest:lan", question="?", reason="fallback",
                                           created_at=when))
            session.add(SenderCenter(sender_id=f"telegram:{int(when.timestamp())}", center_code="default",
                                     updated_at=when))
            session.add(Rating(kind="service", score=4, sender_id="rest:lan", comment="cán bộ nhiệt tình",
                               created_at=when))
            handoff = HandoffConversation(channel="rest", sender_id="rest:lan", question="giúp tôi",
                                          created_at=when, last_message_at=when)
            session.add(handoff)
            session.flush()
            session.add(HandoffMessage(conversation_id=handoff.id, direction="in", text="số tôi 0912345678",
                                       created_at=when))
            session.execute(insert(events).values(sender_id="rest:lan", type_name="user",
                                                  timestamp=when.timestamp(), data='{"text": "001190012345"}'))


def _count(url: str, model) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def _file_old_dossier(url: str) -> str:
    from datetime import datetime

    from motcua.dossiers.service import DossierService
    from tests.dossiers.support import AGENCY, Clock, application, seed_procedures

    seed_procedures(url)
    db = shared_database(url)
    service = DossierService(agency_code=AGENCY, clock=Clock(datetime(2025, 3, 10, 9, 30)))
    return db.run(service.file_dossier, application()).code


def test_purge_deletes_conversations_older_than_the_retention_and_keeps_dossiers(database_url):
    _seed(database_url)
    code = _file_old_dossier(database_url)  # filed long before the retention period: a legal record
    events = _rasa_events(database_url)

    dry = purge_expired(database_url, 90, dry_run=True)
    assert dry.counts == {"conversation_messages": 1, "handoff_messages": 1, "handoff_conversations": 1,
                          "unanswered_questions": 1, "rating_comments": 1, "webhook_inbox": 0, "queue_origins": 0,
                          "queue_phones": 0, "sender_centers": 1, "notices": 0, "rasa_events": 1}
    assert _count(database_url, ConversationMessage) == 2  # a dry run deletes nothing

    report = purge_expired(database_url, 90)
    assert report.counts == dry.counts and report.total == 7 and "Đã xóa" in report.describe()
    for model in (ConversationMessage, HandoffConversation, HandoffMessage, UnansweredQuestion, SenderCenter, events):
        assert _count(database_url, model) == 1, model
    with session_scope(database_url) as session:
        ratings = session.execute(select(Rating.score, Rating.comment, Rating.sender_id)
                                  .order_by(Rating.created_at)).all()
        assert [tuple(r) for r in ratings] == [(4, "", ""), (4, "cán bộ nhiệt tình", "rest:lan")]  # score kept
        assert session.scalar(select(DossierRow.code)) == code
    assert purge_expired(database_url, 90).total == 0  # nothing left to delete


def test_a_queue_ticket_loses_its_hashed_address_after_a_day_and_the_recent_bound_still_holds(database_url):
    from motcua.queue.limits import ORIGIN as ORIGIN_SCOPE
    from motcua.queue.limits import ChatTicketLimits, Requester, first_reached
    from motcua.queue.models import QueueTicket
    from motcua.queue.service import QueueService, TicketLimitReached, seed_queue
    from tests.queue.queue_fakes import MORNING, SMALL_CENTRE, Clock

    origin = origin_of("203.0.113.7", "a test secret that is long enough to sign")
    clock = Clock(MORNING)
    service = QueueService(SMALL_CENTRE, clock=clock)
    limits = ChatTicketLimits(per_sender=5, per_origin=2)
    with session_scope(database_url) as session:
        seed_queue(session, SMALL_CENTRE)

    def take(sender: str) -> str:
        with session_scope(database_url) as session:
            return service.issue_for_chat(session, "TN", requester=Requester("web", sender, origin),
                                          limits=limits).ticket.label

    take("web:two-days-ago")
    clock.advance(days=2, minutes=-10)
    take("web:ten-minutes-ago")
    clock.advance(minutes=10)

    dry = purge_expired(database_url, 90, dry_run=True, now=clock())
    assert dry.counts["queue_origins"] == 1 and dry.total == 1
    report = purge_expired(database_url, 90, now=clock())
    assert report.counts["queue_origins"] == 1
    assert "mã băm địa chỉ trên số thứ tự quá 1 ngày (số vẫn giữ): 1" in report.describe()
    with session_scope(database_url) as session:
        rows = session.execute(select(QueueTicket.sender_id, QueueTicket.origin).order_by(QueueTicket.id)).all()
        assert [tuple(r) for r in rows] == [("web:two-days-ago", None), ("web:ten-minutes-ago", origin)]  # kept
        # the bound still counts the recent number: one more fills it, the next is refused
        assert first_reached(session, Requester("web", "web:new", origin), limits, clock()) is None
    take("web:another")
    with pytest.raises(TicketLimitReached) as refused:
        take("web:yet-another")
    assert refused.value.reached.scope == ORIGIN_SCOPE and refused.value.reached.count == 2
    assert purge_expired(database_url, 90, now=clock()).counts["queue_origins"] == 0  # the rest is recent


def test_the_phone_given_at_the_kiosk_for_a_text_message_is_dropped_after_a_day(database_url):
    from motcua.queue.models import QueueTicket
    from motcua.queue.service import QueueService, seed_queue
    from tests.queue.queue_fakes import MORNING, SMALL_CENTRE, Clock

    clock = Clock(MORNING)
    service = QueueService(SMALL_CENTRE, clock=clock)
    with session_scope(database_url) as session:
        seed_queue(session, SMALL_CENTRE)
        service.issue(session, "TN", channel="kiosk", phone="0912345678")
    clock.advance(days=1, minutes=-5)
    with session_scope(database_url) as session:
        service.issue(session, "TN", channel="kiosk", phone="0987654321")
    clock.advance(minutes=10)

    assert purge_expired(database_url, 90, dry_run=True, now=clock()).counts["queue_phones"] == 1
    report = purge_expired(database_url, 90, now=clock())
    assert report.counts["queue_phones"] == 1 and "số điện thoại nhận tin nhắn báo lượt" in report.describe()
    with session_scope(database_url) as session:
        rows = session.execute(select(QueueTicket.label, QueueTicket.phone).order_by(QueueTicket.id)).all()
    assert [phone for _, phone in rows] == [None, "0987654321"]  # the number stays, yesterday's phone goes
    assert all(label for label, _ in rows)


def test_the_notice_outbox_forgets_a_queue_call_after_a_day_and_other_notices_with_the_conversations(database_url):
    """A call names its citizen (a Telegram id, or the phone of a text message) and is moot the next day; a staff
    message a platform refused is conversation text, kept as long as the conversation."""
    from motcua.queue.models import QueueNotification

    now = utcnow()
    with session_scope(database_url) as session:
        for source, channel, sender, age in (("queue", "sms", "0912345678", timedelta(days=2)),
                                             ("queue", "telegram", "telegram:1", timedelta(hours=2)),
                                             ("staff", "zalo", "zalo:2", timedelta(days=30)),
                                             ("reply", "telegram", "telegram:3", timedelta(days=100))):
            session.add(QueueNotification(source=source, channel=channel, sender_id=sender, text="Mời số A001",
                                          created_at=now - age))
    report = purge_expired(database_url, 90, now=now)
    assert report.counts["notices"] == 2 and "tin nhắn chờ gửi hoặc đã gửi" in report.describe()
    with session_scope(database_url) as session:
        kept = sorted(session.scalars(select(QueueNotification.sender_id)))
    assert kept == ["telegram:1", "zalo:2"]


def test_a_chat_window_longer_than_a_day_keeps_origins_as_long(database_url):
    from motcua.queue.models import QueueTicket

    with session_scope(database_url) as session:
        session.add(QueueTicket(token="t1", service_code="TN", issued_service="TN", day=utcnow().date(), number=1,
                                label="T001", channel="web", sender_id="web:x", origin="a" * 32,
                                issued_at=utcnow() - timedelta(days=2)))
    assert purge_expired(database_url, 90, chat_window=timedelta(days=3)).counts["queue_origins"] == 0
    assert purge_expired(database_url, 90).counts["queue_origins"] == 1


def test_purge_works_before_rasa_ever_wrote_its_events_table(database_url):
    assert purge_expired(database_url, 90).counts["rasa_events"] == 0


def test_the_gateway_runs_the_retention_job_with_the_setting(tmp_path, database_url):
    _seed(database_url)
    settings = make_settings(tmp_path, "http://127.0.0.1:9", database_url).model_copy(update={"retention_days": 30})
    with TestClient(create_app(settings)) as client:
        job = client.app.state.services.retention
        assert isinstance(job, RetentionJob) and job.retention_days == 30 and job.interval_s == 24 * 3600
        assert job._task is not None and not job._task.done()  # running, first purge shortly after start

    async def run_the_loop() -> None:
        loop_job = RetentionJob(database_url, 90, first_delay_s=0, interval_s=3600)
        loop_job.start()
        for _ in range(200):
            if loop_job.last_report is not None:
                break
            await asyncio.sleep(0.05)
        await loop_job.stop()
        assert loop_job.last_report is not None and loop_job.last_report.total == 7

    asyncio.run(run_the_loop())
    assert _count(database_url, ConversationMessage) == 1


def test_a_bad_retention_setting_fails_early():
    with pytest.raises(ValueError):
        RetentionJob("sqlite://", 0)


def _motcua(*args: str, data_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "MOTCUA_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("MOTCUA_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=True)


def test_motcua_privacy_purge_reports_counts_and_dry_run_deletes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'motcua.sqlite3'}"
    upgrade_database(url)
    _seed(url)
    dry = _motcua("privacy", "purge", "--dry-run", data_dir=tmp_path).stdout
    assert "Sẽ xóa" in dry and "tin nhắn trong nhật ký hội thoại: 1" in dry and "Tổng: 7" in dry
    assert _count(url, ConversationMessage) == 2
    done = _motcua("privacy", "purge", data_dir=tmp_path).stdout
    assert "Đã xóa" in done and "sự kiện hội thoại của Rasa (tracker): 1" in done and "Hồ sơ" in done
    assert _count(url, ConversationMessage) == 1


# --- the database file -------------------------------------------------------------------------


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_sqlite_database_and_its_wal_files_are_owner_only(tmp_path):
    previous = os.umask(0o022)
    try:
        url = f"sqlite:///{tmp_path / 'nested' / 'motcua.sqlite3'}"
        upgrade_database(url)
        with session_scope(url) as session:
            session.add(ConversationMessage(channel="rest", sender_id="x", direction="in", text="a"))
        database = tmp_path / "nested" / "motcua.sqlite3"
        files = [p for p in (database, database.with_name("motcua.sqlite3-wal"),
                             database.with_name("motcua.sqlite3-shm")) if p.exists()]
        assert len(files) >= 2  # WAL mode: the -wal file exists while the engine is open
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        os.umask(previous)


def test_an_old_world_readable_database_is_made_owner_only(tmp_path):
    database = tmp_path / "cu.sqlite3"
    database.write_bytes(b"")
    database.chmod(0o644)
    protect_sqlite_files(database)
    assert _mode(database) == 0o600


def test_rasa_endpoints_with_the_database_password_and_service_logs_are_owner_only(tmp_path):
    from motcua.runtime import private_file, write_endpoints
    from motcua.settings import Settings

    previous = os.umask(0o022)
    try:
        settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://motcua:mat-khau@db/center")
        endpoints = write_endpoints(settings)
        assert "mat-khau" in endpoints.read_text() and _mode(endpoints) == 0o600
        log = tmp_path / "logs" / "gateway.log"
        log.parent.mkdir()
        log.write_text("cũ\n")
        log.chmod(0o644)
        with private_file(log, "ab") as handle:
            handle.write(b"moi\n")
        assert log.read_text() == "cũ\nmoi\n" and _mode(log) == 0o600
    finally:
        os.umask(previous)


def test_the_review_list_keeps_only_masked_numbers_and_no_link_secret(database_url):
    """A question put on the review list is for improving answers (an example, an FAQ), never for reaching the
    citizen: staff must not copy a CCCD from it into training data, nor a dossier link's secret."""
    from motcua.staff.models import UnansweredQuestion
    from motcua.staff.service import record_unanswered

    with session_scope(database_url) as session:
        record_unanswered(session, channel="rest", sender_id="rest:lan", reason="fallback",
                          question=f"tôi số căn cước {CCCD}, điện thoại {PHONE}, sao chưa có kết quả",
                          reply="Xem hồ sơ tại /dossiers/HT-2026-000012/declaration?token=Zq8vS3cr3tT0k3n")
    with session_scope(database_url) as session:
        row = session.scalar(select(UnansweredQuestion))
        stored = (row.question, row.reply, row.sender_id)
    assert stored[0] == "tôi số căn cước *********345, điện thoại *******678, sao chưa có kết quả"
    assert stored[1] == "Xem hồ sơ tại /dossiers/HT-2026-000012/declaration?token=[redacted]"
    assert stored[2] == "rest:lan"  # who asked is kept: the reply to a handed-over citizen still reaches them
    for full in (CCCD, "0912345678", "Zq8vS3cr3tT0k3n"):
        assert full not in repr(stored)
