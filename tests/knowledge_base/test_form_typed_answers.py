"""Forms as citizens type them: readings to choose for an unsure name or address, «dung» and
«khong» at a confirmation, the next answer typed instead of confirming, and a guardian asked only of a
minor. The dialogue alone, without Rasa."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from knowledge_base.form_dialogue import (
    AnswerQuestion,
    FileDossier,
    FormCatalog,
    FormDialogue,
    FormState,
    Stage,
    Step,
)
from knowledge_base.form_turns import Turn, confirms, same_answer
from knowledge_base.forms import FormDefinitionError, applies, load_form, load_forms
from knowledge_base.messages import render

FORMS = load_forms()
BIRTH = FORMS["birth_registration"]
PERMANENT = FORMS["permanent_residence"]
TEMPORARY = FORMS["temporary_residence"]
TODAY = date(2026, 12, 5)
REQUESTER_QR = "001190012345||Nguyễn Thị Lan|15031990|Nữ|Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội|01072021"
KEEP = render("form.button.accents_keep")


def dialogue() -> FormDialogue:
    return FormDialogue(FormCatalog(FORMS), question_intents={"ask_fee"})


def sample(item) -> Any:
    """A plausible stored value for a field (the dialogue does not validate stored values again)."""
    return {"name": "Nguyễn Văn An", "date": "2024-03-15", "birth_date": "1990-03-15", "cccd": "001190012345",
            "phone": "0912345678", "address": "Số 1 Tràng Tiền, Hà Nội", "number": 1}.get(
        item.type, item.choices[0] if item.choices else "Kinh")


def at(form, name: str, values: dict[str, Any] | None = None) -> FormState:
    """The form at the field ``name``, every field before it answered (``values`` first)."""
    before = form.field_names[:form.field_names.index(name)]
    filled = {item.name: sample(item) for item in form.fields if item.name in before}
    filled.update(values or {})
    return FormState(form, filled, name, Stage.FILL, today=TODAY)


def text(step: Step) -> str:
    return "\n".join(reply.text for reply in step.replies)


def buttons(form_state: FormState) -> list[tuple[str, str]]:
    prompt = dialogue().prompt(form_state)
    assert prompt is not None
    return [(b.title, b.payload) for b in prompt.buttons]


# --- 1. readings to choose from -------------------------------------------------------------------


def test_an_ambiguous_name_offers_its_readings_and_keeping_it_as_typed():
    step = dialogue().step(at(BIRTH, "birth_child_name"), Turn("pham thi hoa", "inform", 0.9))
    assert step.state.stage == Stage.CONFIRM and "birth_child_name" not in step.state.values
    assert step.state.pending == {"typed": "Pham Thi Hoa",
                                  "readings": ["Phạm Thị Hoa", "Phạm Thị Hòa", "Phạm Thị Hoà"]}
    assert buttons(step.state) == [("Phạm Thị Hoa", "Phạm Thị Hoa"), ("Phạm Thị Hòa", "Phạm Thị Hòa"),
                                   ("Phạm Thị Hoà", "Phạm Thị Hoà"), (KEEP, "Pham Thi Hoa")]
    assert "«Pham Thi Hoa» có thể viết có dấu theo vài cách" in dialogue().prompt(step.state).text


@pytest.mark.parametrize("intent", ["inform", "cancel", "deny", "affirm"])
def test_a_reading_tapped_is_taken_whatever_the_nlu_read(intent):
    asked = dialogue().step(at(BIRTH, "birth_child_name"), Turn("pham thi hoa", "inform", 0.9)).state
    step = dialogue().step(asked, Turn("Phạm Thị Hòa", intent, 0.97))
    assert step.state.values["birth_child_name"] == "Phạm Thị Hòa" and step.state.field_name == "birth_child_birth_date"


def test_keep_as_typed_stores_the_answer_without_marks_and_says_so():
    asked = dialogue().step(at(BIRTH, "birth_child_name"), Turn("pham thi hoa", "inform", 0.9)).state
    step = dialogue().step(asked, Turn("Pham Thi Hoa", "inform", 0.6))
    assert step.state.values["birth_child_name"] == "Pham Thi Hoa" and step.state.pending is None
    assert render("form.accents_kept", value="Pham Thi Hoa") in text(step)


def test_yes_to_several_readings_asks_which_no_asks_the_field_again():
    asked = dialogue().step(at(BIRTH, "birth_child_name"), Turn("pham thi hoa", "inform", 0.9)).state
    yes = dialogue().step(asked, Turn("đúng", "affirm", 0.95))
    assert yes.state.stage == Stage.CONFIRM and yes.state.pending == asked.pending
    assert render("form.accents_pick") in text(yes)
    no = dialogue().step(asked, Turn("khong", "inform", 0.9))
    assert no.state.stage == Stage.FILL and no.state.field_name == "birth_child_name"
    assert "birth_child_name" not in no.state.values


def test_a_sure_reading_keeps_the_yes_no_confirmation():
    step = dialogue().step(at(BIRTH, "birth_child_name"), Turn("nguyen minh an", "inform", 0.9))
    assert step.state.pending == {"accented": "Nguyễn Minh An", "typed": "Nguyen Minh An"}
    assert [payload for _, payload in buttons(step.state)] == ["/affirm", "/deny"]


NAME_OR_ADDRESS = [(form.id, item.name, item.type) for form in FORMS.values() for item in form.fields
                   if item.type in ("name", "address")]


@pytest.mark.parametrize(("form_id", "name", "kind"), NAME_OR_ADDRESS)
def test_every_name_and_address_field_offers_readings_of_an_unsure_answer(form_id, name, kind):
    said = "nguyen thanh tung" if kind == "name" else "thon dong, xa hoa binh, tinh nghe an"
    step = dialogue().step(at(FORMS[form_id], name), Turn(said, "inform", 0.9))
    assert step.state.stage == Stage.CONFIRM, (form_id, name)
    readings = step.state.pending["readings"]
    assert 2 <= len(readings) <= 3 and buttons(step.state)[-1] == (KEEP, step.state.pending["typed"])
    expected = "Nguyễn Thành Tùng" if kind == "name" else "Thôn Đông, xã Hòa Bình, tỉnh Nghệ An"
    assert expected in readings


def test_a_text_field_with_no_sure_reading_is_kept_as_typed():
    step = dialogue().step(at(BIRTH, "birth_parents_marriage_registry"), Turn("ubnd xa tan lap", "inform", 0.9))
    assert step.state.stage == Stage.FILL and step.state.values["birth_parents_marriage_registry"] == "ubnd xa tan lap"


# --- 2. «dung», «khong» at a confirmation --------------------------------------------------------


@pytest.mark.parametrize(("said", "intent", "act", "expected"), [
    ("dung", "inform", "affirm", True),  # the NLU read a name «Dũng»: at a confirmation it is «đúng»
    ("dung roi", "inform", "affirm", True),
    ("khong", "inform", "deny", True),
    ("sai", "inform", "deny", True),
    ("dung", "deny", "affirm", False),  # the NLU is sure of no
    ("khong", "affirm", "deny", False),
    ("nguyen van dung", "inform", "affirm", False),
])
def test_confirms_reads_unaccented_yes_no_words_whatever_else_the_nlu_read(said, intent, act, expected):
    assert confirms(Turn(said, intent, 0.95), act) is expected


def test_dung_to_the_cards_values_fills_them_and_is_no_relationship():
    card = dialogue().step(at(BIRTH, "birth_requester_name"), Turn(REQUESTER_QR, "inform", 0.4)).state
    assert card.stage == Stage.CARD
    step = dialogue().step(card, Turn("dung", "inform", 0.93))
    assert step.state.values["birth_requester_cccd"] == "001190012345"
    assert "birth_requester_relationship" not in step.state.values
    assert step.state.field_name == "birth_requester_relationship"
    no = dialogue().step(card, Turn("khong", "inform", 0.93))
    assert no.state.stage == Stage.FILL and not no.state.values


def test_dung_roi_confirms_an_accented_form_and_dung_files_at_the_summary():
    asked = dialogue().step(at(BIRTH, "birth_child_name"), Turn("tran minh khang", "inform", 0.9)).state
    step = dialogue().step(asked, Turn("dung roi", "inform", 0.91))
    assert step.state.values["birth_child_name"] == "Trần Minh Khang"
    summary = FormState(BIRTH, {f.name: None for f in BIRTH.fields}, None, Stage.SUMMARY)
    assert dialogue().step(summary, Turn("dung", "inform", 0.9)).effects == [FileDossier()]


# --- 3. the next answer typed instead of confirming ---------------------------------------------------


def test_the_next_answer_instead_of_confirming_keeps_the_name_as_typed_and_is_taken():
    asked = dialogue().step(at(BIRTH, "birth_child_name"), Turn("tran minh khang", "inform", 0.9)).state
    step = dialogue().step(asked, Turn("15/03/2024", "inform", 0.8))
    assert step.state.values["birth_child_name"] == "Tran Minh Khang"
    assert step.state.values["birth_child_birth_date"] == "2024-03-15" and step.state.field_name == "birth_child_sex"
    assert render("form.accents_kept", value="Tran Minh Khang") in text(step)


def test_a_wrong_next_answer_keeps_the_name_and_asks_the_next_field_again():
    asked = dialogue().step(at(BIRTH, "birth_child_name"), Turn("pham thi hoa", "inform", 0.9)).state
    step = dialogue().step(asked, Turn("31/02/2024", "inform", 0.8))
    assert step.state.values["birth_child_name"] == "Pham Thi Hoa"
    assert step.state.field_name == "birth_child_birth_date" and "không có thật" in text(step)


def test_a_question_instead_of_confirming_keeps_the_name_and_is_answered():
    asked = dialogue().step(at(BIRTH, "birth_child_name"), Turn("tran minh khang", "inform", 0.9)).state
    step = dialogue().step(asked, Turn("lệ phí bao nhiêu?", "ask_fee", 0.97))
    assert step.state.values["birth_child_name"] == "Tran Minh Khang" and step.effects == [AnswerQuestion("ask_fee")]
    assert step.state.field_name == "birth_child_birth_date"


def test_the_same_answer_retyped_with_a_letter_changed_is_read_anew_for_the_same_field():
    asked = dialogue().step(at(BIRTH, "birth_child_name"), Turn("tran minh khang", "inform", 0.9)).state
    step = dialogue().step(asked, Turn("tran minh khanh", "inform", 0.9))
    assert step.state.stage == Stage.CONFIRM and step.state.pending["typed"] == "Tran Minh Khanh"
    assert same_answer("Trần Minh Khanh", "tran minh khang") and not same_answer("15/03/2024", "tran minh khang")
    assert not same_answer("Nguyễn Thị Lan", "tran minh khang")


def test_cancel_at_a_confirmation_still_cancels():
    asked = dialogue().step(at(BIRTH, "birth_child_name"), Turn("pham thi hoa", "inform", 0.9)).state
    assert dialogue().step(asked, Turn("thôi không khai nữa", "cancel", 0.95)).state.stage == Stage.CANCELLED


# --- 4. a guardian only for a minor -------------------------------------------------------------------


def _until_guardian(form, prefix: str, birth: str) -> FormState:
    """At the field before the guardian's, the declarant born on ``birth``."""
    before = form.field_names[form.field_names.index(f"{prefix}_guardian_name") - 1]
    return at(form, before, {f"{prefix}_birth_date": birth})


