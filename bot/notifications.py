"""Sends what the services recorded for citizens (a queue number is near, a dossier's
status changed) through the channel each citizen came from.

The queue and the dossier services write notifications to their own tables in the
same transaction as the change; this relay reads the unsent ones and sends each
through the citizen's own channel (:meth:`channels.registry.Channels.notify`: the
channel called ``row.channel``, whatever platform it is), marking each sent once
delivered (or kept for a page that will reconnect). A platform that refuses leaves the
row for the next pass, so nothing is lost on a crash.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from motcua.db import Database, utcnow
from motcua.dossiers.models import DossierNotification
from motcua.queue.models import QueueNotification

log = logging.getLogger(__name__)
TABLES = (QueueNotification, DossierNotification)


class NotificationRelay:
    def __init__(self, database: Database, channels, interval_s: float = 2.0, batch: int = 100):
        """``channels``: the open :class:`~channels.registry.Channels` (anything with the same ``notify``)."""
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.database = database
        self.channels = channels
        self.interval_s = interval_s
        self.batch = batch
        self._task: asyncio.Task[None] | None = None

    def _pending(self) -> list[tuple[type, int, str, str, str]]:
        rows = []
        with self.database.session() as session:
            for table in TABLES:
                for row in session.scalars(select(table).where(table.sent_at.is_(None))
                                           .order_by(table.id).limit(self.batch)):
                    rows.append((table, row.id, row.channel, row.sender_id, row.text))
        return rows

    def _mark_sent(self, table: type, ids: list[int]) -> None:
        with self.database.session() as session:
            for row in session.scalars(select(table).where(table.id.in_(ids))):
                row.sent_at = utcnow()

    async def run_once(self) -> int:
        """One pass: returns how many notifications were handed over."""
        sent: dict[type, list[int]] = {}
        for table, row_id, channel, sender_id, text in await run_in_threadpool(self._pending):
            result = await self.channels.notify(channel, sender_id, text)
            if result.delivered or result.queued:
                sent.setdefault(table, []).append(row_id)
            else:
                log.info("notification %s#%s to %s not sent yet: %s", table.__tablename__, row_id, sender_id,
                         result.error)
        for table, ids in sent.items():
            await run_in_threadpool(self._mark_sent, table, ids)
        return sum(len(ids) for ids in sent.values())

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # a database hiccup must not stop the relay
                log.exception("notification relay pass failed")
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notification-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
