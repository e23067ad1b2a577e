"""Live events between the gateway processes of one deployment, over Redis pub/sub (issue 24).

A gateway process holds the open sockets of its own citizens (web widget, kiosk), kiosks and staff.
When a province runs several gateways behind one port, what one process publishes — a staff reply, a
kiosk's scan, a notice for a web page, «the queue board changed» — must reach a socket open on
another. With ``MOTCUA_REDIS_URL`` set, the hubs (:class:`channels.sessions.PushHub`,
:class:`bot.queue_runtime.BoardHub`, :class:`bot.staff_desk.SessionHub`) publish through a
:class:`RedisBus`; each gateway subscribes to a key only while one of its own sockets listens for it,
so Redis's answer to a publish (how many subscribers got it) says whether any page is open anywhere.
Without Redis (the embedded default, one process) the hubs stay in memory, as they were.

Items wait for a page that is closed (``keep`` / ``take``) in a Redis list per key, capped and with a
time to live. Redis must be the deployment's own, on a private network: the events carry what the
sockets carry (a kiosk's scan of a citizen's card, replies).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]

PREFIX = "motcua:live:"
"""Channel and list names of this module in the deployment's Redis, with the default namespace
(``MOTCUA_REDIS_NAMESPACE``; Rasa's lock store uses the namespace itself)."""


class RedisBus:
    """Publish JSON items on channels; deliver those of subscribed channels to local handlers.

    One pub/sub connection per process: :meth:`subscribe` names a channel and the handler that gets
    its items (on the event loop), refcounted, so several local listeners of one key cost one
    subscription. Handlers must not block.
    """

    def __init__(self, url: str, prefix: str = PREFIX):
        import redis.asyncio as aioredis

        self.url = url
        self.prefix = prefix
        self._redis = aioredis.from_url(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._handlers: dict[str, list[Handler]] = {}
        self._reader: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    # --- lifecycle ---
    async def start(self) -> None:
        """Open the subscription connection (a control channel keeps it open) and start reading."""
        if self._reader is None:
            await self._pubsub.subscribe(f"{self.prefix}-")
            self._reader = asyncio.create_task(self._read(), name="live-bus")

    async def aclose(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis gone for a moment: retried; the sockets stay open meanwhile
                log.warning("live events: Redis read failed, retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if not message or message.get("type") != "message":
                continue
            channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            try:
                item = json.loads(message["data"])
            except (TypeError, ValueError):
                log.warning("live events: an item on %s was not JSON", channel)
                continue
            for handler in list(self._handlers.get(channel.removeprefix(self.prefix), ())):
                try:
                    handler(item)
                except Exception:
                    log.exception("live events: a handler of %s failed", channel)

    # --- channels ---
    async def subscribe(self, channel: str, handler: Handler) -> None:
        async with self._lock:
            handlers = self._handlers.setdefault(channel, [])
            handlers.append(handler)
            if len(handlers) == 1:
                await self._pubsub.subscribe(self.prefix + channel)

    async def unsubscribe(self, channel: str, handler: Handler) -> None:
        async with self._lock:
            handlers = self._handlers.get(channel)
            if not handlers or handler not in handlers:
                return
            handlers.remove(handler)
            if not handlers:
                del self._handlers[channel]
                with contextlib.suppress(Exception):  # a dropped connection has unsubscribed already
                    await self._pubsub.unsubscribe(self.prefix + channel)

    async def publish(self, channel: str, item: Any) -> int:
        """How many gateway processes listen on ``channel`` (0: nobody has it open)."""
        return int(await self._redis.publish(self.prefix + channel, json.dumps(item, ensure_ascii=False)))

    async def listeners(self, channel: str) -> int:
        """Gateway processes subscribed to ``channel`` now."""
        counts = await self._redis.pubsub_numsub(self.prefix + channel)
        return int(counts[0][1]) if counts else 0

    # --- items waiting for a page that is closed ---
    async def keep(self, key: str, item: Any, max_items: int, ttl_s: float) -> None:
        name = f"{self.prefix}pending:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(name, json.dumps(item, ensure_ascii=False))
            pipe.ltrim(name, -max_items, -1)
            pipe.expire(name, max(int(ttl_s), 1))
            await pipe.execute()

    async def take(self, key: str) -> list[Any]:
        name = f"{self.prefix}pending:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(name, 0, -1)
            pipe.delete(name)
            raw, _ = await pipe.execute()
        return [json.loads(value) for value in raw]


_TAKE_OR_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"""


class Leadership:
    """One process of the deployment at a time does a job that must not run twice (the notice relay):
    a Redis key with a time to live, taken by whoever finds it free and renewed by its holder at each
    pass. A holder that dies lets it go within ``ttl_s``; another gateway takes it on its next pass."""

    def __init__(self, bus: RedisBus, job: str, ttl_s: float = 10.0):
        import uuid

        self.bus = bus
        self.key = f"{bus.prefix}leader:{job}"
        self.me = uuid.uuid4().hex
        self.ttl_ms = int(ttl_s * 1000)

    async def held(self) -> bool:
        """True when this process holds the job now (taken or renewed by this call)."""
        try:
            return bool(await self.bus._redis.eval(_TAKE_OR_RENEW, 1, self.key, self.me, self.ttl_ms))
        except Exception:  # Redis away: nobody can tell who leads; better a pass skipped than sent twice
            log.warning("live events: could not check who runs %s", self.key, exc_info=True)
            return False

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            if await self.bus._redis.get(self.key) == self.me.encode():
                await self.bus._redis.delete(self.key)


class Background:
    """Publishes from code that cannot wait (a sync method on the event loop): each publish becomes a
    task, kept referenced until done, its failure logged."""

    def __init__(self, bus: RedisBus | None):
        self.bus = bus
        self._tasks: set[asyncio.Task] = set()

    def publish(self, channel: str, item: Any) -> None:
        if self.bus is None:
            return
        try:
            task = asyncio.get_running_loop().create_task(self.bus.publish(channel, item))
        except RuntimeError:  # no loop in this thread (a test calling directly): nothing to tell
            return
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("live events: a publish failed: %s", task.exception())

    async def flush(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def redis_client(url: str, timeout_s: float = 0.25) -> Any:
    """A plain (blocking) Redis client that gives up after ``timeout_s``: for counters and keys read in a
    thread or on a path that must not wait for a slow Redis (its callers fall back to the process's memory)."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)


def bus_from_settings(settings) -> RedisBus | None:
    """The deployment's bus: Redis when ``MOTCUA_REDIS_URL`` is set, else none (one process, in memory)."""
    url = getattr(settings, "redis_url", "") or ""
    return RedisBus(url, prefix=f"{settings.redis_namespace}:live:") if url else None
