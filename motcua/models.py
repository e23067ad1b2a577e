"""Tables of the gateway's own records: every message in and out, per channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import Base, utcnow
from motcua.delivery import DeliveryColumns


class ConversationMessage(Base):
    """One message of a conversation, as the gateway saw it (for staff and statistics)."""

    __tablename__ = "conversation_messages"
    __table_args__ = (Index("ix_conversation_messages_sender_time", "sender_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    sender_id: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(8))  # "in" | "out"
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    outcome: Mapped[str] = mapped_column(String(32), default="")  # "", "busy", "fallback", "handoff"
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # the centre the citizen wrote from (migration 0024): the dashboard's assistant figures per centre
    center_code: Mapped[str] = mapped_column(String(32), default="default", server_default="default", index=True)


class ProcessedEvent(Base):
    """A platform event (Telegram update, Zalo event) already handled: a redelivery, even after a
    restart, is answered 200 and dropped. Rows older than a couple of days are pruned."""

    __tablename__ = "channel_events"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class InboundEvent(DeliveryColumns, Base):
    """A platform event in the webhook inbox (:mod:`bot.webhook_inbox`): written with its
    ``channel_events`` row, before the platform gets its 200, so that an event the gateway died
    before answering is handled again. ``payload`` (the parsed event) and ``sender_id`` are
    personal data: blanked once the event is handled; the retention job drops old rows.

    Follows :mod:`motcua.delivery`: ``state`` pending → ``sent`` (handled: the reply sent or kept in
    the notice outbox) or ``dead``; ``attempts`` counts the tries *started* (a try whose process died
    counts), ``locked_until`` is the lease of the process handling it."""

    __tablename__ = "webhook_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str | None] = mapped_column(String(128), default=None)  # as in channel_events; None: none
    sender_id: Mapped[str] = mapped_column(String(128), default="")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    handled_at: Mapped[datetime | None] = mapped_column(default=None)
