"""Filling an electronic declaration (tờ khai) slot by slot, on one generic Rasa form.

Every form in ``knowledge_base/forms/*.yaml`` is filled by the same Rasa form,
``declaration_form``, whose only required slot ``form_answer`` takes the citizen's text.
The dialogue state lives in slots:

- ``form_id`` — the form being filled; ``form_values`` — the answers (field name → value,
  ``None`` for an optional question skipped); ``form_field`` — the field being asked;
- ``form_stage`` — ``choose`` (which form?), ``fill`` (asking ``form_field``), ``card``
  (confirm values read from an identity card), ``pick`` (which field to correct?),
  ``summary`` (check everything, then file);
- ``form_pending`` — the card values awaiting confirmation, or the fields offered for a
  correction; ``form_outcome`` — what happened at the end (filed or cancelled).

:class:`ValidateDeclarationForm` reads each answer: it cancels, corrects an earlier field,
takes a scanned or pasted identity card QR payload, answers a question asked in the middle
(through the normal answering actions) or validates the answer for the current field with
:func:`knowledge_base.forms.validate_field`. While it keeps ``form_answer`` empty the form
goes on and :class:`ActionAskFormAnswer` asks the next question; when the dossier is filed
or the citizen cancels it fills ``form_answer``, the form ends and
:class:`ActionFinishDeclaration` says so and clears the slots.

Adding a form is a new YAML file in ``knowledge_base/forms/`` (and retraining): nothing here
names a form or a field.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge_base.forms import (
    FormDefinition,
    FormField,
    find_fields,
    format_value,
    validate_field,
    values_from_card,
)
from knowledge_base.text import fold
from motcua.declaration import summarize_values
from motcua.dossiers.errors import DossierError
from motcua.dossiers.links import declaration_path
from motcua.dossiers.service import Applicant, DossierApplication, DossierService
from motcua.identity import CccdError, parse_cccd_qr
from motcua.privacy import mask_number
from motcua.validators import is_skip_answer

log = logging.getLogger(__name__)

FORM_NAME = "declaration_form"
ANSWER_SLOT = "form_answer"
STATE_SLOTS = ("form_id", "form_values", "form_field", "form_stage", "form_pending", "form_outcome")

CHOOSE, FILL, CARD, PICK, SUMMARY = "choose", "fill", "card", "pick", "summary"
FILED, CANCELLED = "filed", "cancelled"

SKIP_BUTTON = {"title": "Bỏ qua", "payload": "Bỏ qua"}
CONFIRM_BUTTONS = [{"title": "Đồng ý", "payload": "/affirm"}, {"title": "Không", "payload": "/deny"}]
SUMMARY_BUTTONS = [
    {"title": "Nộp hồ sơ", "payload": "/affirm"},
    {"title": "Sửa", "payload": "/correct_field"},
    {"title": "Hủy", "payload": "/cancel"},
]
STAFF_BUTTONS = [{"title": "Gặp cán bộ", "payload": "/request_human"}]

CANCELLED_TEXT = (
    "Dạ, em đã dừng việc điền tờ khai và xóa các thông tin ông/bà vừa khai. "
    "Khi cần, ông/bà cứ nhắn «điền tờ khai» cho em ạ."
)
TROUBLE_TEXT = (
    "Xin lỗi, hệ thống tiếp nhận hồ sơ đang gặp sự cố nên chưa nộp được. Thông tin ông/bà khai vẫn được "
    "giữ; ông/bà thử bấm «Nộp hồ sơ» lại sau ít phút, hoặc gặp cán bộ tại quầy."
)

# --- reading the citizen's words ------------------------------------------------------------

_AFFIRM = {"dong y", "co", "dung", "dung roi", "ok", "oke", "okay", "vang", "da", "u", "uh", "nop", "nop ho so",
           "nop di", "xac nhan", "dong y nop", "chinh xac", "duoc", "da dung", "dung a", "vang a", "co a"}
_DENY = {"khong", "ko", "k", "khong dong y", "chua", "chua dung", "sai", "khong phai", "khong a", "ko a"}
# Cancelling: whole short messages, and phrases that say it anywhere (compared without diacritics).
_CANCEL_WORDS = {"hủy", "huỷ", "huy", "thôi", "dừng", "dừng lại", "dung lai", "ngừng", "ngừng lại", "thoát",
                 "thoat", "cancel", "stop", "hủy đi", "huỷ đi", "huy di", "thôi hủy", "thôi huỷ", "thoi huy"}
_CANCEL_PHRASES = ("khong khai nua", "khong dien nua", "khong lam nua", "huy to khai", "thoi khong", "huy bo",
                   "dung khai", "dung dien", "ngung khai", "ngung dien", "khong muon khai", "khong muon dien",
                   "khong muon tiep tuc", "thoi bo", "huy viec", "huy cai")
# Correcting: words with their diacritics (so «Sài Gòn» is not «sai»), and unaccented phrases.
_CORRECT_WORDS = {"sửa", "sai", "nhầm", "chỉnh"}
_CORRECT_PHRASES = ("sua lai", "sua ten", "sua ngay", "sua so", "sua dia", "sua noi", "sua gioi", "sua dan",
                    "sua quoc", "sua thong tin", "bi sai", "sai roi", "nham roi", "ghi nham", "khai nham",
                    "khai lai", "nhap lai", "ghi lai", "doi lai", "chinh lai", "khai sai", "ghi sai", "nhap sai")
_QUESTION_PHRASES = ("bao nhieu", "bao lau", "o dau", "the nao", "can gi", "can nhung", "giay to gi", "le phi",
                     "mat bao", "khi nao", "co phai", "duoc khong", "duoc ko", "la gi", "mat phi", "lam sao",
                     "nop o dau", "may ngay", "can mang", "can giay", "thu tuc")
INTERRUPTION_CONFIDENCE = 0.5
# Small talk and «điền tờ khai» again are not a name or an address, though they would pass for one.
_NOT_ANSWER_INTENTS = {"thank", "greet", "goodbye", "fill_form"}
_NOT_ANSWER_PHRASES = ("cam on", "xin chao", "chao em", "chao ban", "tam biet", "thank", "dien to khai", "to khai",
                       "lam ho so", "khai ho so")
_FREE_TEXT_TYPES = {"name", "text", "address"}


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFC", (text or "").casefold()))


def _has_phrase(key: str, phrases) -> bool:
    padded = f" {key} "
    return any(f" {p} " in padded for p in phrases)


def is_cancel(text: str) -> bool:
    """«thôi không khai nữa», «hủy», «dừng lại» — but not «đúng» or a name."""
    if text.strip().startswith("/cancel"):
        return True
    lowered = " ".join(_words(text))
    return lowered in _CANCEL_WORDS or _has_phrase(fold(text), _CANCEL_PHRASES)


def has_correction_cue(text: str) -> bool:
    """«sửa lại tên cháu», «ngày sinh sai rồi», «ghi nhầm số căn cước»."""
    if text.strip().startswith("/correct_field"):
        return True
    return bool(_CORRECT_WORDS & set(_words(text))) or _has_phrase(fold(text), _CORRECT_PHRASES)


def is_question_like(text: str) -> bool:
    return "?" in text or _has_phrase(fold(text), _QUESTION_PHRASES)


def looks_like_card_payload(text: str) -> bool:
    """The text of a CCCD QR code: ``id|old id|name|ddmmyyyy|sex|address|issued`` (6 or 7 fields)."""
    return text.count("|") >= 4


def _intent(tracker: Tracker) -> tuple[str, float]:
    intent = tracker.latest_message.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def _entities(tracker: Tracker, name: str) -> list[str]:
    return [str(e.get("value")) for e in tracker.latest_message.get("entities") or []
            if e.get("entity") == name and e.get("value")]


def is_affirm(text: str, intent: str) -> bool:
    return intent == "affirm" if text.startswith("/") else (fold(text) in _AFFIRM or intent == "affirm")


def is_deny(text: str, intent: str) -> bool:
    return intent == "deny" if text.startswith("/") else (fold(text) in _DENY or intent == "deny")


# --- the state in the slots -----------------------------------------------------------------


@dataclass
class FormState:
    """The dialogue state of one declaration, read from and written back to slots."""

    form: FormDefinition | None
    values: dict[str, Any] = field(default_factory=dict)
    field_name: str | None = None
    stage: str = FILL
    pending: dict[str, Any] | None = None

    @classmethod
    def from_tracker(cls, tracker: Tracker, forms: Mapping[str, FormDefinition]) -> FormState:
        form = forms.get(str(tracker.get_slot("form_id") or ""))
        values = tracker.get_slot("form_values")
        pending = tracker.get_slot("form_pending")
        stage = str(tracker.get_slot("form_stage") or (FILL if form else CHOOSE))
        return cls(form, dict(values) if isinstance(values, Mapping) else {}, tracker.get_slot("form_field"),
                   stage if form else CHOOSE, dict(pending) if isinstance(pending, Mapping) else None)

    @property
    def current(self) -> FormField | None:
        if self.form is None or not self.field_name:
            return None
        try:
            return self.form.field(self.field_name)
        except KeyError:
            return None

    def next_missing(self) -> FormField | None:
        """The first field not answered yet (a skipped optional field counts as answered)."""
        if self.form is None:
            return None
        return next((f for f in self.form.fields if f.name not in self.values), None)

    def advance(self) -> None:
        """Ask the next missing field, or show the summary when every field is answered."""
        following = self.next_missing()
        self.pending = None
        if following is None:
            self.stage, self.field_name = SUMMARY, None
        else:
            self.stage, self.field_name = FILL, following.name

    def start(self, form: FormDefinition) -> None:
        self.form, self.values, self.pending = form, {}, None
        self.advance()

    def slots(self, answer: Any = None) -> dict[str, Any]:
        return {ANSWER_SLOT: answer, "form_id": self.form.id if self.form else None,
                "form_values": self.values, "form_field": self.field_name, "form_stage": self.stage,
                "form_pending": self.pending}


def cleared_slots() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in (ANSWER_SLOT, *STATE_SLOTS)]


MASKED_TYPES = frozenset({"cccd", "phone"})
"""Fields read back masked (``*********345``): the assistant's messages are logged and shown on a kiosk
screen others can see; the citizen recognises the last digits, the filed dossier keeps the full number."""


def shown_value(item: FormField, value: Any) -> str:
    """A value as read back to the citizen: formatted, with identity-card and phone numbers masked."""
    text = format_value(item, value)
    return mask_number(text) if text and item.type in MASKED_TYPES else text


def shown_values(form: FormDefinition, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with the identity-card and phone numbers masked, for the read-back summary."""
    masked = {item.name for item in form.fields if item.type in MASKED_TYPES}
    return {name: shown_value(form.field(name), value) if name in masked and value else value
            for name, value in values.items()}


