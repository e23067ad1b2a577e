"""What every channel speaks: one user message in, a list of bot messages out.

A channel adapter turns one platform request into a :class:`UserMessage` and
sends :class:`BotMessage`s back, falling back to plain text where the platform
has no buttons. Channels know nothing of the database or of Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_TEXT_LENGTH = 2000
"""Longer citizen messages are cut: nobody types more at a kiosk, and it protects Rasa."""


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    text: str = ""
    buttons: tuple[Button, ...] = ()
    image: str = ""
    custom: dict[str, Any] | None = None

    @classmethod
    def from_rasa(cls, message: dict[str, Any]) -> BotMessage:
        """Build from one element of Rasa's REST webhook answer."""
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in message.get("buttons") or []
            if isinstance(b, dict)
        )
        custom = message.get("custom")
        return cls(
            text=str(message.get("text") or ""),
            buttons=buttons,
            image=str(message.get("image") or ""),
            custom=custom if isinstance(custom, dict) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.image:
            data["image"] = self.image
        if self.custom:
            data["custom"] = self.custom
        return data

    def as_plain_text(self) -> str:
        """For platforms without buttons: the text, then the choices numbered."""
        lines = [self.text] if self.text else []
        lines += [f"{i}. {b.title}" for i, b in enumerate(self.buttons, start=1)]
        return "\n".join(lines)


@dataclass(frozen=True)
class UserMessage:
    channel: str  # "kiosk", "web", "telegram", "zalo", "rest"
    sender_id: str  # unique per platform user, e.g. "telegram:12345"
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.channel:
            raise ValueError("UserMessage.channel must not be empty")
        if not self.sender_id:
            raise ValueError("UserMessage.sender_id must not be empty")


def clean_text(text: Any) -> str:
    """Text a citizen typed, made safe to pass on: a string, no control characters, bounded."""
    if not isinstance(text, str):
        return ""
    cleaned = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")
    return cleaned.strip()[:MAX_TEXT_LENGTH]


class OutputChannel(Protocol):
    """Sends the bot's messages to one recipient on one platform."""

    name: str

    async def send(self, recipient_id: str, messages: list[BotMessage]) -> None: ...
