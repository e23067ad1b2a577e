"""On SQLite and PostgreSQL: a row the database refuses costs only itself, and a citizen's text
is stored cleaned (no NUL or other control characters, NFC) wherever it is stored."""

from __future__ import annotations

import asyncio
import logging
import unicodedata

from sqlalchemy import select, text

from bot.event_ledger import EventLedger
from bot.message_log import LogEntry, MessageLog
from knowledge_base.text import clean_text
from motcua.db import Database, shared_database
from motcua.models import ConversationMessage, ProcessedEvent
from motcua.staff.models import HandoffConversation, HandoffMessage, Rating, UnansweredQuestion
from motcua.staff.service import RatingInput, add_handoff_message, add_rating, open_handoff, record_unanswered

DECOMPOSED = unicodedata.normalize("NFD", "Hộ tịch")  # what some phone keyboards send
DIRTY = f"Tôi\x00 muốn\x07 hỏi\r\nvề\x1b[31m {DECOMPOSED}\x85\ttạm trú\x7f"
CLEAN = "Tôi muốn hỏi\nvề[31m Hộ tịch\ttạm trú"


def _refuse_poison(database: Database) -> None:
    """A constraint of the database that refuses any message containing POISON."""
    with database.session() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("CREATE TRIGGER refuse_poison BEFORE INSERT ON conversation_messages "
                                 "WHEN NEW.text LIKE '%POISON%' BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            session.execute(text("CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                 "IF NEW.text LIKE '%POISON%' THEN RAISE EXCEPTION 'refused'; END IF; "
                                 "RETURN NEW; END $$"))
            session.execute(text("CREATE TRIGGER refuse_poison BEFORE INSERT ON conversation_messages "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"))


def _log(database: Database, entries: list[LogEntry], batch_size: int = 200) -> MessageLog:
    async def run() -> MessageLog:
        log = MessageLog(database, batch_size=batch_size)
        log.start()
        for entry in entries:
            log.record(entry)
        await log.stop()
        return log

    return asyncio.run(run())


def _texts(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(select(ConversationMessage.sender_id, ConversationMessage.text)
                               .order_by(ConversationMessage.id)).all()
    return [(sender, message) for sender, message in rows]


def test_clean_text_keeps_words_lines_and_tabs_and_drops_control_characters():
    assert clean_text(DIRTY) == CLEAN
    assert clean_text("a\rb") == "a\nb"  # an old line end is still a line end
    assert clean_text("x\ud800y") == "x\ufffdy"  # a broken JSON escape: no database can encode it
    assert clean_text(None) == clean_text("") == ""
    assert clean_text("Thủ tục đăng ký khai sinh") == "Thủ tục đăng ký khai sinh"


def test_one_refused_row_does_not_cost_the_rest_of_its_batch(database_url, caplog):
    database = shared_database(database_url)
    _refuse_poison(database)
    entries = [LogEntry("web", f"web:{i}", "in", f"câu hỏi {i}") for i in range(10)]
    entries[4] = LogEntry("web", "web:4", "in", "POISON số 0912345678")
    postgres = database.engine.dialect.name == "postgresql"
    if postgres:  # PostgreSQL also refuses a value too long for its column (SQLite stores it)
        entries[7] = LogEntry("web", "w" * 200, "in", "câu hỏi 7")
    with caplog.at_level(logging.WARNING, logger="bot.batch_writer"):
        log = _log(database, entries)
    lost = {4, 7} if postgres else {4}
    assert _texts(database) == [(f"web:{i}", f"câu hỏi {i}") for i in range(10) if i not in lost]
    assert log.failures == len(lost)
    assert "message-log: dropped a record the database refused (length 20, " in caplog.text
    assert "POISON" not in caplog.text and "0912" not in caplog.text  # no personal data in the log


def test_the_message_log_stores_text_and_payload_cleaned(database_url):
    database = shared_database(database_url)
    log = _log(database, [LogEntry("zalo", "zalo:1", "in", DIRTY, {"text": DIRTY, "n\x00": [DIRTY, 3]}),
                          LogEntry("zalo", "zalo:1", "in", "CCCD 0011\x0090012345")])
    assert log.failures == 0
    with database.session() as session:
        rows = session.scalars(select(ConversationMessage).order_by(ConversationMessage.id)).all()
        assert rows[0].text == CLEAN and rows[0].payload == {"text": CLEAN, "n": [CLEAN, 3]}
        assert rows[1].text == "CCCD *********345"  # cleaned first, so the number is still found and masked


def test_the_event_ledger_takes_an_id_with_a_nul_and_keeps_it_apart(database_url):
    ledger = EventLedger(shared_database(database_url))
    assert ledger.first_time("telegram", "12\x0034")
    assert not ledger.first_time("telegram", "12\x0034")
    assert ledger.first_time("telegram", "1234")  # another id, not its cleaned twin
    with shared_database(database_url).session() as session:
        stored = set(session.scalars(select(ProcessedEvent.event_id)))
    assert "1234" in stored and len(stored) == 2 and all("\x00" not in s for s in stored)


def test_questions_handoffs_and_ratings_are_stored_cleaned(database_url):
    database = shared_database(database_url)
    with database.session() as session:
        record_unanswered(session, channel="web", sender_id="web:1", question=DIRTY, reply=DIRTY, reason="fallback")
        handoff = open_handoff(session, channel="web", sender_id="web:1", reason="handoff", question=DIRTY)
        add_handoff_message(session, handoff, "in", DIRTY)
        add_rating(session, RatingInput(kind="service", score=5, channel="web", sender_id="web:1", comment=DIRTY))
    with database.session() as session:
        question = session.scalars(select(UnansweredQuestion)).one()
        assert (question.question, question.reply) == (CLEAN, CLEAN)
        assert session.scalars(select(HandoffConversation.question)).one() == CLEAN
        assert session.scalars(select(HandoffMessage.text)).one() == CLEAN
        assert session.scalars(select(Rating.comment)).one() == CLEAN


def test_cleaning_comes_before_the_length_limit(database_url):
    limit = 2000
    database = shared_database(database_url)
    with database.session() as session:
        record_unanswered(session, channel="web", sender_id="web:1", question="\x00" * 10 + "a" * limit,
                          reply="", reason="empty")
    with database.session() as session:
        assert session.scalars(select(UnansweredQuestion.question)).one() == "a" * limit
