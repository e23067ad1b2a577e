"""Filling a declaration (tờ khai) one message at a time: the dialogue as stages and a transition table.

Plain Python, no Rasa: ``actions/forms.py`` reads the citizen's message into a :class:`Turn`
(:mod:`knowledge_base.form_turns`), calls :meth:`FormDialogue.step`, says the :class:`Reply` objects
(:mod:`knowledge_base.form_replies`, sentences in the message catalogue, ``knowledge_base/locale``), carries out the
effects and keeps the :class:`FormState` in slots between messages. ::

    CHOOSE ─answer─► FILL ─answer, skip─► FILL (the next field), or SUMMARY after the last
    FILL, PICK, SUMMARY ─card─► CARD ─affirm, deny─► FILL or SUMMARY (anything else: read again there)
    FILL ─answer typed without diacritics─► CONFIRM ─affirm, a reading chosen, kept as typed─► FILL (the next
                                                │       field) or SUMMARY (affirm to several readings: CONFIRM)
                                                ├──deny─► FILL (the same field)
                                                └──anything else─► kept as typed, the message read at the next
                                                                   field (the same answer retyped: taken)
    FILL, PICK, SUMMARY ─correct─► FILL (the field named) or PICK (which field?)
    SUMMARY ─deny─► PICK
    SUMMARY ─affirm─► FILING ─filed─► FILED
                         └──refused, failed─► SUMMARY
    CHOOSE, FILL, SUMMARY ─question─► the same stage (answered by the adapter, then asked again; a queue
                                      number taken in the middle is one of these)
    CHOOSE, FILL, CARD, CONFIRM, PICK, SUMMARY ─cancel─► CANCELLED

A message is first read into an :class:`Event` (:meth:`FormDialogue.classify`), in an order
that depends on the stage; :data:`TRANSITIONS` then says which handler takes ``(stage, event)``
and which stages it may lead to; a message event missing from a stage's row goes to the stage's
:data:`DEFAULTS` handler (say, «press a button» at the summary). ``FILING`` lasts only while the
adapter files the dossier and reports back ``filed``, ``refused`` or ``failed``; a question
asked in the middle is answered by the adapter, which reports back ``answered`` or ``unanswered``.

Yes, no and cancel come from the NLU's intent when it is sure; only when it is not are the word
lists of :class:`~knowledge_base.form_turns.FallbackWords` read — except at a confirmation, where
yes/no words typed without diacritics («dung», «khong») count whatever else the NLU read
(:func:`~knowledge_base.form_turns.confirms`). A field may be asked only of a minor (``ask_if`` in its
form file, :func:`~knowledge_base.forms.applies`): for anyone older it is left empty, never asked.
Nothing here names a form or a field: the forms are data (``knowledge_base/forms/*.yaml``) the action
server reads at start-up, so a new form needs a restart, not retraining.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from knowledge_base import form_replies as replies
from knowledge_base.form_replies import Button, Reply
from knowledge_base.form_turns import (
    NLU_SURE,
    QUESTION_SURE,
    FallbackWords,
    Turn,
    confirms,
    has_correction_cue,
    looks_like_card_payload,
    same_answer,
    says,
)
from knowledge_base.forms import (
    FormDefinition,
    FormField,
    applies,
    find_fields,
    proposed_readings,
    proposed_value,
    validate_field,
    values_from_card,
)
from knowledge_base.text import fold
from motcua.identity import CccdError, parse_cccd_qr
from motcua.validators import Validation

__all__ = [
    "DEFAULTS", "REPORTS", "TRANSITIONS", "AnswerQuestion", "Event", "FileDossier", "FormCatalog", "FormDialogue",
    "FormState", "InvalidMove", "Move", "SetProcedure", "Stage", "Step", "Turn", "procedure_for",
]


class Stage(StrEnum):
    CHOOSE = "choose"  # which form?
    FILL = "fill"  # asking the field ``FormState.field_name``
    CARD = "card"  # values read from an identity card, waiting for the citizen's yes
    CONFIRM = "confirm"  # an answer typed without diacritics: is its accented form right? which reading?
    PICK = "pick"  # which field to correct?
    SUMMARY = "summary"  # everything read back: file, correct or cancel
    FILING = "filing"  # the adapter is filing the dossier (never kept between messages)
    FILED = "filed"
    CANCELLED = "cancelled"


ENDED = frozenset({Stage.FILED, Stage.CANCELLED})
"""Stages a form never leaves: the form is over."""


class Event(StrEnum):
    ANSWER = "answer"  # the message as the answer to what was asked
    SKIP = "skip"  # «bỏ qua» to an optional question
    AFFIRM = "affirm"
    DENY = "deny"
    CANCEL = "cancel"
    CORRECT = "correct"  # a field to correct, named or to be chosen (data: the field names)
    CARD = "card"  # an identity card's QR payload
    QUESTION = "question"  # a question about the procedure (data: the intent)
    OTHER = "other"  # small talk or a button, not an answer
    ANSWERED = "answered"  # reported by the adapter: the question was answered
    UNANSWERED = "unanswered"
    FILED = "filed"  # reported by the adapter (data: the outcome)
    REFUSED = "refused"  # the dossier service refused (data: its reason)
    FAILED = "failed"  # filing broke, or there is no filing service


REPORTS = frozenset({Event.ANSWERED, Event.UNANSWERED, Event.FILED, Event.REFUSED, Event.FAILED})
"""Events the adapter reports after carrying out an effect; the others are read from a message."""


class InvalidMove(ValueError):
    """A move the table does not allow: a programming error, never the citizen's."""


