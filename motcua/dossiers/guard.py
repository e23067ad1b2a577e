"""Throttling of the citizen's dossier lookups: per client and per dossier code, with lock-out.

A lookup PIN has a million values and a dossier code is sequential, so guessing must be
slow: ``code_failures`` wrong second factors for one code within ``window`` lock that code
for ``lock_for`` (whoever asks), and ``client_failures`` failures of one client (wrong
factor, unknown or malformed code) lock that client. While locked, even the right answer
is refused, so the lock cannot be probed. Used by the gateway (client = IP) and by the chat
action (client = the conversation). Over :mod:`motcua.throttle`: in this process's memory, or
with Redis (:meth:`LookupGuard.from_settings`) counted for every gateway and action server of the
deployment — a code's failures by the chat and by the lookup page alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from knowledge_base.messages import render
from motcua.throttle import Clock, Lockout, lockout

__all__ = ["LookupGuard", "throttled_text"]


def throttled_text(seconds: float, locale: str | None = None) -> str:
    """The answer to a locked lookup, with the wait in whole minutes."""
    return render("status.lookup.throttled", locale=locale,
                  minutes=max(1, int(seconds // 60) + (1 if seconds % 60 else 0)))


@dataclass
class LookupGuard:
    """Lock-outs per dossier code and per client; every method answers seconds to wait (0 = go)."""

    code_failures: int = 5
    client_failures: int = 20
    window: float = 15 * 60
    lock_for: float = 15 * 60
    clock: Clock = time.monotonic
    _codes: Lockout = field(init=False, repr=False)
    _clients: Lockout = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._codes = Lockout(self.code_failures, self.window, self.lock_for, clock=self.clock)
        self._clients = Lockout(self.client_failures, self.window, self.lock_for, clock=self.clock)

    @classmethod
    def from_settings(cls, settings: Any, clients: str) -> LookupGuard:
        """The deployment's guard, in Redis when it has one; ``clients`` names the kind of client counted
        (``dossier-ip`` for the gateway, ``dossier-chat`` for conversations): their failures are kept apart,
        a code's are one count."""
        guard = cls()
        guard._codes = lockout(settings, "dossier-code", guard.code_failures, guard.window, guard.lock_for)
        guard._clients = lockout(settings, clients, guard.client_failures, guard.window, guard.lock_for)
        return guard

    def wait(self, client: str, code: str = "") -> float:
        """Seconds before ``client`` may try (``code``); 0 when it may now."""
        waits = [self._clients.locked_for(client)]
        if code:
            waits.append(self._codes.locked_for(code.upper()))
        return max(waits)

    def failed(self, client: str, code: str = "") -> float:
        """Count a failure (``code`` empty for an unknown or malformed code); answers the lock now running."""
        waits = [self._clients.fail(client)]
        if code:
            waits.append(self._codes.fail(code.upper()))
        return max(waits)

    def succeeded(self, client: str, code: str) -> None:
        """A right second factor: that code's failures are forgotten (the client's stay)."""
        self._codes.succeed(code.upper())
        del client