def _answer(form, prefix: str) -> str:
    previous = form.fields[form.field_names.index(f"{prefix}_guardian_name") - 1]
    return previous.choices[0] if previous.choices else "001190012345" if previous.type == "cccd" else "không"


@pytest.mark.parametrize(("form", "prefix"), [(PERMANENT, "permanent"), (TEMPORARY, "temporary")])
def test_the_guardian_is_not_asked_of_an_adult_born_1955(form, prefix):
    state = _until_guardian(form, prefix, "1955-04-30")
    step = dialogue().step(state, Turn(_answer(form, prefix), "inform", 0.9))
    assert step.state.field_name == f"{prefix}_address"
    assert step.state.values[f"{prefix}_guardian_name"] is None
    assert f"{prefix}_guardian_name" not in step.state.filled()


@pytest.mark.parametrize(("form", "prefix"), [(PERMANENT, "permanent"), (TEMPORARY, "temporary")])
def test_the_guardian_is_asked_of_a_minor(form, prefix):
    state = _until_guardian(form, prefix, "2012-06-01")
    step = dialogue().step(state, Turn(_answer(form, prefix), "inform", 0.9))
    assert step.state.field_name == f"{prefix}_guardian_name"
    assert form.field(f"{prefix}_guardian_name").prompt in dialogue().prompt(step.state).text


