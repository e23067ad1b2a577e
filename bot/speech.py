"""The kiosk's read-out: recent syntheses and the limits on making new ones."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from bot.ratelimit import TokenBuckets


class SpeechCache:
    """Recent syntheses (the same greeting is read many times a day), bounded."""

    def __init__(self, maxsize: int = 64):
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self.running = asyncio.Semaphore(2)  # two espeak-ng processes at most on a small machine
        self.limits = TokenBuckets.per_minute(60, 20)

    def get(self, key: tuple[str, str]) -> bytes | None:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: tuple[str, str], wav: bytes) -> None:
        self._items[key] = wav
        if len(self._items) > self.maxsize:
            self._items.popitem(last=False)
