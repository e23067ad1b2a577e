"""The Telegram channel: Bot API updates in, messages with inline keyboards out.

Webhook mode inside the gateway (``POST /webhooks/telegram``, the generic flow of
``bot/routes/webhooks.py``): Telegram POSTs each :class:`telegram.Update` to us with the
``X-Telegram-Bot-Api-Secret-Token`` header we registered with :func:`set_webhook`. The
python-telegram-bot :class:`telegram.Bot` is injected — in tests it points at a local
fake Bot API server (``Bot(token, base_url=...)``).

- :meth:`TelegramChannel.verify` checks the secret header (401 missing, 403 wrong).
- :meth:`TelegramChannel.read_update` turns one update into one :class:`Incoming`
  (a :class:`UserMessage` for the gateway, or a fixed notice, or nothing).
- :meth:`TelegramChannel.send` sends the bot's messages; buttons become an inline
  keyboard whose ``callback_data`` is the button's payload, so a press comes back as a
  ``callback_query`` carrying exactly what Rasa expects (``/request_queue_number``).

Identity: ``telegram:<chat id>``, so a conversation continues where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from channels.base import BotMessage, Capabilities, Incoming, Refused, UserMessage, WebhookRequest, clean_text
from channels.registry import register
from knowledge_base.messages import render
from motcua.dossier_code import find_dossier_codes

log = logging.getLogger(__name__)

NAME = "telegram"
MAX_TEXT = 4096  # Bot API limit for one message
MAX_CALLBACK_DATA = 64  # bytes, Bot API limit for callback_data
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

NOT_TEXT_NOTICE = "channel.telegram.text_only"
EXPIRED_CHOICE_NOTICE = "channel.telegram.expired_choice"
CHOOSE_TEXT = "channel.choose"
CENTER_CHOICE = "center_choice"  # bot.sender_centers.CHOICE (channels never import the gateway)
"""Ids in the message catalogue: a message without text, a forgotten button, buttons without a text."""

COMMANDS: dict[str, str] = {
    "start": "/greet",
    "help": "/help",
    "laysothutu": "/request_queue_number",
    "tracuu": "/check_dossier_status",
}
"""Telegram commands and the Rasa intent each one stands for."""



def command_menu(locale: str | None = None) -> list[BotCommand]:
    """The menu Telegram shows under «/»: each command with its description from the catalogue."""
    return [BotCommand(name, render(f"channel.telegram.command.{name}", locale=locale)) for name in COMMANDS]


def sender_id(chat_id: int | str) -> str:
    return f"{NAME}:{chat_id}"


def command_to_text(text: str) -> str | None:
    """``/tracuu 000.00.04.H51-200221-0001`` → Rasa's ``/check_dossier_status{...}``; None if no command."""
    match = re.match(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", text, re.DOTALL)
    if not match:
        return None
    name, argument = match[1].lower(), (match[2] or "").strip()
    intent = COMMANDS.get(name)
    if intent is None:
        # An unknown command: let the NLU read the words.
        return clean_text(f"{name} {argument}".replace("_", " ")) or None
    if name == "tracuu" and argument:
        codes = find_dossier_codes(argument)
        code = str(codes[0]) if codes else clean_text(argument)[:64]
        return f"{intent}{json.dumps({'dossier_code': code}, ensure_ascii=False)}"
    return intent


class CallbackPayloads:
    """Payloads too long for ``callback_data`` (64 bytes) kept under a short key, bounded."""

    PREFIX = "p:"

    def __init__(self, maxsize: int = 10_000):
        self.maxsize = maxsize
        self._data: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK_DATA and not payload.startswith(self.PREFIX):
            return payload
        key = self.PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:24]
        self._data[key] = payload
        self._data.move_to_end(key)
        if len(self._data) > self.maxsize:
            self._data.popitem(last=False)
        return key

    def decode(self, data: str) -> str | None:
        if data.startswith(self.PREFIX):
            return self._data.get(data)
        return data