# --- the state and the effects --------------------------------------------------------------


@dataclass
class FormState:
    """One declaration in progress; ``pending`` holds the card values to confirm, the accented form of an
    answer to confirm (``accented``) or its readings to choose from (``readings``), with the answer as typed
    (``typed``), or the fields to pick from; ``outcome`` what happened at the end; ``session`` a random
    id made when the form starts, which files the dossier at most once however often filing is retried;
    ``today`` the day a field asked only of a minor is judged by (None: the real today; never kept)."""

    form: FormDefinition | None
    values: dict[str, Any] = field(default_factory=dict)
    field_name: str | None = None
    stage: Stage = Stage.FILL
    pending: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None
    session: str = ""
    today: date | None = field(default=None, compare=False)

    @property
    def current(self) -> FormField | None:
        if self.form is None or not self.field_name:
            return None
        try:
            return self.form.field(self.field_name)
        except KeyError:
            return None

    def next_missing(self) -> FormField | None:
        """The first field not answered yet (a skipped optional field counts as answered) that is asked."""
        if self.form is None:
            return None
        return next((f for f in self.form.fields if f.name not in self.values
                     and applies(f, self.values, self.today)), None)

    def put(self, values: Mapping[str, Any]) -> None:
        """Keep ``values``; a field that is no longer asked (the birth date now an adult's) is emptied, and one
        that is asked again (now a minor's), left empty only because it was not, is asked."""
        assert self.form is not None
        before = {f.name for f in self.form.fields if f.ask_if and applies(f, self.values, self.today)}
        self.values.update(values)
        for item in self.form.fields:
            if item.ask_if is None or item.name in values:
                continue
            now = applies(item, self.values, self.today)
            if not now:
                self.values[item.name] = None
            elif item.name not in before and self.values.get(item.name, 0) is None:
                del self.values[item.name]

    def advance(self) -> None:
        """Ask the next missing field, or show the summary when every field is answered; a field not asked
        of this person (``ask_if``) is left empty on the way."""
        if self.form is not None:
            for item in self.form.fields:
                if item.name not in self.values and not applies(item, self.values, self.today):
                    self.values[item.name] = None
        following = self.next_missing()
        self.pending = None
        if following is None:
            self.stage, self.field_name = Stage.SUMMARY, None
        else:
            self.stage, self.field_name = Stage.FILL, following.name

    def start(self, form: FormDefinition) -> None:
        self.form, self.values, self.pending, self.session = form, {}, None, secrets.token_hex(16)
        self.advance()

    def filled(self) -> list[str]:
        """The fields answered, to offer for a correction (not those left empty as not asked)."""
        assert self.form is not None
        return [f.name for f in self.form.fields if f.name in self.values and applies(f, self.values, self.today)]


