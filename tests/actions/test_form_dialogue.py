"""The declaration form's actions with real Trackers and a CollectingDispatcher, no server.

:class:`FormLoop` plays Rasa's part of a form loop (action_start_form, then per message
validate_declaration_form, then action_ask_form_answer or, when the form is over,
action_finish_declaration), applying each action's SlotSet events to the slots.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.answering import ActionAnswer
from actions.answers import Aspect, answer
from actions.center import ActionCenterInfo
from actions.forms import (
    ActionAskFormAnswer,
    ActionFinishDeclaration,
    ActionStartForm,
    DeclarationFiler,
    FormCatalog,
    ValidateDeclarationForm,
)
from actions.knowledge import AliasFinder, KnowledgeBase
from knowledge_base.form_turns import FallbackWords, has_correction_cue
from knowledge_base.forms import load_forms
from knowledge_base.schema import ChannelKind, Fee, Procedure, ProcessingTime, SubmissionChannel
from motcua.db import Database, shared_database, upgrade_database
from motcua.dossier_code import parse_dossier_code
from motcua.dossiers.models import DossierRow
from motcua.dossiers.service import DossierService
from tests.dossiers.support import AGENCY, seed_procedures

FORMS = load_forms()
BIRTH_FORM = FORMS["birth_registration"]
DOMAIN = {"forms": {"declaration_form": {"required_slots": ["form_answer"]}}}
SECRET = "khoa-bi-mat-thu-nghiem-du-dai-32-ky-tu"
BIRTH = Procedure(
    code="1.001193", name="Đăng ký khai sinh", aliases=["làm giấy khai sinh", "giấy ks", "khai sinh"],
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(1), Fee(free=True))],
)
CERTIFY = Procedure(code="2.000815", name="Chứng thực bản sao từ bản chính", aliases=["chứng thực bản sao"])
REQUESTER_QR = "001190012345||Nguyễn Thị Lan|15031990|Nữ|Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội|01072021"

# A valid answer for every field of the birth form, in order.
ANSWERS = {
    "birth_requester_name": "nguyễn  thị lan",
    "birth_requester_address": "Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
    "birth_requester_cccd": "001190012345",
    "birth_requester_relationship": "Mẹ",
    "birth_requester_phone": "0912 345 678",
    "birth_child_name": "Trần Minh Khang",
    "birth_child_birth_date": "15 tháng 3 năm 2024",
    "birth_child_sex": "Nam",
    "birth_child_ethnicity": "Kinh",
    "birth_child_nationality": "Việt Nam",
    "birth_child_birth_place": "Trạm y tế xã Tân Lập, tỉnh Phú Thọ",
    "birth_child_hometown": "Xã Tân Lập, tỉnh Phú Thọ",
    "birth_mother_name": "Nguyễn Thị Lan",
    "birth_mother_birth_date": "15/03/1990",
    "birth_mother_ethnicity": "Kinh",
    "birth_mother_nationality": "Việt Nam",
    "birth_mother_cccd": "Bỏ qua",
    "birth_mother_address": "Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
    "birth_father_name": "Trần Văn Hùng",
    "birth_father_birth_date": "02/09/1988",
    "birth_father_ethnicity": "Kinh",
    "birth_father_nationality": "Việt Nam",
    "birth_father_cccd": "001088012345",
    "birth_father_address": "Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
    "birth_parents_marriage_number": "15/2023",
    "birth_parents_marriage_registry": "Ủy ban nhân dân phường Hoàn Kiếm, Hà Nội",
    "birth_parents_marriage_date": "20/05/2023",
}


class FakeKnowledge(KnowledgeBase):
    def __init__(self, procedures):
        self._procedures = {p.code: p for p in procedures}
        self.finder = AliasFinder(procedures)


class FormLoop:
    """Rasa's side of the form loop, for one conversation."""

    def __init__(self, catalog: FormCatalog, filer: DeclarationFiler | None = None, sender: str = "kiosk:t1"):
        knowledge = catalog.knowledge
        self.interruptions = {"ask_fee": ActionAnswer(knowledge),
                              "ask_center_info": ActionCenterInfo("Trung tâm làm việc từ 7:30 đến 17:00.")}
        self.start_action = ActionStartForm(catalog)
        self.ask = ActionAskFormAnswer(catalog)
        self.validate = ValidateDeclarationForm(catalog, filer, self.interruptions)
        self.finish = ActionFinishDeclaration()
        self.slots: dict[str, Any] = {}
        self.sender = sender
        self.active = False

    def _latest(self, text, intent, confidence, entities, metadata) -> dict:
        return {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or [],
                "metadata": metadata or {}}

    async def _run(self, action, latest: dict, events: list | None = None) -> tuple[list[dict], list[dict]]:
        tracker = Tracker(self.sender, dict(self.slots), latest, events or [], False, None,
                          {"name": "declaration_form"} if self.active else {}, "action_listen")
        dispatcher = CollectingDispatcher()
        produced = await action.run(dispatcher, tracker, DOMAIN)
        for event in produced:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        return dispatcher.messages, produced

    async def start(self, text: str = "điền tờ khai", entities: list | None = None, **slots) -> list[dict]:
        self.slots.update(slots)
        latest = self._latest(text, "fill_form", 0.95, entities, None)
        messages, _ = await self._run(self.start_action, latest)
        self.active = True
        asked, _ = await self._run(self.ask, latest)
        return messages + asked

    async def say(self, text: str, intent: str = "inform", confidence: float = 0.9, entities: list | None = None,
                  metadata: dict | None = None) -> list[dict]:
        assert self.active, "the form is not active"
        latest = self._latest(text, intent, confidence, entities, metadata)
        self.slots["form_answer"] = text
        events = [{"event": "user", "text": text}, {"event": "action", "name": "declaration_form"},
                  {"event": "slot", "name": "form_answer", "value": text}]
        messages, _ = await self._run(self.validate, latest, events)
        if self.slots.get("form_answer") is None:
            asked, _ = await self._run(self.ask, latest)
            return messages + asked
        self.active = False
        done, _ = await self._run(self.finish, latest)
        return messages + done

    @property
    def values(self) -> dict[str, Any]:
        return self.slots.get("form_values") or {}

    @property
    def field(self) -> str | None:
        return self.slots.get("form_field")

    async def answer_until(self, stop: str | None = None) -> None:
        """Answer every question with ANSWERS until the field ``stop`` is asked (or the summary)."""
        while self.slots.get("form_stage") == "fill" and self.field != stop:
            before = self.field
            await self.say(ANSWERS[self.field])
            assert self.field != before or self.slots.get("form_stage") != "fill", f"{before} was not accepted"


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def payloads(messages: list[dict]) -> list[str]:
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


