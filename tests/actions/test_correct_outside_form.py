"""«Sửa…» outside a declaration, and a question handed from one action to another.

«Giấy khai sinh ghi sai năm sinh thì sửa thế nào?» reads to the NLU as «correct a field» (``correct_field``);
with no declaration open it is a question about the correction procedure, and goes to the answering
action when the search is sure enough of a procedure to answer one. A bare «sửa lại» is told there is nothing
to correct. In the middle of a declaration, an action that hands a message over (the queue action with
«xin phiếu lý lịch tư pháp») has it answered by the action it names.
"""

from __future__ import annotations

from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import ANSWER_ACTION
from actions.forms import ActionCorrectOutsideForm, FormCatalog, ValidateDeclarationForm
from knowledge_base.forms import load_forms
from retrieval.decision import PROCEDURE_POLICY, Decision
from retrieval.results import ProcedureHit
from tests.actions.fakes import tracker

CORRECTION = ProcedureHit("1.004859", "Thay đổi, cải chính, bổ sung thông tin hộ tịch", 1.0)


class Knowledge:
    def __init__(self, confidence: float | None, move: str = "offer"):
        self.search = None if confidence is None else Search(Decision(move, (CORRECTION,), confidence))


class Search:
    def __init__(self, decision: Decision):
        self.decision = decision
        self.asked: list[str] = []

    def decide_procedures(self, query: str) -> Decision:
        self.asked.append(query)
        return self.decision


async def run(knowledge: Knowledge, text: str):
    dispatcher = CollectingDispatcher()
    events = await ActionCorrectOutsideForm(knowledge).run(dispatcher, tracker(text, "correct_field"), {})
    return dispatcher.messages, events


async def test_a_paper_written_wrong_is_a_question_for_the_answering_action():
    sure = Knowledge(PROCEDURE_POLICY.answer_at + 0.1)
    messages, events = await run(sure, "giấy khai sinh ghi sai năm sinh thì sửa thế nào")
    assert messages == [] and events == [FollowupAction(ANSWER_ACTION)]
    assert sure.search.asked == ["giấy khai sinh ghi sai năm sinh thì sửa thế nào"]


async def test_a_bare_correction_hears_there_is_nothing_to_correct():
    for knowledge, text in [(Knowledge(PROCEDURE_POLICY.answer_at - 0.05), "sai rồi sửa lại"),
                            (Knowledge(0.99, move="abstain"), "sửa lại ngày sinh"),
                            (Knowledge(None), "giấy khai sinh ghi sai năm sinh"),  # no search index here
                            (Knowledge(0.99), "/correct_field")]:  # a button is no one's words
        messages, events = await run(knowledge, text)
        assert events == [] and [m.get("response") for m in messages] == ["utter_nothing_to_correct"], text


class HandsOver:
    def name(self) -> str:
        return "action_issue_queue_number"

    async def run(self, dispatcher, tracker, domain):
        return [FollowupAction(ANSWER_ACTION)]


class Answers:
    def name(self) -> str:
        return ANSWER_ACTION

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=f"trả lời: {tracker.latest_message['text']}")
        return [SlotSet("procedure_code", "3.000333")]


async def test_in_a_declaration_a_handed_over_question_is_answered_by_the_action_named():
    validate = ValidateDeclarationForm(FormCatalog(load_forms()), None,
                                       {"request_queue_number": HandsOver(), "ask_procedure": Answers()})
    dispatcher = CollectingDispatcher()
    slots: dict = {}
    event, _ = await validate._answer("request_queue_number", dispatcher,
                                      tracker("xin phiếu lý lịch tư pháp", "request_queue_number"), {}, slots)
    assert [m["text"] for m in dispatcher.messages] == ["trả lời: xin phiếu lý lịch tư pháp"]
    assert slots == {"procedure_code": "3.000333"} and event.name == "ANSWERED"
