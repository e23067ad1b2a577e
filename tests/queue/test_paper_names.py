"""«Số», «phiếu» in a paper's name are not a request for a queue number («xin phiếu lý lịch tư pháp»)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import FormCatalog, ValidateDeclarationForm
from actions.queue import ActionIssueQueueNumber
from knowledge_base.forms import load_forms
from motcua.queue.service import QueueService
from motcua.queue.words import names_a_paper_not_a_number
from motcua.settings import Settings
from tests.actions.fakes import tracker
from tests.queue.queue_fakes import SMALL_CENTRE
from tests.queue.test_queue_action import COPY, Answers, FakeKnowledge
from tests.queue.test_queue_action import LLTP as LLTP_PROCEDURE

LLTP = ["Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "phiếu lý lịch tư pháp"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("xin phiếu lý lịch tư pháp", LLTP),
        ("xin phieu ly lich tu phap", LLTP),
        ("làm phiếu lý lịch tư pháp ở đâu", LLTP),
        ("xin cấp số nhà cho nhà mới xây", ["Cấp số nhà"]),
        ("xin xác nhận số cmnd 9 số", ["Xác nhận số Chứng minh nhân dân 9 số", "xác nhận số cmnd"]),
    ],
)
def test_a_cue_inside_a_paper_named_in_the_text_is_the_paper(text, names):
    assert names_a_paper_not_a_number(text, names)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("cho tôi lấy số làm phiếu lý lịch tư pháp", LLTP),  # «lấy số»: a number
        ("xin phiếu số để nộp lý lịch tư pháp", LLTP),  # «phiếu số» is no part of the name
        ("cho tôi một phiếu", LLTP),
        ("lý lịch tư pháp", LLTP),  # no cue at all: nothing to explain
        ("xin phiếu lý lịch tư pháp", []),  # no paper found in the text
        ("bốc số làm sổ đỏ", ["cấp lại sổ đỏ"]),
    ],
)
def test_a_number_asked_for_beside_a_paper_is_still_a_number(text, names):
    assert not names_a_paper_not_a_number(text, names)


async def test_in_a_declaration_a_paper_read_as_a_number_is_answered(tmp_path, database_url, clock):
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    queue = ActionIssueQueueNumber(FakeKnowledge([COPY, LLTP_PROCEDURE]), settings, SMALL_CENTRE,
                                   QueueService(SMALL_CENTRE, clock=clock), answer=Answers())
    validate = ValidateDeclarationForm(FormCatalog(load_forms()), None, {"request_queue_number": queue})
    dispatcher = CollectingDispatcher()
    slots: dict = {}
    event, _ = await validate._answer("request_queue_number", dispatcher,
                                      tracker("xin phiếu lý lịch tư pháp", "request_queue_number"), {}, slots)
    assert [m["text"] for m in dispatcher.messages] == ["trả lời về thủ tục"]
    assert slots == {} and event.name == "ANSWERED"
