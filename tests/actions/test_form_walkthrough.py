"""The form as a 65-year-old citizen uses it at the kiosk: the tap that starts it, answers typed without
diacritics, dates that cannot be, and a queue number taken in the middle."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import FormCatalog
from knowledge_base.messages import render
from tests.actions.test_form_dialogue import (
    BIRTH,
    BIRTH_FORM,
    CERTIFY,
    DOMAIN,
    FORMS,
    FakeKnowledge,
    FormLoop,
    payloads,
    texts,
)

DEATH = FORMS["death_registration"]


class FakeQueue(Action):
    """Stands for action_issue_queue_number: says a number and remembers who asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def name(self) -> str:
        return "action_issue_queue_number"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        self.asked.append(tracker.sender_id)
        dispatcher.utter_message(text="Số thứ tự của ông/bà là A012.", json_message={"queue_ticket": {"label": "A012"}})
        return []


@pytest.fixture
def catalog() -> FormCatalog:
    return FormCatalog(FORMS, FakeKnowledge([BIRTH, CERTIFY]))


@pytest.fixture
async def loop(catalog) -> FormLoop:
    loop = FormLoop(catalog)
    loop.queue = FakeQueue()  # the server wires action_issue_queue_number in as an interruption
    loop.validate.interruptions["request_queue_number"] = loop.queue
    loop.validate.dialogue.question_intents = frozenset(loop.validate.interruptions)
    await loop.start("tôi muốn điền tờ khai khai sinh", [{"entity": "procedure", "value": "đăng ký khai sinh"}])
    return loop


# --- 1. the tap that starts the form is no answer ------------------------------------------------------


@pytest.mark.parametrize("text", ["Điền tờ khai", "", '/fill_form{"form_id": "birth_registration"}'])
async def test_the_start_of_a_form_never_validates(catalog, text):
    """Rasa validates the slots action_start_form cleared while it activates the form (no active loop yet,
    form_answer None): nothing is said, nothing is kept, and the first question is asked next."""
    loop = FormLoop(catalog)
    await loop.start(text or "điền tờ khai khai sinh", [{"entity": "procedure", "value": "đăng ký khai sinh"}])
    latest = {"text": text, "intent": {"name": "fill_form", "confidence": 1.0}, "entities": [], "metadata": {}}
    activating = Tracker("kiosk:t1", dict(loop.slots), latest,
                         [{"event": "user", "text": text}, {"event": "action", "name": "action_start_form"},
                          {"event": "slot", "name": "form_answer", "value": None}], False, None, {}, "action_start_form")
    dispatcher = CollectingDispatcher()
    events = await loop.validate.run(dispatcher, activating, DOMAIN)
    said = texts(dispatcher.messages)
    assert "bắt buộc" not in said and not dispatcher.messages
    assert not [e for e in events if e.get("event") == "slot" and e.get("name") in ("form_values", "form_field")]
    assert loop.field == "birth_requester_name" and loop.values == {}


async def test_an_empty_message_in_a_form_is_not_refused_as_missing(loop):
    messages = await loop.say("")
    assert "bắt buộc" not in texts(messages)
    assert loop.field == "birth_requester_name"


# --- 2. answers typed without diacritics ------------------------------------------------------------


async def test_an_unaccented_name_is_proposed_with_its_diacritics_and_kept_when_confirmed(loop):
    messages = await loop.say("nguyen minh an")
    assert render("form.accents_check", value="Nguyễn Minh An") in texts(messages)
    assert payloads(messages) == ["/affirm", "/deny"]
    assert [b["title"] for m in messages for b in m.get("buttons") or []] == ["Đúng", "Sửa lại"]
    assert "birth_requester_name" not in loop.values
    await loop.say("/affirm", "affirm", 1.0)
    assert loop.values["birth_requester_name"] == "Nguyễn Minh An"
    assert loop.field == "birth_requester_address"


async def test_sua_lai_asks_again_and_the_accented_form_typed_is_taken(loop):
    await loop.say("nguyen minh an")
    messages = await loop.say("/deny", "deny", 1.0)
    assert render("form.accents_retype", label=BIRTH_FORM.field("birth_requester_name").label) in texts(messages)
    assert loop.field == "birth_requester_name" and "birth_requester_name" not in loop.values
    await loop.say("Nguyễn Minh Ân")
    assert loop.values["birth_requester_name"] == "Nguyễn Minh Ân"


async def test_the_accented_form_typed_instead_of_a_button_is_taken(loop):
    await loop.say("nguyen minh an")
    await loop.say("Nguyễn Minh Ẩn")
    assert loop.values["birth_requester_name"] == "Nguyễn Minh Ẩn"
    assert loop.field == "birth_requester_address"


async def test_the_same_unaccented_answer_typed_again_is_kept_as_typed(loop):
    await loop.say("nguyen minh an")
    await loop.say("nguyen minh an")
    assert loop.values["birth_requester_name"] == "Nguyen Minh An"


