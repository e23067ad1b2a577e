"""Platform event ids already handled, kept in the database.

Telegram and Zalo deliver an event again when they think the first delivery failed, and an
attacker who captured a signed Zalo event may replay it. The in-memory
:class:`channels.delivery.RecentIds` catches quick repeats; this ledger makes the answer the
same after a restart, or on another gateway process of the same deployment.

An id is stored as it came when it is short and clean text; otherwise (too long, or with a
control character or a lone surrogate no database would take) its SHA-256 is stored instead,
so two different ids never become one.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge_base.text import clean_text
from motcua.db import Database, utcnow
from motcua.models import ProcessedEvent

MAX_ID_LENGTH = 128


def _stored_id(event_id: str) -> str:
    if len(event_id) <= MAX_ID_LENGTH and clean_text(event_id) == event_id:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


class EventLedger:
    """``first_time(channel, id)`` records an event id and says whether it was new."""

    def __init__(self, database: Database, keep: timedelta = timedelta(days=2), prune_every: int = 500):
        if keep <= timedelta(0):
            raise ValueError("keep must be positive")
        self.database = database
        self.keep = keep
        self.prune_every = prune_every
        self._since_prune = 0

    def first_time(self, channel: str, event_id: str, now: datetime | None = None) -> bool:
        now = now or utcnow()
        try:
            with self.database.session() as session:
                self.record(session, channel, event_id, now)
        except IntegrityError:
            return False
        self.recorded(now)
        return True

    def record(self, session: Session, channel: str, event_id: str, now: datetime) -> str:
        """Add the id to the caller's transaction (its commit raises ``IntegrityError`` for an id seen
        before: the webhook inbox stores the event in the same write); returns the id as stored."""
        stored = _stored_id(event_id)
        session.add(ProcessedEvent(channel=channel, event_id=stored, received_at=now))
        return stored

    def recorded(self, now: datetime) -> None:
        """One more id committed: prune old ones every ``prune_every``."""
        self._since_prune += 1
        if self._since_prune >= self.prune_every:
            self._since_prune = 0
            self.prune(now)

    def prune(self, now: datetime | None = None) -> int:
        """Forget ids older than ``keep`` (platforms stop redelivering long before)."""
        cutoff = (now or utcnow()) - self.keep
        with self.database.session() as session:
            return session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff)).rowcount or 0
