"""One delivery policy for everything the assistant must get out of the building.

Three outboxes follow it: the citizen notices (``queue_notifications`` — queue calls, and the
staff or bot messages a platform refused —, ``dossier_notifications``) sent by
:mod:`bot.notifications`, and the national portal's ``portal_outbox`` sent by
:mod:`motcua.dossiers.outbox`. Each row carries:

- ``state``: ``pending`` (still to send), ``sent``, ``dead`` (a dead letter: every try failed)
  or ``dismissed`` (staff chose «Bỏ qua»: kept, never sent);
- ``attempts``: the tries made so far; ``last_error``: why the last one failed (:func:`stored_error`:
  CCCD and phone numbers an exception quoted are masked before it is written, since staff read it);
- ``next_attempt_at``: the row is *due* from then on. Senders read due pending rows only,
  ordered by ``next_attempt_at``, so a row that keeps failing waits its turn and never blocks
  the rows behind it.

After the n-th failed try a row waits ``min(max_delay_s, base_delay_s * 2**(n-1))``, shortened
at random by up to ``jitter`` of it (so many failing rows do not come back all at once, and
never later than the nominal wait). After ``max_attempts`` tries it is dead; staff see it on
``/staff/deliveries`` and may send it again (back to pending, attempts reset) or dismiss it.
The defaults (8 tries, 10 minutes doubling up to 8 hours) span about a day; the settings
``delivery_*`` change them.

A worker *claims* a row before it sends it: ``locked_until`` (a lease) keeps other workers off
the row meanwhile, and when the worker dies the row is free again once the lease runs out. The
lease follows the send it covers — :func:`lease_for`: the send's HTTP timeout × ``LEASE_FACTOR``
+ ``LEASE_MARGIN_S`` —, so a crash delays a row by well under a minute, never by minutes.

The outboxes are the citizen notices, dossier notices, the portal's messages and, on the way in,
the webhook inbox (:mod:`bot.webhook_inbox`: a Telegram or Zalo event stored before the platform
got its 200, handled again if the gateway died before answering it).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import utcnow
from motcua.privacy import mask_identifiers

__all__ = [
    "KINDS",
    "DeadLetter",
    "DeliveryColumns",
    "DeliveryPolicy",
    "DeliveryState",
    "Failure",
    "NotADeadLetter",
    "OutboxFigures",
    "dead_letters",
    "dismiss",
    "outbox_figures",
    "resend",
    "NoticeKeeper",
    "keep_notices",
    "lease_for",
    "mask_recipient",
    "stored_error",
]

SEND_TIMEOUT_S = 10.0
"""The HTTP timeout of one send when its client says no other (the portal client's default)."""
LEASE_FACTOR = 2.0
LEASE_MARGIN_S = 5.0


ERROR_LENGTH = 2000


def stored_error(error: str) -> str:
    """``error`` as a row's ``last_error`` keeps it: identity and phone numbers masked
    (:func:`~motcua.privacy.mask_identifiers`; an exception may quote what the citizen typed), cut short."""
    return mask_identifiers(error)[:ERROR_LENGTH]


def lease_for(timeout_s: float) -> float:
    """How long a worker's claim on a row lasts while it sends it: the send's timeout ×
    ``LEASE_FACTOR`` + ``LEASE_MARGIN_S``. Long enough that a live worker finishes its send
    before another may take the row; short, so that a row claimed by a process that died waits
    only that long (10 s → 25 s)."""
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s}")
    return timeout_s * LEASE_FACTOR + LEASE_MARGIN_S


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class Failure:
    """What becomes of a row after a failed try."""

    attempts: int
    state: DeliveryState
    next_attempt_at: datetime
    last_error: str


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 600.0
    max_delay_s: float = 8 * 3600.0
    jitter: float = 0.2
    lease_s: float = lease_for(SEND_TIMEOUT_S)  # a worker's claim on a row while it sends it (see lease_for)

    def __post_init__(self) -> None:
        if self.base_delay_s <= 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError(f"need 0 < base_delay_s <= max_delay_s, got {self.base_delay_s}, {self.max_delay_s}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")
        if self.lease_s <= 0:
            raise ValueError(f"lease_s must be positive, got {self.lease_s}")

    @classmethod
    def from_settings(cls, settings) -> DeliveryPolicy:
        return cls(max_attempts=settings.delivery_max_attempts, base_delay_s=settings.delivery_base_delay_s,
                   max_delay_s=max(settings.delivery_max_delay_s, settings.delivery_base_delay_s),
                   jitter=settings.delivery_jitter)

    def leased_for(self, timeout_s: float) -> DeliveryPolicy:
        """The same policy, its lease made to cover a send of ``timeout_s`` (:func:`lease_for`)."""
        return replace(self, lease_s=lease_for(timeout_s))

    def delay(self, attempts: int) -> float:
        """The nominal wait after ``attempts`` failed tries (0 before any)."""
        if attempts < 1:
            return 0.0
        return min(self.max_delay_s, self.base_delay_s * 2 ** min(attempts - 1, 60))

    def wait(self, attempts: int, rng: Callable[[], float] = random.random) -> float:
        """The nominal wait, shortened at random by up to ``jitter`` of it."""
        nominal = self.delay(attempts)
        return nominal * (1 - self.jitter * rng())

    def after_failure(self, attempts_before: int, error: str, now: datetime, *, final: bool = True,
                      rng: Callable[[], float] = random.random) -> Failure:
        """The row's next state after one more failed try. ``final=False`` (the receiver was down,
        not the message at fault) never makes a dead letter."""
        attempts = attempts_before + 1
        dead = final and attempts >= self.max_attempts
        next_at = now if dead else now + timedelta(seconds=self.wait(attempts, rng))
        return Failure(attempts, DeliveryState.DEAD if dead else DeliveryState.PENDING, next_at, stored_error(error))