@dataclass(frozen=True)
class SetProcedure:
    """Keep ``code`` as the procedure in context."""

    code: str


@dataclass(frozen=True)
class AnswerQuestion:
    """Answer the message as the question ``intent``, then report ``answered`` or ``unanswered``."""

    intent: str


@dataclass(frozen=True)
class FileDossier:
    """File the state's form and values; report ``filed``, ``refused`` or ``failed``."""


Effect = SetProcedure | AnswerQuestion | FileDossier


@dataclass
class Step:
    state: FormState
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


def procedure_for(form: FormDefinition, code: str | None) -> str:
    """The procedure a form is filed for: the one in context when the form is for it, else its first."""
    return code if code in form.procedures else form.procedures[0]


# --- which form -----------------------------------------------------------------------------------


class ProcedureFinder(Protocol):
    def find_named(self, query: str, top_k: int = ...) -> Any: ...
    def find(self, query: str, top_k: int = ...) -> Any: ...
    def get(self, code: str) -> Any: ...


class FormCatalog:
    """The forms, and how to find the one a citizen means (by the procedure it is for).

    The procedure is found the way the answering action finds it: the names and aliases staff
    keep first, then the procedure in context (only when the message names none), then the search.
    """

    def __init__(self, forms: Mapping[str, FormDefinition], knowledge: ProcedureFinder | None = None):
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

    def wanted(self, turn: Turn, context_code: str | None) -> tuple[FormDefinition | None, str]:
        """The form a message asks for: a button's ``form_id``, else by the procedure."""
        ids = turn.values("form_id")
        form = self.forms.get(ids[0]) if ids else None
        if form is not None:
            return form, ""
        return self.resolve(turn.text, turn.values("procedure"), context_code)

    def choice_buttons(self) -> list[Button]:
        return [Button(f.title, f'/fill_form{{"form_id": "{f.id}"}}') for f in self.forms.values()]


# --- the moves ----------------------------------------------------------------------------------

Handler = Callable[["FormDialogue", FormState, Turn | None, Any], Step]


@dataclass(frozen=True)
class Move:
    """What ``(stage, event)`` does, and the stages it may lead to."""

    handler: Handler
    to: frozenset[Stage]


@dataclass(frozen=True)
class Correction:
    """A correction read from a message: the field to ask again, or the fields to choose from."""

    target: str | None
    choices: tuple[str, ...] = ()


