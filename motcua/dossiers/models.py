"""Tables of the dossier store (hồ sơ): dossiers, their history, files, the portal outbox.

- ``dossier_counters``: one row per (agency, day) holding the last daily sequence number
  given out; incremented in the same transaction as the dossier insert, so numbers are
  unique and gap-free.
- ``dossiers``: one row per dossier received.
- ``dossier_status_changes``: every status change, with who and when.
- ``dossier_attachments``: the documents received, each stored as one PDF.
- ``portal_outbox``: what must reach the national portal, written in the same transaction
  as the change it describes and delivered later by :mod:`motcua.dossiers.outbox`.
- ``dossier_notifications``: notices for the citizen on the channel they came from,
  recorded by the default notifier for the channels to send.
- ``dossier_links``: links to a dossier's personal documents, by the SHA-256 of their random
  token, with expiry and revocation (migration ``0006_dossier_privacy``, which also adds
  ``dossiers.lookup_pin_hash``: the receipt's lookup PIN, salted and hashed).
- ``dossiers.filing_key`` and ``dossier_filing_pins`` (migration ``0013_dossier_filing_keys``):
  the SHA-256 of the key a filing was made with, unique, so that a retried filing finds its
  dossier instead of making a second one; and, for an hour, the lookup PIN of that first
  answer, sealed with the key (:mod:`motcua.dossiers.filing`), so that the retry can repeat it.
- ``dossiers.center_code`` (migration ``0020_dossier_centers``): the centre the dossier was filed at
  (:mod:`motcua.centers`); staff of one centre see only its dossiers.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from motcua.centers import DEFAULT_CENTER
from motcua.db import Base, EnumText, utcnow
from motcua.delivery import DeliveryColumns, DeliveryState
from motcua.dossiers.status import DossierStatus


class PortalEvent(StrEnum):
    """What an outbox row tells the national portal."""

    CREATED = "dossier.created"
    STATUS_CHANGED = "dossier.status_changed"
    PAYMENT_CHANGED = "dossier.payment_changed"  # the fee priced, paid or waived (motcua.payments)


class DossierCounter(Base):
    __tablename__ = "dossier_counters"
    __table_args__ = (PrimaryKeyConstraint("agency_code", "day"),)

    agency_code: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    last_seq: Mapped[int] = mapped_column(Integer)


class DossierRow(Base):
    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("agency_code", "day", "seq", name="uq_dossiers_agency_day_seq"),
        Index("ix_dossiers_status_received", "status", "received_at"),
        Index("ix_dossiers_filing_key", "filing_key", unique=True),
        Index("ix_dossiers_center_received", "center_code", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    agency_code: Mapped[str] = mapped_column(String(32))
    center_code: Mapped[str] = mapped_column(String(32), default=DEFAULT_CENTER)  # the centre it was filed at
    day: Mapped[date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    procedure_code: Mapped[str] = mapped_column(String(32), index=True)
    procedure_name: Mapped[str] = mapped_column(Text, default="")
    form_id: Mapped[str] = mapped_column(String(64), default="")
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    applicant_name: Mapped[str] = mapped_column(String(128))
    applicant_cccd: Mapped[str] = mapped_column(String(12), default="", index=True)
    applicant_phone: Mapped[str] = mapped_column(String(16), default="", index=True)
    channel: Mapped[str] = mapped_column(String(32), default="")
    sender_id: Mapped[str] = mapped_column(String(128), default="")
    submission_kind: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[DossierStatus] = mapped_column(EnumText(DossierStatus, 32))
    received_at: Mapped[datetime] = mapped_column()
    processing_value: Mapped[float | None] = mapped_column(default=None)
    processing_unit: Mapped[str] = mapped_column(String(16), default="")
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    supplement_note: Mapped[str] = mapped_column(Text, default="")
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    lookup_pin_hash: Mapped[str] = mapped_column(String(128), default="")
    filing_key: Mapped[str | None] = mapped_column(String(64), default=None)  # NULL: filed without a key


class DossierFilingPin(Base):
    """The lookup PIN of a filing's first answer, sealed with its filing key, until ``expires_at``."""

    __tablename__ = "dossier_filing_pins"

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True)
    sealed_pin: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class DossierStatusChange(Base):
    __tablename__ = "dossier_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(32), default="")  # "" for the first entry
    to_status: Mapped[DossierStatus] = mapped_column(EnumText(DossierStatus, 32))
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DossierAttachment(Base):
    __tablename__ = "dossier_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PortalOutboxRow(Base):
    __tablename__ = "portal_outbox"
    __table_args__ = (
        UniqueConstraint("dossier_id", "position", name="uq_portal_outbox_dossier_position"),
        Index("ix_portal_outbox_pending", "delivered_at", "next_attempt_at"),
        Index("ix_portal_outbox_state", "state", "next_attempt_at"),
        Index("ix_portal_outbox_dossier", "dossier_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    dossier_code: Mapped[str] = mapped_column(String(48))
    position: Mapped[int] = mapped_column(Integer)  # 1 = filed, 2… = each later change
    event: Mapped[PortalEvent] = mapped_column(EnumText(PortalEvent, 32))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)  # motcua.delivery


class DossierNotification(DeliveryColumns, Base):
    __tablename__ = "dossier_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_code: Mapped[str] = mapped_column(String(48), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    sender_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[DossierStatus] = mapped_column(EnumText(DossierStatus, 32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class DossierLink(Base):
    """A link to one of a dossier's personal documents; only the token's SHA-256 is kept."""

    __tablename__ = "dossier_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # "declaration"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str] = mapped_column(String(128), default="")
