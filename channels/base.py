"""What every channel speaks: one user message in, a list of bot messages out.

A channel adapter turns one platform request into :class:`Incoming` user messages
(:class:`WebhookChannel`) and sends :class:`BotMessage`s back (:class:`Channel`); what
the platform cannot show (buttons, images, long texts) is said in plain text by
:meth:`Capabilities.fit`. Channels know nothing of the database or of Rasa: the gateway
(``bot/``) asks Rasa, and ``channels.registry`` lists the channels a deployment has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from channels.delivery import split_text
from knowledge_base.messages import normalise_locale
from knowledge_base.text import clean_text as stored_text

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

    @property
    def locale(self) -> str:
        """The citizen's language when the channel knows it (``metadata["language"]``: Telegram's
        ``language_code``, a page's ``lang``), else Vietnamese; for :func:`knowledge_base.messages.render`."""
        return normalise_locale(self.metadata.get("language"))


def clean_text(text: Any) -> str:
    """Text a citizen typed, made safe to pass on: a string, no control characters, bounded."""
    if not isinstance(text, str):
        return ""
    text = stored_text(text)  # control characters between words become a space («lay so\x00chung thuc»)
    cleaned = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")
    return cleaned.strip()[:MAX_TEXT_LENGTH]


@dataclass(frozen=True)
class Capabilities:
    """What a platform can show; :meth:`fit` turns bot messages into what it can."""

    buttons: bool = True
    images: bool = True
    max_text: int = 0  # characters in one message; 0 = no limit

    def __post_init__(self) -> None:
        if self.max_text < 0:
            raise ValueError(f"max_text must be 0 (no limit) or positive, got {self.max_text}")

    def fit(self, messages: list[BotMessage]) -> list[BotMessage]:
        """Buttons as numbered lines, images as their address, long texts cut — where the platform needs it."""
        fitted: list[BotMessage] = []
        for message in messages:
            if message.buttons and not self.buttons:
                message = BotMessage(message.as_plain_text(), (), message.image, message.custom)
            if message.image and not self.images:
                text = "\n".join(t for t in (message.text, message.image) if t)
                message = BotMessage(text, message.buttons, "", message.custom)
            if self.max_text and len(message.text) > self.max_text:
                first, *rest = split_text(message.text, self.max_text)
                if rest:  # the picture with the first piece, the choices with the last
                    fitted.append(BotMessage(first, image=message.image))
                    fitted += [BotMessage(text) for text in rest[:-1]]
                    first, message = rest[-1], BotMessage("", message.buttons, "", message.custom)
                message = BotMessage(first, message.buttons, message.image, message.custom)
            fitted.append(message)
        return fitted


@dataclass(frozen=True)
class Incoming:
    """What one platform event asks of the gateway: a user message, or a fixed notice."""

    sender_id: str  # "telegram:12345": whom the answer goes to
    message: UserMessage | None = None  # for the gateway (and Rasa)
    notice: str = ""  # answered at once, without the gateway (a photo where only text is read)
    event_id: str = ""  # the platform's id for this event, so a redelivery is dropped; "" = none
    acknowledge: str = ""  # a platform token to acknowledge (Telegram's callback query id)

    def __post_init__(self) -> None:
        if not self.sender_id:
            raise ValueError("Incoming.sender_id must not be empty")
        if (self.message is None) == (not self.notice):
            raise ValueError("Incoming needs either a message or a notice")


@dataclass(frozen=True)
class WebhookRequest:
    """One platform request as the gateway received it, free of any web framework."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    received_at: float = 0.0  # seconds since the epoch, by the gateway's clock

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Refused(Exception):
    """A platform request the channel will not take: ``status`` and a short ``detail`` for the answer."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


@runtime_checkable
class Channel(Protocol):
    """Sends the bot's messages to one recipient on one platform.

    ``send`` returns True when the messages reached the platform or an open page, False
    when they were kept for a page that will come back; it raises when the platform
    refuses. The registry calls ``from_settings`` (a classmethod) to open the channel, or
    learns that the settings leave it off (``None``), and ``aclose`` at shutdown.
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    async def send(self, recipient_id: str, messages: list[BotMessage]) -> bool: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class WebhookChannel(Channel, Protocol):
    """A channel whose platform POSTs events to ``/webhooks/<name>`` (``bot/routes/webhooks.py``).

    ``verify`` raises :class:`Refused` for a request the platform did not send (a missing or
    forged signature, a replay); ``parse`` turns a verified request into what it asks
    (nothing for events that are not a citizen talking to us) and raises :class:`Refused`
    for a body it cannot read. ``answer`` shapes the JSON body the platform gets back.
    """

    title: ClassVar[str]  # for people: "Telegram", "Zalo OA"

    def verify(self, request: WebhookRequest) -> None: ...

    def parse(self, request: WebhookRequest) -> list[Incoming]: ...

    async def acknowledge(self, incoming: Incoming) -> None: ...

    @staticmethod
    def answer(status: int, detail: str) -> dict[str, Any]: ...


CLIENT_CUSTOM = frozenset({"queue_ticket", "queue_called", "handoff", "handoff_ack", "dossier_code",
                           "declaration_pdf", "due_date", "appointment", "appointment_date", "legal", "payment",
                           "staff"})
"""The keys of a bot message's ``custom`` a client (a REST client, the kiosk and widget pages) may draw: a
queue number's card, the handoff marks, a filed dossier's card, a legal citation, a fee's VietQR card, and
whether staff wrote it. Anything else — the answering move and its confidence, fallback marks, a handoff's
reason — is the system's own and stays inside; ``staff`` goes out only as ``true``, never the account."""
LEGAL_SHOWN = ("document", "article", "citation", "url", "in_force")


def for_client(message: BotMessage) -> dict[str, Any] | None:
    """What a client receives of one bot message; ``None`` when nothing of it is for a client
    (a custom message that only carried internal data)."""
    data = message.to_dict()
    custom = {key: value for key, value in (message.custom or {}).items()
              if key in CLIENT_CUSTOM and value is not None and value is not False}
    if "staff" in custom:
        custom["staff"] = True
    if isinstance(custom.get("legal"), dict):
        custom["legal"] = {key: custom["legal"][key] for key in LEGAL_SHOWN if key in custom["legal"]}
    data.pop("custom", None)
    if custom:
        data["custom"] = custom
    if not (message.text or message.buttons or message.image or set(custom) - {"staff"}):
        return None
    return data


def for_clients(messages: list[BotMessage]) -> list[dict[str, Any]]:
    return [shown for shown in map(for_client, messages) if shown is not None]
