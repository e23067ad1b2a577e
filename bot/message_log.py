"""Writes every message in and out to the database, off the reply's critical path.

Messages are queued in memory and written in batches by a :class:`~bot.batch_writer.BatchWriter`,
so a citizen's reply never waits for the disk. On shutdown the queue is drained.

Identity-card and phone numbers are masked before anything is queued
(:func:`motcua.privacy.mask_identifiers`), and the secrets in links sent to a citizen redacted
(:func:`motcua.privacy.redact_tokens`): the log is for staff and statistics, the full
numbers stay only in the dossier a citizen files. Before that the text is cleaned
(:func:`knowledge_base.text.clean_text`: no control characters, NFC), so the masking sees the
digits a citizen typed even with a control character between them, and no database refuses it.
A row the database refuses all the same costs only itself (:class:`~bot.batch_writer.BatchWriter`);
:attr:`MessageLog.failures` counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.batch_writer import BatchWriter
from knowledge_base.text import clean_text
from motcua.db import Database
from motcua.models import ConversationMessage
from motcua.privacy import mask_data, mask_identifiers, redact_secrets, redact_tokens


@dataclass(frozen=True)
class LogEntry:
    channel: str
    sender_id: str
    direction: str
    text: str
    payload: dict[str, Any] | None = None
    outcome: str = ""
    center: str = "default"  # the centre the citizen wrote from (motcua.centers.center_in)


def cleaned(value: Any) -> Any:
    """A JSON-like value with :func:`~knowledge_base.text.clean_text` applied to every string, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {cleaned(k) if isinstance(k, str) else k: cleaned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(cleaned(v) for v in value)
    return value


def masked(entry: LogEntry) -> LogEntry:
    """``entry`` cleaned, with CCCD, CMND and phone numbers masked in its text and payload, and the secrets of
    links (a dossier's payment or declaration ``token=``, a queue ticket's token) replaced by ``[redacted]``:
    the link works for the citizen it was sent to, never for someone reading the log."""
    return replace(entry, text=redact_tokens(mask_identifiers(clean_text(entry.text))),
                   payload=redact_secrets(mask_data(cleaned(entry.payload))) if entry.payload is not None else None)


class MessageLog:
    def __init__(self, database: Database, batch_size: int = 200):
        self.database = database
        self._writer: BatchWriter[LogEntry] = BatchWriter("message-log", self._write, batch_size,
                                                          size=lambda entry: len(entry.text))

    @property
    def failures(self) -> int:
        """Messages the database refused since start (each dropped alone, logged without its text)."""
        return self._writer.failures

    def start(self) -> None:
        self._writer.start()

    def record(self, entry: LogEntry) -> None:
        self._writer.put(masked(entry))

    async def stop(self) -> None:
        await self._writer.stop()

    async def flush(self) -> None:
        """Wait until everything queued so far is written (for tests and shutdown)."""
        await self._writer.flush()

    def _write(self, batch: Sequence[LogEntry]) -> None:
        with self.database.session() as session:
            session.add_all(
                ConversationMessage(channel=e.channel, sender_id=e.sender_id, direction=e.direction,
                                    text=e.text, payload=e.payload, outcome=e.outcome, center_code=e.center)
                for e in batch
            )
