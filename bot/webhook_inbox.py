"""The webhook inbox: a Telegram or Zalo event survives the gateway dying after the platform's 200.

A platform gets its answer within a second or two (Zalo wants it within 2 s) and never delivers
an answered event again, while answering the citizen takes Rasa's time and the platform's. So
:meth:`WebhookInbox.accept` first stores the event — its id in ``channel_events`` (the
:class:`~bot.event_ledger.EventLedger`: a redelivery stays a duplicate) and, in the same small
write, a ``webhook_inbox`` row (:class:`motcua.models.InboundEvent`) with what is needed to handle
it again: the channel, the sender, the parsed event as JSON. Only then does the platform get its
200. The row is born *claimed* by the process that received it: ``attempts`` 1 and a lease
(``locked_until``) that covers one handling — Rasa's timeout plus one send
(:func:`motcua.delivery.lease_for`).

The event is then handled as before, after the 200 (:meth:`WebhookInbox.handle`: the gateway is
asked, the reply goes back through :meth:`channels.registry.Channels.send`, which keeps a reply the
platform refused in the notice outbox). Handled, the row is marked ``sent`` and its personal data
blanked (sender and payload; the retention job later drops the row).

The worker (:meth:`WebhookInbox.start`, in the gateway, like the notification relay) passes every
``interval_s`` and takes the rows that are pending, due and whose lease ran out — the process
handling them died — and handles them again. It follows the one delivery policy
(:mod:`motcua.delivery`): a try that fails waits its backoff; ``attempts`` counts the tries
*started*, so an event that kills the process each time is a dead letter after the policy's last
try like one that fails cleanly, and it never holds back the events behind it. Dead letters are
listed on ``/staff/deliveries`` (kind ``inbound``) with «Gửi lại» and «Bỏ qua».

Answered once: a claim is the row's ``attempts`` when it was taken; whoever takes the row after
changes it. The handler checks the claim is still its own (and extends the lease) once it holds
the sender's turn and again before it sends, so the background task and the worker never both
answer one event: the worker cannot take a row while its lease runs, and a handler whose row was
taken meanwhile stops without sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.event_ledger import EventLedger
from bot.ratelimit import RateLimitedGateway, TokenBuckets, should_stay_quiet
from channels.base import BotMessage, Incoming, UserMessage
from channels.registry import Channels
from motcua.background import cancel_and_wait
from motcua.db import Database, utcnow
from motcua.delivery import SEND_TIMEOUT_S, DeliveryPolicy, DeliveryState, Failure, mask_recipient
from motcua.models import InboundEvent

__all__ = ["Claim", "InboxStore", "WebhookInbox", "event_payload", "handling_timeout_s", "read_payload"]

log = logging.getLogger(__name__)

LOST_TRY = "Cổng dừng giữa chừng khi đang trả lời (tiến trình bị tắt hoặc hỏng)"  # staff-facing: a dead letter's last error
_PENDING = DeliveryState.PENDING.value


def handling_timeout_s(rasa_timeout_s: float, send_timeout_s: float = SEND_TIMEOUT_S) -> float:
    """The longest one step of answering an event should take: Rasa's answer, then one send back;
    the inbox's lease is :func:`motcua.delivery.lease_for` of it."""
    return rasa_timeout_s + send_timeout_s


# --- the event as stored --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON value any database takes: no NUL, no lone surrogate; what JSON cannot say becomes text."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(_plain(str(k))): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return _plain(str(value))


def event_payload(event: Incoming) -> dict[str, Any]:
    """What is needed to handle ``event`` again, as JSON."""
    data: dict[str, Any] = {"sender_id": event.sender_id}
    if event.message is not None:
        message = event.message
        data["message"] = {"channel": message.channel, "sender_id": message.sender_id, "text": message.text,
                           "metadata": message.metadata}
    for key in ("notice", "event_id", "acknowledge"):
        if getattr(event, key):
            data[key] = getattr(event, key)
    return _plain(data)


def read_payload(data: Any) -> Incoming:
    """The event back from :func:`event_payload`; ``ValueError`` when it cannot be read."""
    try:
        message = data.get("message")
        user = None
        if message is not None:
            user = UserMessage(str(message["channel"]), str(message["sender_id"]), str(message["text"]),
                               dict(message.get("metadata") or {}))
        return Incoming(str(data["sender_id"]), user, notice=str(data.get("notice") or ""),
                        event_id=str(data.get("event_id") or ""), acknowledge=str(data.get("acknowledge") or ""))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"unreadable inbox event ({type(exc).__name__})") from exc