def field_title(item: FormField) -> str:
    """A field's label with its section, for buttons and summaries: «Dân tộc (Thông tin người mẹ)»."""
    return f"{item.label} ({item.section})" if item.section and item.section.lower() not in item.label.lower() \
        else item.label


# --- which form -----------------------------------------------------------------------------


class FormCatalog:
    """The forms, and how to find the one a citizen means (by the procedure it is for).

    The procedure is found the way :class:`actions.procedures.ActionAnswerProcedure` finds
    it: the names and aliases staff keep first, then the procedure in context (only when the
    message names none), then the search index.
    """

    def __init__(self, forms: Mapping[str, FormDefinition], knowledge=None):
        if not forms:
            raise ValueError("FormCatalog needs at least one form")
        self.forms = dict(forms)
        self.knowledge = knowledge

    def for_procedure(self, code: str | None) -> FormDefinition | None:
        if not code:
            return None
        return next((f for f in self.forms.values() if code in f.procedures), None)

    def by_title(self, text: str) -> FormDefinition | None:
        key = fold(text)
        if len(key) < 4:
            return None
        for form in self.forms.values():
            title = fold(form.title)
            if key == title or f" {key} " in f" {title} " or f" {title} " in f" {key} ":
                return form
        return None

    def resolve(self, text: str, named: list[str], context_code: str | None) -> tuple[FormDefinition | None, str]:
        """(the form, or None; the name of a procedure found that has no form, else "")."""
        if text.startswith("/"):
            text = ""
        queries = [q for q in [text, *named] if q]
        codes: list[str] = []
        if self.knowledge is not None:
            for query in queries:
                found = self.knowledge.find_named(query, top_k=1)
                if not found.abstained:
                    codes.append(found.matches[0].code)
                    break
        titled = self.by_title(text) if text else None
        if titled is not None and not codes:
            return titled, ""
        if not codes and context_code and not named:
            codes.append(context_code)
        if not codes and self.knowledge is not None:
            for query in queries:
                found = self.knowledge.find(query, top_k=1)
                if not found.abstained:
                    codes.append(found.matches[0].code)
                    break
        for code in codes:
            form = self.for_procedure(code)
            if form is not None:
                return form, ""
        if codes and self.knowledge is not None:
            procedure = self.knowledge.get(codes[0])
            return None, procedure.name if procedure is not None else ""
        return None, ""

    def choice_buttons(self) -> list[dict[str, str]]:
        return [{"title": f.title, "payload": f'/fill_form{{"form_id": "{f.id}"}}'} for f in self.forms.values()]