@register
@dataclass
class TelegramChannel:
    """Verify, parse and answer Bot API updates through an injected :class:`telegram.Bot`."""

    name: ClassVar[str] = NAME
    title: ClassVar[str] = "Telegram"
    capabilities: ClassVar[Capabilities] = Capabilities(buttons=True, images=True, max_text=MAX_TEXT)

    bot: Bot
    payloads: CallbackPayloads = field(default_factory=CallbackPayloads)
    secret_token: str = ""  # what the webhook must carry in SECRET_HEADER; empty = every update refused

    @classmethod
    def from_settings(cls, settings, shared=None) -> TelegramChannel | None:
        """On when ``MOTCUA_TELEGRAM_TOKEN`` is set."""
        if not settings.telegram_token:
            return None
        return cls(make_bot(settings.telegram_token, settings.telegram_api_url),
                   secret_token=settings.telegram_secret_token)

    def verify(self, request: WebhookRequest) -> None:
        given = request.header(SECRET_HEADER)
        if not given:
            raise Refused(401, "Thiếu mã bí mật.")  # staff-facing: Telegram's server
        if not self.secret_token or not hmac.compare_digest(given.encode(), self.secret_token.encode()):
            raise Refused(403, "Mã bí mật không đúng.")  # staff-facing: Telegram's server

    def parse(self, request: WebhookRequest) -> list[Incoming]:
        try:
            data = json.loads(request.body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.bot)
        except Exception as exc:  # junk from someone who knows the secret: answered, never crashed on
            log.warning("unreadable Telegram update: %r", exc)
            raise Refused(400, "Không đọc được nội dung.") from exc  # staff-facing: Telegram's server
        incoming = self.read_update(update)
        return [incoming] if incoming is not None else []

    @staticmethod
    def answer(status: int, detail: str) -> dict[str, Any]:
        return {"ok": 200 <= status < 300, "detail": detail}

    async def acknowledge(self, incoming: Incoming) -> None:
        """A pressed button spins until its callback query is answered."""
        if incoming.acknowledge:
            await self.answer_callback(incoming.acknowledge)

    async def aclose(self) -> None:
        await self.bot.shutdown()

    def read_update(self, update: Update) -> Incoming | None:
        """One update → what it asks; None for updates that are not a citizen writing to us."""
        if update.callback_query is not None:
            return self._read_callback(update)
        message = update.message
        if message is None:  # edited messages, channel posts, member changes…: not for us
            return None
        chat_id = message.chat.id
        event = str(update.update_id)
        language = message.from_user.language_code if message.from_user is not None else None
        meta: dict[str, Any] = {"telegram_message_id": message.message_id}
        if language:
            meta["language"] = language
        not_text = render(NOT_TEXT_NOTICE, locale=language)
        raw = message.text if message.text is not None else message.caption
        text = clean_text(raw)
        if not text:
            return Incoming(sender_id(chat_id), notice=not_text, event_id=event)
        if text.startswith("/"):
            command = command_to_text(text)
            if not command:
                return Incoming(sender_id(chat_id), notice=not_text, event_id=event)
            start = re.match(r"^/start(?:@\w+)?\s+(\S{1,64})\s*$", text, re.IGNORECASE)
            if start:  # a centre's link, t.me/<bot>?start=<centre>: the gateway remembers it for this chat
                meta[CENTER_CHOICE] = start[1]
            return Incoming(sender_id(chat_id), UserMessage(NAME, sender_id(chat_id), command,
                                                            {**meta, "display_text": "/start" if start else text}),
                            event_id=event)
        return Incoming(sender_id(chat_id), UserMessage(NAME, sender_id(chat_id), text, meta), event_id=event)

    def _read_callback(self, update: Update) -> Incoming:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        chat_id = chat.id if chat is not None else query.from_user.id
        data = query.data or ""
        title = _button_title(query, data)
        payload = clean_text(self.payloads.decode(data) or "")
        if not payload and title:
            payload = clean_text(title)  # the key was forgotten (restart): the title still reads well
        event = str(update.update_id)
        language = query.from_user.language_code
        if not payload:
            expired = render(EXPIRED_CHOICE_NOTICE, locale=language)
            return Incoming(sender_id(chat_id), notice=expired, event_id=event, acknowledge=query.id)
        meta: dict[str, Any] = {"display_text": clean_text(title) or payload}
        if language:
            meta["language"] = language
        message = UserMessage(NAME, sender_id(chat_id), payload, meta)
        return Incoming(sender_id(chat_id), message, event_id=event, acknowledge=query.id)

    async def send(self, recipient_id: str | int, messages: list[BotMessage]) -> bool:
        chat_id = int(str(recipient_id).removeprefix(f"{NAME}:"))
        for message in self.capabilities.fit(messages):  # texts over the Bot API limit in pieces
            if message.image:
                await self.bot.send_photo(chat_id, photo=message.image)
            text = message.text or (render(CHOOSE_TEXT) if message.buttons else "")
            if text:
                await self.bot.send_message(chat_id, text, reply_markup=self.keyboard(message))
        return True

    async def answer_callback(self, callback_query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(callback_query_id)
        except TelegramError as exc:  # too late (>15 s) or already answered: harmless
            log.info("could not answer callback %s: %r", callback_query_id, exc)

    def keyboard(self, message: BotMessage) -> InlineKeyboardMarkup | None:
        if not message.buttons:
            return None
        buttons = [InlineKeyboardButton(b.title[:64] or "…", callback_data=self.payloads.encode(b.payload or b.title))
                   for b in message.buttons]
        per_row = 2 if all(len(b.title) <= 18 for b in message.buttons) else 1
        return InlineKeyboardMarkup([buttons[i:i + per_row] for i in range(0, len(buttons), per_row)])


def _button_title(query, data: str) -> str:
    """The title of the pressed button, read from the keyboard of the message it sits under."""
    markup = getattr(query.message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return ""


def make_bot(token: str, api_url: str = "https://api.telegram.org") -> Bot:
    """The Bot API client; ``api_url`` is the server's root (a local fake in tests)."""
    if not token:
        raise ValueError("a Telegram bot token is needed")
    return Bot(token, base_url=f"{api_url.rstrip('/')}/bot", base_file_url=f"{api_url.rstrip('/')}/file/bot")


async def set_webhook(bot: Bot, url: str, secret_token: str, *, drop_pending_updates: bool = False) -> bool:
    """Tell Telegram where to POST updates, with the secret it must send back; set the command menu."""
    if not url.startswith("https://"):
        raise ValueError("Địa chỉ webhook phải bắt đầu bằng https:// (Telegram chỉ gửi tới HTTPS).")  # staff-facing: admin CLI
    if not SECRET_TOKEN_PATTERN.match(secret_token or ""):
        raise ValueError("MOTCUA_TELEGRAM_SECRET_TOKEN phải có 1–256 ký tự A-Z, a-z, 0-9, _ hoặc -.")  # staff-facing: admin CLI
    ok = await bot.set_webhook(url=url, secret_token=secret_token, allowed_updates=ALLOWED_UPDATES,
                               drop_pending_updates=drop_pending_updates, max_connections=40)
    await bot.set_my_commands(command_menu())
    return bool(ok)


def set_webhook_command(settings, url: str | None = None, *, drop_pending_updates: bool = False) -> str:
    """For ``motcua telegram set-webhook [URL]``: register the webhook, return a sentence to print.

    ``url`` defaults to ``settings.telegram_webhook_url``. Raises :class:`ValueError`
    with a Vietnamese message when something is missing or Telegram refuses.
    """
    url = url or settings.telegram_webhook_url
    if not settings.telegram_token:
        raise ValueError("Chưa đặt MOTCUA_TELEGRAM_TOKEN (mã bot lấy từ @BotFather).")  # staff-facing: admin CLI
    if not url:
        raise ValueError("Chưa có địa chỉ webhook: truyền URL hoặc đặt MOTCUA_TELEGRAM_WEBHOOK_URL "  # staff-facing: admin CLI
                         "(ví dụ https://motcua.example.gov.vn/webhooks/telegram).")

    async def run() -> bool:
        bot = make_bot(settings.telegram_token, settings.telegram_api_url)
        async with bot:
            return await set_webhook(bot, url, settings.telegram_secret_token,
                                     drop_pending_updates=drop_pending_updates)

    try:
        ok = asyncio.run(run())
    except TelegramError as exc:
        raise ValueError(f"Telegram từ chối: {exc}") from exc  # staff-facing: admin CLI
    if not ok:
        raise ValueError("Telegram không nhận webhook.")  # staff-facing: admin CLI
    return f"✓ Đã đăng ký webhook Telegram: {url}"  # staff-facing: admin CLI
