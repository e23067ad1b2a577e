"""How many numbers one chat conversation, and one client address, may take in a while.

A number taken through the chat (web widget, REST, Telegram, Zalo, a kiosk's chat session) is plain
and free, so without a bound one person could empty a day's numbers by chatting. Two bounds,
counted on the tickets themselves when a number is issued
(:meth:`motcua.queue.service.QueueService.issue_for_chat`), so they hold across restarts and
processes:

- **per conversation** (channel + sender id; a kiosk's chat session is one): at most
  ``per_sender`` numbers within ``window``;
- **per client address**, for the anonymous channels (web widget, REST, a kiosk page that is not an
  enrolled kiosk): at most ``per_origin`` numbers within ``window``. The address itself is never
  stored: the gateway turns it into a keyed hash, the *origin* (:func:`bot.gateway.origin_of`), which
  travels in the message's metadata and is kept on the ticket. An enrolled kiosk serves many
  citizens from one address: its messages carry no origin, only the bound of its session applies.

On PostgreSQL the check and the insert of one requester are serialised by transaction-scoped
advisory locks (on SQLite the write transaction already is), so two numbers asked at the same
moment cannot both slip under a bound. Plain Python over a Session; no web framework.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from motcua.queue.models import QueueTicket

SENDER = "sender"
ORIGIN = "origin"
"""The two scopes of a bound (:attr:`LimitReached.scope`)."""


@dataclass(frozen=True)
class ChatTicketLimits:
    """The bounds on chat numbers (settings ``MOTCUA_CHAT_TICKETS_PER_SENDER``,
    ``MOTCUA_CHAT_TICKETS_PER_ADDRESS``, ``MOTCUA_CHAT_TICKET_WINDOW_MINUTES``)."""

    per_sender: int = 3
    per_origin: int = 10
    window: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.per_sender < 1 or self.per_origin < 1:
            raise ValueError(f"chat ticket limits must be at least 1, got {self.per_sender}/{self.per_origin}")
        if self.window <= timedelta(0):
            raise ValueError(f"the chat ticket window must be positive, got {self.window}")

    @classmethod
    def from_settings(cls, settings: Any) -> ChatTicketLimits:
        return cls(per_sender=settings.chat_tickets_per_sender, per_origin=settings.chat_tickets_per_address,
                   window=timedelta(minutes=settings.chat_ticket_window_minutes))

    @property
    def window_minutes(self) -> int:
        return max(1, round(self.window.total_seconds() / 60))


@dataclass(frozen=True)
class Requester:
    """Who asks for a number through a chat: the conversation, and the origin of an anonymous client."""

    channel: str
    sender_id: str
    origin: str = ""  # the gateway's keyed hash of the client address; "" for platforms and enrolled kiosks

    def __post_init__(self) -> None:
        if not self.channel or not self.sender_id:
            raise ValueError("a chat requester needs its channel and sender id")


@dataclass(frozen=True)
class LimitReached:
    """A bound that refuses one more number: whose (``scope``), how many were taken in how long,
    and the minutes until the oldest of them leaves the window."""

    scope: str  # SENDER | ORIGIN
    count: int
    window_minutes: int
    wait_minutes: int


def serialise(session: Session, requester: Requester) -> None:
    """PostgreSQL: wait for any other transaction issuing to this conversation or origin (released
    at commit or rollback). Nothing to do on SQLite, whose writers already take turns."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = {_lock_key(f"sender:{requester.channel}:{requester.sender_id}")}
    if requester.origin:
        keys.add(_lock_key(f"origin:{requester.origin}"))
    for key in sorted(keys):  # always the same order: two requesters never wait for each other in a circle
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def first_reached(session: Session, requester: Requester, limits: ChatTicketLimits,
                  now: datetime) -> LimitReached | None:
    """The bound one more number for ``requester`` would break at ``now``, or None."""
    sender = _reached(session, limits, now, limits.per_sender, SENDER,
                      QueueTicket.channel == requester.channel, QueueTicket.sender_id == requester.sender_id)
    if sender is not None or not requester.origin:
        return sender
    return _reached(session, limits, now, limits.per_origin, ORIGIN, QueueTicket.origin == requester.origin)


def _reached(session: Session, limits: ChatTicketLimits, now: datetime, bound: int, scope: str,
             *conditions: Any) -> LimitReached | None:
    since = now - limits.window
    # The centre's day of ``since`` is never before the UTC day before it, whatever the zone:
    # a lower bound on ``day`` lets the (sender, day) and (origin, day) indexes do the work.
    first_day = since.date() - timedelta(days=1)
    recent = session.scalars(select(QueueTicket.issued_at)
                             .where(*conditions, QueueTicket.day >= first_day, QueueTicket.issued_at > since)
                             .order_by(QueueTicket.issued_at.desc()).limit(bound)).all()
    if len(recent) < bound:
        return None
    oldest = recent[-1]
    wait_s = (oldest + limits.window - now).total_seconds()
    return LimitReached(scope, len(recent), limits.window_minutes, max(1, math.ceil(wait_s / 60)))


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name`` (the chat limits' own namespace)."""
    digest = hashlib.sha256(b"motcua/queue/chat-limit:" + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
