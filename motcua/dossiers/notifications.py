"""Telling the citizen, on the channel they came from, that their dossier moved.

:class:`Notifier` is called by the dossier service *after* the change is committed, so a
notice never announces a change that was rolled back. :class:`RecordingNotifier` (the
default) writes each notice to ``dossier_notifications`` for the channels to send;
:class:`MemoryNotifier` keeps them in a list for tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from motcua.db import Database

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
    def notify(self, notice: DossierNotice) -> None: ...


class RecordingNotifier:
    """Records every notice in the database (table ``dossier_notifications``)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def notify(self, notice: DossierNotice) -> None:
        from motcua.dossiers.models import DossierNotification

        with self.database.session() as session:
            session.add(
                DossierNotification(
                    dossier_code=notice.dossier_code,
                    channel=notice.channel,
                    sender_id=notice.sender_id,
                    status=notice.status,
                    text=notice.text,
                    created_at=notice.created_at,
                )
            )


@dataclass
class MemoryNotifier:
    notices: list[DossierNotice] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def notify(self, notice: DossierNotice) -> None:
        with self._lock:
            self.notices.append(notice)