@pytest.fixture
def catalog() -> FormCatalog:
    return FormCatalog(FORMS, FakeKnowledge([BIRTH, CERTIFY]))


@pytest.fixture
def db(tmp_path) -> Database:
    url = f"sqlite:///{tmp_path / 'forms.sqlite3'}"
    upgrade_database(url)
    seed_procedures(url)
    return shared_database(url)


@pytest.fixture
def service() -> DossierService:
    return DossierService(agency_code=AGENCY)


@pytest.fixture
def filer(service, db) -> DeclarationFiler:
    return DeclarationFiler(service, db, "https://motcua.example")


@pytest.fixture
async def loop(catalog, filer) -> FormLoop:
    loop = FormLoop(catalog, filer)
    await loop.start("tôi muốn điền tờ khai khai sinh",
                     [{"entity": "procedure", "value": "đăng ký khai sinh"}])
    return loop


# --- starting -------------------------------------------------------------------------------


async def test_fill_form_with_a_procedure_starts_its_form_at_the_first_field(catalog):
    loop = FormLoop(catalog)
    messages = await loop.start("tôi muốn điền tờ khai khai sinh", [{"entity": "procedure", "value": "đăng ký khai sinh"}])
    assert loop.slots["form_id"] == "birth_registration"
    assert loop.slots["form_stage"] == "fill" and loop.field == "birth_requester_name"
    assert loop.slots["procedure_code"] == "1.001193"
    assert "Tờ khai đăng ký khai sinh" in texts(messages)
    assert BIRTH_FORM.field("birth_requester_name").prompt in messages[-1]["text"]
    assert "Gợi ý: Ghi đúng như trên thẻ căn cước" in messages[-1]["text"]


