"""The Rasa side of filling a declaration (tờ khai): one generic form, ``declaration_form``.

The dialogue itself — its stages, transition table and replies — is plain Python in
:mod:`knowledge_base.form_dialogue`; this module only translates. Each action reads the tracker
into a :class:`Turn` and the slots into a :class:`FormState`, asks the dialogue what to do,
says its replies, carries out its effects (a question answered by the usual actions, the dossier
filed) and writes the state back into slots:

- ``form_answer`` — the form's only required slot: the citizen's text; filled with ``filed`` or
  ``cancelled`` when the form is over, which ends the form;
- ``form_id``, ``form_values`` (field name → value, ``None`` for an optional question skipped),
  ``form_field`` (the field being asked), ``form_stage``, ``form_pending`` (card values to confirm,
  or the fields offered for a correction), ``form_outcome`` (what happened at the end; while the form
  runs, ``{"session": …}``: the form session's random id, from which the dossier's filing key is made, so
  that a filing retried — Rasa calling again, a second tap on «Nộp hồ sơ» — files one dossier).

Adding a form is a new YAML file in ``knowledge_base/forms/`` and a restart of the action server;
retraining is needed only for new NLU examples. Nothing here names a form or a field.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge_base.form_dialogue import (
    AnswerQuestion,
    Event,
    FileDossier,
    FormCatalog,
    FormDialogue,
    FormState,
    Reply,
    SetProcedure,
    Stage,
    Step,
    Turn,
    procedure_for,
)
from knowledge_base.forms import FormDefinition
from knowledge_base.messages import render
from knowledge_base.text import clean_text
from motcua.centers import DEFAULT_CENTER, center_in
from motcua.db import Database, shared_database
from motcua.dossiers.errors import DossierError
from motcua.dossiers.links import declaration_path
from motcua.dossiers.service import Applicant, DossierApplication, DossierService
from motcua.payments.citizen import payment_message, payment_notice
from motcua.payments.service import PaymentService

__all__ = ["ActionAskFormAnswer", "ActionFinishDeclaration", "ActionStartForm", "DeclarationFiler", "FormCatalog",
           "ValidateDeclarationForm"]

log = logging.getLogger(__name__)

FORM_NAME = "declaration_form"
ANSWER_SLOT = "form_answer"
STATE_SLOTS = ("form_id", "form_values", "form_field", "form_stage", "form_pending", "form_outcome")


# --- tracker ⇄ dialogue ---------------------------------------------------------------------------


def read_turn(tracker: Tracker, text: Any = None) -> Turn:
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    metadata = latest.get("metadata") or {}
    entities = tuple((str(e.get("entity")), str(e.get("value"))) for e in latest.get("entities") or []
                     if e.get("entity") and e.get("value"))
    return Turn(str(latest.get("text") or "") if text is None else str(text), str(intent.get("name") or ""),
                float(intent.get("confidence") or 0.0), entities, metadata.get("device_event") == "cccd_scanned")


def read_state(tracker: Tracker, forms: Mapping[str, FormDefinition]) -> FormState:
    form = forms.get(str(tracker.get_slot("form_id") or ""))
    values, pending = tracker.get_slot("form_values"), tracker.get_slot("form_pending")
    try:
        stage = Stage(tracker.get_slot("form_stage") or Stage.FILL)
    except ValueError:
        stage = Stage.FILL
    running = tracker.get_slot("form_outcome")
    session = str(running.get("session") or "") if isinstance(running, Mapping) else ""
    return FormState(form, dict(values) if isinstance(values, Mapping) else {}, tracker.get_slot("form_field"),
                     stage if form is not None else Stage.CHOOSE,
                     dict(pending) if isinstance(pending, Mapping) else None, session=session)


def state_slots(state: FormState) -> dict[str, Any]:
    if state.stage in (Stage.FILED, Stage.CANCELLED):  # the form is over: its answer ends the form
        return {ANSWER_SLOT: state.stage.value, "form_outcome": state.outcome, "form_values": None,
                "form_pending": None, "form_field": None, "form_stage": None}
    return {ANSWER_SLOT: None, "form_id": state.form.id if state.form else None, "form_values": state.values,
            "form_field": state.field_name, "form_stage": state.stage.value, "form_pending": state.pending,
            "form_outcome": {"session": state.session} if state.session else None}


def filing_key(sender_id: str, session: str) -> str:
    """The key filing the form session ``session`` of the conversation ``sender_id`` (empty without a session)."""
    return f"chat:{sender_id}:{session}" if session else ""


def cleared_slots() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in (ANSWER_SLOT, *STATE_SLOTS)]


def say(dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
    for reply in replies:
        buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
        dispatcher.utter_message(text="\n".join(line.text() for line in reply.lines), buttons=buttons,
                                 **({"json_message": dict(reply.custom)} if reply.custom else {}))


# --- filing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclarationFiler:
    """Files a filled declaration as a dossier and makes the link to download its PDF."""

    service: DossierService
    database: Database
    public_url: str
    payments: PaymentService | None = None  # None: payments by QR off, the fee is not told

    @classmethod
    def from_settings(cls, settings, service: DossierService | None = None,
                      database: Database | None = None) -> DeclarationFiler:
        base = settings.public_url or f"http://{settings.host}:{settings.gateway_port}"
        database = database or shared_database(settings.sqlalchemy_url)
        service = service or DossierService.from_settings(settings)
        payments = PaymentService.from_settings(settings) \
            if settings.payment_account is not None else None
        return cls(service, database, base.rstrip("/"), payments)

    def application(self, form: FormDefinition, values: Mapping[str, Any], procedure_code: str,
                    channel: str, sender_id: str, center: str = DEFAULT_CENTER) -> DossierApplication:
        """The dossier to file from the form's answers, at ``center`` (the kiosk's centre the chat was held at)."""
        filled = {k: clean_text(v) if isinstance(v, str) else v  # stored as typed, minus control characters
                  for k, v in values.items() if v is not None and k in form.field_names}
        name_field = form.signers[0].field if form.signers else next(
            (f.name for f in form.fields if f.type == "name"), "")
        person = form.field(name_field).person if name_field else ""
        cccd = next((filled[f.name] for f in form.fields if f.type == "cccd" and f.person == person
                     and filled.get(f.name)), "")
        phone = next((filled[f.name] for f in form.fields if f.type == "phone" and filled.get(f.name)), "")
        return DossierApplication(
            procedure_code=procedure_code, applicant=Applicant(str(filled.get(name_field, "")), cccd, phone),
            values=filled, form_id=form.id, channel=channel, sender_id=sender_id, center=center,
        )

    def file(self, application: DossierApplication, filing_key: str = "") -> dict[str, Any]:
        """File ``application`` — once per ``filing_key``: a retry answers the first filing's dossier."""
        filed = self.database.run(self.service.file_dossier, application, filing_key=filing_key)
        text = filed.confirmation_text()
        if not filed.lookup_pin:  # a retry after the PIN was let go: say so, and where a new one is given
            text += "\n" + render("dossier.filed.pin_not_shown")
        # A random token, stored hashed with an expiry: given only to this conversation.
        url = self.public_url + declaration_path(filed.code, self.database.run(self.service.issue_link,
                                                                               filed.code))
        outcome: dict[str, Any] = {"status": Stage.FILED.value, "code": filed.code, "text": text, "url": url,
                                   "due_date": filed.due_date.isoformat() if filed.due_date else None}
        notice = payment_notice(self.payments, self.service, self.database,
                                filed.code) if self.payments is not None else None
        if notice is not None:  # a fee is due and the center takes VietQR: the amount, the note, the QR code
            outcome["payment"] = notice.card(self.public_url)
        return outcome