def intro_text(form: FormDefinition) -> str:
    required = len(form.required_fields)
    lines = [f"Dạ, em sẽ giúp ông/bà điền «{form.title}» ({required} thông tin bắt buộc)."]
    if form.description:
        lines.append(form.description)
    lines.append("Trong lúc khai, ông/bà có thể hỏi thêm về thủ tục, nói «sửa …» để sửa một thông tin đã khai, "
                 "hoặc «thôi không khai nữa» để dừng.")
    if form.persons:
        lines.append("Có thẻ căn cước thì ông/bà quét mã QR trên thẻ để em điền sẵn họ tên, ngày sinh, số căn cước, "
                     "nơi cư trú.")
    return "\n".join(lines)


# --- filing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclarationFiler:
    """Files a filled declaration as a dossier and makes the link to download its PDF."""

    service: DossierService
    public_url: str

    @classmethod
    def from_settings(cls, settings, service: DossierService | None = None) -> DeclarationFiler:
        base = settings.public_url or f"http://{settings.host}:{settings.gateway_port}"
        return cls(service or DossierService.from_settings(settings), base.rstrip("/"))

    def application(self, form: FormDefinition, values: Mapping[str, Any], procedure_code: str,
                    channel: str, sender_id: str) -> DossierApplication:
        filled = {k: v for k, v in values.items() if v is not None and k in form.field_names}
        name_field = form.signers[0].field if form.signers else next(
            (f.name for f in form.fields if f.type == "name"), "")
        person = form.field(name_field).person if name_field else ""
        cccd = next((filled[f.name] for f in form.fields if f.type == "cccd" and f.person == person
                     and filled.get(f.name)), "")
        phone = next((filled[f.name] for f in form.fields if f.type == "phone" and filled.get(f.name)), "")
        return DossierApplication(
            procedure_code=procedure_code, applicant=Applicant(str(filled.get(name_field, "")), cccd, phone),
            values=filled, form_id=form.id, channel=channel, sender_id=sender_id,
        )

    def file(self, application: DossierApplication) -> dict[str, Any]:
        filed = self.service.file_dossier(application)
        # A random token, stored hashed with an expiry: given only to this conversation.
        url = self.public_url + declaration_path(filed.code, self.service.issue_link(filed.code))
        return {"status": FILED, "code": filed.code, "due_date": filed.due_date.isoformat() if filed.due_date else None,
                "text": filed.confirmation_text(), "url": url}