async def test_fill_form_after_asking_about_a_procedure_uses_the_procedure_in_context(catalog):
    loop = FormLoop(catalog)
    await loop.start("điền tờ khai giúp tôi", procedure_code="1.001193")
    assert loop.slots["form_id"] == "birth_registration"


async def test_fill_form_without_a_procedure_offers_every_form_then_takes_the_choice(catalog):
    loop = FormLoop(catalog)
    messages = await loop.start("điền tờ khai")
    assert loop.slots["form_stage"] == "choose" and not loop.slots.get("form_id")
    offered = payloads(messages)
    assert len(offered) == len(FORMS) and '/fill_form{"form_id": "birth_registration"}' in offered
    chosen = await loop.say('/fill_form{"form_id": "marriage_registration"}', "fill_form", 1.0,
                            [{"entity": "form_id", "value": "marriage_registration"}])
    assert loop.slots["form_id"] == "marriage_registration"
    assert FORMS["marriage_registration"].fields[0].prompt in chosen[-1]["text"]


async def test_a_procedure_without_a_form_is_said_so_and_the_forms_are_offered(catalog):
    loop = FormLoop(catalog)
    messages = await loop.start("điền tờ khai chứng thực bản sao")
    assert "«Chứng thực bản sao từ bản chính» chưa có tờ khai điện tử" in texts(messages)
    assert loop.slots["form_stage"] == "choose"


# --- one validation per field ---------------------------------------------------------------


async def test_a_name_is_normalised(loop):
    await loop.say("nguyễn  thị   lan")
    assert loop.values["birth_requester_name"] == "Nguyễn Thị Lan"
    assert loop.field == "birth_requester_address"


async def test_a_cccd_with_13_digits_is_refused_with_the_reason_and_asked_again(loop):
    await loop.answer_until("birth_requester_cccd")
    messages = await loop.say("0011900123456")
    assert "Số căn cước phải có đúng 12 chữ số, số ông/bà nhập có 13 chữ số" in texts(messages)
    assert loop.field == "birth_requester_cccd" and "birth_requester_cccd" not in loop.values
    assert BIRTH_FORM.field("birth_requester_cccd").prompt in messages[-1]["text"]
    await loop.say("001 190 012 345")
    assert loop.values["birth_requester_cccd"] == "001190012345"


async def test_an_impossible_or_future_birth_date_is_refused_and_a_worded_date_accepted(loop):
    await loop.answer_until("birth_child_birth_date")
    messages = await loop.say("31/02/2024")
    assert "Ngày 31/02/2024 không có thật: tháng 2 năm 2024 chỉ có 29 ngày" in texts(messages)
    tomorrow = date.today() + timedelta(days=1)
    messages = await loop.say(f"{tomorrow:%d/%m/%Y}")
    assert "là ngày chưa tới" in texts(messages)
    assert loop.field == "birth_child_birth_date"
    await loop.say("15 tháng 3 năm 2024")
    assert loop.values["birth_child_birth_date"] == "2024-03-15"


async def test_a_cccd_must_agree_with_the_same_persons_birth_date(loop):
    await loop.answer_until("birth_father_cccd")
    messages = await loop.say("001095012345")  # encodes 1995, the father was born in 1988
    assert "ứng với người sinh năm 1995" in texts(messages)
    assert loop.field == "birth_father_cccd"