@dataclass(frozen=True)
class Claim:
    """One inbox row a process has taken to handle: ``token`` is the row's ``attempts`` when it was taken."""

    row_id: int
    token: int
    channel: str
    event: Incoming | None  # None: the stored payload could not be read (a poison row)


# --- the table --------------------------------------------------------------------------------------


def _changed(session: Session, statement: Update) -> int:
    """How many rows an UPDATE changed (its condition is the claim: 0 means someone else holds the row)."""
    result = cast(CursorResult[Any], session.execute(statement.execution_options(synchronize_session=False)))
    return result.rowcount


class InboxStore:
    """The ``webhook_inbox`` rows: stored, claimed, renewed, finished or failed (plain, blocking calls).

    ``policy``: the delivery policy; its ``lease_s`` is the claim's length (give it
    ``policy.leased_for(handling_timeout_s(…))``)."""

    def __init__(self, database: Database, ledger: EventLedger, policy: DeliveryPolicy | None = None, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.ledger = ledger
        self.policy = policy or DeliveryPolicy()
        self.clock = clock

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.policy.lease_s)

    def accept(self, channel: str, event: Incoming) -> Claim | None:
        """Record ``event`` as seen and store it, claimed by the caller, in one write; None when its id
        was seen before (a redelivery)."""
        now = self.clock()
        row = InboundEvent(channel=channel, sender_id=event.sender_id[:128], payload=event_payload(event),
                           created_at=now, state=_PENDING, attempts=1, next_attempt_at=now, last_error="",
                           locked_until=self._lease(now))
        try:
            with self.database.session() as session:
                if event.event_id:
                    row.event_id = self.ledger.record(session, channel, event.event_id, now)
                session.add(row)
                session.flush()
                row_id = row.id
        except IntegrityError:
            if not event.event_id:
                raise
            return None
        if event.event_id:
            self.ledger.recorded(now)
        return Claim(row_id, 1, channel, event)

    def _mine(self, claim: Claim) -> tuple[ColumnElement[bool], ...]:
        return (InboundEvent.id == claim.row_id, InboundEvent.attempts == claim.token,
                InboundEvent.state == _PENDING)

    def renew(self, claim: Claim) -> bool:
        """Whether the row is still the caller's (its lease then starts again)."""
        with self.database.session() as session:
            changed = _changed(session, update(InboundEvent).where(*self._mine(claim))
                               .values(locked_until=self._lease(self.clock())))
        return changed == 1

    def finish(self, claim: Claim) -> bool:
        """The event is handled: ``sent``, its sender and payload blanked. False when it was not the caller's."""
        now = self.clock()
        with self.database.session() as session:
            changed = _changed(session, update(InboundEvent).where(*self._mine(claim)).values(
                state=DeliveryState.SENT.value, handled_at=now, locked_until=None, last_error="", sender_id="",
                payload=None))
        return changed == 1

    def fail(self, claim: Claim, error: str) -> Failure | None:
        """A try that failed: the policy's backoff, or a dead letter after its last try (None: not the caller's)."""
        failure = self.policy.after_failure(claim.token - 1, error, self.clock())
        with self.database.session() as session:
            changed = _changed(session, update(InboundEvent).where(*self._mine(claim)).values(
                state=failure.state.value, attempts=failure.attempts, next_attempt_at=failure.next_attempt_at,
                last_error=failure.last_error, locked_until=None))
        return failure if changed == 1 else None

    def claim_due(self, limit: int) -> list[Claim]:
        """Take up to ``limit`` pending rows that are due and nobody holds (their lease ran out: the
        process died), the earliest due first; a row whose last try was lost that way is a dead letter."""
        now = self.clock()
        free = or_(InboundEvent.locked_until.is_(None), InboundEvent.locked_until < now)
        due = (select(InboundEvent).where(InboundEvent.state == _PENDING, InboundEvent.next_attempt_at <= now, free)
               .order_by(InboundEvent.next_attempt_at, InboundEvent.id).limit(limit))
        with self.database.session() as session:  # a plain read first: an idle pass takes no write lock
            if session.scalar(due.with_only_columns(InboundEvent.id).limit(1)) is None:
                return []
        claims: list[Claim] = []
        with self.database.write() as session:
            for row in session.scalars(due).all():
                lost = row.locked_until is not None  # taken before, and never finished nor failed
                taken = (InboundEvent.id == row.id, InboundEvent.attempts == row.attempts,
                         InboundEvent.state == _PENDING, free)
                if row.attempts >= self.policy.max_attempts:
                    _changed(session, update(InboundEvent).where(*taken).values(
                        state=DeliveryState.DEAD.value, locked_until=None, next_attempt_at=now,
                        last_error=LOST_TRY if lost else (row.last_error or LOST_TRY)))
                    log.warning("inbox #%d (%s) is a dead letter after %d tries", row.id, row.channel, row.attempts)
                    continue
                values: dict[str, Any] = {"attempts": row.attempts + 1, "locked_until": self._lease(now)}
                if lost:
                    values["last_error"] = LOST_TRY
                if _changed(session, update(InboundEvent).where(*taken).values(**values)) != 1:
                    continue
                try:
                    event = read_payload(row.payload)
                except ValueError:
                    event = None
                claims.append(Claim(row.id, row.attempts + 1, row.channel, event))
        return claims


