"""Writes every message in and out to the database, off the reply's critical path.

Messages are queued in memory and written in batches by one background task,
so a citizen's reply never waits for the disk. On shutdown the queue is drained.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from motcua.db import session_scope
from motcua.models import ConversationMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogEntry:
    channel: str
    sender_id: str
    direction: str
    text: str
    payload: dict[str, Any] | None = None
    outcome: str = ""


class MessageLog:
    def __init__(self, database_url: str, batch_size: int = 200):
        self.database_url = database_url
        self.batch_size = batch_size
        self._queue: asyncio.Queue[LogEntry | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="message-log")

    def record(self, entry: LogEntry) -> None:
        self._queue.put_nowait(entry)

    async def stop(self) -> None:
        if self._task is None:
            return
        await self._queue.put(None)
        await self._task
        self._task = None

    async def flush(self) -> None:
        """Wait until everything queued so far is written (for tests and shutdown)."""
        while not self._queue.empty():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            entry = await self._queue.get()
            batch: list[LogEntry] = []
            if entry is None:
                stopping = True
            else:
                batch.append(entry)
            while not self._queue.empty() and len(batch) < self.batch_size:
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            if batch:
                try:
                    await run_in_threadpool(self._write, batch)
                except Exception:  # the log must never take the gateway down
                    log.exception("could not write %d conversation messages", len(batch))

    def _write(self, batch: list[LogEntry]) -> None:
        with session_scope(self.database_url) as session:
            session.add_all(
                ConversationMessage(channel=e.channel, sender_id=e.sender_id, direction=e.direction,
                                    text=e.text, payload=e.payload, outcome=e.outcome)
                for e in batch
            )
