"""The transactional outbox towards the national portal, and the worker that empties it.

Writing: :func:`add_outbox_row` is called by the dossier service inside the transaction
that files a dossier or changes its status, so the change and the message to the portal
are committed together or not at all. Each row gets a position in its dossier's sequence
and an idempotency key ``<dossier code>/<position>``.

Delivering follows :mod:`motcua.delivery`: :func:`deliver_pending` sends due pending rows,
earliest due first. A row is claimed with a short lease (so two workers do not send it at
once; the lease follows the client's ``timeout_s`` through :func:`motcua.delivery.lease_for`, so
a row claimed by a worker that was killed goes out again within seconds), sent with its idempotency key, then marked sent, or given its error and a next
attempt after the policy's backoff. When the portal is unavailable the pass stops at once
instead of timing out row by row; an unavailable portal is not the message's fault, so it
never makes a dead letter. A message the portal *refuses* becomes a dead letter after the
policy's last try (``state`` "dead", shown on ``/staff/deliveries``).

Order per dossier: a dossier's row waits while an earlier row of the same dossier is still
pending (retrying), so the portal hears a dossier's events in order; once the earlier row is
dead (or dismissed by staff) it no longer holds the later ones back — they go out, and the
portal gets the dead one only if staff send it again. The portal dedups by key, so a crash
between sending and recording costs one resend, never a duplicate. :class:`OutboxWorker`
runs passes in a thread (``start()`` / ``stop()``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from motcua.db import Database, as_utc, session_scope, shared_database, utcnow
from motcua.delivery import DeliveryPolicy, DeliveryState, Failure
from motcua.dossiers.models import DossierRow, PortalEvent, PortalOutboxRow
from motcua.dossiers.portal import PortalClient, PortalError, PortalMessage, PortalUnavailable

__all__ = [
    "DeliveryReport",
    "OutboxSummary",
    "OutboxWorker",
    "RetryPolicy",
    "add_outbox_row",
    "deliver_pending",
    "outbox_summary",
]

log = logging.getLogger(__name__)


def add_outbox_row(session: Session, dossier: DossierRow, event: PortalEvent, payload: dict[str, Any],
                   now: datetime) -> PortalOutboxRow:
    """Queue one message about ``dossier`` in the caller's transaction (the dossier row must be locked)."""
    dossier.event_count = (dossier.event_count or 0) + 1
    position = dossier.event_count
    row = PortalOutboxRow(
        dossier_id=dossier.id,
        dossier_code=dossier.code,
        position=position,
        event=event,
        idempotency_key=f"{dossier.code}/{position:03d}",
        payload=payload,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        state=DeliveryState.PENDING.value,
    )
    session.add(row)
    return row


RetryPolicy = DeliveryPolicy
"""The outbox's name for the one delivery policy (:class:`motcua.delivery.DeliveryPolicy`)."""

CLAIMED_AT_ONCE = 1
"""Rows one claim takes: a claim's lease covers one send (:func:`motcua.delivery.lease_for`), so a
worker never holds rows it will only reach after the lease ran out, and a killed worker's row is
free again after one lease."""

UNAVAILABLE_PAUSE_MAX_S = 60.0
"""Longest pause of the worker after the portal was unreachable (then one row is tried again)."""


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    portal_unavailable: bool = False
    dead: int = 0  # of the failed: refused for the last time (dead letters)

    @property
    def attempted(self) -> int:
        return self.delivered + self.failed


_PENDING = DeliveryState.PENDING.value


def leased_for_client(policy: RetryPolicy, client: PortalClient) -> RetryPolicy:
    """``policy`` with its lease covering one send of ``client`` (its ``timeout_s``, when it has one)."""
    timeout_s = getattr(client, "timeout_s", None)
    return policy.leased_for(timeout_s) if timeout_s else policy


