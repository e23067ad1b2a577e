"""Citizens' personal data: masked where it is only shown or logged, deleted when it is no longer needed.

- :func:`mask_identifiers` hides identity-card numbers (12-digit CCCD, 9-digit CMND) and phone
  numbers in free text, keeping the last three digits (``*********123``), so a message log, an
  application log or a read-back still says *which* number without disclosing it; a dossier's lookup
  PIN («mã tra cứu 123456») is hidden whole. Rasa's tracker store hides the PIN and link tokens too
  (:mod:`motcua.rasa_launch`, which Rasa's own interpreter runs).
  :func:`install_log_masking` applies it to every log record of a process (gateway, action server),
  with :func:`redact_tokens`: the value of a ``token=`` query parameter (a link to a dossier's
  declaration or payment) never reaches a log, uvicorn's access log included.
- :func:`purge_expired` deletes, after ``retention_days``, what conversations leave behind: the
  message log, Rasa's tracker events (Rasa's SQL tracker store writes an ``events`` table into our
  database), handoff conversations, unanswered questions, rating comments, the webhook inbox's rows, the notice
  outbox's rows (a queue call after a day) and the centre a Telegram or Zalo chat chose. Dossiers are a legal
  record and are kept. A queue ticket's *origin* (the keyed hash of an anonymous client's address,
  :mod:`motcua.origin`) is blanked sooner, after :data:`ORIGIN_KEPT`: only the per-address bound on chat
  numbers reads it; so is the phone a citizen gave at the kiosk for the «your turn» text message (a number is
  called the day it is taken). :class:`RetentionJob` runs it once a day in the gateway;
  ``motcua privacy purge`` runs it by hand.

Plain Python: importable without FastAPI or Rasa.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, inspect, select, text, update

from motcua.background import cancel_and_wait
from motcua.db import session_scope, utcnow

log = logging.getLogger(__name__)

KEEP_DIGITS = 3

_IDENTIFIER = re.compile(
    r"(?<![\d+])(?:"
    # phone: 0912 345 678, 0912.345.678, +84912345678, +84 912 345 678, (+84) 912-345-678, 024 3825 1234
    r"(?:\(\+?84\)|\+84|84|0)[ .\-]?\d(?:[ .\-]?\d){8,9}"
    r"|\d{12}"  # CCCD: 12 digits
    # … as typed in groups (079 095 001 234, 0790-9500-1234), not inside a code (H51-260310-0001)
    r"|(?<![^\W\d_])(?<![.\-])\d(?:[ .\-]?\d){11}"
    r"|\d{9}"  # old CMND (9 digits, written together: «500.000.000 đồng» is a sum, not a card)
    r")(?!\d)"
)


def mask_number(value: str) -> str:
    """``"012345678901"`` → ``"*********901"``: every digit but the last three hidden, separators dropped."""
    digits = re.sub(r"\D", "", value)
    if len(digits) <= KEEP_DIGITS:
        return "*" * len(digits)
    return "*" * (len(digits) - KEEP_DIGITS) + digits[-KEEP_DIGITS:]


# A dossier's lookup PIN, as the chat reads it (actions/dossiers.py): six digits after «mã tra cứu» or «PIN».
# With the dossier's code it opens the dossier's status, so it is hidden whole (no digit kept).
LOOKUP_PIN = re.compile(r"((?:mã\s*tra\s*cứu|ma\s*tra\s*cuu|\bpin\b)\D{0,12}?)(\d{3}[ .]?\d{3})(?!\d)", re.IGNORECASE)
"""Group 1: what precedes the PIN; group 2: the PIN (what :func:`actions.dossiers.lookup_pin` reads)."""
PIN_MASK = "******"


def mask_identifiers(text: str) -> str:
    """``text`` with every CCCD, CMND and phone number in it masked by :func:`mask_number`, and a dossier's
    lookup PIN («mã tra cứu 123456») hidden whole."""
    if not text or not any(c.isdigit() for c in text):
        return text
    text = LOOKUP_PIN.sub(lambda m: m.group(1) + PIN_MASK, text)
    return _IDENTIFIER.sub(lambda m: mask_number(m.group(0)), text)


_TOKEN_QUERY = re.compile(r"(?i)((?:^|[?&;\s\"'])[\w.-]*token=)[^&\s\"'#]+")
# a queue ticket's token is a path segment: /queue/ticket/<token>, /api/v1/queue/tickets/<token>/qr.svg
_TOKEN_PATH = re.compile(r"(/queue/tickets?/)[^/?\s\"'#]+")
REDACTED = "[redacted]"


def redact_tokens(text: str) -> str:
    """``/api/v1/dossiers/X/payment?token=abc&x=1`` → ``…?token=[redacted]&x=1``: a link's secret out of logs
    (``token=``, ``access_token=`` …, in a URL or a query string; a queue ticket's token in its path)."""
    if not text:
        return text
    if "/queue/ticket" in text:
        text = _TOKEN_PATH.sub(lambda m: m.group(1) + REDACTED, text)
    if "token=" not in text.lower():
        return text
    return _TOKEN_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


def is_secret_key(key: Any) -> bool:
    """A JSON key whose value is a link's secret (``token``, ``access_token``…): a payload's, not a text's."""
    return isinstance(key, str) and (key.lower() == "token" or key.lower().endswith("_token"))


def redact_secrets(value: Any) -> Any:
    """A JSON-like value with :func:`redact_tokens` applied to every string, and the value of every secret key
    (:func:`is_secret_key`: a queue ticket's ``token`` in a reply's payload) replaced by :data:`REDACTED`."""
    if isinstance(value, str):
        return redact_tokens(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(k) and isinstance(v, str) else redact_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_secrets(v) for v in value)
    return value


def _log_safe(text: str) -> str:
    return redact_tokens(mask_identifiers(text))


def mask_data(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with identifiers masked in every string, keys included."""
    if isinstance(value, str):
        return mask_identifiers(value)
    if isinstance(value, Mapping):
        return {mask_data(k) if isinstance(k, str) else k: mask_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_data(v) for v in value)
    return value


# --- application logs --------------------------------------------------------------------------


class PersonalDataFilter(logging.Filter):
    """Masks identifiers and link tokens in a record's message and string arguments (never drops a record).

    Arguments are masked one by one rather than formatted in advance, so formatters that
    read ``record.args`` themselves (uvicorn's access log) keep working.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _log_safe(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_log_safe(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _log_safe(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            # an exception's message may quote what a citizen typed: format the traceback now, masked
            # (formatters reuse ``exc_text`` when it is set)
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _log_safe(record.exc_text)
        return True


_installed = False


def install_log_masking() -> None:
    """Mask identifiers in every log record this process creates, whichever logger or handler.

    A filter on the root logger would miss records of child loggers with their own handlers
    (uvicorn's), so the filter runs in the record factory instead. Idempotent.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    masking = PersonalDataFilter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        masking.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


# --- retention ---------------------------------------------------------------------------------

RASA_EVENTS_TABLE = "events"
"""The table Rasa's SQL tracker store writes (one row per event, ``timestamp`` in Unix seconds)."""

ORIGIN_KEPT = timedelta(days=1)
"""How long a queue ticket keeps its origin, whatever ``retention_days``. The only reader is the bound on
numbers per client address (:func:`motcua.queue.limits.first_reached`), which looks back one
``ChatTicketLimits.window`` (an hour by default): a day is far longer. A window set longer than this is
honoured: :func:`purge_expired` keeps origins for ``max(ORIGIN_KEPT, chat_window)``."""


PURGED_LABELS = {
    "conversation_messages": "tin nhắn trong nhật ký hội thoại",
    "handoff_messages": "tin nhắn chuyển cán bộ",
    "handoff_conversations": "cuộc trò chuyện chuyển cán bộ",
    "unanswered_questions": "câu hỏi chưa trả lời được",
    "rating_comments": "lời nhận xét của đánh giá (giữ điểm số)",
    "rasa_events": "sự kiện hội thoại của Rasa (tracker)",
    "webhook_inbox": "tin nhắn Telegram/Zalo trong hộp thư đến của cổng",
    "queue_origins": f"mã băm địa chỉ trên số thứ tự quá {ORIGIN_KEPT.days} ngày (số vẫn giữ)",
    "queue_phones": f"số điện thoại nhận tin nhắn báo lượt trên số thứ tự quá {ORIGIN_KEPT.days} ngày (số vẫn giữ)",
    "sender_centers": "trung tâm người dân đã chọn trên Telegram, Zalo",
    "notices": "tin nhắn chờ gửi hoặc đã gửi cho người dân (báo gọi số quá 1 ngày, tin khác quá hạn lưu)",
}


@dataclass(frozen=True)
class PurgeReport:
    """What :func:`purge_expired` deleted (or, with ``dry_run``, would delete), per kind of data."""

    cutoff: datetime
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        verb = "Sẽ xóa" if self.dry_run else "Đã xóa"
        parts = ", ".join(f"{PURGED_LABELS.get(name, name)}: {count}" for name, count in self.counts.items())
        return f"{verb} dữ liệu cũ hơn {self.cutoff:%d/%m/%Y %H:%M} UTC — {parts} (tổng {self.total})."


def retention_cutoff(retention_days: int, now: datetime | None = None) -> datetime:
    if retention_days < 1:
        raise ValueError(f"retention_days must be at least 1, got {retention_days}")
    return (now or utcnow()) - timedelta(days=retention_days)


def purge_expired(database_url: str, retention_days: int, *, dry_run: bool = False,
                  now: datetime | None = None, chat_window: timedelta | None = None) -> PurgeReport:
    """Delete conversation data older than ``retention_days``; dossiers and the audit log are kept.

    Rating scores are kept for the statistics; only their free-text comment and sender are erased.
    Queue tickets are kept too; their origin and phone are set to NULL once they are older than
    :data:`ORIGIN_KEPT` (or ``chat_window``, the bound's window, when that is longer).
    One transaction: either everything older than the cutoff goes, or nothing does.
    """
    from motcua.centers import SenderCenter
    from motcua.models import ConversationMessage, InboundEvent
    from motcua.queue.limits import ChatTicketLimits
    from motcua.queue.models import QueueNotification, QueueTicket
    from motcua.staff.models import HandoffConversation, HandoffMessage, Rating, UnansweredQuestion

    cutoff = retention_cutoff(retention_days, now)
    origin_cutoff = (now or utcnow()) - max(ORIGIN_KEPT, chat_window or ChatTicketLimits().window)
    counts: dict[str, int] = {}
    with session_scope(database_url) as session:
        def run(name: str, where, statement) -> None:
            counts[name] = session.scalar(select(func.count()).where(where)) or 0
            if counts[name] and not dry_run:
                session.execute(statement.where(where).execution_options(synchronize_session=False))

        run("conversation_messages", ConversationMessage.created_at < cutoff, delete(ConversationMessage))
        old_handoffs = select(HandoffConversation.id).where(HandoffConversation.last_message_at < cutoff)
        run("handoff_messages", (HandoffMessage.created_at < cutoff) | HandoffMessage.conversation_id.in_(old_handoffs),
            delete(HandoffMessage))
        run("handoff_conversations", HandoffConversation.last_message_at < cutoff, delete(HandoffConversation))
        run("unanswered_questions", UnansweredQuestion.created_at < cutoff, delete(UnansweredQuestion))
        run("rating_comments", (Rating.created_at < cutoff) & ((Rating.comment != "") | (Rating.sender_id != "")),
            update(Rating).values(comment="", sender_id=""))
        # the webhook inbox: a handled event is blanked at once; what is left (its tombstone, a dead letter) goes here
        run("webhook_inbox", InboundEvent.created_at < cutoff, delete(InboundEvent))
        run("queue_origins", (QueueTicket.issued_at < origin_cutoff) & QueueTicket.origin.is_not(None),
            update(QueueTicket).values(origin=None))
        # the phone given for «your turn» text messages: a number is called the day it is taken
        run("queue_phones", (QueueTicket.issued_at < origin_cutoff) & QueueTicket.phone.is_not(None),
            update(QueueTicket).values(phone=None))
        run("sender_centers", SenderCenter.updated_at < cutoff, delete(SenderCenter))
        # the notice outbox names its citizen (a chat id, or for a text message the phone): a queue call is for the
        # day its number was taken, a staff or bot message a platform refused goes with the conversation it was in
        run("notices", ((QueueNotification.source == "queue") & (QueueNotification.created_at < origin_cutoff))
            | (QueueNotification.created_at < cutoff), delete(QueueNotification))
        counts["rasa_events"] = _purge_rasa_events(session, cutoff, dry_run)
    report = PurgeReport(cutoff, dry_run, counts)
    log.info("retention: %s", report.describe())
    return report


def _purge_rasa_events(session, cutoff: datetime, dry_run: bool) -> int:
    """Rasa's tracker events older than ``cutoff``; 0 when Rasa never wrote to this database."""
    if not inspect(session.connection()).has_table(RASA_EVENTS_TABLE):
        return 0
    params = {"cutoff": cutoff.timestamp()}
    count = session.scalar(text(f"SELECT count(*) FROM {RASA_EVENTS_TABLE} WHERE timestamp < :cutoff"), params)
    if count and not dry_run:
        session.execute(text(f"DELETE FROM {RASA_EVENTS_TABLE} WHERE timestamp < :cutoff"), params)
    return int(count or 0)


class RetentionJob:
    """Runs :func:`purge_expired` shortly after start, then every ``interval_s`` (a day), off the event loop.

    A failed run is logged and retried at the next interval; it never stops the gateway.
    """

    def __init__(self, database_url: str, retention_days: int, *, first_delay_s: float = 60.0,
                 interval_s: float = 24 * 3600.0, chat_window: timedelta | None = None) -> None:
        if first_delay_s < 0 or interval_s <= 0:
            raise ValueError("first_delay_s must be >= 0 and interval_s > 0")
        retention_cutoff(retention_days)  # fails early on a bad setting
        self.database_url = database_url
        self.retention_days = retention_days
        self.first_delay_s = first_delay_s
        self.interval_s = interval_s
        self.chat_window = chat_window  # the chat number bounds' window: origins are kept at least that long
        self.last_report: PurgeReport | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def run_once(self) -> PurgeReport:
        self.last_report = await asyncio.to_thread(purge_expired, self.database_url, self.retention_days,
                                                   chat_window=self.chat_window)
        return self.last_report

    async def _loop(self) -> None:
        await asyncio.sleep(self.first_delay_s)
        while True:
            try:
                await self.run_once()
            except Exception:  # a locked or unreachable database: try again tomorrow
                log.exception("retention: purge failed")
            await asyncio.sleep(self.interval_s)

