"""Pages that hold a socket open (the web widget, the kiosk): notices wait for them in a :class:`PushHub`.

A web widget or kiosk session has no platform API to call: a notice for ``web:<session>``
is handed to the open page at once, or kept until the page reconnects. The widget
(``channels/web.py``) and the kiosk (``channels/kiosk.py``) register a
:class:`SessionChannel` each; their sockets (``bot/routes/widget.py``,
``bot/routes/kiosk.py``) subscribe to the hub.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, ClassVar

from channels.base import BotMessage, Capabilities

log = logging.getLogger(__name__)


class PushHub:
    """Items for keys (``web:<session>``, ``device:<id>``): live subscribers, and pending ones.

    With ``keep_pending`` an item published while nobody listens waits (at most
    ``max_pending`` per key, ``ttl_s`` seconds, ``max_keys`` keys) and is handed over by
    :meth:`drain` when the page comes back.

    With a ``bus`` (:class:`motcua.bus.RedisBus`, several gateway processes) an item is published
    through Redis and reaches the subscriber on whichever gateway its page is open; ``encode`` /
    ``decode`` turn items into JSON and back, and pending items wait in Redis. Without one, all of it
    stays in this process's memory.
    """

    def __init__(self, keep_pending: bool = True, max_pending: int = 20, max_keys: int = 10_000,
                 ttl_s: float = 24 * 3600, *, bus: Any = None, name: str = "push",
                 encode: Callable[[Any], Any] = lambda item: item, decode: Callable[[Any], Any] = lambda item: item):
        self.keep_pending = keep_pending
        self.max_pending = max_pending
        self.max_keys = max_keys
        self.ttl_s = ttl_s
        self.bus = bus
        self.name = name
        self.encode = encode
        self.decode = decode
        self._subscribers: dict[str, set[asyncio.Queue[Any]]] = {}
        self._relays: dict[str, Callable[[Any], None]] = {}
        self._pending: OrderedDict[str, deque[tuple[float, Any]]] = OrderedDict()

    def _channel(self, key: str) -> str:
        return f"{self.name}:{key}"

    async def subscribe(self, key: str) -> asyncio.Queue[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=100)
        first = key not in self._subscribers
        self._subscribers.setdefault(key, set()).add(queue)
        if self.bus is not None and first:
            def relay(item: Any, key: str = key) -> None:
                self._hand_over(key, self.decode(item))

            self._relays[key] = relay
            try:
                await self.bus.subscribe(self._channel(key), relay)
            except Exception:  # Redis away: undo, so the page's next try subscribes again
                self._relays.pop(key, None)
                self._subscribers.get(key, set()).discard(queue)
                if not self._subscribers.get(key):
                    self._subscribers.pop(key, None)
                raise
        return queue

    async def unsubscribe(self, key: str, queue: asyncio.Queue[Any]) -> None:
        queues = self._subscribers.get(key)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[key]
                relay = self._relays.pop(key, None)
                if self.bus is not None and relay is not None:
                    await self.bus.unsubscribe(self._channel(key), relay)

    async def listening(self, key: str) -> int:
        """Open pages for ``key`` (with a bus: gateway processes that have one open)."""
        if self.bus is not None:
            return await self.bus.listeners(self._channel(key))
        return len(self._subscribers.get(key, ()))

    def _hand_over(self, key: str, item: Any) -> int:
        delivered = 0
        for queue in list(self._subscribers.get(key, ())):
            try:
                queue.put_nowait(item)
                delivered += 1
            except asyncio.QueueFull:
                log.warning("push queue full for %s: item dropped", key)
        return delivered

    async def publish(self, key: str, item: Any) -> int:
        """Hand ``item`` to every live subscriber; returns how many got it (0 = kept or dropped).
        With a bus, «how many» counts gateway processes with the page open."""
        if self.bus is not None:
            encoded = self.encode(item)
            delivered = await self.bus.publish(self._channel(key), encoded)
            if not delivered and self.keep_pending:
                await self.bus.keep(self._channel(key), encoded, self.max_pending, self.ttl_s)
            return delivered
        delivered = self._hand_over(key, item)
        if not delivered and self.keep_pending:
            waiting = self._pending.pop(key, deque(maxlen=self.max_pending))
            waiting.append((time.monotonic(), item))
            self._pending[key] = waiting
            while len(self._pending) > self.max_keys:
                self._pending.popitem(last=False)
        return delivered

    async def drain(self, key: str) -> list[Any]:
        if self.bus is not None:
            return [self.decode(item) for item in await self.bus.take(self._channel(key))]
        waiting = self._pending.pop(key, None) or ()
        oldest = time.monotonic() - self.ttl_s
        return [item for at, item in waiting if at >= oldest]


def messages_to_json(messages: list[BotMessage]) -> list[dict[str, Any]]:
    return [message.to_dict() for message in messages]


def messages_from_json(items: list[dict[str, Any]]) -> list[BotMessage]:
    return [BotMessage.from_rasa(item) for item in items]


class SessionChannel:
    """A :class:`~channels.base.Channel` whose citizens are open pages: sending is publishing to the hub.

    Subclasses set ``name``; the page renders text, buttons and images itself.
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, sessions: PushHub):
        if not self.name:
            raise TypeError(f"{type(self).__name__} must set a channel name")
        self.sessions = sessions

    @classmethod
    def from_settings(cls, settings, shared) -> SessionChannel:
        """Always on: a page needs no credentials."""
        return cls(shared.sessions)

    async def send(self, recipient_id: str, messages: list[BotMessage]) -> bool:
        """True when an open page got the messages; False when they wait for the page to come back."""
        key = recipient_id if recipient_id.startswith(f"{self.name}:") else f"{self.name}:{recipient_id}"
        return await self.sessions.publish(key, list(messages)) > 0

    async def aclose(self) -> None:
        return None
