"""Custom actions with a real Tracker and CollectingDispatcher, no server."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import ActionAnswer
from actions.answers import Aspect, answer
from actions.knowledge import AliasFinder, fold
from actions.procedures import ActionHandoff
from knowledge_base.schema import (
    ChannelKind,
    Fee,
    Procedure,
    ProcessingTime,
    SubmissionChannel,
)
from tests.actions.fakes import BIRTH, FakeKnowledge, tracker

MARRIAGE = Procedure(
    code="1.000894", name="Đăng ký kết hôn", aliases=["đăng ký kết hôn", "đk kết hôn"],
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(1), Fee(amount=None, note="do HĐND tỉnh quy định"))],
)


async def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


def test_fold_removes_diacritics_and_case():
    assert fold("Đăng KÝ  khai-sinh!") == "dang ky khai sinh"


def test_alias_finder_matches_unaccented_text_and_prefers_the_longest_alias():
    finder = AliasFinder([BIRTH, MARRIAGE])
    assert finder.find("cho e hoi lam giay khai sinh can gi").matches[0].code == "1.001193"
    assert finder.find("dang ky ket hon o dau").matches[0].code == "1.000894"
    assert finder.find("thời tiết hôm nay thế nào").abstained


async def test_documents_question_is_answered_from_the_procedure_and_sets_the_context():
    messages, events = await run(ActionAnswer(FakeKnowledge([BIRTH])),
                                 tracker("làm giấy khai sinh cần giấy tờ gì", "ask_documents"))
    assert messages[0]["text"] == answer(BIRTH, Aspect.DOCUMENTS).text
    assert "Giấy chứng sinh (1 bản chính)" in messages[0]["text"]
    assert "(Nguồn: thủ tục 1.001193 — Đăng ký khai sinh)" in messages[0]["text"]
    assert SlotSet("procedure_code", "1.001193") in events


async def test_a_follow_up_without_a_name_answers_for_the_procedure_in_context():
    t = tracker("còn lệ phí thì sao?", "ask_fee", slots={"procedure_code": "1.001193"})
    messages, _ = await run(ActionAnswer(FakeKnowledge([BIRTH, MARRIAGE])), t)
    assert messages[0]["text"].startswith("Lệ phí «Đăng ký khai sinh»: Miễn phí.")


async def test_a_new_procedure_name_replaces_the_one_in_context():
    t = tracker("thế đăng ký kết hôn mất bao lâu", "ask_processing_time", slots={"procedure_code": "1.001193"})
    messages, events = await run(ActionAnswer(FakeKnowledge([BIRTH, MARRIAGE])), t)
    assert "Đăng ký kết hôn" in messages[0]["text"]
    assert SlotSet("procedure_code", "1.000894") in events


async def test_without_any_procedure_the_action_asks_which_one_with_buttons():
    messages, events = await run(ActionAnswer(FakeKnowledge([BIRTH])), tracker("lệ phí bao nhiêu", "ask_fee"))
    assert messages[0]["response"] == "utter_ask_which_procedure"  # its text and buttons: domain.yml
    assert not any(isinstance(e, dict) and e.get("name") == "procedure_code" for e in events)


async def test_handoff_emits_an_event_the_gateway_can_route():
    messages, events = await run(ActionHandoff(), tracker("cho tôi gặp cán bộ", "request_human"))
    assert messages[0]["custom"] == {"handoff": True, "reason": "citizen_request"}
    assert SlotSet("handoff", True) in events


@pytest.mark.parametrize("aspect", [Aspect.OVERVIEW, Aspect.DOCUMENTS, Aspect.FEE, Aspect.TIME,
                                    Aspect.SUBMISSION, Aspect.LEGAL_BASIS])
def test_every_answer_cites_its_source_and_offers_next_steps(aspect):
    reply = answer(MARRIAGE, aspect)
    assert reply.text.endswith("(Nguồn: thủ tục 1.000894 — Đăng ký kết hôn)")
    assert {"title": "Lấy số thứ tự", "payload": "/request_queue_number"} in reply.buttons


def test_unknown_aspect_is_a_programming_error():
    with pytest.raises(ValueError):
        answer(BIRTH, "weather")


class AlwaysGuesses:
    """A search index that never abstains: the follow-up must still keep its context."""

    def find(self, text, top_k=3):
        from actions.knowledge import FinderResult, Match

        return FinderResult([Match(MARRIAGE.code, MARRIAGE.name, 0.1)], abstained=False)


async def test_a_follow_up_keeps_its_context_even_when_the_search_index_guesses():
    from actions.knowledge import ChainFinder

    knowledge = FakeKnowledge([BIRTH, MARRIAGE])
    knowledge.finder = ChainFinder(AliasFinder([BIRTH, MARRIAGE]), AlwaysGuesses())
    t = tracker("thế mất bao lâu", "ask_processing_time", slots={"procedure_code": "1.001193"})
    messages, _ = await run(ActionAnswer(knowledge), t)
    assert messages[0]["text"] == answer(BIRTH, Aspect.TIME).text
