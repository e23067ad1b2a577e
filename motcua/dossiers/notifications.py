"""Telling the citizen, on the channel they came from, that their dossier moved.

:class:`Notifier` is called by the dossier service *inside* the transaction of the change,
with its session: :class:`RecordingNotifier` (the default) adds each notice to
``dossier_notifications`` in that session, so the change and its notice are committed
together or not at all (a crash cannot lose one, a rolled-back change announces nothing).
The relay (:mod:`bot.notifications`) sends them. :class:`MemoryNotifier` keeps them in a
list for tests, once the transaction commits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import event
from sqlalchemy.orm import Session

from motcua.db import Database
from motcua.delivery import DeliveryState

__all__ = ["DossierNotice", "MemoryNotifier", "Notifier", "RecordingNotifier"]


@dataclass(frozen=True)
class DossierNotice:
    dossier_code: str
    channel: str
    sender_id: str
    status: str
    text: str
    created_at: datetime


@runtime_checkable
class Notifier(Protocol):
    def notify(self, notice: DossierNotice, session: Session) -> None:
        """Record ``notice`` in ``session`` (the change's own transaction); raising rolls the change back."""
        ...


class RecordingNotifier:
    """Records every notice in the database (table ``dossier_notifications``), in the caller's session."""

    def __init__(self, database: Database | None = None) -> None:
        self.database = database  # kept for callers that still pass it; the session is the change's

    def notify(self, notice: DossierNotice, session: Session) -> None:
        from motcua.dossiers.models import DossierNotification

        session.add(
            DossierNotification(
                dossier_code=notice.dossier_code,
                channel=notice.channel,
                sender_id=notice.sender_id,
                status=notice.status,
                text=notice.text,
                created_at=notice.created_at,
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_attempt_at=notice.created_at,
                last_error="",
            )
        )


@dataclass
class MemoryNotifier:
    """Keeps the notices of committed changes in :attr:`notices`."""

    notices: list[DossierNotice] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def notify(self, notice: DossierNotice, session: Session) -> None:
        def keep(_session: Session) -> None:
            with self._lock:
                self.notices.append(notice)

        event.listen(session, "after_commit", keep, once=True)
