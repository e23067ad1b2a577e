"""The fee answer says what the dossier is charged: the centre's fee table in force (the seed
``knowledge_base/fees.yaml`` with staff edits, SQLite and PostgreSQL) beside the catalogue's fee —
a late registration's amounts, the table's amount where the catalogue gives the fee only in words, a
staff edit from the next question on; a procedure the table does not name is answered as before."""

from __future__ import annotations

from datetime import date

import pytest
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.answering import ActionAnswer
from actions.answers import Aspect, answer
from actions.fees import FeeTableInForce
from actions.language import run_in_language
from knowledge_base.curation import update_fee
from knowledge_base.curation.fees import effective_fee_table
from knowledge_base.fee_table import default_fee_table, rule_key
from knowledge_base.messages import render
from knowledge_base.schema import ChannelKind, Fee, Procedure, ProcessingTime, SubmissionChannel, TimeUnit
from motcua.db import Database
from motcua.payments.fees import quote_fee
from retrieval.decision import Decision
from retrieval.results import ProcedureHit
from tests.actions.fakes import BIRTH, FakeKnowledge, tracker
from tests.actions.test_action_language import action_call
from tests.actions.test_answering import FakeLegal, FakeSearch

TODAY = date(2026, 12, 6)
LATE_BIRTH_RULE = next(rule_key(r) for r in default_fee_table().rules_for(BIRTH.code) if r.when_late)
DAY = ProcessingTime(5, TimeUnit.WORKING_DAY)
PROVINCE = "Lệ phí do Hội đồng nhân dân tỉnh quy định"
REREGISTER = Procedure(  # the catalogue gives its fee only in words; the table sets 8.000 / 4.000
    code="1.004884",
    name="Đăng ký lại khai sinh",
    channels=[
        SubmissionChannel(ChannelKind.IN_PERSON, DAY, Fee(note=PROVINCE)),
        SubmissionChannel(ChannelKind.ONLINE, DAY, Fee(note=PROVINCE)),
    ],
)
CERTIFY = Procedure(  # not in the fee table
    code="2.000815",
    name="Chứng thực bản sao từ bản chính",
    channels=[
        SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(1), Fee(amount=2000, note="mỗi trang"))
    ],
)


@pytest.fixture
def database(database_url):
    database = Database.open(database_url)
    yield database
    database.close()


def action(database: Database, search: FakeSearch | None = None) -> ActionAnswer:
    knowledge = FakeKnowledge([BIRTH, REREGISTER, CERTIFY], search)
    return ActionAnswer(knowledge, FakeLegal(), today=lambda: TODAY, fees=FeeTableInForce(database))


async def ask(answerer: ActionAnswer, text: str, intent: str = "ask_fee") -> str:
    dispatcher = CollectingDispatcher()
    await answerer.run(dispatcher, tracker(text, intent), {})
    (message,) = dispatcher.messages
    return message["text"]


def charged(database: Database, kind: ChannelKind) -> int:
    """What a birth registered a year late is charged (the payment service's own pricing)."""
    with database.session() as session:
        table = effective_fee_table(session)
    values = {"birth_child_birth_date": date(2025, 12, 1)}
    return quote_fee(BIRTH, kind, values=values, filed_on=TODAY, table=table).amount


async def test_the_late_birth_fee_question_names_the_amounts_the_dossier_is_charged(database):
    said = await ask(action(database), "lệ phí đăng ký khai sinh quá hạn là bao nhiêu?")
    assert (charged(database, ChannelKind.IN_PERSON), charged(database, ChannelKind.ONLINE)) == (8000, 4000)
    assert (
        "Đăng ký khai sinh quá hạn (quá 60 ngày): 8.000 đồng (trực tiếp), 4.000 đồng (trực tuyến) "
        "— theo bảng phí của Trung tâm." in said
    )
    assert said.startswith("Lệ phí «Đăng ký khai sinh»: Miễn phí.")  # on time it stays free


async def test_after_a_staff_edit_the_answer_follows_from_the_next_question(database):
    answerer = action(database)
    assert "8.000 đồng (trực tiếp)" in await ask(answerer, "lệ phí đăng ký khai sinh quá hạn là bao nhiêu?")
    with database.session() as session:
        update_fee(session, LATE_BIRTH_RULE, "12.000", {"truc_tuyen": 6000}, actor="canbo")
    said = await ask(answerer, "lệ phí đăng ký khai sinh quá hạn là bao nhiêu?")
    assert (charged(database, ChannelKind.IN_PERSON), charged(database, ChannelKind.ONLINE)) == (12000, 6000)
    assert "12.000 đồng (trực tiếp), 6.000 đồng (trực tuyến) — theo bảng phí của Trung tâm" in said
    assert "8.000" not in said and "4.000" not in said
    with database.session() as session:  # one amount for every way of submission: said once
        update_fee(session, LATE_BIRTH_RULE, 10000, actor="canbo")
    assert "(quá 60 ngày): 10.000 đồng — theo bảng phí" in await ask(
        answerer, "khai sinh quá hạn mất bao nhiêu tiền"
    )


async def test_the_tables_amount_is_said_where_the_catalogue_gives_the_fee_only_in_words(database):
    said = await ask(action(database), "lệ phí đăng ký lại khai sinh bao nhiêu")
    assert said.splitlines()[:3] == [
        "Lệ phí «Đăng ký lại khai sinh»:",
        f"• Trực tiếp: 8.000 đồng theo bảng phí của Trung tâm ({PROVINCE})",
        f"• Trực tuyến: 4.000 đồng theo bảng phí của Trung tâm ({PROVINCE})",
    ]
    assert render("answer.fee_unknown") not in said


async def test_a_procedure_without_table_rules_is_answered_as_before(database):
    said = await ask(action(database), "chứng thực bản sao từ bản chính hết bao nhiêu tiền")
    assert said == answer(CERTIFY, Aspect.FEE).text
    assert "bảng phí" not in said


async def test_the_overview_says_the_table_too_but_the_portals_own_record_does_not():
    table = default_fee_table()  # a FeeTable is itself what the action reads (FeeRules)
    overview = answer(BIRTH, Aspect.OVERVIEW, fee_rules=table.rules_for(BIRTH.code)).text
    assert "8.000 đồng (trực tiếp), 4.000 đồng (trực tuyến) — theo bảng phí của Trung tâm" in overview
    portal = answer(BIRTH, Aspect.FEE, portal=True, fee_rules=table.rules_for(BIRTH.code)).text
    assert portal == answer(BIRTH, Aspect.FEE, portal=True).text


async def test_the_english_question_gets_the_tables_amounts_in_english():
    search = FakeSearch(Decision("answer", (ProcedureHit(BIRTH.code, BIRTH.name, 0.8),), 0.9))
    runner = ActionExecutor()
    runner.register_action(
        ActionAnswer(
            FakeKnowledge([BIRTH], search), FakeLegal(), today=lambda: TODAY, fees=default_fee_table()
        )
    )
    result = await run_in_language(
        runner, action_call("What is the fee for late birth registration?", "ask_fee", language="en")
    )
    (said,) = result["responses"]
    assert said["text"].startswith("Fee for «Đăng ký khai sinh»: Miễn phí.")
    assert (
        "(after more than 60 days): 8.000 đồng (trực tiếp), 4.000 đồng (trực tuyến) "
        "— under the centre's fee table." in said["text"]
    )