class DeliveryColumns:
    """The policy's columns, for a notice table (migration ``0013_notice_delivery``)."""

    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


def mask_recipient(recipient: str) -> str:
    """``telegram:123456789`` → ``telegram:12•••89``; a phone ``0912345678`` → ``09•••78``.

    Enough for staff to tell two recipients apart, not enough to write to them."""
    channel, _, rest = recipient.rpartition(":")
    prefix = f"{channel}:" if channel else ""
    if len(rest) <= 4:
        return prefix + "•" * len(rest)
    return f"{prefix}{rest[:2]}•••{rest[-2:]}"


def keep_notices(session, *, source: str, channel: str, sender_id: str, texts: list[str], error: str,
                 now: datetime | None = None) -> int:
    """Put messages a platform just refused into the notice outbox (``queue_notifications``) in the
    caller's transaction: one try made, due again at once; the relay then follows the policy."""
    from motcua.queue.models import QueueNotification

    now = now or utcnow()
    kept = 0
    for text in texts:
        if not text:
            continue
        session.add(QueueNotification(source=source, channel=channel, sender_id=sender_id, text=text,
                                      created_at=now, state=DeliveryState.PENDING.value, attempts=1,
                                      next_attempt_at=now, last_error=stored_error(error)))
        kept += 1
    return kept


class NoticeKeeper:
    """The :attr:`channels.registry.Channels.keeper` of a gateway: refused bot replies go to the
    notice outbox of ``database`` (``source`` "reply")."""

    def __init__(self, database, source: str = "reply") -> None:
        self.database = database
        self.source = source

    async def __call__(self, channel: str, sender_id: str, texts: list[str], error: str) -> None:
        import asyncio

        def keep() -> None:
            with self.database.session() as session:
                keep_notices(session, source=self.source, channel=channel, sender_id=sender_id, texts=texts,
                             error=error)

        await asyncio.to_thread(keep)


# --- dead letters and figures, for /staff/deliveries and /health ------------------------------

KINDS = ("notice", "dossier", "portal", "inbound")
"""The outboxes: citizen notices (queue, staff, replies), dossier notices, the national portal, and
the webhook inbox (a citizen's Telegram or Zalo message that could not be answered)."""

SOURCE_LABELS = {"queue": "Thông báo lượt gọi số", "staff": "Tin nhắn của cán bộ",  # staff-facing
                 "reply": "Trả lời của trợ lý"}  # staff-facing
PORTAL_RECIPIENT = "Cổng Dịch vụ công quốc gia"  # staff-facing
INBOUND_WHAT = "Tin nhắn người dân gửi đến, chưa trả lời được"  # staff-facing


def _tables() -> dict[str, Any]:
    from motcua.dossiers.models import DossierNotification, PortalOutboxRow
    from motcua.models import InboundEvent
    from motcua.queue.models import QueueNotification

    return {"notice": QueueNotification, "dossier": DossierNotification, "portal": PortalOutboxRow,
            "inbound": InboundEvent}


@dataclass(frozen=True)
class DeadLetter:
    """One row that is not sent, as staff see it: no personal data in full (the text is not shown,
    the recipient is masked)."""

    kind: str
    id: int
    what: str
    channel: str
    recipient: str
    attempts: int
    last_error: str
    created_at: datetime | None
    failed_at: datetime | None
    state: str

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "id": self.id, "what": self.what, "channel": self.channel,
                "recipient": self.recipient, "attempts": self.attempts, "last_error": self.last_error,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "failed_at": self.failed_at.isoformat() if self.failed_at else None, "state": self.state}


