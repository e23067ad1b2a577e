"""The declaration dialogue as a state machine, without Rasa: every row of the transition table,
messages the table has no row for, cancelling from every stage, and the NLU's intent before words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from knowledge_base import form_dialogue, form_replies
from knowledge_base.form_dialogue import (
    DEFAULTS,
    TRANSITIONS,
    AnswerQuestion,
    Event,
    FileDossier,
    FormCatalog,
    FormDialogue,
    FormState,
    InvalidMove,
    Move,
    SetProcedure,
    Stage,
    Step,
    Turn,
)
from knowledge_base.form_turns import says
from knowledge_base.forms import FormField, load_forms
from knowledge_base.messages import load_catalogue
from knowledge_base.text import fold

FORMS = load_forms()
BIRTH = FORMS["birth_registration"]
REQUESTER_QR = "001190012345||Nguyễn Thị Lan|15031990|Nữ|Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội|01072021"
LIVE = (Stage.CHOOSE, Stage.FILL, Stage.CARD, Stage.CONFIRM, Stage.PICK, Stage.SUMMARY)


def sample(item: FormField) -> Any:
    """A plausible stored value for a field (the dialogue does not validate stored values again)."""
    return {"name": "Nguyễn Văn An", "date": "2024-03-15", "birth_date": "1990-03-15", "cccd": "001190012345",
            "phone": "0912345678", "address": "Số 1 Tràng Tiền, Hà Nội", "number": 1}.get(
        item.type, item.choices[0] if item.choices else "Kinh")


ALL = {f.name: sample(f) for f in BIRTH.fields}


def filled_until(name: str) -> FormState:
    """The birth form at the field ``name``, every field before it answered."""
    index = BIRTH.field_names.index(name)
    return FormState(BIRTH, {n: ALL[n] for n in BIRTH.field_names[:index]}, name, Stage.FILL)


def in_stage(stage: Stage) -> FormState:
    if stage == Stage.CHOOSE:
        return FormState(None, stage=Stage.CHOOSE)
    if stage == Stage.FILL:
        return filled_until("birth_child_name")
    if stage == Stage.CARD:
        return dialogue().step(filled_until("birth_requester_name"), Turn(REQUESTER_QR, "inform", 0.9)).state
    if stage == Stage.CONFIRM:
        return dialogue().step(filled_until("birth_child_name"), Turn("tran minh khang", "inform", 0.9)).state
    if stage == Stage.PICK:
        return FormState(BIRTH, dict(ALL), None, Stage.PICK, {"pick": list(ALL)})
    if stage in (Stage.SUMMARY, Stage.FILING):
        return FormState(BIRTH, dict(ALL), None, stage)
    return FormState(BIRTH, {}, None, stage, outcome={"status": stage.value})


def dialogue() -> FormDialogue:
    return FormDialogue(FormCatalog(FORMS), question_intents={"ask_fee"})


def text(step: Step) -> str:
    return "\n".join(reply.text for reply in step.replies)


def payloads(step: Step) -> list[str]:
    return [b.payload for reply in step.replies for b in reply.buttons]


# --- the table ---------------------------------------------------------------------------------


def test_every_live_stage_can_be_cancelled_and_every_move_names_where_it_leads():
    assert {stage for stage, event in TRANSITIONS if event == Event.CANCEL} == set(LIVE)
    for (stage, event), move in {**TRANSITIONS, **{(s, None): m for s, m in DEFAULTS.items()}}.items():
        assert isinstance(move, Move) and move.to, (stage, event)
        assert getattr(FormDialogue, move.handler.__name__) is move.handler


@pytest.mark.parametrize("stage", LIVE)
def test_cancel_from_every_stage_ends_the_form_as_cancelled(stage):
    step = dialogue().step(in_stage(stage), Turn("thôi không khai nữa", "cancel", 0.95))
    assert step.state.stage == Stage.CANCELLED and step.state.outcome == {"status": "cancelled"}
    assert not step.effects
    assert "tôi đã dừng việc điền tờ khai" in dialogue().finished(step.state.outcome).text


@pytest.mark.parametrize("stage", [Stage.FILING, Stage.FILED, Stage.CANCELLED])
def test_no_message_is_read_once_the_form_is_filing_or_over(stage):
    with pytest.raises(InvalidMove, match=stage.value):
        dialogue().step(in_stage(stage), Turn("hủy", "cancel", 0.95))


def test_an_event_without_a_row_goes_to_the_stage_default_or_is_refused():
    picked = dialogue().apply(in_stage(Stage.PICK), Event.AFFIRM, Turn("ok", "affirm", 0.9))
    assert picked.state.stage == Stage.PICK and "tôi chưa rõ ông/bà muốn sửa thông tin nào" in text(picked)
    with pytest.raises(InvalidMove, match="no move from the stage 'choose' on 'affirm'"):
        dialogue().apply(in_stage(Stage.CHOOSE), Event.AFFIRM, Turn("ok", "affirm", 0.9))
    with pytest.raises(InvalidMove, match="'fill' on 'filed'"):  # a report is never defaulted
        dialogue().apply(in_stage(Stage.FILL), Event.FILED, None, {"status": "filed"})


def test_a_handler_leading_to_a_stage_its_row_does_not_name_is_refused(monkeypatch):
    monkeypatch.setitem(TRANSITIONS, (Stage.PICK, Event.CORRECT), Move(FormDialogue._cancel, frozenset({Stage.FILL})))
    with pytest.raises(InvalidMove, match="may lead to \\['fill'\\], not 'cancelled'"):
        dialogue().step(in_stage(Stage.PICK), Turn('/correct_field{"form_field": "birth_child_name"}', "correct_field",
                                                    1.0, (("form_field", "birth_child_name"),)))


def test_a_step_leaves_the_state_it_was_given_as_it_was():
    state = filled_until("birth_child_name")
    before = (dict(state.values), state.field_name, state.stage)
    after = dialogue().step(state, Turn("Trần Minh Khang", "inform", 0.9)).state
    assert (dict(state.values), state.field_name, state.stage) == before
    assert after.values["birth_child_name"] == "Trần Minh Khang" and after.field_name == "birth_child_birth_date"


# --- CHOOSE ------------------------------------------------------------------------------------


def test_choose_answer_a_form_button_starts_it_at_its_first_field():
    step = dialogue().step(in_stage(Stage.CHOOSE), Turn('/fill_form{"form_id": "birth_registration"}', "fill_form",
                                                        1.0, (("form_id", "birth_registration"),)))
    assert step.state.stage == Stage.FILL and step.state.field_name == BIRTH.fields[0].name
    assert step.effects == [SetProcedure("1.001193")]
    assert "tôi sẽ giúp ông/bà điền «Tờ khai đăng ký khai sinh»" in text(step)


def test_choose_answer_naming_no_form_stays_and_says_so():
    step = dialogue().step(in_stage(Stage.CHOOSE), Turn("cái gì đó", "inform", 0.6))
    assert step.state.stage == Stage.CHOOSE and "tôi chưa tìm thấy tờ khai đó" in text(step)


def test_start_with_the_procedure_in_context_keeps_it():
    step = dialogue().start(Turn("điền tờ khai", "fill_form", 0.95), "1.001193")
    assert step.state.form is BIRTH and step.effects == [SetProcedure("1.001193")]
    none = dialogue().start(Turn("điền tờ khai", "fill_form", 0.95), None)
    assert none.state.stage == Stage.CHOOSE and not none.replies and not none.effects


# --- FILL --------------------------------------------------------------------------------------


def test_fill_answer_valid_goes_on_invalid_says_why_last_goes_to_the_summary():
    step = dialogue().step(filled_until("birth_child_birth_date"), Turn("31/02/2024", "inform", 0.9))
    assert step.state.field_name == "birth_child_birth_date" and "không có thật" in text(step)
    step = dialogue().step(step.state, Turn("15/03/2024", "inform", 0.9))
    assert step.state.values["birth_child_birth_date"] == "2024-03-15"
    assert step.state.field_name == "birth_child_sex" and not step.replies
    last = BIRTH.field_names[-1]
    done = dialogue().step(filled_until(last), Turn("20/05/2023", "inform", 0.9))
    assert done.state.stage == Stage.SUMMARY and done.state.field_name is None


@pytest.mark.parametrize(("said", "intent"), [("Bỏ qua", "cancel"), ("để trống", "inform"), ("không có", "deny")])
def test_fill_skip_of_an_optional_field_keeps_none_and_is_no_cancel(said, intent):
    step = dialogue().step(filled_until("birth_requester_phone"), Turn(said, intent, 0.8))
    assert step.state.stage == Stage.FILL and step.state.values["birth_requester_phone"] is None
    assert step.state.field_name == "birth_child_name"


def test_fill_answer_again_after_a_correction_says_what_changed():
    state = filled_until("birth_child_sex")
    state.field_name = "birth_child_name"
    step = dialogue().step(state, Turn("trần minh khôi", "inform", 0.9))
    assert "tôi đã sửa «Họ, chữ đệm và tên» thành: Trần Minh Khôi" in text(step)
    assert step.state.field_name == "birth_child_sex"


def test_fill_correct_a_named_field_or_pick_one_when_none_is_named():
    named = dialogue().step(filled_until("birth_child_sex"), Turn("sửa lại tên cháu", "correct_field", 0.9))
    assert named.state.stage == Stage.FILL and named.state.field_name == "birth_child_name"
    unnamed = dialogue().step(filled_until("birth_child_sex"), Turn("sai rồi", "correct_field", 0.9))
    assert unnamed.state.stage == Stage.PICK
    assert unnamed.state.pending["pick"] == BIRTH.field_names[:BIRTH.field_names.index("birth_child_sex")]


def test_fill_card_payload_waits_for_the_citizens_yes():
    step = dialogue().step(filled_until("birth_requester_name"), Turn(REQUESTER_QR, "inform", 0.4))
    assert step.state.stage == Stage.CARD and step.state.pending["holder"] == "Nguyễn Thị Lan"
    assert not step.state.values
    prompt = dialogue().prompt(step.state)
    assert "*********345" in prompt.text and [b.payload for b in prompt.buttons] == ["/affirm", "/deny"]


def test_a_malformed_card_payload_is_explained_and_the_stage_stays():
    step = dialogue().step(filled_until("birth_requester_name"), Turn("1|2|3|4|5", "inform", 0.4, scanned=True))
    assert step.state.stage == Stage.FILL and "Tôi chưa điền thông tin nào từ mã này" in text(step)


@pytest.mark.parametrize("stage", [Stage.FILL, Stage.SUMMARY])
def test_a_question_is_handed_to_the_adapter_then_the_same_stage_resumes(stage):
    state = in_stage(stage)
    step = dialogue().step(state, Turn("lệ phí bao nhiêu?", "ask_fee", 0.97))
    assert step.effects == [AnswerQuestion("ask_fee")] and step.state.stage == stage and not step.replies
    answered = dialogue().apply(step.state, Event.ANSWERED)
    assert answered.state.field_name == state.field_name and "mời ông/bà khai tiếp tờ khai" in text(answered)
    failed = dialogue().apply(step.state, Event.UNANSWERED)
    assert "tôi chưa trả lời được câu này" in text(failed)


def test_fill_small_talk_is_no_answer_and_an_unknown_question_intent_is_an_answer():
    chat = dialogue().step(filled_until("birth_child_name"), Turn("cảm ơn em", "thank", 0.95))
    assert "birth_child_name" not in chat.state.values and "tôi đang giúp ông/bà điền" in text(chat)
    kept = dialogue().step(filled_until("birth_child_ethnicity"), Turn("Kinh", "ask_fee", 0.93))
    assert kept.state.values["birth_child_ethnicity"] == "Kinh" and not kept.effects


# --- CARD --------------------------------------------------------------------------------------


def test_card_affirm_fills_the_values_and_asks_the_first_empty_field():
    step = dialogue().step(in_stage(Stage.CARD), Turn("/affirm", "affirm", 1.0))
    assert step.state.values["birth_requester_cccd"] == "001190012345"
    assert step.state.field_name == "birth_requester_relationship" and step.state.pending is None
    assert "tôi đã điền các thông tin từ thẻ căn cước" in text(step)


def test_card_deny_fills_nothing_and_goes_back_to_the_question():
    step = dialogue().step(in_stage(Stage.CARD), Turn("không", "deny", 0.95))
    assert step.state.stage == Stage.FILL and step.state.field_name == "birth_requester_name"
    assert not step.state.values and step.state.pending is None and "tôi không điền thông tin từ thẻ" in text(step)


def test_card_anything_else_drops_the_card_and_reads_the_message_as_an_answer():
    step = dialogue().step(in_stage(Stage.CARD), Turn("Nguyễn Thị Lan", "inform", 0.9))
    assert step.state.values == {"birth_requester_name": "Nguyễn Thị Lan"} and step.state.pending is None
    assert step.state.field_name == "birth_requester_address"


# --- PICK --------------------------------------------------------------------------------------


def test_pick_correct_a_field_button_asks_that_field_and_a_card_is_read():
    button = Turn('/correct_field{"form_field": "birth_child_name"}', "correct_field", 1.0,
                  (("form_field", "birth_child_name"),))
    step = dialogue().step(in_stage(Stage.PICK), button)
    assert step.state.stage == Stage.FILL and step.state.field_name == "birth_child_name"
    card = dialogue().step(in_stage(Stage.PICK), Turn(REQUESTER_QR, "inform", 0.5, scanned=True))
    assert card.state.stage == Stage.CARD


def test_pick_offers_the_fields_as_buttons():
    prompt = dialogue().prompt(in_stage(Stage.PICK))
    assert '/correct_field{"form_field": "birth_child_name"}' in [b.payload for b in prompt.buttons]


# --- SUMMARY, FILING ----------------------------------------------------------------------------


def test_summary_affirm_files_and_the_outcome_ends_the_form():
    step = dialogue().step(in_stage(Stage.SUMMARY), Turn("/affirm", "affirm", 1.0))
    assert step.state.stage == Stage.FILING and step.effects == [FileDossier()]
    outcome = {"status": "filed", "code": "X-1", "text": "Mã số hồ sơ: X-1", "url": "https://x/pdf"}
    filed = dialogue().apply(step.state, Event.FILED, None, outcome)
    assert filed.state.stage == Stage.FILED and filed.state.outcome == outcome
    done = dialogue().finished(filed.state.outcome)
    assert "Mã số hồ sơ: X-1\nTải tờ khai đã điền (PDF) để in hoặc lưu: https://x/pdf" == done.text
    assert done.custom == {"dossier_code": "X-1", "declaration_pdf": "https://x/pdf"}


def test_filing_refused_or_failed_goes_back_to_the_summary_with_the_reason():
    filing = in_stage(Stage.FILING)
    refused = dialogue().apply(filing, Event.REFUSED, None, "Thiếu số căn cước.")
    assert refused.state.stage == Stage.SUMMARY and refused.state.values == ALL
    assert "Chưa nộp được hồ sơ: Thiếu số căn cước." in text(refused)
    assert payloads(refused) == ["/correct_field", "/cancel"]
    failed = dialogue().apply(filing, Event.FAILED)
    assert failed.state.stage == Stage.SUMMARY and payloads(failed) == ["/request_human"]


def test_summary_deny_picks_among_every_answer_and_a_named_field_is_a_correction():
    deny = dialogue().step(in_stage(Stage.SUMMARY), Turn("không", "deny", 0.95))
    assert deny.state.stage == Stage.PICK and deny.state.pending == {"pick": BIRTH.field_names}
    named = dialogue().step(in_stage(Stage.SUMMARY), Turn("tên cháu", "inform", 0.8))
    assert named.state.stage == Stage.FILL and named.state.field_name == "birth_child_name"
    ambiguous = dialogue().step(in_stage(Stage.SUMMARY), Turn("ngày sinh sai rồi", "correct_field", 0.9))
    assert ambiguous.state.stage == Stage.PICK and ambiguous.state.pending["pick"] == [
        "birth_child_birth_date", "birth_mother_birth_date", "birth_father_birth_date"]


def test_summary_card_and_anything_else():
    card = dialogue().step(in_stage(Stage.SUMMARY), Turn(REQUESTER_QR, "inform", 0.5))
    assert card.state.stage == Stage.CARD
    other = dialogue().step(in_stage(Stage.SUMMARY), Turn("xem lại", "nlu_fallback", 0.55))
    assert other.state.stage == Stage.SUMMARY and "ông/bà bấm «Nộp hồ sơ» để nộp" in text(other)
    assert [b.payload for b in dialogue().prompt(other.state).buttons] == ["/affirm", "/correct_field", "/cancel"]


def test_a_summary_with_a_field_still_empty_asks_it_instead_of_filing():
    state = in_stage(Stage.SUMMARY)
    del state.values["birth_child_sex"]
    step = dialogue().step(state, Turn("/affirm", "affirm", 1.0))
    assert step.state.stage == Stage.FILL and step.state.field_name == "birth_child_sex" and not step.effects


# --- the NLU's intent first ----------------------------------------------------------------------


@pytest.mark.parametrize(("said", "intent", "confidence", "act", "expected"), [
    ("ok", "affirm", 0.9, "affirm", True),
    ("ok", "thank", 0.9, "affirm", True),  # sure of something other than yes/no/cancel: the words decide
    ("vâng", "thank", 0.9, "deny", False),
    ("u", "nlu_fallback", 0.55, "affirm", True),  # the NLU is unsure: the words decide
    ("đồng ý", "deny", 0.95, "affirm", False),
    ("/deny", "deny", 1.0, "affirm", False),
    ("/deny", "deny", 1.0, "deny", True),
    ("không", "inform", 0.3, "deny", True),
    ("hủy", "cancel", 0.95, "cancel", True),
    ("hủy", "inform", 0.4, "cancel", True),
    ("hủy", "inform", 0.95, "cancel", True),
    ("không", "affirm", 0.95, "deny", False),  # sure of yes: the word «không» does not count
    ("tôi muốn dừng ở đây", "cancel", 0.9, "cancel", True),  # no word of the list, the intent says it
    ("Nguyễn Văn Thôi", "inform", 0.3, "cancel", False),
])
def test_yes_no_and_cancel_come_from_a_sure_nlu_and_from_words_only_when_it_is_unsure(
        said, intent, confidence, act, expected):
    assert says(Turn(said, intent, confidence), act) is expected


def test_at_the_summary_a_sure_yes_no_intent_decides_over_the_words():
    sure_no = dialogue().step(in_stage(Stage.SUMMARY), Turn("ok", "deny", 0.95))
    assert sure_no.state.stage != Stage.FILING and not sure_no.effects
    sure_other = dialogue().step(in_stage(Stage.SUMMARY), Turn("ok", "thank", 0.95))
    assert sure_other.effects == [FileDossier()]
    unsure = dialogue().step(in_stage(Stage.SUMMARY), Turn("ok", "affirm", 0.5))
    assert unsure.effects == [FileDossier()]


# --- what the dialogue says ----------------------------------------------------------------------


def _keys_used() -> set[str]:
    keys: set[str] = set()
    for module in (form_dialogue, form_replies):
        source = Path(module.__file__).read_text(encoding="utf-8")
        keys |= {f"form.{k}" for k in re.findall(r'reply\("(\w+)"', source)}
        keys |= {f"form.button.{k}" for k in re.findall(r'(?<!\w)button\("(\w+)"', source)}
        keys |= {f"button.{k}" for k in re.findall(r'intent_button\("(\w+)"', source)}
        keys |= set(re.findall(r'Message\(\s*"(form\.[\w.]+)"', source))
    return keys


def test_every_message_the_dialogue_uses_is_in_the_catalogue_and_nothing_unused_is():
    catalogue = load_catalogue()
    used = _keys_used()
    assert len(used) > 30
    own = {k for k in used if k.startswith("form.")}
    assert own == {k for k in catalogue.templates if k.startswith("form.")}
    # buttons shared with the rest of the assistant («Gặp cán bộ») keep their one label
    assert used - own == {"button.request_human"} and used <= catalogue.keys()


def test_the_form_speaks_as_toi_to_ong_ba():
    catalogue = load_catalogue()
    for key, template in catalogue.templates.items():
        if key.startswith("form."):
            words = fold(template).split()
            assert "em" not in words and "minh" not in words, (key, template)


# --- CONFIRM: an answer typed without diacritics ------------------------------------------------------


def test_an_unaccented_answer_goes_to_confirm_with_its_accented_form():
    step = dialogue().step(filled_until("birth_child_name"), Turn("tran minh khang", "inform", 0.9))
    assert step.state.stage == Stage.CONFIRM and "birth_child_name" not in step.state.values
    assert step.state.pending == {"accented": "Trần Minh Khang", "typed": "Tran Minh Khang"}
    asked = dialogue().prompt(step.state)
    assert asked is not None and "«Trần Minh Khang»" in asked.text
    assert [b.payload for b in asked.buttons] == ["/affirm", "/deny"]


@pytest.mark.parametrize(("turn", "value"), [(Turn("/affirm", "affirm", 1.0), "Trần Minh Khang"),
                                             (Turn("dung", "nlu_fallback", 0.3), "Trần Minh Khang"),
                                             (Turn("Trần Minh Khanh", "inform", 0.9), "Trần Minh Khanh")])
def test_confirm_takes_the_accented_form_or_the_one_typed_instead(turn, value):
    step = dialogue().step(in_stage(Stage.CONFIRM), turn)
    assert step.state.values["birth_child_name"] == value and step.state.field_name == "birth_child_birth_date"


@pytest.mark.parametrize("turn", [Turn("/deny", "deny", 1.0), Turn("sửa lại", "correct_field", 0.8)])
def test_confirm_denied_asks_the_same_field_again(turn):
    step = dialogue().step(in_stage(Stage.CONFIRM), turn)
    assert step.state.stage == Stage.FILL and step.state.field_name == "birth_child_name"
    assert "birth_child_name" not in step.state.values and step.state.pending is None
    assert "mời ông/bà ghi lại" in text(step)


def test_an_answer_with_diacritics_or_from_a_list_is_not_confirmed():
    assert dialogue().step(filled_until("birth_child_name"), Turn("Trần Minh Khang", "inform", 0.9)).state.stage \
        == Stage.FILL
    step = dialogue().step(filled_until("birth_child_ethnicity"), Turn("kinh", "inform", 0.9))
    assert step.state.values["birth_child_ethnicity"] == "Kinh" and step.state.stage == Stage.FILL


def test_an_empty_message_is_no_answer_to_check():
    step = dialogue().step(filled_until("birth_requester_name"), Turn("", "", 0.0))
    assert "bắt buộc" not in text(step) and step.state.field_name == "birth_requester_name"


def test_a_button_for_another_service_while_choosing_the_form_is_answered_there():
    choosing = FormDialogue(FormCatalog(FORMS), question_intents={"request_queue_number"})
    step = choosing.step(in_stage(Stage.CHOOSE), Turn("/request_queue_number", "request_queue_number", 1.0))
    assert step.state.stage == Stage.CHOOSE and step.effects == [AnswerQuestion("request_queue_number")]
    resumed = choosing.apply(step.state, Event.ANSWERED)
    assert resumed.state.stage == Stage.CHOOSE and "khai tiếp" in text(resumed)


def test_the_filed_reply_carries_the_appointment_date_for_the_kiosk_card():
    from knowledge_base import form_replies

    done = form_replies.filed({"text": "Đã nộp.", "url": "/api/v1/dossiers/X/declaration.pdf?token=t",
                               "code": "000.00.04.H51-261206-0001", "due_date": "2026-12-09"})
    assert done.custom == {"dossier_code": "000.00.04.H51-261206-0001",
                           "declaration_pdf": "/api/v1/dossiers/X/declaration.pdf?token=t", "due_date": "2026-12-09"}


def test_the_introduction_counts_the_questions_the_form_then_numbers():
    """«27 câu hỏi, trong đó 11 câu bắt buộc», then «câu 1/27» — not «11 thông tin bắt buộc» then «1/27»."""
    from knowledge_base import form_replies
    from knowledge_base.forms import load_forms

    for form in load_forms().values():
        text = form_replies.intro(form).text
        assert f"{len(form.fields)} câu hỏi, trong đó {len(form.required_fields)} câu bắt buộc" in text, form.id