# --- the actions ----------------------------------------------------------------------------------


class ActionStartForm(Action):
    """``fill_form``: pick the form (from the procedure named or in context) and start the form."""

    def __init__(self, catalog: FormCatalog):
        self.dialogue = FormDialogue(catalog)

    def name(self) -> str:
        return "action_start_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        step = self.dialogue.start(read_turn(tracker), tracker.get_slot("procedure_code"))
        say(dispatcher, step.replies)
        events = cleared_slots()
        events += [SlotSet("procedure_code", e.code) for e in step.effects if isinstance(e, SetProcedure)]
        return events + [SlotSet(k, v) for k, v in state_slots(step.state).items()]


class ActionAskFormAnswer(Action):
    """Asks what the form needs next: the current field, the card check, the summary, or which form."""

    def __init__(self, catalog: FormCatalog):
        self.catalog = catalog
        self.dialogue = FormDialogue(catalog)

    def name(self) -> str:
        return f"action_ask_{ANSWER_SLOT}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        reply = self.dialogue.prompt(read_state(tracker, self.catalog.forms))
        say(dispatcher, [reply] if reply else [])
        return []


class ValidateDeclarationForm(FormValidationAction):
    """Reads each answer through the dialogue; answers questions and files the dossier it asks for.

    ``interruptions`` maps an intent to the action that answers it (``ask_fee`` →
    ``action_answer_procedure``…, ``request_queue_number`` → ``action_issue_queue_number``): a question
    asked, or a queue number taken, in the middle of the form is answered exactly as outside it, then
    the same field is asked again; the form keeps what was declared.
    """

    def __init__(self, catalog: FormCatalog, filer: DeclarationFiler | None = None,
                 interruptions: Mapping[str, Action] | None = None):
        self.catalog = catalog
        self.filer = filer
        self.interruptions = dict(interruptions or {})
        self.dialogue = FormDialogue(catalog, self.interruptions)

    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    async def validate_form_answer(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: dict[str, Any]) -> dict[str, Any]:
        if value is None or (tracker.active_loop or {}).get("name") != FORM_NAME:
            # The form is starting (Rasa validates the slots action_start_form cleared): nothing was
            # answered yet — the tap on «Điền tờ khai» is not the answer to the first question.
            return {}
        step = self.dialogue.step(read_state(tracker, self.catalog.forms), read_turn(tracker, value))
        extra: dict[str, Any] = {}
        while True:
            say(dispatcher, step.replies)
            report: tuple[Event, Any] | None = None
            for effect in step.effects:
                if isinstance(effect, SetProcedure):
                    extra["procedure_code"] = effect.code
                elif isinstance(effect, AnswerQuestion):
                    report = await self._answer(effect.intent, dispatcher, tracker, domain, extra)
                elif isinstance(effect, FileDossier):
                    report = await self._file(step, tracker)
            if report is None:
                return {**extra, **state_slots(step.state)}
            event, data = report
            step = self.dialogue.apply(step.state, event, None, data)

    async def _answer(self, intent: str, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: dict[str, Any], slots: dict[str, Any]) -> tuple[Event, Any]:
        try:
            events = await self.interruptions[intent].run(dispatcher, tracker, domain)
        except Exception:
            log.exception("answering %s in the middle of a form failed", intent)
            return Event.UNANSWERED, None
        for event in events or []:  # what the answer keeps in context (the procedure), not the form's slots
            if event.get("event") == "slot" and event.get("name") not in (ANSWER_SLOT, *STATE_SLOTS):
                slots[event["name"]] = event.get("value")
        return Event.ANSWERED, None

    async def _file(self, step: Step, tracker: Tracker) -> tuple[Event, Any]:
        state = step.state
        if self.filer is None or state.form is None:
            return Event.FAILED, None
        metadata = tracker.latest_message.get("metadata") or {}
        sender = tracker.sender_id or ""
        channel = str(metadata.get("channel") or (sender.split(":", 1)[0] if ":" in sender else ""))
        application = self.filer.application(state.form, state.values,
                                             procedure_for(state.form, tracker.get_slot("procedure_code")),
                                             channel, sender, center_in(metadata))
        try:
            return Event.FILED, await asyncio.to_thread(self.filer.file, application, filing_key(sender, state.session))
        except DossierError as exc:  # e.g. no CCCD nor phone of the applicant: say what is missing
            return Event.REFUSED, str(exc)
        except Exception:
            log.exception("filing the declaration %s failed", state.form.id)
            return Event.FAILED, None