async def test_a_choice_has_buttons_and_an_optional_field_a_skip_button(loop):
    await loop.answer_until("birth_requester_relationship")
    loop_messages = await loop.say("mẹ")
    assert loop.values["birth_requester_relationship"] == "Mẹ"
    assert "Bỏ qua" in payloads(loop_messages)  # the phone is optional
    await loop.say("Bỏ qua", "cancel", 0.8)  # «bỏ qua» is also a cancel example of the NLU
    assert loop.values["birth_requester_phone"] is None and loop.field == "birth_child_name"
    assert loop.active


async def test_a_wrong_phone_is_refused(loop):
    await loop.answer_until("birth_requester_phone")
    messages = await loop.say("0912 345 67")
    assert "Số di động phải có 10 chữ số" in texts(messages)


# --- questions in the middle ----------------------------------------------------------------


async def test_a_question_in_the_middle_is_answered_then_the_same_field_is_asked_again(loop):
    await loop.answer_until("birth_child_name")
    messages = await loop.say("lệ phí bao nhiêu?", "ask_fee", 0.97)
    assert answer(BIRTH, Aspect.FEE).text in texts(messages)
    assert loop.field == "birth_child_name" and "birth_child_name" not in loop.values
    assert BIRTH_FORM.field("birth_child_name").prompt in messages[-1]["text"]
    assert loop.active
    center = await loop.say("/ask_center_info", "ask_center_info", 1.0)
    assert "7:30" in texts(center) and loop.field == "birth_child_name"


@pytest.mark.parametrize(("field", "text", "intent"), [
    ("birth_child_name", "Trần Minh Khang", "ask_procedure"),
    ("birth_child_birth_place", "Trạm y tế xã Tân Lập, tỉnh Phú Thọ", "ask_submission"),
    ("birth_child_birth_date", "15/03/2024", "ask_processing_time"),
    ("birth_child_ethnicity", "Kinh", "ask_fee"),
])
async def test_answers_are_not_taken_for_questions_even_when_the_nlu_thinks_so(loop, field, text, intent):
    await loop.answer_until(field)
    messages = await loop.say(text, intent, 0.93)
    assert field in loop.values, texts(messages)
    assert "Lệ phí" not in texts(messages)


@pytest.mark.parametrize(("text", "intent"), [("cảm ơn em", "thank"), ("điền tờ khai khai sinh", "fill_form")])
async def test_small_talk_is_not_taken_for_a_name(loop, text, intent):
    messages = await loop.say(text, intent, 0.95)
    assert "birth_requester_name" not in loop.values and loop.field == "birth_requester_name"
    assert "tôi đang giúp ông/bà điền «Tờ khai đăng ký khai sinh»" in texts(messages)


# --- corrections ----------------------------------------------------------------------------


async def test_sua_lai_ten_chau_asks_the_childs_name_again_then_goes_on(loop):
    await loop.answer_until("birth_child_sex")
    messages = await loop.say("sửa lại tên cháu", "correct_field", 0.9)
    assert loop.field == "birth_child_name"
    assert "Hiện đang khai: Trần Minh Khang" in messages[-1]["text"]
    fixed = await loop.say("trần minh khôi")
    assert loop.values["birth_child_name"] == "Trần Minh Khôi"
    assert "tôi đã sửa «Họ, chữ đệm và tên» thành: Trần Minh Khôi" in texts(fixed)
    assert loop.field == "birth_child_sex"  # back to the first question not answered yet


async def test_ngay_sinh_sai_roi_reasks_the_birth_date_just_given(loop):
    await loop.answer_until("birth_child_sex")
    await loop.say("ngày sinh sai rồi", "deny", 0.6)
    assert loop.field == "birth_child_birth_date"


async def test_an_answer_that_merely_contains_sai_without_diacritics_is_an_answer(loop):
    await loop.answer_until("birth_child_birth_place")
    offered = await loop.say("benh vien Sai Gon")
    assert loop.slots["form_stage"] == "confirm"  # an unaccented address: readings, or as typed
    await loop.say(payloads(offered)[-1])  # «Giữ nguyên như tôi gõ»
    assert loop.values["birth_child_birth_place"] == "benh vien Sai Gon"