# --- the actions ------------------------------------------------------------------------------


class ActionStartForm(Action):
    """``fill_form``: pick the form (from the procedure named or in context) and start the form."""

    def __init__(self, catalog: FormCatalog):
        self.catalog = catalog

    def name(self) -> str:
        return "action_start_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        text = tracker.latest_message.get("text") or ""
        wanted = _entities(tracker, "form_id")
        form = self.catalog.forms.get(wanted[0]) if wanted else None
        missing = ""
        if form is None:
            form, missing = self.catalog.resolve(text, _entities(tracker, "procedure"),
                                                 tracker.get_slot("procedure_code"))
        state = FormState(None, stage=CHOOSE)
        events = cleared_slots()
        if form is None:
            if missing:
                dispatcher.utter_message(text=f"Dạ, thủ tục «{missing}» chưa có tờ khai điện tử trên trợ lý; "
                                              "ông/bà khai tờ khai giấy tại quầy giúp em ạ.")
        else:
            state.start(form)
            dispatcher.utter_message(text=intro_text(form))
            code = tracker.get_slot("procedure_code")
            events.append(SlotSet("procedure_code", code if code in form.procedures else form.procedures[0]))
        events += [SlotSet(k, v) for k, v in state.slots().items()]
        return events


class ActionAskFormAnswer(Action):
    """Asks what the form needs next: the current field, the card check, the summary, or which form."""

    def __init__(self, catalog: FormCatalog):
        self.catalog = catalog

    def name(self) -> str:
        return f"action_ask_{ANSWER_SLOT}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        state = FormState.from_tracker(tracker, self.catalog.forms)
        if state.form is None or state.stage == CHOOSE:
            dispatcher.utter_message(text="Ông/bà muốn điền tờ khai nào ạ? Xin chọn một tờ khai dưới đây, "
                                          "hoặc nói tên thủ tục.", buttons=self.catalog.choice_buttons())
            return []
        if state.stage == CARD and state.pending:
            dispatcher.utter_message(text=self.card_text(state), buttons=CONFIRM_BUTTONS)
            return []
        if state.stage == SUMMARY:
            dispatcher.utter_message(
                text=summarize_values(state.form, shown_values(state.form, state.values))
                + "\n\nÔng/bà kiểm tra lại các thông tin trên. Bấm «Nộp hồ sơ» để nộp, «Sửa» để sửa một thông tin, "
                "«Hủy» để hủy tờ khai.",
                buttons=SUMMARY_BUTTONS)
            return []
        if state.stage == PICK:
            names = (state.pending or {}).get("pick") or [f.name for f in state.form.fields if f.name in state.values]
            buttons = [{"title": field_title(state.form.field(n)), "payload": f'/correct_field{{"form_field": "{n}"}}'}
                       for n in names if n in state.form.field_names]
            dispatcher.utter_message(text="Ông/bà muốn sửa thông tin nào ạ? Xin chọn dưới đây, hoặc nói tên thông tin, "
                                          "ví dụ «tên cháu», «ngày sinh của mẹ».", buttons=buttons)
            return []
        item = state.current or state.next_missing()
        if item is None:
            return []
        dispatcher.utter_message(text=self.question_text(state, item), buttons=self.question_buttons(item))
        return []

    @staticmethod
    def question_text(state: FormState, item: FormField) -> str:
        assert state.form is not None
        position = state.form.field_names.index(item.name) + 1
        lines = [f"({item.section} — câu {position}/{len(state.form.fields)}) {item.prompt}"]
        if item.help:
            lines.append(f"Gợi ý: {item.help}")
        if item.name in state.values:
            shown = shown_value(item, state.values[item.name]) or "(bỏ trống)"
            lines.append(f"Hiện đang khai: {shown}")
        if not item.required:
            lines.append("Không có hoặc không muốn khai thì bấm «Bỏ qua».")
        return "\n".join(lines)

    @staticmethod
    def question_buttons(item: FormField) -> list[dict[str, str]]:
        buttons = [{"title": c, "payload": c} for c in item.choices]
        if not item.required:
            buttons.append(SKIP_BUTTON)
        return buttons

    @staticmethod
    def card_text(state: FormState) -> str:
        assert state.form is not None and state.pending is not None
        values = state.pending.get("card") or {}
        lines = [f"Em đọc được thẻ căn cước của {state.pending.get('holder', '')}. "
                 f"Các thông tin sau sẽ được điền vào phần «{state.pending.get('section', '')}»:"]
        for name, value in values.items():
            item = state.form.field(name)
            lines.append(f"- {item.label}: {shown_value(item, value)}")
        lines.append("Ông/bà đồng ý điền các thông tin này không?")
        return "\n".join(lines)


