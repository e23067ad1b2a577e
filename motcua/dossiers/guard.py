"""Throttling of the citizen's dossier lookups: per client and per dossier code, with lock-out.

A lookup PIN has a million values and a dossier code is sequential, so guessing must be
slow: ``code_failures`` wrong second factors for one code within ``window`` lock that code
for ``lock_for`` (whoever asks), and ``client_failures`` failures of one client (wrong
factor, unknown or malformed code) lock that client. While locked, even the right answer
is refused, so the lock cannot be probed. Used by the gateway (client = IP) and by the chat
action (client = the conversation). Plain Python over :mod:`motcua.throttle`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from motcua.throttle import Clock, Lockout

__all__ = ["THROTTLED_TEXT", "LookupGuard", "throttled_text"]

THROTTLED_TEXT = (
    "Ông/bà đã tra cứu sai quá nhiều lần. Để bảo vệ thông tin của người nộp hồ sơ, việc tra cứu tạm dừng "
    "khoảng {minutes} phút; xin ông/bà thử lại sau, hoặc hỏi cán bộ tại quầy."
)


def throttled_text(seconds: float) -> str:
    """The Vietnamese answer to a locked lookup, with the wait in whole minutes."""
    return THROTTLED_TEXT.format(minutes=max(1, int(seconds // 60) + (1 if seconds % 60 else 0)))


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