@pytest.mark.parametrize("text", ["thôi không khai nữa", "hủy", "Thoi, khong dien nua"])
async def test_cancelling_ends_the_form_and_clears_the_answers(loop, text):
    await loop.answer_until("birth_child_name")
    messages = await loop.say(text, "cancel", 0.95)
    assert not loop.active
    assert "tôi đã dừng việc điền tờ khai và xóa các thông tin" in texts(messages)
    assert all(loop.slots.get(name) is None for name in
               ("form_answer", "form_id", "form_values", "form_field", "form_stage", "form_outcome"))


def test_cancel_and_correction_cues_are_not_fooled_by_answers():
    is_cancel = FallbackWords.cancel
    assert is_cancel("thôi không khai nữa") and is_cancel("hủy") and not is_cancel("đúng")
    assert not is_cancel("Nguyễn Văn Thôi Anh")
    assert has_correction_cue("ngày sinh sai rồi") and has_correction_cue("sua lai ten chau")
    assert not has_correction_cue("Bệnh viện Sài Gòn")


# --- identity card --------------------------------------------------------------------------


async def test_a_pasted_card_qr_is_shown_confirmed_and_fills_the_current_persons_fields(loop):
    messages = await loop.say(REQUESTER_QR, "inform", 0.4)
    assert loop.slots["form_stage"] == "card" and not loop.values
    shown = texts(messages)
    assert "Nguyễn Thị Lan" in shown and "Người yêu cầu đăng ký khai sinh" in shown
    assert "*********345" in shown and "001190012345" not in shown  # read back masked
    assert payloads(messages) == ["/affirm", "/deny"]
    await loop.say("/affirm", "affirm", 1.0)
    assert loop.values == {"birth_requester_name": "Nguyễn Thị Lan",
                           "birth_requester_address": "Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
                           "birth_requester_cccd": "001190012345"}
    assert loop.field == "birth_requester_relationship"  # the first field still empty


async def test_a_scanner_event_for_the_mother_fills_her_birth_date_too(loop):
    await loop.answer_until("birth_mother_name")
    await loop.say(REQUESTER_QR, "nlu_fallback", 0.3, metadata={"device_event": "cccd_scanned"})
    await loop.say("đồng ý", "affirm", 0.9)
    assert loop.values["birth_mother_birth_date"] == "1990-03-15"
    assert loop.values["birth_mother_cccd"] == "001190012345"
    assert loop.field == "birth_mother_ethnicity"


async def test_a_declined_card_fills_nothing_and_the_question_comes_back(loop):
    await loop.say(REQUESTER_QR)
    messages = await loop.say("/deny", "deny", 1.0)
    assert not loop.values and loop.field == "birth_requester_name"
    assert BIRTH_FORM.field("birth_requester_name").prompt in messages[-1]["text"]


@pytest.mark.parametrize(("payload", "reason"), [
    ("001190012345|Nguyễn Thị Lan|15031990|Nữ", "không phải mã QR của thẻ căn cước"),
    ("001190012345||Nguyễn Thị Lan|31021990|Nữ|Hà Nội|01072021", "ngày không có thật"),
])
async def test_a_malformed_card_payload_is_explained_and_fills_nothing(loop, payload, reason):
    messages = await loop.say(payload, "inform", 0.5, metadata={"device_event": "cccd_scanned"})
    assert reason in texts(messages) and "Tôi chưa điền thông tin nào" in texts(messages)
    assert not loop.values and loop.slots["form_stage"] == "fill"


# --- summary and filing ---------------------------------------------------------------------


async def test_the_summary_lists_every_answer_and_offers_file_correct_cancel(loop):
    await loop.answer_until()
    assert loop.slots["form_stage"] == "summary"
    summary = await loop.say("xem lại", "nlu_fallback", 0.3)
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in texts(summary) and "Trần Minh Khang" in texts(summary)
    assert payloads(summary)[-3:] == ["/affirm", "/correct_field", "/cancel"]