class ValidateDeclarationForm(FormValidationAction):
    """One validation per answer, for the field being asked — plus cancel, correct, card and questions.

    ``interruptions`` maps an intent to the action that answers it (``ask_fee`` →
    ``action_answer_procedure``…): a question asked in the middle of the form is answered
    exactly as outside it, then the same field is asked again.
    """

    def __init__(self, catalog: FormCatalog, filer: DeclarationFiler | None = None,
                 interruptions: Mapping[str, Action] | None = None):
        self.catalog = catalog
        self.filer = filer
        self.interruptions = dict(interruptions or {})

    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    async def validate_form_answer(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: dict[str, Any]) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        state = FormState.from_tracker(tracker, self.catalog.forms)
        intent, confidence = _intent(tracker)
        if state.form is None or state.stage == CHOOSE:
            return await self._choose(text, state, dispatcher, tracker)
        item = state.current
        skipping = state.stage == FILL and item is not None and not item.required and self._is_skip(text)
        if not skipping and is_cancel(text):
            return self._cancel(state)
        if state.stage == CARD:
            if is_affirm(text, intent):
                state.values.update((state.pending or {}).get("card") or {})
                dispatcher.utter_message(text="Dạ, em đã điền các thông tin từ thẻ căn cước.")
                state.advance()
                return state.slots()
            state.pending = None
            state.stage = FILL if state.field_name else SUMMARY
            if is_deny(text, intent):
                dispatcher.utter_message(text="Dạ, em không điền thông tin từ thẻ. Mình khai tiếp nhé.")
                return state.slots()
        if self._is_card(text, tracker):
            return self._card(text, state, dispatcher)
        if not skipping:
            corrected = self._correction(text, state, tracker, dispatcher)
            if corrected is not None:
                return corrected
        if state.stage == PICK:
            dispatcher.utter_message(text="Dạ, em chưa rõ ông/bà muốn sửa thông tin nào.")
            return state.slots()
        if state.stage == SUMMARY:
            if intent in self.interruptions and (
                text.startswith("/") or (confidence >= INTERRUPTION_CONFIDENCE and is_question_like(text))
            ):
                return await self._interrupt(intent, state, dispatcher, tracker, domain)
            return await self._summary(text, intent, state, dispatcher, tracker)
        if item is None:  # a stale field name: ask the next question
            state.advance()
            return state.slots()
        result = None if text.startswith("/") else validate_field(item, text, state.values)
        if intent in self.interruptions and (
            text.startswith("/") or (confidence >= INTERRUPTION_CONFIDENCE and (not result.ok or is_question_like(text)))
        ):
            return await self._interrupt(intent, state, dispatcher, tracker, domain)
        if result is None or (intent in _NOT_ANSWER_INTENTS and item.type in _FREE_TEXT_TYPES
                              and _has_phrase(fold(text), _NOT_ANSWER_PHRASES)):
            dispatcher.utter_message(text=f"Dạ, em đang giúp ông/bà điền «{state.form.title}». Xin ông/bà trả lời "
                                          "câu hỏi dưới đây, hoặc nói «thôi không khai nữa» để dừng.")
            return state.slots()
        if not result.ok:
            dispatcher.utter_message(text=result.reason)
            return state.slots()
        corrected_before = item.name in state.values
        state.values[item.name] = result.slot_value
        if corrected_before:
            shown = shown_value(item, result.slot_value) or "(bỏ trống)"
            dispatcher.utter_message(text=f"Dạ, em đã sửa «{item.label}» thành: {shown}.")
        state.advance()
        return state.slots()

    # -- the branches ----------------------------------------------------------------------

    @staticmethod
    def _is_skip(text: str) -> bool:
        key = fold(text)
        return is_skip_answer(text) or key.startswith("bo qua") or key in {"khong khai", "khong co a", "de trong"}

    @staticmethod
    def _is_card(text: str, tracker: Tracker) -> bool:
        metadata = tracker.latest_message.get("metadata") or {}
        return metadata.get("device_event") == "cccd_scanned" or looks_like_card_payload(text)

    async def _choose(self, text: str, state: FormState, dispatcher: CollectingDispatcher,
                      tracker: Tracker) -> dict[str, Any]:
        if is_cancel(text):
            return self._cancel(state)
        wanted = _entities(tracker, "form_id")
        form = self.catalog.forms.get(wanted[0]) if wanted else None
        missing = ""
        if form is None:
            form, missing = self.catalog.resolve(text, _entities(tracker, "procedure"), None)
        if form is None:
            dispatcher.utter_message(
                text=f"Dạ, thủ tục «{missing}» chưa có tờ khai điện tử trên trợ lý." if missing
                else "Dạ, em chưa tìm thấy tờ khai đó.")
            return state.slots()
        state.start(form)
        dispatcher.utter_message(text=intro_text(form))
        slots = state.slots()
        slots["procedure_code"] = form.procedures[0]
        return slots

    @staticmethod
    def _cancel(state: FormState) -> dict[str, Any]:
        return {ANSWER_SLOT: CANCELLED, "form_outcome": {"status": CANCELLED}, "form_values": None,
                "form_pending": None, "form_field": None, "form_stage": None}

    def _card(self, text: str, state: FormState, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        assert state.form is not None
        try:
            card = parse_cccd_qr(text)
        except CccdError as exc:
            dispatcher.utter_message(text=f"{exc} Em chưa điền thông tin nào từ mã này.")
            return state.slots()
        persons = state.form.persons
        if not persons:
            dispatcher.utter_message(text="Tờ khai này không có thông tin nào điền được từ thẻ căn cước.")
            return state.slots()
        current = state.current
        person = current.person if current is not None and current.person in persons else None
        if person is None:  # the next person whose card fields are still empty, else the first
            person = next((f.person for f in state.form.fields if f.person in persons and f.cccd_field
                           and f.name not in state.values), persons[0])
        values = values_from_card(state.form, card, person)
        if not values:
            dispatcher.utter_message(text="Thông tin trên thẻ không dùng được cho phần đang khai. "
                                          "Xin ông/bà khai bằng tay giúp em.")
            return state.slots()
        section = next(f.section for f in state.form.fields if f.person == person)
        state.pending = {"card": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()},
                         "person": person, "section": section, "holder": card.full_name}
        state.stage = CARD
        return state.slots()

    def _correction(self, text: str, state: FormState, tracker: Tracker,
                    dispatcher: CollectingDispatcher) -> dict[str, Any] | None:
        """A field to correct, named by a button, by the citizen's words, or chosen now; else None."""
        assert state.form is not None
        intent, confidence = _intent(tracker)
        named = [n for n in _entities(tracker, "form_field") if n in state.form.field_names]
        cue = has_correction_cue(text) or (intent == "correct_field" and confidence >= 0.7)
        if not named and not cue and state.stage not in (PICK, SUMMARY):
            return None
        candidates = [state.form.field(n) for n in named] or (find_fields(state.form, text) if not
                                                               text.startswith("/") else [])
        if not cue and not named:
            if state.stage == SUMMARY and candidates and not is_affirm(text, intent):
                cue = True  # at the summary, naming a field («tên cháu») means correcting it
            elif state.stage == PICK and candidates:
                cue = True
            else:
                return None
        if not candidates:
            current = state.current
            if state.stage == FILL and current is not None and not text.startswith("/") and \
                    validate_field(current, text, state.values).ok and intent != "correct_field":
                return None  # an answer that merely contains «sai»: take it as the answer
            filled = [f.name for f in state.form.fields if f.name in state.values]
            state.pending, state.stage = {"pick": filled, "back": state.field_name}, PICK
            return state.slots()
        target = candidates[0]
        if len(candidates) > 1:
            filled = [f for f in candidates if f.name in state.values]
            if len(filled) == 1:
                target = filled[0]
            elif len(filled) > 1 and state.stage == FILL:
                order = list(state.values)
                target = max(filled, key=lambda f: order.index(f.name))  # the one answered last
            else:
                state.pending, state.stage = {"pick": [f.name for f in candidates], "back": state.field_name}, PICK
                return state.slots()
        state.pending, state.stage, state.field_name = None, FILL, target.name
        return state.slots()

    async def _summary(self, text: str, intent: str, state: FormState, dispatcher: CollectingDispatcher,
                       tracker: Tracker) -> dict[str, Any]:
        assert state.form is not None
        missing = state.next_missing()
        if missing is not None:
            state.advance()
            return state.slots()
        if is_deny(text, intent):
            state.pending, state.stage = {"pick": [f.name for f in state.form.fields if f.name in state.values]}, PICK
            return state.slots()
        if not is_affirm(text, intent):
            dispatcher.utter_message(text="Dạ, ông/bà bấm «Nộp hồ sơ» để nộp, «Sửa» để sửa, hoặc «Hủy» để hủy ạ.")
            return state.slots()
        if self.filer is None:
            dispatcher.utter_message(text=TROUBLE_TEXT, buttons=STAFF_BUTTONS)
            return state.slots()
        code = tracker.get_slot("procedure_code")
        procedure_code = code if code in state.form.procedures else state.form.procedures[0]
        metadata = tracker.latest_message.get("metadata") or {}
        sender = tracker.sender_id or ""
        channel = str(metadata.get("channel") or (sender.split(":", 1)[0] if ":" in sender else ""))
        application = self.filer.application(state.form, state.values, procedure_code, channel, sender)
        try:
            outcome = await asyncio.to_thread(self.filer.file, application)
        except DossierError as exc:  # e.g. no CCCD nor phone of the applicant: say what is missing
            dispatcher.utter_message(text=f"Chưa nộp được hồ sơ: {exc} Ông/bà bấm «Sửa» để bổ sung thông tin.",
                                     buttons=SUMMARY_BUTTONS[1:])
            return state.slots()
        except Exception:
            log.exception("filing the declaration %s failed", state.form.id)
            dispatcher.utter_message(text=TROUBLE_TEXT, buttons=STAFF_BUTTONS)
            return state.slots()
        return {ANSWER_SLOT: FILED, "form_outcome": outcome, "form_pending": None, "form_field": None,
                "form_stage": None}

    async def _interrupt(self, intent: str, state: FormState, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: dict[str, Any]) -> dict[str, Any]:
        slots = state.slots()
        try:
            events = await self.interruptions[intent].run(dispatcher, tracker, domain)
        except Exception:
            log.exception("answering %s in the middle of a form failed", intent)
            dispatcher.utter_message(text="Xin lỗi, em chưa trả lời được câu này. Mình khai tiếp nhé.")
            return slots
        for event in events or []:
            if event.get("event") == "slot" and event.get("name") not in slots:
                slots[event["name"]] = event.get("value")
        dispatcher.utter_message(text="Dạ, mình khai tiếp tờ khai nhé.")
        return slots


class ActionFinishDeclaration(Action):
    """After the form: the dossier code, due date and PDF link — or the cancellation — then a clean slate."""

    def name(self) -> str:
        return "action_finish_declaration"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        outcome = tracker.get_slot("form_outcome") or {}
        if outcome.get("status") == FILED:
            dispatcher.utter_message(
                text=f"{outcome.get('text', '')}\nTải tờ khai đã điền (PDF) để in hoặc lưu: {outcome.get('url', '')}",
                json_message={"dossier_code": outcome.get("code"), "declaration_pdf": outcome.get("url")},
            )
        else:
            dispatcher.utter_message(text=CANCELLED_TEXT)
        return cleared_slots()
