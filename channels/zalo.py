"""The Zalo Official Account channel: OA webhook events in, consultation messages out.

Zalo OA Open API v3, spoken over an injected :class:`httpx.AsyncClient`:

- Webhook events (``POST /webhooks/zalo``, the generic flow of ``bot/routes/webhooks.py``)
  are signed: ``X-ZEvent-Signature: mac=<sha256 hex of app_id + raw body + timestamp +
  OA secret key>``, the timestamp being the body's ``timestamp`` field.
  :func:`verify_signature` checks it in constant time, and :func:`is_fresh` refuses an
  event more than five minutes old (a replay); :meth:`ZaloChannel.verify` does both.
- :func:`parse_event` turns ``user_send_text``, ``user_send_image`` and ``follow`` into an
  :class:`Incoming`; other events are ignored (the webhook still answers 200).
- :class:`ZaloClient` posts to ``/v3.0/oa/message/cs`` with the ``access_token`` header;
  when Zalo answers that the token expired (error -216) it refreshes it once through
  OAuth v4 (``/v4/oa/access_token``, ``grant_type=refresh_token``) and sends again.
  Refresh tokens are single-use, so the new pair is kept (in memory and in a token file).
- :class:`ZaloChannel` renders bot messages: text, and buttons as a ``template``
  attachment of ``oa.query.show`` buttons whose payload is the button's title — the
  citizen sees the words they chose, and the channel maps them back to Rasa's payload.
  Beyond five buttons the choices are also numbered in the text, and "1", "2"… work.

Identity: ``zalo:<user id>`` (the id Zalo gives the user for this OA).

Centre: a province runs one OA for every centre, and a Zalo link carries no payload; a centre's poster
says «nhắn /start <centre code>» (or its agency code), and that message greets the citizen and is handed to
the gateway as the chat's centre choice, as a Telegram centre link is (``bot/sender_centers.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

from channels.base import (
    BotMessage,
    Button,
    Capabilities,
    Incoming,
    Refused,
    UserMessage,
    WebhookRequest,
    clean_text,
)
from channels.delivery import split_text
from channels.registry import register
from knowledge_base.messages import render

log = logging.getLogger(__name__)

NAME = "zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
MAX_TEXT = 2000  # characters in one consultation message
MAX_BUTTONS = 5
EXPIRED_TOKEN_ERRORS = frozenset({-216, -124})  # "Access token is invalid" / "… has expired"

IMAGE_NOTICE = "channel.zalo.image"
UNSUPPORTED_NOTICE = "channel.zalo.text_only"
"""Ids in the message catalogue: a photo without a caption; a sticker, voice note, file…"""
UNSUPPORTED_USER_EVENTS = frozenset({
    "user_send_sticker", "user_send_gif", "user_send_audio", "user_send_video", "user_send_file",
    "user_send_location", "user_send_link", "user_send_business_card",
})


def sign(app_id: str, raw_body: bytes, timestamp: str, secret_key: str) -> str:
    digest = hashlib.sha256(app_id.encode() + raw_body + str(timestamp).encode() + secret_key.encode())
    return "mac=" + digest.hexdigest()


def verify_signature(app_id: str, secret_key: str, raw_body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature Zalo computes for this body."""
    if not header or not app_id or not secret_key:
        return False
    try:
        event = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(event, dict) or "timestamp" not in event:
        return False
    expected = sign(app_id, raw_body, str(event["timestamp"]), secret_key)
    return hmac.compare_digest(expected.encode(), header.strip().encode())


MAX_EVENT_AGE_S = 300.0
"""A signed event older than this (or this far in the future) is a replay, not a delivery."""


def is_fresh(event: Any, now_s: float, max_age_s: float = MAX_EVENT_AGE_S) -> bool:
    """True when the event's ``timestamp`` (milliseconds, as Zalo sends it) is within
    ``max_age_s`` of ``now_s``: a captured event cannot be replayed later."""
    try:
        sent_s = int(str(event["timestamp"])) / 1000.0
    except (KeyError, TypeError, ValueError):
        return False
    return abs(now_s - sent_s) <= max_age_s