class FormDialogue:
    """The declaration dialogue over a :class:`FormCatalog`.

    ``question_intents`` are the intents the adapter can answer in the middle of a form
    (``ask_fee``…); a message read as one of them is answered, then the same field asked again.
    """

    def __init__(self, catalog: FormCatalog, question_intents: Iterable[str] = ()):
        self.catalog = catalog
        self.question_intents = frozenset(question_intents)

    # -- the public surface ----------------------------------------------------------------------

    def start(self, turn: Turn, context_code: str | None) -> Step:
        """«điền tờ khai…»: the form asked for (by the procedure named or in context), or which form?"""
        state = FormState(None, stage=Stage.CHOOSE)
        form, missing = self.catalog.wanted(turn, context_code)
        if form is None:
            return Step(state, [replies.reply("no_form_paper", procedure=missing)] if missing else [])
        state.start(form)
        return Step(state, [replies.intro(form)], [SetProcedure(procedure_for(form, context_code))])

    def step(self, state: FormState, turn: Turn) -> Step:
        """One message of the citizen, in the form."""
        event, data = self.classify(state, turn)
        return self.apply(state, event, turn, data)

    def apply(self, state: FormState, event: Event, turn: Turn | None = None, data: Any = None) -> Step:
        """Make the move the table gives for ``(state.stage, event)``; ``state`` itself is left as it was."""
        move = TRANSITIONS.get((state.stage, event))
        if move is None and event not in REPORTS:
            move = DEFAULTS.get(state.stage)
        if move is None:
            raise InvalidMove(f"no move from the stage {state.stage.value!r} on {event.value!r}")
        result = move.handler(self, copy.deepcopy(state), turn, data)
        if result.state.stage not in move.to:
            raise InvalidMove(f"{state.stage.value!r} on {event.value!r} may lead to "
                              f"{sorted(s.value for s in move.to)}, not {result.state.stage.value!r}")
        return result

    def classify(self, state: FormState, turn: Turn) -> tuple[Event, Any]:
        """What the message is, in this stage: the checks in the order they win."""
        stage = state.stage
        if stage in ENDED or stage == Stage.FILING:
            raise InvalidMove(f"the form is {stage.value!r}: no message is read")
        if stage == Stage.CHOOSE or state.form is None:
            if says(turn, "cancel"):
                return Event.CANCEL, None
            if turn.payload and turn.intent in self.question_intents and not turn.values("form_id"):
                return Event.QUESTION, turn.intent  # a button for something else (a queue number)
            return Event.ANSWER, None
        item = state.current
        if stage == Stage.FILL and item is not None and not item.required and FallbackWords.skip(turn.text):
            return Event.SKIP, None
        if stage == Stage.CONFIRM and self._offered(state, turn):
            return Event.OTHER, None  # a reading's button, or «Giữ nguyên như tôi gõ»: whatever the NLU read
        if says(turn, "cancel"):
            return Event.CANCEL, None
        if stage == Stage.CONFIRM:
            if confirms(turn, "affirm"):
                return Event.AFFIRM, None
            if confirms(turn, "deny") or (has_correction_cue(turn.text) and not turn.values("form_field")):
                return Event.DENY, None
            return Event.OTHER, None
        if stage == Stage.FILL and not turn.text and not turn.scanned:
            return Event.OTHER, None  # nothing said (a tap that carried no text): no answer to check
        if stage == Stage.CARD:
            if confirms(turn, "affirm"):
                return Event.AFFIRM, None
            return (Event.DENY, None) if confirms(turn, "deny") else (Event.OTHER, None)
        if turn.scanned or looks_like_card_payload(turn.text):
            return Event.CARD, None
        correction = self._correction(state, turn)
        if correction is not None:
            return Event.CORRECT, correction
        if stage == Stage.SUMMARY:
            if self._question(turn, invalid_answer=False):
                return Event.QUESTION, turn.intent
            if confirms(turn, "deny"):
                return Event.DENY, None
            return (Event.AFFIRM, None) if confirms(turn, "affirm") else (Event.OTHER, None)
        if stage != Stage.FILL or item is None:
            return Event.OTHER, None
        result = None if turn.payload else validate_field(item, turn.text, state.values)
        if self._question(turn, invalid_answer=result is None or not result.ok):
            return Event.QUESTION, turn.intent
        if result is None or FallbackWords.not_an_answer(turn, item):
            return Event.OTHER, None
        return Event.ANSWER, result

    def prompt(self, state: FormState) -> Reply | None:
        """What to ask now: which form, the card check, the summary, which field, or the current field."""
        form = state.form
        if form is None or state.stage == Stage.CHOOSE:
            return replies.reply("which_form", self.catalog.choice_buttons())
        if state.stage == Stage.CARD and state.pending:
            return replies.card_question(form, state.pending)
        if state.stage == Stage.CONFIRM and state.pending:
            if state.pending.get("readings"):
                return replies.readings_question(str(state.pending.get("typed", "")), state.pending["readings"])
            return replies.accent_question(str(state.pending.get("accented", "")))
        if state.stage == Stage.SUMMARY:
            return replies.summary(form, state.values)
        if state.stage == Stage.PICK:
            return replies.which_field(form, (state.pending or {}).get("pick") or state.filled())
        item = state.current or state.next_missing()
        return None if item is None else replies.field_question(form, item, state.values)

    @staticmethod
    def finished(outcome: Mapping[str, Any] | None) -> Reply:
        """After the form: the dossier code, due date and PDF link — or that it was cancelled."""
        outcome = outcome or {}
        return replies.filed(outcome) if outcome.get("status") == Stage.FILED else replies.reply("cancelled")

    # -- reading ---------------------------------------------------------------------------------

    @staticmethod
    def _offered(state: FormState, turn: Turn) -> bool:
        """The message is, letter for letter, one of the readings offered or the answer as typed."""
        pending = state.pending or {}
        offered = [pending.get("typed"), pending.get("accented"), *(pending.get("readings") or ())]
        said = turn.text.casefold()
        return bool(said) and any(isinstance(o, str) and o.casefold() == said for o in offered)

    def _question(self, turn: Turn, invalid_answer: bool) -> bool:
        """A question intent, on a button, or on text that is no valid answer or reads like a question."""
        if turn.intent not in self.question_intents:
            return False
        return turn.payload or (turn.confidence >= QUESTION_SURE
                                and (invalid_answer or FallbackWords.question(turn.text)))

    @staticmethod
    def _correction(state: FormState, turn: Turn) -> Correction | None:
        """A field to correct, named by a button, by the citizen's words, or to be chosen; else None."""
        form, stage = state.form, state.stage
        assert form is not None
        named = [n for n in turn.values("form_field") if n in form.field_names]
        cue = has_correction_cue(turn.text) or (turn.intent == "correct_field" and turn.confidence >= NLU_SURE)
        if not named and not cue and stage not in (Stage.PICK, Stage.SUMMARY):
            return None
        candidates = [form.field(n) for n in named] or ([] if turn.payload else find_fields(form, turn.text))
        if not cue and not named:
            at_summary = stage == Stage.SUMMARY and not says(turn, "affirm")
            if not candidates or not (at_summary or stage == Stage.PICK):
                return None  # at the summary, naming a field («tên cháu») means correcting it
        if not candidates:
            current = state.current
            if stage == Stage.FILL and current is not None and not turn.payload and \
                    validate_field(current, turn.text, state.values).ok and \
                    turn.intent != "correct_field":
                return None  # an answer that merely contains «sai»: take it as the answer
            return Correction(None, tuple(state.filled()))
        if len(candidates) == 1:
            return Correction(candidates[0].name)
        filled = [f for f in candidates if f.name in state.values]
        if len(filled) == 1:
            return Correction(filled[0].name)
        if len(filled) > 1 and stage == Stage.FILL:
            order = list(state.values)
            return Correction(max(filled, key=lambda f: order.index(f.name)).name)  # the one answered last
        return Correction(None, tuple(f.name for f in candidates))

    # -- the handlers ----------------------------------------------------------------------------

    def _choose(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        assert turn is not None
        form, missing = self.catalog.wanted(turn, None)
        if form is None:
            said = replies.reply("no_form", procedure=missing) if missing else replies.reply("not_found")
            return Step(state, [said])
        state.start(form)
        return Step(state, [replies.intro(form)], [SetProcedure(form.procedures[0])])

    def _cancel(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        state.stage, state.outcome = Stage.CANCELLED, {"status": Stage.CANCELLED.value}
        return Step(state)

    def _take(self, state: FormState, turn: Turn | None, result: Validation | None) -> Step:
        """The answer for the current field (``None`` when skipped): kept, then the next question."""
        item = state.current
        if item is None:  # a stale field name: ask the next question
            state.advance()
            return Step(state)
        value = result.slot_value if result is not None else None
        said = [replies.reply("corrected", label=item.label, value=replies.shown_value(item, value))] \
            if item.name in state.values else []
        state.put({item.name: value})
        state.advance()
        return Step(state, said)

    def _answer(self, state: FormState, turn: Turn | None, result: Validation) -> Step:
        """A valid answer is kept; a wrong one gets its reason, and the same question comes again."""
        if not result.ok:
            return Step(state, [replies.reply("reason", reason=result.reason)])
        item = state.current
        accented = proposed_value(item, result.value) if item is not None else None
        if accented is not None:  # typed without diacritics: the accented form is asked about first
            state.pending, state.stage = {"accented": accented, "typed": result.value}, Stage.CONFIRM
            return Step(state)
        readings = proposed_readings(item, result.value) if item is not None else []
        if readings:  # a name or an address the restorer is unsure of: which reading, or as typed?
            state.pending, state.stage = {"typed": result.value, "readings": readings}, Stage.CONFIRM
            return Step(state)
        return self._take(state, turn, result)

    def _accept_accents(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        """Yes to the accented form; yes to several readings says none of them: which one?"""
        pending = state.pending or {}
        offered = pending.get("readings") or []
        accented = pending.get("accented") or (offered[0] if len(offered) == 1 else None)
        if accented is None:
            return Step(state, [replies.reply("accents_pick")])
        state.pending, state.stage = None, Stage.FILL
        return self._take(state, turn, Validation.valid(accented))

    def _retype(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        state.pending, state.stage = None, Stage.FILL
        item = state.current
        return Step(state, [replies.reply("accents_retype", label=item.label if item else "")])

    def _dismiss_accents(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        """Neither yes nor no. A reading's button, or «Giữ nguyên như tôi gõ» (the answer as typed), is taken;
        the same answer typed again otherwise — with its marks, or a letter changed — is read as the answer
        anew. Anything else (the next answer, a question) leaves the proposal: the answer is kept as typed,
        and the message is read where the form then is."""
        assert turn is not None
        if not turn.text and not turn.scanned:
            return Step(state)  # nothing said (a tap that carried no text): the question stands
        typed = str((state.pending or {}).get("typed", ""))
        offered = self._offered(state, turn)
        state.pending, state.stage = None, Stage.FILL
        item = state.current
        if item is None or not typed:
            return self.step(state, turn)
        if offered:
            result = validate_field(item, turn.text, state.values)
            if not result.ok:
                return Step(state, [replies.reply("reason", reason=result.reason)])
            kept = [replies.reply("accents_kept", value=result.value)] if result.value == typed else []
            taken = self._take(state, turn, result)
            return Step(taken.state, kept + taken.replies, taken.effects)
        if same_answer(turn.text, typed):
            return self.step(state, turn)
        taken = self._take(state, turn, Validation.valid(typed))
        said = [replies.reply("accents_kept", value=typed), *taken.replies]
        if taken.state.stage not in (Stage.FILL, Stage.SUMMARY):
            return Step(taken.state, said, taken.effects)
        following = self.step(taken.state, turn)
        return Step(following.state, said + following.replies, taken.effects + following.effects)

    def _not_an_answer(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        assert state.form is not None
        if state.current is None:
            state.advance()
            return Step(state)
        return Step(state, [replies.reply("not_an_answer", title=state.form.title)])

    def _read_card(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        assert state.form is not None and turn is not None
        try:
            card = parse_cccd_qr(turn.text)
        except CccdError as exc:
            return Step(state, [replies.reply("card_unreadable", reason=str(exc))])
        persons = state.form.persons
        if not persons:
            return Step(state, [replies.reply("card_not_used")])
        current = state.current
        person = current.person if current is not None and current.person in persons else None
        if person is None:  # the next person whose card fields are still empty, else the first
            person = next((f.person for f in state.form.fields if f.person in persons and f.cccd_field
                           and f.name not in state.values), persons[0])
        values = values_from_card(state.form, card, person)
        if not values:
            return Step(state, [replies.reply("card_no_values")])
        section = next(f.section for f in state.form.fields if f.person == person)
        state.pending = {"card": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()},
                         "person": person, "section": section, "holder": card.full_name}
        state.stage = Stage.CARD
        return Step(state)

    def _fill_from_card(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        state.put((state.pending or {}).get("card") or {})
        state.advance()
        return Step(state, [replies.reply("card_filled")])

    def _decline_card(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        self._drop_card(state)
        return Step(state, [replies.reply("card_declined")])

    def _dismiss_card(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        """Neither yes nor no to the card: the card is dropped and the message read where the form was."""
        assert turn is not None
        self._drop_card(state)
        return self.step(state, turn)

    @staticmethod
    def _drop_card(state: FormState) -> None:
        state.pending = None
        state.stage = Stage.FILL if state.field_name else Stage.SUMMARY

    def _correct(self, state: FormState, turn: Turn | None, correction: Correction) -> Step:
        if correction.target is None:
            state.pending, state.stage = {"pick": list(correction.choices), "back": state.field_name}, Stage.PICK
        else:
            state.pending, state.stage, state.field_name = None, Stage.FILL, correction.target
        return Step(state)

    def _pick_unclear(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        return Step(state, [replies.reply("pick_unclear")])

    def _ask_question(self, state: FormState, turn: Turn | None, intent: str) -> Step:
        return Step(state, effects=[AnswerQuestion(intent)])

    def _resume(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        return Step(state, [replies.reply("resume")])

    def _question_failed(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        return Step(state, [replies.reply("question_failed")])

    def _summary_check(self, state: FormState) -> bool:
        """A field still empty at the summary (the form changed): back to asking it."""
        if state.next_missing() is None:
            return False
        state.advance()
        return True

    def _file(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        if self._summary_check(state):
            return Step(state)
        state.stage = Stage.FILING
        return Step(state, effects=[FileDossier()])

    def _pick_any(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        if self._summary_check(state):
            return Step(state)
        state.pending, state.stage = {"pick": state.filled()}, Stage.PICK
        return Step(state)

    def _press_a_button(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        if self._summary_check(state):
            return Step(state)
        return Step(state, [replies.reply("press_a_button")])

    def _filed(self, state: FormState, turn: Turn | None, outcome: Mapping[str, Any]) -> Step:
        state.stage, state.outcome, state.pending, state.field_name = Stage.FILED, dict(outcome), None, None
        return Step(state)

    def _refused(self, state: FormState, turn: Turn | None, reason: str) -> Step:
        state.stage = Stage.SUMMARY
        buttons = replies.summary_buttons()[1:]
        return Step(state, [replies.reply("refused", buttons, reason=reason)])

    def _failed(self, state: FormState, turn: Turn | None, _: Any) -> Step:
        state.stage = Stage.SUMMARY
        return Step(state, [replies.reply("trouble", [replies.intent_button("request_human")])])


def _moves(handler: Handler, *to: Stage) -> Move:
    return Move(handler, frozenset(to))


_LIVE = (Stage.CHOOSE, Stage.FILL, Stage.CARD, Stage.CONFIRM, Stage.PICK, Stage.SUMMARY)
_ASKING = (Stage.FILL, Stage.SUMMARY)  # the stages after :meth:`FormState.advance`
D = FormDialogue

TRANSITIONS: dict[tuple[Stage, Event], Move] = {
    **{(stage, Event.CANCEL): _moves(D._cancel, Stage.CANCELLED) for stage in _LIVE},
    (Stage.CHOOSE, Event.ANSWER): _moves(D._choose, Stage.CHOOSE, Stage.FILL, Stage.SUMMARY),
    (Stage.CHOOSE, Event.QUESTION): _moves(D._ask_question, Stage.CHOOSE),
    (Stage.CHOOSE, Event.ANSWERED): _moves(D._resume, Stage.CHOOSE),
    (Stage.CHOOSE, Event.UNANSWERED): _moves(D._question_failed, Stage.CHOOSE),
    (Stage.FILL, Event.ANSWER): _moves(D._answer, *_ASKING, Stage.CONFIRM),
    (Stage.FILL, Event.SKIP): _moves(D._take, *_ASKING),
    (Stage.FILL, Event.CORRECT): _moves(D._correct, Stage.FILL, Stage.PICK),
    (Stage.FILL, Event.CARD): _moves(D._read_card, Stage.FILL, Stage.CARD),
    (Stage.FILL, Event.QUESTION): _moves(D._ask_question, Stage.FILL),
    (Stage.FILL, Event.ANSWERED): _moves(D._resume, Stage.FILL),
    (Stage.FILL, Event.UNANSWERED): _moves(D._question_failed, Stage.FILL),
    (Stage.CARD, Event.AFFIRM): _moves(D._fill_from_card, *_ASKING),
    (Stage.CARD, Event.DENY): _moves(D._decline_card, *_ASKING),
    (Stage.CONFIRM, Event.AFFIRM): _moves(D._accept_accents, *_ASKING, Stage.CONFIRM),
    (Stage.CONFIRM, Event.DENY): _moves(D._retype, Stage.FILL),
    (Stage.PICK, Event.CORRECT): _moves(D._correct, Stage.FILL, Stage.PICK),
    (Stage.PICK, Event.CARD): _moves(D._read_card, Stage.PICK, Stage.CARD),
    (Stage.SUMMARY, Event.AFFIRM): _moves(D._file, Stage.FILING, Stage.FILL),
    (Stage.SUMMARY, Event.DENY): _moves(D._pick_any, Stage.PICK, Stage.FILL),
    (Stage.SUMMARY, Event.CORRECT): _moves(D._correct, Stage.FILL, Stage.PICK),
    (Stage.SUMMARY, Event.CARD): _moves(D._read_card, Stage.SUMMARY, Stage.CARD),
    (Stage.SUMMARY, Event.QUESTION): _moves(D._ask_question, Stage.SUMMARY),
    (Stage.SUMMARY, Event.ANSWERED): _moves(D._resume, Stage.SUMMARY),
    (Stage.SUMMARY, Event.UNANSWERED): _moves(D._question_failed, Stage.SUMMARY),
    (Stage.FILING, Event.FILED): _moves(D._filed, Stage.FILED),
    (Stage.FILING, Event.REFUSED): _moves(D._refused, Stage.SUMMARY),
    (Stage.FILING, Event.FAILED): _moves(D._failed, Stage.SUMMARY),
}
"""``(stage, event)`` → the handler and the stages it may lead to."""

DEFAULTS: dict[Stage, Move] = {
    Stage.FILL: _moves(D._not_an_answer, *_ASKING),
    Stage.CARD: _moves(D._dismiss_card, *(s for s in Stage if s != Stage.CHOOSE)),
    Stage.CONFIRM: _moves(D._dismiss_accents, *(s for s in Stage if s != Stage.CHOOSE)),
    Stage.PICK: _moves(D._pick_unclear, Stage.PICK),
    Stage.SUMMARY: _moves(D._press_a_button, Stage.SUMMARY, Stage.FILL),
}
"""A stage's move for a message event its row of :data:`TRANSITIONS` does not name; CHOOSE, FILING and
the ended stages have none, and a report the table does not name is never defaulted: both raise
:class:`InvalidMove`."""
del D
