"""The database layer on SQLite and PostgreSQL: migrations, procedures, revisions."""

from __future__ import annotations

import dataclasses

from sqlalchemy import inspect, select

from knowledge_base.schema import ChannelKind, Fee, Procedure, ProcessingTime, SubmissionChannel
from knowledge_base.store import ProcedureRevision, get_procedure, save_procedure
from motcua.db import current_revision, get_engine, session_scope, upgrade_database
from motcua.models import ConversationMessage


def _birth() -> Procedure:
    return Procedure(code="1.001193", name="Đăng ký khai sinh", levels=["Cấp xã"], field="Hộ tịch",
                     channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(1), Fee(free=True))])


def test_migrations_create_every_table_and_are_idempotent(database_url):
    upgrade_database(database_url)  # a second run changes nothing
    tables = set(inspect(get_engine(database_url)).get_table_names())
    assert {"procedures", "procedure_revisions", "synonyms", "faq_entries", "legal_documents", "legal_units",
            "conversation_messages", "alembic_version"} <= tables
    from alembic.script import ScriptDirectory

    from motcua.db import alembic_config

    heads = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    assert current_revision(database_url) == ",".join(sorted(heads))


def test_saving_a_procedure_round_trips_and_writes_one_revision_per_change(database_url):
    with session_scope(database_url) as session:
        assert save_procedure(session, _birth(), actor="test").created
    with session_scope(database_url) as session:
        again = save_procedure(session, _birth(), actor="test")
        assert not again.changed
        stored = get_procedure(session, "1.001193")
        assert stored == _birth()
        assert stored.channels[0].fee.describe() == "Miễn phí"
    edited = dataclasses.replace(_birth(), name="Đăng ký khai sinh (sửa)")
    with session_scope(database_url) as session:
        assert save_procedure(session, edited, actor="staff:lan", staff_edit=True).changed
    with session_scope(database_url) as session:
        revisions = session.scalars(select(ProcedureRevision).order_by(ProcedureRevision.version)).all()
        assert [(r.version, r.actor) for r in revisions] == [(1, "test"), (2, "staff:lan")]
        assert revisions[1].before["name"] == "Đăng ký khai sinh"
        assert revisions[1].after["name"] == "Đăng ký khai sinh (sửa)"


def test_an_import_keeps_staff_edits_unless_told_otherwise(database_url):
    edited = dataclasses.replace(_birth(), name="Tên do cán bộ sửa")
    with session_scope(database_url) as session:
        save_procedure(session, edited, actor="staff:lan", staff_edit=True)
    with session_scope(database_url) as session:
        assert not save_procedure(session, _birth(), actor="import", overwrite_staff_edits=False).changed
        assert get_procedure(session, "1.001193").name == "Tên do cán bộ sửa"
    with session_scope(database_url) as session:
        assert save_procedure(session, _birth(), actor="import", overwrite_staff_edits=True).changed
        assert get_procedure(session, "1.001193").name == "Đăng ký khai sinh"


def test_a_failed_transaction_writes_nothing(database_url):
    try:
        with session_scope(database_url) as session:
            save_procedure(session, _birth(), actor="test")
            session.add(ConversationMessage(channel="kiosk", sender_id="s", direction="in", text="x"))
            raise RuntimeError("crash in the middle")
    except RuntimeError:
        pass
    with session_scope(database_url) as session:
        assert get_procedure(session, "1.001193") is None
        assert session.scalars(select(ConversationMessage)).all() == []