def sender_id(user_id: str) -> str:
    return f"{NAME}:{user_id}"


def event_id(event: dict[str, Any]) -> str:
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    if message.get("msg_id"):
        return f"msg:{message['msg_id']}"
    user = _user_id(event)
    return f"{event.get('event_name')}:{user}:{event.get('timestamp')}"


def _user_id(event: dict[str, Any]) -> str:
    for key in ("sender", "follower", "user"):
        value = event.get(key)
        if isinstance(value, dict) and value.get("id"):
            return str(value["id"])
    return ""


CENTER_CHOICE = "center_choice"  # bot.sender_centers.CHOICE (channels never import the gateway)
_START = re.compile(r"^/start\s+(\S{1,64})\s*$", re.IGNORECASE)


def parse_event(event: Any, buttons: ButtonMemory | None = None) -> Incoming | None:
    """One webhook event → what to do; None for events that are not a citizen talking to us."""
    if not isinstance(event, dict):
        return None
    name = event.get("event_name")
    user = _user_id(event)
    if not user or not isinstance(name, str):
        return None
    eid = event_id(event)
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    meta: dict[str, Any] = {"zalo_event": name}
    if message.get("msg_id"):
        meta["zalo_msg_id"] = str(message["msg_id"])
    if name == "user_send_text":
        text = clean_text(message.get("text"))
        if not text:
            return Incoming(sender_id(user), notice=render(UNSUPPORTED_NOTICE), event_id=eid)
        start = _START.match(text)
        if start:  # «/start xa-an-binh» from the centre's poster: greet, and the gateway remembers the centre
            meta.update({CENTER_CHOICE: start[1], "display_text": "/start"})
            return Incoming(sender_id(user), UserMessage(NAME, sender_id(user), "/greet", meta), event_id=eid)
        payload = buttons.payload_for(user, text) if buttons is not None else None
        if payload:
            meta["display_text"] = text
        return Incoming(sender_id(user), UserMessage(NAME, sender_id(user), payload or text, meta), event_id=eid)
    if name == "user_send_image":
        caption = clean_text(message.get("text"))
        if caption:
            urls = [a.get("payload", {}).get("url") for a in message.get("attachments") or []
                    if isinstance(a, dict) and isinstance(a.get("payload"), dict)]
            meta["attachments"] = [u for u in urls if isinstance(u, str)]
            return Incoming(sender_id(user), UserMessage(NAME, sender_id(user), caption, meta), event_id=eid)
        return Incoming(sender_id(user), notice=render(IMAGE_NOTICE), event_id=eid)
    if name == "follow":
        return Incoming(sender_id(user), UserMessage(NAME, sender_id(user), "/greet", meta), event_id=eid)
    if name in UNSUPPORTED_USER_EVENTS:
        return Incoming(sender_id(user), notice=render(UNSUPPORTED_NOTICE), event_id=eid)
    return None  # unfollow, oa_send_* echoes of our own messages, anything new: ignored


class ButtonMemory:
    """The buttons each user was offered lately: the title they send back → Rasa's payload."""

    def __init__(self, max_users: int = 20_000, per_user: int = 20):
        self.max_users = max_users
        self.per_user = per_user
        self._users: OrderedDict[str, tuple[dict[str, str], dict[str, str]]] = OrderedDict()

    def remember(self, user_id: str, buttons: tuple[Button, ...]) -> None:
        titles, _numbers = self._users.pop(user_id, ({}, {}))
        for button in buttons:
            titles[_key(button.title)] = button.payload
        while len(titles) > self.per_user:
            titles.pop(next(iter(titles)))
        numbers = {str(i): b.payload for i, b in enumerate(buttons, start=1)}
        self._users[user_id] = (titles, numbers)
        if len(self._users) > self.max_users:
            self._users.popitem(last=False)

    def payload_for(self, user_id: str, text: str) -> str | None:
        entry = self._users.get(user_id)
        if entry is None:
            return None
        titles, numbers = entry
        return titles.get(_key(text)) or numbers.get(text.strip().rstrip("."))


