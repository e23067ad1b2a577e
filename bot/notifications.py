"""Sends what the services recorded for citizens (a queue number is near, a dossier's
status changed) through the channel each citizen came from.

The queue and the dossier services write notifications to their own tables in the
same transaction as the change; this relay reads the unsent ones and sends each
through the citizen's own channel (:meth:`channels.registry.Channels.notify`: the
channel called ``row.channel``, whatever platform it is), marking each sent once
delivered (or kept for a page that will reconnect). A platform that refuses leaves the
row for the next pass, so nothing is lost on a crash.

The relay passes every ``interval_s`` seconds; a writer that just committed a notification that
cannot wait (staff called the citizen's number) calls :func:`wake_relays` and the running relays
of that database pass at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from motcua.db import Database, utcnow
from motcua.dossiers.models import DossierNotification
from motcua.queue.models import QueueNotification

log = logging.getLogger(__name__)
TABLES = (QueueNotification, DossierNotification)

_RUNNING: dict[str, set[NotificationRelay]] = {}
"""The started relays of this process, by the URL of the database they read."""
_RUNNING_LOCK = threading.Lock()


def wake_relays(database: Database) -> int:
    """Tell the running relays reading ``database`` that it has new notifications (call it after the
    commit; any thread). Returns how many relays were woken."""
    with _RUNNING_LOCK:
        relays = list(_RUNNING.get(database.url, ()))
    for relay in relays:
        relay.wake()
    return len(relays)


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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

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

    def wake(self) -> None:
        """Pass now rather than at the end of the interval (thread-safe; nothing when not started)."""
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None and not loop.is_closed():
            loop.call_soon_threadsafe(woken.set)

    async def _run(self, woken: asyncio.Event) -> None:
        while True:
            woken.clear()  # a wake during the pass below makes the next one start at once
            try:
                await self.run_once()
            except Exception:  # a database hiccup must not stop the relay
                log.exception("notification relay pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=self.interval_s)

    def start(self) -> None:
        """Start passing in the running event loop; :func:`wake_relays` reaches the relay from now on."""
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        self._task = asyncio.create_task(self._run(self._woken), name="notification-relay")
        with _RUNNING_LOCK:
            _RUNNING.setdefault(self.database.url, set()).add(self)

    async def stop(self) -> None:
        with _RUNNING_LOCK:
            relays = _RUNNING.get(self.database.url, set())
            relays.discard(self)
            if not relays:
                _RUNNING.pop(self.database.url, None)
        self._loop = self._woken = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