def _claim(database: Database, limit: int, now: datetime, policy: RetryPolicy) -> list[PortalOutboxRow]:
    """Lease up to ``limit`` due rows, each the oldest pending row of its dossier (dead or dismissed
    rows hold nothing back)."""
    earlier = aliased(PortalOutboxRow)
    head = ~select(earlier.id).where(
        earlier.dossier_id == PortalOutboxRow.dossier_id,
        earlier.state == _PENDING,
        earlier.id < PortalOutboxRow.id,
    ).exists()
    free = or_(PortalOutboxRow.locked_until.is_(None), PortalOutboxRow.locked_until < now)
    due = select(PortalOutboxRow).where(
        PortalOutboxRow.state == _PENDING, PortalOutboxRow.next_attempt_at <= now, free, head
    ).order_by(PortalOutboxRow.next_attempt_at, PortalOutboxRow.id).limit(limit)
    with database.session() as session:  # a plain read first: an idle poll takes no write lock
        if session.scalar(due.with_only_columns(PortalOutboxRow.id).limit(1)) is None:
            return []
    with database.write() as session:
        candidates = session.scalars(due).all()
        claimed = []
        for row in candidates:
            result = session.execute(
                update(PortalOutboxRow)
                .where(PortalOutboxRow.id == row.id, PortalOutboxRow.state == _PENDING, free)
                .values(locked_until=now + timedelta(seconds=policy.lease_s))
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append(row)
        for row in claimed:
            session.expunge(row)
    return claimed


def _record(database: Database, row_id: int, *, now: datetime, failure: Failure | None) -> None:
    values: dict[str, Any] = {"locked_until": None}
    if failure is None:
        values.update(delivered_at=now, last_error="", state=DeliveryState.SENT.value,
                      attempts=PortalOutboxRow.attempts + 1)
    else:
        values.update(last_error=failure.last_error, next_attempt_at=failure.next_attempt_at,
                      attempts=failure.attempts, state=failure.state.value)
    with database.write() as session:
        session.execute(
            update(PortalOutboxRow).where(PortalOutboxRow.id == row_id).values(**values)
            .execution_options(synchronize_session=False)
        )


def _release(database: Database, row_ids: list[int]) -> None:
    if not row_ids:
        return
    with database.write() as session:
        session.execute(
            update(PortalOutboxRow).where(PortalOutboxRow.id.in_(row_ids)).values(locked_until=None)
            .execution_options(synchronize_session=False)
        )


def deliver_pending(
    database: Database,
    client: PortalClient,
    max_rows: int = 100,
    *,
    policy: RetryPolicy | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> DeliveryReport:
    """Deliver up to ``max_rows`` due outbox rows, in order per dossier.

    Returns how many were delivered and how many failed; stops early (with
    ``portal_unavailable=True``) when the portal cannot be reached.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, got {max_rows}")
    policy = leased_for_client(policy or RetryPolicy(), client)
    delivered = failed = dead = 0
    while delivered + failed < max_rows:
        batch = _claim(database, min(CLAIMED_AT_ONCE, max_rows - delivered - failed), clock(), policy)
        if not batch:
            break
        for index, row in enumerate(batch):
            message = PortalMessage(row.idempotency_key, row.event, row.dossier_code, row.payload)
            try:
                client.deliver(message)
            except PortalError as exc:
                failure = policy.after_failure(row.attempts, f"{type(exc).__name__}: {exc}", clock(),
                                               final=not isinstance(exc, PortalUnavailable))
                _record(database, row.id, now=clock(), failure=failure)
                failed += 1
                if failure.state is DeliveryState.DEAD:
                    dead += 1
                    log.warning("outbox %s: refused %d times, now a dead letter (%s)", row.idempotency_key,
                                failure.attempts, exc)
                else:
                    log.warning("outbox %s: attempt %d failed (%s), next at %s", row.idempotency_key,
                                failure.attempts, exc, failure.next_attempt_at.isoformat())
                if isinstance(exc, PortalUnavailable):
                    _release(database, [r.id for r in batch[index + 1:]])
                    return DeliveryReport(delivered, failed, portal_unavailable=True, dead=dead)
            except Exception:
                _release(database, [r.id for r in batch[index:]])
                raise
            else:
                _record(database, row.id, now=clock(), failure=None)
                delivered += 1
    return DeliveryReport(delivered, failed, dead=dead)


@dataclass(frozen=True)
class OutboxSummary:
    pending: int
    failing: int  # pending rows that have failed at least once
    delivered: int
    oldest_pending_at: datetime | None
    last_error: str
    dead: int = 0  # refused until the last try: waiting for staff on /staff/deliveries

    @property
    def message(self) -> str:  # staff-facing: the dossier desk's sync line
        dead = f" {self.dead} thông tin bị Cổng từ chối, xem trang «Thư chưa gửi được»." if self.dead else ""
        if not self.pending:
            return "Đã đồng bộ đầy đủ với Cổng Dịch vụ công." + dead  # staff-facing
        text = f"Còn {self.pending} thông tin chờ gửi lên Cổng Dịch vụ công"  # staff-facing
        if self.failing:
            text += f" ({self.failing} lần gửi chưa thành công, hệ thống sẽ tự gửi lại)"  # staff-facing
        return text + "." + dead


def outbox_summary(database_url: str) -> OutboxSummary:
    with session_scope(database_url) as session:
        pending = PortalOutboxRow.state == _PENDING
        counts = session.execute(
            select(
                func.count().filter(pending),
                func.count().filter(and_(pending, PortalOutboxRow.attempts > 0)),
                func.count().filter(PortalOutboxRow.delivered_at.is_not(None)),
                func.min(PortalOutboxRow.created_at).filter(pending),
                func.count().filter(PortalOutboxRow.state == DeliveryState.DEAD.value),
            )
        ).one()
        last_error = session.scalar(
            select(PortalOutboxRow.last_error)
            .where(pending, PortalOutboxRow.last_error != "")
            .order_by(PortalOutboxRow.id.desc())
            .limit(1)
        )
    return OutboxSummary(counts[0], counts[1], counts[2], as_utc(counts[3]), last_error or "", counts[4])


class OutboxWorker:
    """Runs :func:`deliver_pending` in a background thread until :meth:`stop`.

    After a pass that delivered everything it could, the next pass runs at once if the
    batch was full, else after ``poll_interval_s``; after the portal was unavailable it
    waits the backoff of the consecutive unavailable passes. :meth:`wake` starts a pass now.
    """

    def __init__(
        self,
        database: Database,
        client: PortalClient,
        *,
        policy: RetryPolicy | None = None,
        poll_interval_s: float = 2.0,
        batch_size: int = 50,
    ) -> None:
        if poll_interval_s <= 0:
            raise ValueError(f"poll_interval_s must be positive, got {poll_interval_s}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.database = database
        self.client = client
        self.policy = leased_for_client(policy or RetryPolicy(), client)
        self.poll_interval_s = poll_interval_s
        self.batch_size = batch_size
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    @classmethod
    def from_settings(cls, settings, **kwargs) -> OutboxWorker | None:
        """A worker for ``settings.portal_url`` (the settings' delivery policy), or ``None`` when no
        portal is configured."""
        from motcua.dossiers.portal import HttpPortalClient

        if not getattr(settings, "portal_url", ""):
            return None
        kwargs.setdefault("policy", DeliveryPolicy.from_settings(settings))
        return cls(shared_database(settings.sqlalchemy_url), HttpPortalClient(settings.portal_url), **kwargs)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="portal-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        unavailable_passes = 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                report = deliver_pending(self.database, self.client, self.batch_size, policy=self.policy)
            except Exception:
                log.exception("outbox pass failed")
                report = DeliveryReport(portal_unavailable=True)
            self.passes += 1
            if report.portal_unavailable:
                unavailable_passes += 1
                wait = min(self.policy.delay(unavailable_passes), UNAVAILABLE_PAUSE_MAX_S)
            else:
                unavailable_passes = 0
                if report.attempted >= self.batch_size:
                    continue
                wait = self.poll_interval_s
            self._wake.wait(wait)