def _key(title: str) -> str:
    return " ".join(title.casefold().split())


# --- the OA API client ------------------------------------------------------------------


class ZaloApiError(RuntimeError):
    def __init__(self, code: int, message: str):
        super().__init__(f"Zalo API error {code}: {message}")
        self.code = code


@dataclass
class ZaloTokens:
    access_token: str
    refresh_token: str
    expires_at: float = 0.0  # epoch seconds; 0 = unknown


class TokenStore:
    """Keeps the OA tokens: in memory, and in a JSON file (mode 600) when given a path."""

    def __init__(self, tokens: ZaloTokens, path: Path | None = None):
        self.path = path
        self.tokens = tokens
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.tokens = ZaloTokens(str(data["access_token"]), str(data["refresh_token"]),
                                         float(data.get("expires_at") or 0))
            except (ValueError, KeyError, OSError) as exc:
                log.warning("ignoring unreadable Zalo token file %s: %r", path, exc)

    def save(self, tokens: ZaloTokens) -> None:
        self.tokens = tokens
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(tokens.__dict__, handle)
            os.replace(tmp, self.path)
        except OSError as exc:  # the tokens still live in memory
            log.error("could not write Zalo token file %s: %r", self.path, exc)


@dataclass
class ZaloClient:
    """The few OA API calls we make; the httpx client is injected (closed by its owner)."""

    http: httpx.AsyncClient
    app_id: str
    app_secret: str
    tokens: TokenStore
    api_url: str = "https://openapi.zalo.me"
    oauth_url: str = "https://oauth.zaloapp.com"
    _refresh_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def send_message(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """POST one consultation message; refresh the token once if Zalo says it expired."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        token = self.tokens.tokens.access_token
        if self.tokens.tokens.expires_at and time.time() > self.tokens.tokens.expires_at - 60:
            token = await self.refresh(token)
        answer = await self._post_cs(body, token)
        if answer.get("error") in EXPIRED_TOKEN_ERRORS:
            token = await self.refresh(token)
            answer = await self._post_cs(body, token)
        if answer.get("error", 0) != 0:
            raise ZaloApiError(int(answer.get("error", -1)), str(answer.get("message", "")))
        return answer.get("data") or {}

    async def _post_cs(self, body: dict[str, Any], token: str) -> dict[str, Any]:
        response = await self.http.post(f"{self.api_url.rstrip('/')}/v3.0/oa/message/cs", json=body,
                                        headers={"access_token": token})
        try:
            answer = response.json()
        except ValueError as exc:
            raise ZaloApiError(response.status_code, "answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise ZaloApiError(response.status_code, "unexpected answer")
        return answer

    async def refresh(self, stale_token: str) -> str:
        """Get a new access token (once, however many sends noticed the expiry at the same time)."""
        async with self._refresh_lock:
            current = self.tokens.tokens
            if current.access_token != stale_token:
                return current.access_token  # another task refreshed meanwhile
            response = await self.http.post(
                f"{self.oauth_url.rstrip('/')}/v4/oa/access_token",
                headers={"secret_key": self.app_secret},
                data={"refresh_token": current.refresh_token, "app_id": self.app_id,
                      "grant_type": "refresh_token"},
            )
            try:
                answer = response.json()
            except ValueError as exc:
                raise ZaloApiError(response.status_code, "token answer is not JSON") from exc
            if not isinstance(answer, dict) or not answer.get("access_token"):
                detail = answer if not isinstance(answer, dict) else (
                    answer.get("error_description") or answer.get("error_name") or answer.get("message") or answer)
                code = answer.get("error", -1) if isinstance(answer, dict) else -1
                raise ZaloApiError(int(code), f"could not refresh the access token: {detail}")
            expires_in = float(answer.get("expires_in") or 0)
            self.tokens.save(ZaloTokens(str(answer["access_token"]),
                                        str(answer.get("refresh_token") or current.refresh_token),
                                        time.time() + expires_in if expires_in else 0.0))
            log.info("Zalo access token refreshed")
            return self.tokens.tokens.access_token


@register
@dataclass
class ZaloChannel:
    """Verifies and parses OA webhook events; renders bot messages and sends them through a :class:`ZaloClient`."""

    name: ClassVar[str] = NAME
    title: ClassVar[str] = "Zalo OA"
    capabilities: ClassVar[Capabilities] = Capabilities(buttons=True, images=True, max_text=MAX_TEXT)

    client: ZaloClient | None
    buttons: ButtonMemory = field(default_factory=ButtonMemory)
    app_id: str = ""
    oa_secret_key: str = ""  # signs the webhook events; empty = every event refused
    owns_http: bool = False  # close the client's httpx client with the channel

    @classmethod
    def from_settings(cls, settings, shared=None) -> ZaloChannel | None:
        """On when ``MOTCUA_ZALO_APP_ID`` is set."""
        if not settings.zalo_app_id:
            return None
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        tokens = TokenStore(ZaloTokens(settings.zalo_access_token, settings.zalo_refresh_token),
                            settings.zalo_token_path)
        client = ZaloClient(http, settings.zalo_app_id, settings.zalo_app_secret, tokens,
                            settings.zalo_api_url, settings.zalo_oauth_url)
        return cls(client, app_id=settings.zalo_app_id, oa_secret_key=settings.zalo_oa_secret_key, owns_http=True)

    def verify(self, request: WebhookRequest) -> None:
        header = request.header(SIGNATURE_HEADER)
        if not header:
            raise Refused(401, "Thiếu chữ ký.")  # staff-facing: Zalo's server
        if not verify_signature(self.app_id, self.oa_secret_key, request.body, header):
            raise Refused(403, "Chữ ký không đúng.")  # staff-facing: Zalo's server
        event = json.loads(request.body)  # verify_signature has parsed it once already
        if isinstance(event, dict) and str(event.get("app_id", self.app_id)) != self.app_id:
            raise Refused(403, "Sai ứng dụng.")  # staff-facing: Zalo's server
        if not is_fresh(event, request.received_at):
            raise Refused(403, "Sự kiện đã quá hạn (quá 5 phút).")  # staff-facing: Zalo's server

    def parse(self, request: WebhookRequest) -> list[Incoming]:
        incoming = self.read_event(json.loads(request.body))
        return [incoming] if incoming is not None else []

    @staticmethod
    def answer(status: int, detail: str) -> dict[str, Any]:
        return {"error": 0 if status == 200 else status, "message": detail}

    async def acknowledge(self, incoming: Incoming) -> None:
        return None  # Zalo needs nothing beyond the 200

    async def aclose(self) -> None:
        if self.owns_http and self.client is not None:
            await self.client.http.aclose()

    def read_event(self, event: Any) -> Incoming | None:
        return parse_event(event, self.buttons)

    async def send(self, recipient_id: str, messages: list[BotMessage]) -> bool:
        if self.client is None:
            raise RuntimeError("this Zalo channel has no OA client to send with")
        user_id = str(recipient_id).removeprefix(f"{NAME}:")
        for message in messages:
            for body in self.render(user_id, message):
                await self.client.send_message(user_id, body)
        return True

    def render(self, user_id: str, message: BotMessage) -> list[dict[str, Any]]:
        """One bot message → the ``message`` objects of consultation requests."""
        bodies: list[dict[str, Any]] = []
        if message.image:
            bodies.append({"attachment": {"type": "template", "payload": {
                "template_type": "media", "elements": [{"media_type": "image", "url": message.image}]}}})
        text = message.text
        if len(message.buttons) > MAX_BUTTONS:
            text = message.as_plain_text() + "\n" + render("channel.zalo.answer_by_number")
        if not text and not message.buttons:
            return bodies
        chunks = split_text(text or render("channel.choose"), MAX_TEXT)
        bodies += [{"text": chunk} for chunk in chunks]
        if message.buttons:
            self.buttons.remember(user_id, message.buttons)
            bodies[-1]["attachment"] = {"type": "template", "payload": {"buttons": [
                {"title": b.title[:100], "payload": b.title[:1000], "type": "oa.query.show"}
                for b in message.buttons[:MAX_BUTTONS]]}}
        return bodies
