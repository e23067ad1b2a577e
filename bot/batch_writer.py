"""A queue written to the database in batches by one background task.

The gateway's hot path only puts an item in memory; the writer takes what has
queued up (up to ``batch_size``) and hands it to ``write`` in a worker thread, so a
citizen's reply never waits for the disk. ``stop`` drains the queue first. A write
that fails is logged and dropped: the record must never take the gateway down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)

T = TypeVar("T")


class BatchWriter(Generic[T]):
    def __init__(self, name: str, write: Callable[[Sequence[T]], None], batch_size: int = 200):
        self.name = name
        self.batch_size = batch_size
        self._write = write
        self._queue: asyncio.Queue[T | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    def put(self, item: T) -> None:
        self._queue.put_nowait(item)

    async def stop(self) -> None:
        if self._task is None:
            return
        await self._queue.put(None)
        await self._task
        self._task = None

    async def flush(self) -> None:
        """Wait until everything queued so far is written (or its write has failed and been logged)."""
        if self._task is None or self._task.done():
            return
        await self._queue.join()

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            item = await self._queue.get()
            batch: list[T] = []
            if item is None:
                stopping = True
            else:
                batch.append(item)
            while not self._queue.empty() and len(batch) < self.batch_size:
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            taken = len(batch) + (1 if stopping else 0)
            try:
                if batch:
                    await run_in_threadpool(self._write, batch)
            except Exception:
                log.exception("%s: could not write %d records", self.name, len(batch))
            finally:
                for _ in range(taken):
                    self._queue.task_done()
