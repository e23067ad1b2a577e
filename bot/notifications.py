"""Sends what the services recorded for citizens (a queue number is near, a dossier's
status changed, a staff or bot message a platform refused) through the channel each citizen
came from.

The queue and the dossier services write notifications to their own tables in the same
transaction as the change; this relay reads the *due* pending ones (``next_attempt_at`` passed,
oldest due first) and sends each through the citizen's own channel
(:meth:`channels.registry.Channels.notify`: the channel called ``row.channel``, whatever
platform it is), marking each sent once delivered (or kept for a page that will reconnect).
A try that fails follows :mod:`motcua.delivery`: the row records the error and waits its
backoff, and after the last try becomes a dead letter for ``/staff/deliveries``. A pass goes
on batch after batch until no row is due, so rows that keep failing never hold back the
rows behind them; nothing is lost on a crash.

A row may carry ``custom`` beside its text (what a page shows: the kiosk's «called» banner); it
goes to the channel with the text. When the channel says the recipient is gone
(:class:`~channels.registry.RecipientGone`: a kiosk session that ended), waiting hours for it is
pointless: the row follows :meth:`NotificationRelay.gone_policy` — one more try after
``GONE_RETRY_S`` (a page being reloaded is back by then), then it is dismissed (kept, with its
error, but not a dead letter: no staff member can deliver to a kiosk session that ended).

The relay passes every ``interval_s`` seconds; a writer that just committed a notification that
cannot wait (staff called the citizen's number) calls :func:`wake_relays` and the running relays
of that database pass at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool

from motcua.background import cancel_and_wait
from motcua.db import Database, utcnow
from motcua.delivery import DeliveryPolicy, DeliveryState, mask_recipient
from motcua.dossiers.models import DossierNotification
from motcua.queue.models import QueueNotification

log = logging.getLogger(__name__)
TABLES = (QueueNotification, DossierNotification)
GONE_ATTEMPTS = 2
"""Tries for a notice whose recipient is gone (a kiosk session that ended) before it is a dead letter."""
RELAY_CHANNEL = "relay"
"""Live-bus channel: «a notice cannot wait» from a gateway whose relay does not lead."""
GONE_RETRY_S = 20.0
"""The wait before the one more try: long enough for a kiosk page being reloaded to listen again."""

@dataclass(frozen=True)
class _Due:
    table: type
    row_id: int
    channel: str
    sender_id: str
    text: str
    attempts: int
    custom: dict[str, Any] | None = None


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
    def __init__(self, database: Database, channels, interval_s: float = 2.0, batch: int = 100, *,
                 policy: DeliveryPolicy | None = None, clock: Callable[[], datetime] = utcnow,
                 max_per_pass: int = 2000, gone_policy: DeliveryPolicy | None = None, bus: Any = None):
        """``channels``: the open :class:`~channels.registry.Channels` (anything with the same ``notify``).
        ``gone_policy``: for a recipient that is gone (default: ``policy`` cut to ``GONE_ATTEMPTS``
        tries ``GONE_RETRY_S`` apart). ``bus`` (:class:`motcua.bus.RedisBus`, several gateways): one
        relay of the deployment passes at a time (:class:`motcua.bus.Leadership`, so no notice goes
        twice), and a wake on any gateway reaches it."""
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.database = database
        self.channels = channels
        self.interval_s = interval_s
        self.batch = batch
        self.policy = policy or DeliveryPolicy()
        self.gone_policy = gone_policy or replace(
            self.policy, max_attempts=min(self.policy.max_attempts, GONE_ATTEMPTS),
            base_delay_s=GONE_RETRY_S, max_delay_s=GONE_RETRY_S)
        self.clock = clock
        self.max_per_pass = max(max_per_pass, batch)
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None
        self._listening: asyncio.Task | None = None
        self._asked = False  # woken by this process's writers (not by another gateway)
        self.bus = bus
        self.leadership = None
        if bus is not None:
            from motcua.bus import Leadership

            self.leadership = Leadership(bus, "notification-relay", ttl_s=max(30.0, 5 * interval_s))
        self.passes = 0  # passes completed since start (tests wait for the relay to be idle)

    def _pending(self) -> list[_Due]:
        """The due pending rows, the earliest due first, at most ``batch`` per table."""
        rows = []
        now = self.clock()
        with self.database.session() as session:
            for table in TABLES:
                due = (select(table).where(table.state == DeliveryState.PENDING, table.next_attempt_at <= now)
                       .order_by(table.next_attempt_at, table.id).limit(self.batch))
                for row in session.scalars(due):
                    rows.append(_Due(table, row.id, row.channel, row.sender_id, row.text, row.attempts,
                                     getattr(row, "custom", None) or None))
        return rows

    def _record(self, sent: dict[type, list[int]], failed: list[tuple[_Due, str, bool]]) -> None:
        now = self.clock()
        with self.database.session() as session:
            for table, ids in sent.items():
                session.execute(update(table).where(table.id.in_(ids)).values(
                    state=DeliveryState.SENT, sent_at=now, attempts=table.attempts + 1, last_error="")
                    .execution_options(synchronize_session=False))
            for due, error, gone in failed:
                outcome = (self.gone_policy if gone else self.policy).after_failure(due.attempts, error, now)
                if outcome.state is DeliveryState.DEAD and gone:  # nobody can act on it: not a dead letter for staff
                    outcome = replace(outcome, state=DeliveryState.DISMISSED)
                session.execute(update(due.table).where(due.table.id == due.row_id).values(
                    state=outcome.state, attempts=outcome.attempts, next_attempt_at=outcome.next_attempt_at,
                    last_error=outcome.last_error).execution_options(synchronize_session=False))
                if outcome.state is DeliveryState.DISMISSED:
                    log.info("notification %s#%s to %s dropped: the recipient is gone (%s)",
                             due.table.__tablename__, due.row_id, mask_recipient(due.sender_id), error)
                elif outcome.state is DeliveryState.DEAD:
                    log.warning("notification %s#%s to %s is a dead letter after %d tries: %s",
                                due.table.__tablename__, due.row_id, mask_recipient(due.sender_id),
                                outcome.attempts, error)

    async def run_once(self) -> int:
        """One pass, batch after batch until nothing is due: returns how many notifications were handed over."""
        handed = tried = 0
        while tried < self.max_per_pass:
            if tried and self.leadership is not None and not await self.leadership.held():
                break  # the lead ran out during a long pass (renewed each batch): another relay has it now
            batch = await run_in_threadpool(self._pending)
            if not batch:
                break
            sent: dict[type, list[int]] = {}
            failed: list[tuple[_Due, str, bool]] = []
            for due in batch:
                try:
                    if due.custom:
                        result = await self.channels.notify(due.channel, due.sender_id, due.text, custom=due.custom)
                    else:
                        result = await self.channels.notify(due.channel, due.sender_id, due.text)
                except Exception as exc:  # one broken send must not stop the others
                    failed.append((due, f"{type(exc).__name__}: {exc}", False))
                    continue
                if result.delivered or result.queued:
                    sent.setdefault(due.table, []).append(due.row_id)
                else:
                    failed.append((due, result.error or "not delivered", bool(getattr(result, "gone", False))))
            await run_in_threadpool(self._record, sent, failed)
            handed += sum(len(ids) for ids in sent.values())
            tried += len(batch)
        return handed

    def wake(self) -> None:
        """Pass now rather than at the end of the interval (thread-safe; nothing when not started)."""
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._asked_now, woken)

    def _asked_now(self, woken: asyncio.Event) -> None:
        self._asked = True
        woken.set()

    def _heard(self, _item: object) -> None:
        """Another gateway's writer has a notice that cannot wait: pass now if this relay leads."""
        if self._woken is not None:
            self._woken.set()

    async def _run(self, woken: asyncio.Event) -> None:
        while True:
            woken.clear()  # a wake during the pass below makes the next one start at once
            asked, self._asked = self._asked, False
            try:
                if self.leadership is None or await self.leadership.held():
                    await self.run_once()
                elif asked:  # another gateway's relay leads: tell it
                    await self.bus.publish(RELAY_CHANNEL, {})
            except Exception:  # a database hiccup must not stop the relay
                log.exception("notification relay pass failed")
            self.passes += 1  # a pass is over: what is written from now on waits for the next one
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=self.interval_s)

    def start(self) -> None:
        """Start passing in the running event loop; :func:`wake_relays` reaches the relay from now on."""
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        self._task = asyncio.create_task(self._run(self._woken), name="notification-relay")
        if self.bus is not None:
            self._listening = asyncio.create_task(self.bus.subscribe(RELAY_CHANNEL, self._heard))
        with _RUNNING_LOCK:
            _RUNNING.setdefault(self.database.url, set()).add(self)

    async def stop(self) -> None:
        with _RUNNING_LOCK:
            relays = _RUNNING.get(self.database.url, set())
            relays.discard(self)
            if not relays:
                _RUNNING.pop(self.database.url, None)
        self._loop = self._woken = None
        await cancel_and_wait(self._task)
        self._task = None
        if self.bus is not None:
            with contextlib.suppress(Exception):
                await self._listening  # subscribed (or failed) before it is undone
            await self.bus.unsubscribe(RELAY_CHANNEL, self._heard)
            await self.leadership.release()  # another gateway's relay takes over at its next pass
