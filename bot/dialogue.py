"""The gateway's only road to Rasa: its REST webhook, with a deadline.

When Rasa (or the action server behind it) is down or slow, the citizen gets a
polite Vietnamese message within the deadline and the gateway keeps serving.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import httpx

from channels.base import BotMessage, Button, UserMessage

log = logging.getLogger(__name__)

BUSY_TEXT = (
    "Hệ thống đang bận, xin ông/bà vui lòng thử lại sau ít phút. "
    "Ông/bà cũng có thể lấy số thứ tự để được cán bộ hướng dẫn trực tiếp."
)
EMPTY_TEXT = (
    "Xin lỗi, tôi chưa trả lời được câu này. Ông/bà có thể hỏi lại bằng cách khác "
    "hoặc gặp cán bộ tại quầy."
)
BUSY_BUTTONS = (Button("Lấy số thứ tự", "/request_queue_number"), Button("Gặp cán bộ", "/request_human"))


@dataclass(frozen=True)
class DialogueReply:
    messages: list[BotMessage]
    outcome: str = ""  # "" (answered), "busy" (Rasa down/slow), "empty" (no answer)
    elapsed_ms: float = 0.0
    events: list[str] = field(default_factory=list)


class DialogueClient:
    """Posts user messages to Rasa's REST channel and returns the bot's messages."""

    def __init__(self, rasa_url: str, timeout_s: float = 1.8, client: httpx.AsyncClient | None = None,
                 token: str = ""):
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.rasa_url = rasa_url.rstrip("/")
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
        try:
            response = await self._client.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            raw = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("Rasa did not answer for %s: %r", message.sender_id, exc)
            return DialogueReply([BotMessage(BUSY_TEXT, BUSY_BUTTONS)], "busy", _ms(started))
        messages = [BotMessage.from_rasa(m) for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
        messages = [m for m in messages if m.text or m.buttons or m.image or m.custom]
        if not messages:
            # Rasa answers nothing when a custom action failed (e.g. action server down).
            return DialogueReply([BotMessage(EMPTY_TEXT, BUSY_BUTTONS)], "empty", _ms(started))
        return DialogueReply(messages, "", _ms(started))

    async def ping(self) -> dict[str, object]:
        """Rasa's own status: whether it is up and which model it serves."""
        started = time.perf_counter()
        try:
            response = await self._client.get(f"{self.rasa_url}/status", params=self._api_params, timeout=1.0)
            response.raise_for_status()
            data = response.json()
            return {"ok": bool(data.get("model_file")), "model": data.get("model_file", ""),
                    "latency_ms": _ms(started)}
        except (httpx.HTTPError, ValueError) as exc:
            return {"ok": False, "error": type(exc).__name__, "latency_ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
