"""Tables of the gateway's own records: every message in and out, per channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import Base, utcnow


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


class ProcessedEvent(Base):
    """A platform event (Telegram update, Zalo event) already handled: a redelivery, even after a
    restart, is answered 200 and dropped. Rows older than a couple of days are pruned."""

    __tablename__ = "channel_events"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