class ActionFinishDeclaration(Action):
    """After the form: the dossier code, due date and PDF link — or the cancellation — then a clean slate."""

    def name(self) -> str:
        return "action_finish_declaration"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        outcome = tracker.get_slot("form_outcome")
        say(dispatcher, [FormDialogue.finished(outcome)])
        fee = payment_message(outcome.get("payment")) if isinstance(outcome, dict) else None
        if fee is not None:
            dispatcher.utter_message(**fee)
        return cleared_slots()


class ActionCorrectOutsideForm(Action):
    """«Sửa…» when no declaration is being filled. «Giấy khai sinh ghi sai năm sinh, sửa thế nào?» asks about
    a procedure (the correction of civil status), so the answering action answers it when the search is as
    sure of a procedure as it must be to answer one (:data:`retrieval.decision.PROCEDURE_POLICY`'s
    ``answer_at``); a bare «sửa lại», «nhập sai tên» hears that there is nothing to correct yet."""

    def __init__(self, knowledge: Any, answer: Action):
        self.knowledge = knowledge
        self.answer = answer

    def name(self) -> str:
        return "action_correct_outside_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        from retrieval.decision import PROCEDURE_POLICY

        text = str(tracker.latest_message.get("text") or "")
        search = getattr(self.knowledge, "search", None)
        if text and not text.startswith("/") and search is not None:
            decision = await asyncio.to_thread(search.decide_procedures, text[:500])
            if decision.move != "abstain" and decision.confidence >= PROCEDURE_POLICY.answer_at:
                return await self.answer.run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_nothing_to_correct")
        return []