def test_a_birth_date_corrected_to_a_minors_asks_the_guardian_and_to_an_adults_empties_it():
    values = {f.name: "x" for f in PERMANENT.fields}
    values.update(permanent_birth_date="1955-04-30", permanent_guardian_name=None)
    adult = FormState(PERMANENT, values, "permanent_birth_date", Stage.FILL, today=TODAY)
    minor = dialogue().step(adult, Turn("01/06/2012", "inform", 0.9))
    assert minor.state.field_name == "permanent_guardian_name" and "permanent_guardian_name" not in minor.state.values
    named = dialogue().step(minor.state, Turn("Nguyễn Văn Ba", "inform", 0.9))
    assert named.state.values["permanent_guardian_name"] == "Nguyễn Văn Ba" and named.state.stage == Stage.SUMMARY
    named.state.field_name, named.state.stage = "permanent_birth_date", Stage.FILL
    grown = dialogue().step(named.state, Turn("30/04/1955", "inform", 0.9))
    assert grown.state.values["permanent_guardian_name"] is None and grown.state.stage == Stage.SUMMARY


def test_applies_by_the_birth_date_or_year_on_the_day():
    guardian = PERMANENT.field("permanent_guardian_name")
    assert not applies(guardian, {"permanent_birth_date": "2008-12-05"}, TODAY)  # 18 today
    assert applies(guardian, {"permanent_birth_date": "2008-12-06"}, TODAY)  # 18 tomorrow
    assert applies(guardian, {"permanent_birth_date": 2008}, TODAY)  # a year alone: may still be 17
    assert applies(guardian, {}, TODAY)  # not known: asked


def test_every_guardian_field_of_the_forms_is_asked_only_of_a_minor():
    guardians = [item for form in FORMS.values() for item in form.fields if "giám hộ" in item.label.lower()]
    assert guardians and all(item.ask_if is not None and item.ask_if.younger_than == 18 for item in guardians)


def test_an_ask_if_naming_no_earlier_birth_date_is_refused(tmp_path):
    data = {"id": "trial_form", "title": "Tờ khai thử", "procedures": ["1.001193"], "sections": [
        {"title": "Người yêu cầu", "fields": [
            {"name": "trial_guardian", "label": "Người giám hộ", "type": "name", "prompt": "Ai?",
             "required": False, "ask_if": {"younger_than": 18, "birth_date": "trial_birth"}},
            {"name": "trial_birth", "label": "Ngày sinh", "type": "birth_date", "prompt": "Sinh ngày nào?"}]}]}
    path = tmp_path / "trial_form.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match="trial_guardian.*not a birth date asked before"):
        load_form(path)
    data["sections"][0]["fields"].reverse()
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_form(path).field("trial_guardian").ask_if is not None
    data["sections"][0]["fields"][1]["ask_if"]["older"] = 1
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match="unknown key"):
        load_form(path)
