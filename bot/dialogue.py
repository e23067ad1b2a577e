"""The gateway's only road to Rasa: its REST webhook, with a deadline.

When Rasa (or the action server behind it) is down or slow, the citizen gets a
polite message (``gateway.busy`` in the message catalogue, in the citizen's language when
the channel knows it) within the deadline and the gateway keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from channels.base import BotMessage, Button, UserMessage
from knowledge_base.messages import render
from motcua.delivery import mask_recipient

log = logging.getLogger(__name__)

BUSY = "gateway.busy"
EMPTY = "gateway.empty"
"""Ids in the message catalogue: Rasa down or slow; Rasa answered nothing."""
BUSY_INTENTS = ("request_queue_number", "request_human")
"""The ways forward offered with either: a queue number, a person (titles ``button.<intent>``)."""


def busy_buttons(locale: str | None = None) -> tuple[Button, ...]:
    return tuple(Button(render(f"button.{intent}", locale=locale), f"/{intent}") for intent in BUSY_INTENTS)


def apology(key: str, locale: str | None = None) -> BotMessage:
    """The busy (``BUSY``) or empty (``EMPTY``) answer, with its buttons."""
    return BotMessage(render(key, locale=locale), busy_buttons(locale))


@dataclass(frozen=True)
class DialogueReply:
    messages: list[BotMessage]
    outcome: str = ""  # "" (answered), "busy" (Rasa down/slow), "empty" (no answer)
    elapsed_ms: float = 0.0
    events: list[str] = field(default_factory=list)


class DialogueClient:
    """Posts user messages to Rasa's REST channel and returns the bot's messages.

    With several Rasa servers (``rasa_url`` a list: the workers of ``motcua serve --workers N``) each
    message goes to the one with the fewest messages in flight from this process, the next in turn on a
    tie; consecutive messages of one citizen may land on different servers, which share the
    conversation through the tracker store and Rasa's Redis lock store."""

    def __init__(self, rasa_url: str | Sequence[str], timeout_s: float = 1.8,
                 client: httpx.AsyncClient | None = None, token: str = ""):
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        urls = [rasa_url] if isinstance(rasa_url, str) else list(rasa_url)
        if not urls:
            raise ValueError("at least one Rasa URL")
        self.rasa_urls = [url.rstrip("/") for url in urls]
        self.rasa_url = self.rasa_urls[0]
        self._in_flight = [0] * len(self.rasa_urls)
        self._turn = 0
        # Rasa's HTTP API (``/status``, ``/conversations``…) needs ``?token=`` (``rasa run --auth-token``);
        # its REST channel (``/webhooks/rest/webhook``) is not guarded by it.
        self._api_params = {"token": token} if token else {}
        self.timeout_s = timeout_s
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(0.5, timeout_s)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, message: UserMessage) -> DialogueReply:
        started = time.perf_counter()
        body = {"sender": message.sender_id, "message": message.text,
                "metadata": {"channel": message.channel, **message.metadata}}
        server = self._pick()
        self._in_flight[server] += 1
        try:
            response = await self._client.post(f"{self.rasa_urls[server]}/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            raw = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("Rasa did not answer for %s: %r", mask_recipient(message.sender_id), exc)
            return DialogueReply([apology(BUSY, message.locale)], "busy", _ms(started))
        finally:
            self._in_flight[server] -= 1
        messages = [BotMessage.from_rasa(m) for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
        messages = [m for m in messages if m.text or m.buttons or m.image or m.custom]
        if not messages:
            # Rasa answers nothing when a custom action failed (e.g. action server down).
            return DialogueReply([apology(EMPTY, message.locale)], "empty", _ms(started))
        return DialogueReply(messages, "", _ms(started))

    def _pick(self) -> int:
        """The server with the fewest messages in flight; ties go round in turn."""
        count = len(self.rasa_urls)
        if count == 1:
            return 0
        start = self._turn
        self._turn = (self._turn + 1) % count
        return min(range(count), key=lambda i: (self._in_flight[i], (i - start) % count))

    async def ping(self) -> dict[str, object]:
        """Rasa's own status: whether it is up and which model it serves (every server, when several:
        ok only when all are; ``servers`` then says how many answered)."""
        if len(self.rasa_urls) == 1:
            return await self._ping(self.rasa_url)
        started = time.perf_counter()
        each = await asyncio.gather(*(self._ping(url) for url in self.rasa_urls))
        up = [status for status in each if status["ok"]]
        summary: dict[str, object] = {"ok": len(up) == len(each), "model": up[0]["model"] if up else "",
                                      "servers": f"{len(up)}/{len(each)}", "latency_ms": _ms(started)}
        if len(up) < len(each):
            summary["error"] = next(str(s.get("error", "")) for s in each if not s["ok"])
        return summary

    async def _ping(self, url: str) -> dict[str, object]:
        started = time.perf_counter()
        try:
            response = await self._client.get(f"{url}/status", params=self._api_params, timeout=1.0)
            response.raise_for_status()
            data = response.json()
            return {"ok": bool(data.get("model_file")), "model": data.get("model_file", ""),
                    "latency_ms": _ms(started)}
        except (httpx.HTTPError, ValueError) as exc:
            return {"ok": False, "error": type(exc).__name__, "latency_ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