async def test_an_unsure_name_offers_its_readings_and_the_answer_as_typed(loop):
    messages = await loop.say("nguyen thanh tung")  # Thanh or Thành: the restorer does not guess, it asks
    assert "Có phải là" not in texts(messages) and "birth_requester_name" not in loop.values
    offered = payloads(messages)
    assert offered == ["Nguyễn Thanh Tùng", "Nguyễn Thành Tùng", "Nguyen Thanh Tung"]
    assert [b["title"] for m in messages for b in m.get("buttons") or []][-1] == render("form.button.accents_keep")
    await loop.say(offered[1], "greet", 0.95)  # the reading's own text: the form reads it, not the NLU
    assert loop.values["birth_requester_name"] == "Nguyễn Thành Tùng" and loop.field == "birth_requester_address"


async def test_keeping_an_unsure_name_as_typed(loop):
    offered = payloads(await loop.say("nguyen thanh tung"))
    said = await loop.say(offered[-1])
    assert loop.values["birth_requester_name"] == "Nguyen Thanh Tung"
    assert render("form.accents_kept", value="Nguyen Thanh Tung") in texts(said)


async def test_the_next_answer_typed_instead_of_choosing_keeps_the_name_and_answers_on(loop):
    await loop.answer_until("birth_child_name")
    await loop.say("pham thi hoa")
    said = await loop.say("15/03/2024")  # the child's birth date, the proposal ignored
    assert loop.values["birth_child_name"] == "Pham Thi Hoa"
    assert loop.values["birth_child_birth_date"] == "2024-03-15" and loop.field == "birth_child_sex"
    assert render("form.accents_kept", value="Pham Thi Hoa") in texts(said)


async def test_ethnicity_and_nationality_take_the_lists_form_without_asking(loop):
    await loop.answer_until("birth_child_ethnicity")
    messages = await loop.say("kinh")
    assert "Có phải là" not in texts(messages) and loop.values["birth_child_ethnicity"] == "Kinh"
    await loop.say("viet nam")
    assert loop.values["birth_child_nationality"] == "Việt Nam"


# --- 3. dates that cannot be ------------------------------------------------------------------------


async def test_a_mother_born_the_same_day_as_her_child_is_refused_naming_both_fields(loop):
    await loop.answer_until("birth_mother_birth_date")
    messages = await loop.say("15/03/2024")  # the child's own birth date
    said = texts(messages)
    assert "Thông tin người mẹ" in said and "Người được khai sinh" in said and "ít nhất 12 năm" in said
    assert loop.field == "birth_mother_birth_date" and "birth_mother_birth_date" not in loop.values
    await loop.say("15/03/2015")  # nine years before: still refused
    assert "birth_mother_birth_date" not in loop.values
    await loop.say("15/03/1990")
    assert loop.values["birth_mother_birth_date"] == "1990-03-15"


async def test_a_death_date_before_the_birth_is_refused(catalog):
    loop = FormLoop(catalog)
    await loop.start("điền tờ khai khai tử", [{"entity": "form_id", "value": "death_registration"}])
    assert loop.slots["form_id"] == DEATH.id
    loop.slots["form_values"] = {"death_deceased_birth_date": 1950}
    loop.slots["form_field"] = "death_date"
    messages = await loop.say("01/01/1940")
    assert render("validate.dates_in_order", later="Ngày mất (Người đã mất)", later_date="01/01/1940",
                  earlier="Ngày, tháng, năm sinh (Người đã mất)", earlier_date="1950") in texts(messages)
    assert "death_date" not in loop.values
    await loop.say("01/01/2020")
    assert loop.values["death_date"] == "2020-01-01"


# --- 4. a queue number in the middle of a form ---------------------------------------------------------


async def test_a_queue_number_taken_mid_form_is_issued_and_the_form_goes_on(loop):
    await loop.say("Nguyễn Thị Lan")
    messages = await loop.say("/request_queue_number", "request_queue_number", 1.0)
    said = texts(messages)
    assert "Số thứ tự của ông/bà là A012." in said and loop.queue.asked == ["kiosk:t1"]
    assert any((m.get("custom") or {}).get("queue_ticket") for m in messages)
    assert render("form.resume") in said and BIRTH_FORM.field("birth_requester_address").prompt in messages[-1]["text"]
    assert "tôi đang giúp ông/bà điền" not in said
    assert loop.values == {"birth_requester_name": "Nguyễn Thị Lan"} and loop.field == "birth_requester_address"


async def test_a_queue_number_asked_in_words_is_not_taken_for_a_name(loop):
    await loop.say("cho tôi lấy số thứ tự", "request_queue_number", 0.9)
    assert loop.queue.asked == ["kiosk:t1"] and "birth_requester_name" not in loop.values
