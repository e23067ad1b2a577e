"""Throttles: a sliding-window rate limit and a failure lock-out, in memory or in Redis.

Used by the dossier lookup (per client and per dossier code), sign-in (per IP and per name) and
the handoff to staff (per address). In memory (plain Python) they are the process's own: enough
for the one gateway process the embedded default runs; a restart only gives an attacker a fresh
budget of a few tries. With ``MOTCUA_REDIS_URL`` (several gateway and action server processes,
``MOTCUA_WORKERS``) :func:`sliding_window` and :func:`lockout` give the same classes kept in Redis
(:class:`RedisSlidingWindow`, :class:`RedisLockout`: one Lua script a call, Redis's clock), so N
processes do not allow N times as many guesses; when Redis does not answer in time the process's own
memory decides meanwhile (a citizen is never refused because Redis is slow, a flood still meets a limit).

- :class:`SlidingWindow` — at most ``limit`` events per ``window`` seconds for one key.
- :class:`Lockout` — ``max_failures`` failures within ``window`` seconds lock the key for
  ``lock_for`` seconds; a success clears its failures.

Every method takes a key (any hashable: an IP, ``("code", code)``…) and answers the number
of seconds to wait (0 when allowed), so a caller can send ``Retry-After`` as is. The clock
is injectable (``clock=`` returning seconds) so tests move time by hand.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["Lockout", "RedisLockout", "RedisSlidingWindow", "SlidingWindow", "lockout", "retry_after_header",
           "sliding_window"]

from motcua.bus import redis_client

log = logging.getLogger(__name__)

Clock = Callable[[], float]


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds per key.

    ``max_keys`` bounds memory: when exceeded, keys whose events have all expired are
    dropped, then the oldest keys, so a flood of new keys cannot exhaust memory.
    """

    def __init__(self, limit: int, window: float, *, clock: Clock = time.monotonic, max_keys: int = 100_000):
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if window <= 0:
            raise ValueError(f"window must be positive, got {window}")
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys}")
        self.limit = limit
        self.window = float(window)
        self.clock = clock
        self.max_keys = max_keys
        self._events: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def _expire(self, key: Hashable, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def _wait(self, events: deque[float] | None, now: float) -> float:
        if events is None or len(events) < self.limit:
            return 0.0
        return max(0.0, events[len(events) - self.limit] + self.window - now)

    def retry_after(self, key: Hashable) -> float:
        """Seconds before ``key`` may have another event; 0 when it may now. Records nothing."""
        with self._lock:
            now = self.clock()
            return self._wait(self._expire(key, now), now)

    def hit(self, key: Hashable) -> float:
        """Record one event for ``key`` when allowed (answer 0); else record nothing and answer the wait."""
        with self._lock:
            now = self.clock()
            events = self._expire(key, now)
            wait = self._wait(events, now)
            if wait > 0:
                return wait
            if events is None:
                self._make_room(now)
                events = self._events[key] = deque()
            events.append(now)
            return 0.0

    def reset(self, key: Hashable) -> None:
        with self._lock:
            self._events.pop(key, None)

    def _make_room(self, now: float) -> None:
        if len(self._events) < self.max_keys:
            return
        for key in list(self._events):
            self._expire(key, now)
        while len(self._events) >= self.max_keys:
            del self._events[next(iter(self._events))]

    def __len__(self) -> int:
        return len(self._events)


class Lockout:
    """``max_failures`` failures within ``window`` seconds lock a key for ``lock_for`` seconds."""

    def __init__(self, max_failures: int, window: float, lock_for: float, *, clock: Clock = time.monotonic,
                 max_keys: int = 100_000):
        if lock_for <= 0:
            raise ValueError(f"lock_for must be positive, got {lock_for}")
        self.failures = SlidingWindow(max_failures, window, clock=clock, max_keys=max_keys)
        self.lock_for = float(lock_for)
        self.clock = clock
        self.max_keys = max_keys
        self._locked: dict[Hashable, float] = {}
        self._lock = threading.Lock()

    def locked_for(self, key: Hashable) -> float:
        """Seconds ``key`` stays locked; 0 when it is not locked."""
        with self._lock:
            until = self._locked.get(key)
            if until is None:
                return 0.0
            left = until - self.clock()
            if left <= 0:
                del self._locked[key]
                return 0.0
            return left

    def fail(self, key: Hashable) -> float:
        """Record a failure; answer how long ``key`` is now locked (0 while under the limit)."""
        left = self.locked_for(key)
        if left > 0:
            return left
        self.failures.hit(key)
        if self.failures.retry_after(key) <= 0:
            return 0.0
        with self._lock:
            if len(self._locked) >= self.max_keys:
                now = self.clock()
                self._locked = {k: u for k, u in self._locked.items() if u > now}
                while len(self._locked) >= self.max_keys:
                    del self._locked[next(iter(self._locked))]
            self._locked[key] = self.clock() + self.lock_for
        self.failures.reset(key)
        return self.lock_for

    def succeed(self, key: Hashable) -> None:
        """Forget ``key``'s failures (a right answer); a running lock stays."""
        self.failures.reset(key)


# --- the same, in Redis: for every process of a deployment ----------------------------------------

_WINDOW = """
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  return tostring(math.max(0, tonumber(oldest[2]) + window - t))
end
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[1], t, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
end
return '0'
"""
"""One key's window (a sorted set of event times in ms): drop what left it; when full answer the ms to wait,
else record the event named ARGV[3] (none: only ask)."""

_FAIL = """
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return tostring(left) end
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local limit, window, lock_for = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - window)
redis.call('ZADD', KEYS[1], t, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  redis.call('SET', KEYS[2], '1', 'PX', lock_for)
  redis.call('DEL', KEYS[1])
  return tostring(lock_for)
end
return '0'
"""
"""A failure (KEYS[1] the failures' window, KEYS[2] the lock): while locked answer the ms left; else count it
and lock for ARGV[3] ms when it is the ``limit``-th within the window."""


def _key_text(key: Hashable) -> str:
    """A key as Redis holds it: a digest, so an IP or a typed name is not stored as is and a long one stays short."""
    text = "\x1f".join(map(str, key)) if isinstance(key, tuple) else str(key)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class RedisSlidingWindow(SlidingWindow):
    """:class:`SlidingWindow` in Redis under ``<namespace>:throttle:<name>:``; the process's memory answers
    while Redis does not (``timeout_s``)."""

    def __init__(self, url: str, name: str, limit: int, window: float, *, namespace: str = "motcua",
                 timeout_s: float = 0.25, **kwargs: Any):
        super().__init__(limit, window, **kwargs)
        self.prefix = f"{namespace}:throttle:{name}:"
        self._redis = redis_client(url, timeout_s)
        self._script = self._redis.register_script(_WINDOW)

    def _ask(self, key: Hashable, event: str) -> float:
        wait_ms = self._script(keys=[self.prefix + _key_text(key)], args=[self.limit, int(self.window * 1000), event])
        return float(wait_ms) / 1000.0

    def retry_after(self, key: Hashable) -> float:
        try:
            return self._ask(key, "")
        except Exception:  # Redis slow or away: this process's memory decides meanwhile
            log.warning("throttle %s: Redis did not answer, this process decides", self.prefix, exc_info=True)
            return super().retry_after(key)

    def hit(self, key: Hashable) -> float:
        try:
            return self._ask(key, uuid.uuid4().hex)
        except Exception:
            log.warning("throttle %s: Redis did not answer, this process decides", self.prefix, exc_info=True)
            return super().hit(key)

    def reset(self, key: Hashable) -> None:
        super().reset(key)
        try:
            self._redis.delete(self.prefix + _key_text(key))
        except Exception:
            log.warning("throttle %s: could not forget a key in Redis", self.prefix, exc_info=True)


class RedisLockout(Lockout):
    """:class:`Lockout` in Redis: the failures a sorted set, the lock a key that expires by itself; the
    process's memory answers while Redis does not."""

    def __init__(self, url: str, name: str, max_failures: int, window: float, lock_for: float, *,
                 namespace: str = "motcua", timeout_s: float = 0.25, **kwargs: Any):
        super().__init__(max_failures, window, lock_for, **kwargs)
        self.prefix = f"{namespace}:throttle:{name}:"
        self._redis = redis_client(url, timeout_s)
        self._script = self._redis.register_script(_FAIL)

    def _keys(self, key: Hashable) -> list[str]:
        text = _key_text(key)
        return [f"{self.prefix}failures:{text}", f"{self.prefix}lock:{text}"]

    def locked_for(self, key: Hashable) -> float:
        try:
            left_ms = int(self._redis.pttl(self._keys(key)[1]))
        except Exception:  # Redis slow or away: this process's memory decides meanwhile
            log.warning("lock-out %s: Redis did not answer, this process decides", self.prefix, exc_info=True)
            return super().locked_for(key)
        return max(left_ms, 0) / 1000.0

    def fail(self, key: Hashable) -> float:
        try:
            locked_ms = self._script(keys=self._keys(key), args=[
                self.failures.limit, int(self.failures.window * 1000), int(self.lock_for * 1000), uuid.uuid4().hex])
        except Exception:
            log.warning("lock-out %s: Redis did not answer, this process decides", self.prefix, exc_info=True)
            return super().fail(key)
        return float(locked_ms) / 1000.0

    def succeed(self, key: Hashable) -> None:
        super().succeed(key)
        try:
            self._redis.delete(self._keys(key)[0])
        except Exception:
            log.warning("lock-out %s: could not forget failures in Redis", self.prefix, exc_info=True)


def sliding_window(settings: Any, name: str, limit: int, window: float) -> SlidingWindow:
    """The deployment's window called ``name``: in Redis when it has one (``MOTCUA_REDIS_URL``), else in
    this process."""
    if getattr(settings, "redis_url", ""):
        return RedisSlidingWindow(settings.redis_url, name, limit, window, namespace=settings.redis_namespace)
    return SlidingWindow(limit, window)


def lockout(settings: Any, name: str, max_failures: int, window: float, lock_for: float) -> Lockout:
    """The deployment's lock-out called ``name``: in Redis when it has one, else in this process."""
    if getattr(settings, "redis_url", ""):
        return RedisLockout(settings.redis_url, name, max_failures, window, lock_for,
                            namespace=settings.redis_namespace)
    return Lockout(max_failures, window, lock_for)