def _letter(kind: str, row) -> DeadLetter:
    from motcua.db import as_utc

    if kind == "portal":
        what = f"{row.event} — hồ sơ {row.dossier_code}"  # staff-facing
        channel, recipient = "portal", PORTAL_RECIPIENT
    elif kind == "inbound":  # the citizen is the sender: whom the answer goes to
        what, channel, recipient = INBOUND_WHAT, row.channel, mask_recipient(row.sender_id)
    else:
        if kind == "dossier":
            what = f"Thông báo hồ sơ {row.dossier_code} ({row.status})"  # staff-facing
        else:
            what = SOURCE_LABELS.get(row.source, row.source)
        channel, recipient = row.channel, mask_recipient(row.sender_id)
    return DeadLetter(kind, row.id, what, channel, recipient, row.attempts, mask_identifiers(row.last_error or ""),
                      as_utc(row.created_at), as_utc(row.next_attempt_at), row.state)


def dead_letters(session, *, limit: int = 200) -> list[DeadLetter]:
    """Every outbox's dead letters, the latest first."""
    from sqlalchemy import select

    letters: list[DeadLetter] = []
    for kind, table in _tables().items():
        rows = session.scalars(select(table).where(table.state == DeliveryState.DEAD.value)
                               .order_by(table.id.desc()).limit(limit))
        letters += [_letter(kind, row) for row in rows]
    letters.sort(key=lambda letter: letter.failed_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return letters[:limit]


class NotADeadLetter(LookupError):
    """The row does not exist, or is not (any more) a dead letter."""


def _dead_row(session, kind: str, row_id: int):
    table = _tables().get(kind)
    row = session.get(table, row_id, with_for_update=True) if table is not None else None
    if row is None or row.state != DeliveryState.DEAD.value:
        raise NotADeadLetter(f"{kind}/{row_id}")
    return row


def resend(session, kind: str, row_id: int, *, actor: str, now: datetime | None = None) -> DeadLetter:
    """«Gửi lại»: the dead letter is pending again, due now, its tries counted from zero (audited)."""
    from motcua.staff.accounts import record_audit

    row = _dead_row(session, kind, row_id)
    before = {"state": row.state, "attempts": row.attempts}
    row.state, row.attempts, row.next_attempt_at = DeliveryState.PENDING.value, 0, now or utcnow()
    if hasattr(row, "locked_until"):  # a worker's lease (portal, inbox): none on a pending row
        row.locked_until = None
    record_audit(session, actor, "delivery.resend", f"{kind}/{row_id}", before,
                 {"state": row.state, "attempts": 0})
    session.flush()
    return _letter(kind, row)


def dismiss(session, kind: str, row_id: int, *, actor: str) -> DeadLetter:
    """«Bỏ qua»: the dead letter is kept but never sent, and leaves the list (audited)."""
    from motcua.staff.accounts import record_audit

    row = _dead_row(session, kind, row_id)
    row.state = DeliveryState.DISMISSED.value
    record_audit(session, actor, "delivery.dismiss", f"{kind}/{row_id}", {"state": DeliveryState.DEAD.value},
                 {"state": row.state})
    session.flush()
    return _letter(kind, row)


@dataclass(frozen=True)
class OutboxFigures:
    pending: int  # still to send (due now, or waiting their backoff)
    due: int  # pending and due now: what the senders should be taking
    dead: int
    oldest_pending_at: datetime | None
    oldest_due_at: datetime | None  # how long the oldest due row has waited to be taken


def outbox_figures(session, now: datetime | None = None) -> OutboxFigures:
    from sqlalchemy import and_, func, select

    from motcua.db import as_utc

    now = now or utcnow()
    pending = due = dead = 0
    oldest_pending: datetime | None = None
    oldest_due: datetime | None = None
    for table in _tables().values():
        is_pending = table.state == DeliveryState.PENDING.value
        is_due = and_(is_pending, table.next_attempt_at <= now)
        row = session.execute(select(
            func.count().filter(is_pending), func.count().filter(is_due),
            func.count().filter(table.state == DeliveryState.DEAD.value),
            func.min(table.created_at).filter(is_pending), func.min(table.next_attempt_at).filter(is_due),
        )).one()
        pending, due, dead = pending + row[0], due + row[1], dead + row[2]
        oldest_pending = _earliest(oldest_pending, as_utc(row[3]))
        oldest_due = _earliest(oldest_due, as_utc(row[4]))
    return OutboxFigures(pending, due, dead, oldest_pending, oldest_due)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)
