"""What the form dialogue says: replies as message ids from the catalogue (``knowledge_base/locale``),
with the values of a form read back as the citizen should see them (identity-card and phone numbers masked).

Plain Python; a channel adapter turns a :class:`Reply` into its own message (text and buttons).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from knowledge_base.forms import FormDefinition, FormField, format_value
from knowledge_base.messages import Message
from motcua.declaration import summarize_values
from motcua.privacy import mask_number

__all__ = ["MASKED_TYPES", "Button", "Reply", "accent_question", "button", "card_question", "field_question", "field_title", "filed",
           "intent_button", "intro", "readings_question", "reply", "shown_value", "shown_values", "summary",
           "summary_buttons", "which_field"]


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message to the citizen: lines from the catalogue, buttons, and data for the channel."""

    lines: tuple[Message, ...]
    buttons: tuple[Button, ...] = ()
    custom: Mapping[str, Any] | None = None

    @property
    def text(self) -> str:
        return "\n".join(line.text() for line in self.lines)


def reply(key: str, buttons: Iterable[Button] = (), **params: Any) -> Reply:
    """A one-line reply: the message ``form.<key>``."""
    return Reply((Message(f"form.{key}", params),), tuple(buttons))


def button(key: str, payload: str) -> Button:
    """A button titled from the catalogue (``form.button.<key>``)."""
    return Button(Message(f"form.button.{key}").text(), payload)


def intent_button(intent: str) -> Button:
    """A button sending a bare intent, with the label it has everywhere (``button.<intent>``)."""
    return Button(Message(f"button.{intent}").text(), f"/{intent}")


def skip_button() -> Button:
    """«Bỏ qua»: it sends its own title, which the dialogue reads as a skip (:meth:`FallbackWords.skip`)."""
    title = Message("form.button.skip").text()
    return Button(title, title)


MASKED_TYPES = frozenset({"cccd", "phone"})
"""Fields read back masked (``*********345``): the assistant's messages are logged and shown on a kiosk
screen others can see; the citizen recognises the last digits, the filed dossier keeps the full number."""


def shown_value(item: FormField, value: Any) -> str:
    """A value as read back to the citizen: formatted, with identity-card and phone numbers masked;
    an optional field left empty reads «(bỏ trống)»."""
    text = format_value(item, value)
    if not text:
        return Message("form.empty_value").text()
    return mask_number(text) if item.type in MASKED_TYPES else text


def shown_values(form: FormDefinition, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with the identity-card and phone numbers masked, for the read-back summary."""
    masked = {item.name for item in form.fields if item.type in MASKED_TYPES}
    return {name: shown_value(form.field(name), value) if name in masked and value else value
            for name, value in values.items()}


def field_title(item: FormField) -> str:
    """A field's label with its section, for buttons and summaries: «Dân tộc (Thông tin người mẹ)»."""
    return f"{item.label} ({item.section})" if item.section and item.section.lower() not in item.label.lower() \
        else item.label


def intro(form: FormDefinition) -> Reply:
    lines = [Message("form.intro", {"title": form.title, "total": len(form.fields),
                                    "required": len(form.required_fields)})]
    if form.description:
        lines.append(Message("form.intro_description", {"description": form.description}))
    lines.append(Message("form.intro_help"))
    if form.persons:
        lines.append(Message("form.intro_card"))
    return Reply(tuple(lines))


def field_question(form: FormDefinition, item: FormField, values: Mapping[str, Any]) -> Reply:
    """The question for one field: where it is in the form, the hint, what is declared now, the choices."""
    position = form.field_names.index(item.name) + 1
    lines = [Message("form.question", {"section": item.section, "position": position, "total": len(form.fields),
                                       "prompt": item.prompt})]
    if item.help:
        lines.append(Message("form.question_hint", {"help": item.help}))
    if item.name in values:
        lines.append(Message("form.question_current", {"value": shown_value(item, values[item.name])}))
    buttons = [Button(c, c) for c in item.choices]
    if not item.required:
        lines.append(Message("form.question_optional"))
        buttons.append(skip_button())
    return Reply(tuple(lines), tuple(buttons))


def card_question(form: FormDefinition, pending: Mapping[str, Any]) -> Reply:
    """The values read from an identity card, masked, and whether to fill them in."""
    lines = [Message("form.card_read", {"holder": pending.get("holder", ""), "section": pending.get("section", "")})]
    for name, value in (pending.get("card") or {}).items():
        item = form.field(name)
        lines.append(Message("form.card_line", {"label": item.label, "value": shown_value(item, value)}))
    lines.append(Message("form.card_confirm"))
    return Reply(tuple(lines), (button("agree", "/affirm"), button("disagree", "/deny")))


def accent_question(accented: str) -> Reply:
    """«Có phải là «Nguyễn Minh An» không ạ?» — an answer typed without diacritics, written with them."""
    return reply("accents_check", (button("accents_right", "/affirm"), button("accents_retype", "/deny")),
                 value=accented)


def readings_question(typed: str, readings: Sequence[str]) -> Reply:
    """«Ông/bà viết có dấu thế nào ạ?» with a button for each reading, which sends the reading itself, and
    «Giữ nguyên như tôi gõ», which sends the answer as typed: the form knows both without the NLU."""
    buttons = [Button(r, r) for r in readings]
    return reply("accents_choose", [*buttons, Button(Message("form.button.accents_keep").text(), typed)],
                 value=typed)


def summary_buttons() -> list[Button]:
    return [button("file", "/affirm"), button("correct", "/correct_field"), button("cancel", "/cancel")]


def summary(form: FormDefinition, values: Mapping[str, Any]) -> Reply:
    return reply("summary", summary_buttons(), summary=summarize_values(form, shown_values(form, values)))


def which_field(form: FormDefinition, names: Sequence[str]) -> Reply:
    return reply("which_field", [Button(field_title(form.field(n)), f'/correct_field{{"form_field": "{n}"}}')
                                 for n in names if n in form.field_names])


def filed(outcome: Mapping[str, Any]) -> Reply:
    """The dossier code, due date and lookup code (the service's confirmation), and the PDF link."""
    custom = {"dossier_code": outcome.get("code"), "declaration_pdf": outcome.get("url")}
    if outcome.get("due_date"):  # the kiosk's dossier card shows the appointment date
        custom["due_date"] = outcome["due_date"]
    return Reply((Message("form.filed", {"confirmation": outcome.get("text", ""), "url": outcome.get("url", "")}),),
                 custom=custom)
