"""In-process throttles: a sliding-window rate limit and a failure lock-out. Plain Python.

Used by the dossier lookup (per client IP and per dossier code) and reusable for sign-in.
Both keep their state in memory, per process: enough for the one gateway process a center
runs; a restart forgets them, which only gives an attacker a fresh budget of a few tries.

- :class:`SlidingWindow` — at most ``limit`` events per ``window`` seconds for one key.
- :class:`Lockout` — ``max_failures`` failures within ``window`` seconds lock the key for
  ``lock_for`` seconds; a success clears its failures.

Every method takes a key (any hashable: an IP, ``("code", code)``…) and answers the number
of seconds to wait (0 when allowed), so a caller can send ``Retry-After`` as is. The clock
is injectable (``clock=`` returning seconds) so tests move time by hand.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

__all__ = ["Lockout", "SlidingWindow", "retry_after_header"]

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
