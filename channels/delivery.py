"""What every push platform needs on the way in: each event once, each sender in order.

Telegram and Zalo deliver an event again when they think the first delivery failed
(a timeout, a non-2xx answer). :class:`RecentIds` remembers the ids seen lately — a
bounded in-memory LRU, no database — so a repeat is answered 200 and dropped.
:class:`SenderLocks` makes one citizen's messages reach the gateway in the order they
came, while different citizens are served at the same time. :func:`split_text` cuts a
reply to a platform's message length.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class RecentIds:
    """The last ``maxsize`` event ids; :meth:`seen` records an id and says if it was there."""

    def __init__(self, maxsize: int = 10_000):
        if maxsize <= 0:
            raise ValueError("maxsize must be positive")
        self.maxsize = maxsize
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return True
        self._ids[event_id] = None
        if len(self._ids) > self.maxsize:
            self._ids.popitem(last=False)
        return False

    def __contains__(self, event_id: object) -> bool:
        """Whether ``event_id`` was seen lately (records nothing)."""
        return event_id in self._ids

    def forget(self, event_id: str) -> None:
        """Let a later delivery through again (the first one could not be handled)."""
        self._ids.pop(event_id, None)

    def __len__(self) -> int:
        return len(self._ids)


class SenderLocks:
    """One lock per sender, created on demand and dropped when nobody holds or waits on it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, sender_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(sender_id, (asyncio.Lock(), 0))
        self._locks[sender_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[sender_id]
            if users <= 1:
                del self._locks[sender_id]
            else:
                self._locks[sender_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into pieces of at most ``limit`` characters, at line breaks when possible."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    chunks.append(text)
    return [c for c in chunks if c] or [""]
