"""«Sửa…» outside a declaration, and a paper's name read as a request for a number.

«Giấy khai sinh ghi sai năm sinh thì sửa thế nào?» reads to the NLU as «correct a field» (``correct_field``);
with no declaration open it is a question about the correction procedure, which the answering action answers
(in the same action call: no rule follows a hand-over, so none is made) when the search is sure enough of a
procedure to answer one. A bare «sửa lại» is told there is nothing to correct. «xin phiếu lý lịch tư pháp»
read as a request for a number is answered the same way by the queue action (tests/queue/test_paper_names.py).
"""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ActionCorrectOutsideForm
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


class Answers:
    """Stands in for the answering action: says what it answered and keeps the procedure in context."""

    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=f"trả lời: {tracker.latest_message['text']}")
        return [SlotSet("procedure_code", "1.004859")]


async def run(knowledge: Knowledge, text: str):
    dispatcher = CollectingDispatcher()
    events = await ActionCorrectOutsideForm(knowledge, Answers()).run(dispatcher, tracker(text, "correct_field"), {})
    return dispatcher.messages, events


async def test_a_paper_written_wrong_is_answered_as_a_question():
    sure = Knowledge(PROCEDURE_POLICY.answer_at + 0.1)
    messages, events = await run(sure, "giấy khai sinh ghi sai năm sinh thì sửa thế nào")
    assert [m["text"] for m in messages] == ["trả lời: giấy khai sinh ghi sai năm sinh thì sửa thế nào"]
    assert events == [SlotSet("procedure_code", "1.004859")]
    assert sure.search.asked == ["giấy khai sinh ghi sai năm sinh thì sửa thế nào"]


async def test_a_bare_correction_hears_there_is_nothing_to_correct():
    for knowledge, text in [(Knowledge(PROCEDURE_POLICY.answer_at - 0.05), "sai rồi sửa lại"),
                            (Knowledge(0.99, move="abstain"), "sửa lại ngày sinh"),
                            (Knowledge(None), "giấy khai sinh ghi sai năm sinh"),  # no search index here
                            (Knowledge(0.99), "/correct_field")]:  # a button is no one's words
        messages, events = await run(knowledge, text)
        assert events == [] and [m.get("response") for m in messages] == ["utter_nothing_to_correct"], text
