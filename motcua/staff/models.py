"""Tables of the staff area: accounts and sessions, the audit log, unanswered questions,
ratings, handed-over conversations, training runs and the model registry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import Base, EnumText, utcnow

ROLES = ("staff", "admin")


class QuestionStatus(StrEnum):
    """Where an unanswered question stands in the staff's review list."""

    OPEN = "open"
    LINKED = "linked"  # a procedure answers it
    TRAINING = "training"  # added to the training examples
    FAQ = "faq"  # answered in the FAQ
    DISMISSED = "dismissed"

    @property
    def label(self) -> str:
        return _QUESTION_LABELS[self]


_QUESTION_LABELS = {QuestionStatus.OPEN: "Chờ xử lý", QuestionStatus.LINKED: "Đã gắn thủ tục",
                    QuestionStatus.TRAINING: "Đã thêm vào dữ liệu huấn luyện",
                    QuestionStatus.FAQ: "Đã thêm vào hỏi đáp", QuestionStatus.DISMISSED: "Đã bỏ qua"}


class HandoffStatus(StrEnum):
    """A conversation handed over to staff is open until they give it back to the assistant."""

    OPEN = "open"
    CLOSED = "closed"


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16), default="staff")  # "staff" | "admin"
    center_code: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSession(Base):
    """A signed-in browser: only the SHA-256 of its random token is stored."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """Who changed what: before and after, as JSON."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255), default="")
    before: Mapped[Any] = mapped_column(JSON, default=None, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, default=None, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class UnansweredQuestion(Base):
    """A citizen's message the assistant abstained on, fell back on, handed over or was rated unhelpful."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (Index("ix_unanswered_status_time", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    sender_id: Mapped[str] = mapped_column(String(128))
    question: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(16))  # busy | empty | fallback | handoff | unhelpful
    status: Mapped[QuestionStatus] = mapped_column(EnumText(QuestionStatus, 16), default=QuestionStatus.OPEN)
    procedure_code: Mapped[str] = mapped_column(String(32), default="")
    intent: Mapped[str] = mapped_column(String(64), default="")
    resolved_by: Mapped[str] = mapped_column(String(64), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # the centre the citizen wrote from (migration 0023): its staff review it
    center_code: Mapped[str] = mapped_column(String(32), default="default", server_default="default", index=True)


class Rating(Base):
    """A satisfaction rating: of the service (1–5 stars) or of one answer of the assistant."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="service")  # service | answer
    score: Mapped[int | None] = mapped_column(Integer, default=None)  # 1..5
    helpful: Mapped[bool | None] = mapped_column(Boolean, default=None)
    channel: Mapped[str] = mapped_column(String(32), default="")
    sender_id: Mapped[str] = mapped_column(String(128), default="")
    center_code: Mapped[str] = mapped_column(String(64), default="")
    counter: Mapped[str] = mapped_column(String(32), default="")
    procedure_code: Mapped[str] = mapped_column(String(32), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class HandoffConversation(Base):
    __tablename__ = "handoff_conversations"
    __table_args__ = (Index("ix_handoff_sender_status", "sender_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    sender_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[HandoffStatus] = mapped_column(EnumText(HandoffStatus, 16), default=HandoffStatus.OPEN)
    reason: Mapped[str] = mapped_column(String(32), default="")
    question: Mapped[str] = mapped_column(Text, default="")
    assigned_to: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str] = mapped_column(String(64), default="")
    # the centre the citizen wrote from (a kiosk's, a widget's, a Telegram link's; migration 0022): its staff answer
    center_code: Mapped[str] = mapped_column(String(32), default="default", server_default="default", index=True)


class HandoffMessage(Base):
    __tablename__ = "handoff_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("handoff_conversations.id", ondelete="CASCADE"),
                                                 index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in (citizen) | out (staff) | bot
    author: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingRun(Base):
    """One background retraining: progress, log, scores and the gate's decision."""

    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # queued | running | promoted | refused | failed
    stage: Mapped[str] = mapped_column(String(64), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str] = mapped_column(String(64), default="")
    fingerprint: Mapped[str] = mapped_column(String(32), default="")
    model_version_id: Mapped[int | None] = mapped_column(Integer, default=None)
    decision: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class ModelVersion(Base):
    """A trained model in the registry, with its data fingerprint and its scores."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), index=True)
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="candidate")
    # candidate | active | previous | refused
    intent_f1: Mapped[float | None] = mapped_column(Float, default=None)
    entity_f1: Mapped[float | None] = mapped_column(Float, default=None)
    stories_total: Mapped[int | None] = mapped_column(Integer, default=None)
    stories_failed: Mapped[int | None] = mapped_column(Integer, default=None)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(default=None)
    promoted_by: Mapped[str] = mapped_column(String(64), default="")
