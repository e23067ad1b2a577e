"""A choice typed as its number: «2» after «Ý ông/bà là thủ tục nào?» is the second button tapped.

Zalo and Telegram citizens, and people who do not trust a screen, often answer a list of buttons by
typing its number. Rasa reads a bare «2» as ``inform`` (any number the citizen types), which no rule
ties to the answering action; and no rule can (an answer «2» to a declaration's question, a dossier's
code, are ``inform`` too). So the gateway keeps, for each conversation, the payloads of the choices the
assistant just offered — procedures or articles (payloads ``/ask_…{…}``), the only lists whose buttons
are things to choose between — and when the next message is only a number among them («2», «số 2»,
«chọn 3», «thứ 2»), sends that button's payload instead, showing the citizen's own words in the log.
Anything else the citizen writes clears the choices.

The choices of a conversation are kept in Redis for :data:`KEPT_S` when the deployment has one (the next
message may reach another gateway process), and in this process's memory otherwise or when Redis does
not answer; a process keeps at most :data:`MAX_KEPT` conversations'.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from channels.base import BotMessage, UserMessage
from knowledge_base.text import choice_number

log = logging.getLogger(__name__)

KEPT_S = 3600
MAX_KEPT = 10_000
CHOICE_PAYLOAD = re.compile(r"^/ask_\w*\{")
"""The buttons that are choices: the answering action's procedures and articles (``/ask_fee{"procedure_code": …}``)."""


def offered_payloads(messages: Sequence[BotMessage]) -> list[str]:
    """The payloads of the choices the reply offers (two or more), else []."""
    for message in reversed(messages):
        payloads = [b.payload for b in message.buttons if CHOICE_PAYLOAD.match(b.payload)]
        if len(payloads) >= 2:
            return payloads
    return []


class TypedChoices:
    def __init__(self, redis: Any = None, prefix: str = ""):
        self.redis = redis  # a blocking client with a short timeout (motcua.bus.redis_client), or None
        self.prefix = f"{prefix}typed-choices:"
        self._kept: OrderedDict[str, list[str]] = OrderedDict()

    async def apply(self, message: UserMessage) -> UserMessage:
        """``message`` with a typed number among the offered choices replaced by that choice's payload."""
        number = choice_number(message.text)
        if number is None:
            return message
        payloads = await self._recall(message.sender_id)
        if not 1 <= number <= len(payloads):
            return message
        shown = message.metadata.get("display_text") or message.text
        return replace(message, text=payloads[number - 1], metadata={**message.metadata, "display_text": shown})

    async def remember(self, message: UserMessage, messages: Sequence[BotMessage]) -> None:
        """After a reply: keep the choices it offered, or forget earlier ones."""
        payloads = offered_payloads(messages)
        sender = message.sender_id
        if not payloads and sender not in self._kept and self.redis is None:
            return
        self._kept.pop(sender, None)
        if payloads:
            self._kept[sender] = payloads
            while len(self._kept) > MAX_KEPT:
                self._kept.popitem(last=False)
        if self.redis is not None:
            await asyncio.to_thread(self._store, sender, payloads)

    async def _recall(self, sender: str) -> list[str]:
        if self.redis is not None:
            try:
                raw = await asyncio.to_thread(self.redis.get, self.prefix + sender)
            except Exception:  # Redis slow or down: this process's memory
                log.warning("typed choices: Redis unavailable, using this process's memory", exc_info=True)
            else:
                return [str(p) for p in json.loads(raw)] if raw else []
        return self._kept.get(sender, [])

    def _store(self, sender: str, payloads: list[str]) -> None:
        try:
            if payloads:
                self.redis.set(self.prefix + sender, json.dumps(payloads), ex=KEPT_S)
            else:
                self.redis.delete(self.prefix + sender)
        except Exception:
            log.warning("typed choices: Redis unavailable, kept in this process only", exc_info=True)