# --- answering, and the worker ----------------------------------------------------------------------


class WebhookInbox:
    """What the webhook route and the worker share: store an event, answer it, take over lost ones."""

    def __init__(self, store: InboxStore, channels: Channels, gateway: RateLimitedGateway,
                 rate_limits: TokenBuckets, *, interval_s: float = 2.0, batch: int = 20) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self.store = store
        self.channels = channels
        self.gateway = gateway
        self.rate_limits = rate_limits
        self.interval_s = interval_s
        self.batch = batch
        self._task: asyncio.Task[None] | None = None
        self.passes = 0  # worker passes completed since start

    async def accept(self, channel: str, event: Incoming) -> Claim | None:
        """Store ``event`` before the platform gets its 200 (None: a redelivery)."""
        return await asyncio.to_thread(self.store.accept, channel, event)

    async def handle(self, claim: Claim) -> None:
        """Ask the gateway, send the reply back the same way; the row is then done. Never raises."""
        sender = claim.event.sender_id if claim.event is not None else ""
        try:
            event = claim.event
            if event is None:
                raise ValueError("the stored event cannot be read")
            channel = self.channels.get(claim.channel)
            if channel is None:
                raise LookupError(f"channel {claim.channel!r} is not open")
            try:
                await channel.acknowledge(event)  # type: ignore[attr-defined]  # a webhook channel
            except Exception as exc:  # the button's spinner: not worth losing the answer over
                log.info("could not acknowledge inbox #%d: %r", claim.row_id, exc)
            async with self.channels.locks.hold(event.sender_id):
                if not await self._still_mine(claim):
                    return
                if event.message is None:
                    if self.rate_limits.take(event.sender_id).allowed:
                        await self._send(claim.channel, event.sender_id, [BotMessage(event.notice)])
                else:
                    reply = await self.gateway.handle(event.message)
                    if not await self._still_mine(claim):  # answered by whoever took it meanwhile
                        return
                    if not should_stay_quiet(reply):
                        await self._send(claim.channel, event.sender_id, reply.messages)
            await asyncio.to_thread(self.store.finish, claim)
        except Exception as exc:  # one event must not stop the others; the policy decides what comes next
            log.exception("could not answer %s (inbox #%d)", mask_recipient(sender), claim.row_id)
            with contextlib.suppress(Exception):
                failure = await asyncio.to_thread(self.store.fail, claim, f"{type(exc).__name__}: {exc}")
                if failure is not None and failure.state is DeliveryState.DEAD:
                    log.warning("inbox #%d is a dead letter after %d tries", claim.row_id, failure.attempts)

    async def _still_mine(self, claim: Claim) -> bool:
        if await asyncio.to_thread(self.store.renew, claim):
            return True
        log.info("inbox #%d was taken over by another worker; not answering it here", claim.row_id)
        return False

    async def _send(self, name: str, sender_id: str, messages: list[BotMessage]) -> None:
        """Through the channel; a reply the platform refuses is kept in the notice outbox by the
        channels' keeper, so the event counts as handled either way."""
        if not messages:
            return
        result = await self.channels.send(name, sender_id, messages)
        if not (result.delivered or result.queued):
            log.error("reply to %s not sent: %s", mask_recipient(sender_id), result.error)

    async def run_once(self) -> int:
        """One worker pass: take the lost and due rows, batch after batch, and handle them; returns how many."""
        taken = 0
        while True:
            claims = await asyncio.to_thread(self.store.claim_due, self.batch)
            if not claims:
                return taken
            taken += len(claims)
            await asyncio.gather(*(self.handle(claim) for claim in claims))
            if len(claims) < self.batch:
                return taken

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # a database hiccup must not stop the worker
                log.exception("webhook inbox pass failed")
            self.passes += 1
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        """Start the worker in the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-inbox")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