async def test_the_summary_reads_the_cccd_and_phone_back_masked(loop):
    await loop.answer_until()
    summary = texts(await loop.say("xem lại", "nlu_fallback", 0.3))
    assert "*********345" in summary and "*******678" in summary  # the last three digits, to recognise them
    for full in ("001190012345", "001088012345", "0912345678", "0912 345 678"):
        assert full not in summary
    assert loop.values["birth_requester_cccd"] == "001190012345"  # what will be filed stays whole


async def test_correcting_from_the_summary_comes_back_to_the_summary(loop):
    await loop.answer_until()
    picked = await loop.say("/correct_field", "correct_field", 1.0)
    assert loop.slots["form_stage"] == "pick"
    assert '/correct_field{"form_field": "birth_child_name"}' in payloads(picked)
    await loop.say('/correct_field{"form_field": "birth_child_name"}', "correct_field", 1.0,
                   [{"entity": "form_field", "value": "birth_child_name"}])
    assert loop.field == "birth_child_name"
    back = await loop.say("Trần Minh Khôi")
    assert loop.slots["form_stage"] == "summary" and "Trần Minh Khôi" in texts(back)


async def test_an_ambiguous_correction_at_the_summary_offers_the_candidates(loop):
    await loop.answer_until()
    messages = await loop.say("ngày sinh sai rồi", "correct_field", 0.9)
    assert loop.slots["form_stage"] == "pick"
    assert {p for p in payloads(messages)} == {f'/correct_field{{"form_field": "{n}"}}' for n in (
        "birth_child_birth_date", "birth_mother_birth_date", "birth_father_birth_date")}


async def test_filing_creates_the_dossier_with_the_values_and_replies_code_due_date_and_pdf_link(loop, service, db):
    await loop.answer_until()
    messages = await loop.say("/affirm", "affirm", 1.0)
    assert not loop.active
    reply = texts(messages)
    code = re.search(r"Mã số hồ sơ: (\S+)", reply)[1]
    assert str(parse_dossier_code(code)) == code and code.startswith(AGENCY + "-")
    assert "Ngày hẹn trả kết quả:" in reply
    url = re.search(r"https://motcua\.example/api/v1/dossiers/(\S+)/declaration\.pdf\?token=([\w-]+)", reply)
    assert url[1] == code and len(url[2]) == 32 and db.run(service.linked_dossier, code, url[2]).code == code
    assert re.search(r"Mã tra cứu: \d{6}", reply)  # the second factor for a later lookup
    with db.session() as session:
        row = session.scalar(select(DossierRow).where(DossierRow.code == code))
        assert row.form_id == "birth_registration" and row.procedure_code == "1.001193"
        assert row.values["birth_child_name"] == "Trần Minh Khang"
        assert row.values["birth_child_birth_date"] == "2024-03-15"
        assert "birth_mother_cccd" not in row.values  # skipped
        assert (row.applicant_name, row.applicant_cccd, row.applicant_phone) == (
            "Nguyễn Thị Lan", "001190012345", "0912345678")
        assert row.channel == "kiosk" and row.sender_id == "kiosk:t1"
    assert all(loop.slots.get(n) is None for n in ("form_values", "form_outcome", "form_id"))


async def test_a_filing_refused_by_the_service_keeps_the_answers_at_the_summary(catalog, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    upgrade_database(url)  # no procedures in this catalogue
    loop = FormLoop(catalog, DeclarationFiler(DossierService(agency_code=AGENCY), shared_database(url), "https://x"))
    await loop.start("điền tờ khai khai sinh", [{"entity": "procedure", "value": "đăng ký khai sinh"}])
    await loop.answer_until()
    messages = await loop.say("/affirm", "affirm", 1.0)
    assert loop.active and loop.slots["form_stage"] == "summary"
    assert "Chưa nộp được hồ sơ: Không tìm thấy thủ tục mã «1.001193»" in texts(messages)
    assert loop.values["birth_child_name"] == "Trần Minh Khang"
