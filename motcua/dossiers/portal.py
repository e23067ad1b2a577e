"""The national public service portal (Cổng Dịch vụ công quốc gia), as seen by the outbox.

One operation: deliver one message (a dossier filed, a status changed) with an idempotency
key. The portal must treat a second delivery with the same key as the first one (it answers
success and does not record it again), so the outbox may retry freely.

- :class:`PortalClient` — the Protocol the outbox worker needs.
- :class:`HttpPortalClient` — JSON over HTTP: ``POST <portal_url>`` with the header
  ``Idempotency-Key``; 2xx is delivered, 408/425/429/5xx and network errors mean "try
  again later" (:class:`PortalUnavailable`, never a dead letter), any other answer is a
  refusal (:class:`PortalRejected`: retried by the delivery policy's backoff, and a dead letter
  for staff after its last try — :mod:`motcua.delivery`).
- :class:`MemoryPortal` — a fake with the same behaviour, for tests.

``devices/fake_portal.py`` is a local HTTP server speaking the same protocol.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from motcua.delivery import SEND_TIMEOUT_S

__all__ = [
    "HttpPortalClient",
    "MemoryPortal",
    "PortalClient",
    "PortalError",
    "PortalMessage",
    "PortalRejected",
    "PortalUnavailable",
]


@dataclass(frozen=True)
class PortalMessage:
    idempotency_key: str
    event: str
    dossier_code: str
    payload: dict[str, Any]


class PortalError(Exception):
    """A delivery that did not succeed; ``str(exc)`` is recorded as the outbox row's last error."""


class PortalUnavailable(PortalError):
    """The portal cannot be reached or is overloaded: stop for now, try again later."""


class PortalRejected(PortalError):
    """The portal answered and refused this message."""


@runtime_checkable
class PortalClient(Protocol):
    def deliver(self, message: PortalMessage) -> None:
        """Deliver ``message``, or raise :class:`PortalUnavailable` / :class:`PortalRejected`."""
        ...


_RETRY_STATUSES = {408, 425, 429}


class HttpPortalClient:
    """Deliver over HTTP. ``transport`` lets tests inject an ``httpx`` transport."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = SEND_TIMEOUT_S,
        token: str = "",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"portal url must start with http:// or https://, got {url!r}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.url = url
        self.timeout_s = timeout_s  # one send's limit: the outbox's lease on a row follows it (lease_for)
        headers = {"User-Agent": "motcua-outbox/0.1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(timeout=timeout_s, headers=headers, transport=transport)

    def deliver(self, message: PortalMessage) -> None:
        body = {"event": message.event, "dossier_code": message.dossier_code, "data": message.payload}
        try:
            response = self._client.post(self.url, json=body, headers={"Idempotency-Key": message.idempotency_key})
        except httpx.TimeoutException as exc:
            raise PortalUnavailable(f"hết thời gian chờ Cổng DVC ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise PortalUnavailable(f"không kết nối được Cổng DVC ({type(exc).__name__}: {exc})") from exc
        if response.is_success:
            return
        detail = f"HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code >= 500 or response.status_code in _RETRY_STATUSES:
            raise PortalUnavailable(detail)
        raise PortalRejected(detail)

    def close(self) -> None:
        self._client.close()


@dataclass
class MemoryPortal:
    """An in-memory portal: dedups by idempotency key; ``down = True`` makes it unavailable."""

    down: bool = False
    reject_events: set[str] = field(default_factory=set)
    accepted: dict[str, PortalMessage] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def deliver(self, message: PortalMessage) -> None:
        with self._lock:
            self.requests += 1
            if self.down:
                raise PortalUnavailable("Cổng DVC không trả lời (giả lập)")
            if message.event in self.reject_events:
                raise PortalRejected(f"HTTP 422: sự kiện {message.event} bị từ chối (giả lập)")
            if message.idempotency_key not in self.accepted:
                self.accepted[message.idempotency_key] = message
                self.order.append(message.idempotency_key)
