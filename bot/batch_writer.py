"""A queue written to the database in batches by one background task.

The gateway's hot path only puts an item in memory; the writer takes what has
queued up (up to ``batch_size``) and hands it to ``write`` in a worker thread, so a
citizen's reply never waits for the disk. ``stop`` drains the queue first.

A batch whose write fails is written again row by row, so one row the database refuses
(too long for a column, a constraint) costs only itself: the good rows are kept, the bad
one is logged by its size and the error's class (never its content: it is a citizen's
text) and counted in :attr:`BatchWriter.failures`. When ``give_up_after`` rows in a row
fail too, the database itself is in trouble: the rest of the batch is counted as lost
without more attempts. Nothing a write raises ever takes the gateway down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)

T = TypeVar("T")


def _length(item: object) -> int:
    return len(str(item))


class BatchWriter(Generic[T]):
    """``put`` items; they reach ``write`` in batches. ``failures``: rows lost since start."""

    def __init__(self, name: str, write: Callable[[Sequence[T]], None], batch_size: int = 200, *,
                 size: Callable[[T], int] = _length, give_up_after: int = 5):
        self.name = name
        self.batch_size = batch_size
        self.give_up_after = give_up_after
        self.failures = 0  # rows that could not be written (for /health)
        self._write = write
        self._size = size
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

    def write_batch(self, batch: Sequence[T]) -> int:
        """Write ``batch``, row by row when the whole fails; the number of rows lost (also added to ``failures``)."""
        try:
            self._write(batch)
            return 0
        except Exception as exc:
            log.warning("%s: could not write %d records (%s); writing them one by one",
                        self.name, len(batch), type(exc).__name__)
            if len(batch) == 1:
                return self._lost(batch[0], exc)
        lost = in_a_row = 0
        for index, item in enumerate(batch):
            try:
                self._write([item])
                in_a_row = 0
            except Exception as exc:
                lost += self._lost(item, exc)
                in_a_row += 1
                if in_a_row >= self.give_up_after and index + 1 < len(batch):
                    rest = len(batch) - index - 1
                    log.error("%s: %d records in a row refused; the other %d of the batch are dropped",
                              self.name, in_a_row, rest)
                    self.failures += rest
                    return lost + rest
        return lost

    def _lost(self, item: T, exc: Exception) -> int:
        try:
            size: int | str = self._size(item)
        except Exception:
            size = "?"
        log.error("%s: dropped a record the database refused (length %s, %s)", self.name, size, type(exc).__name__)
        self.failures += 1
        return 1

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
                    await run_in_threadpool(self.write_batch, batch)
            except Exception:  # a bug of the writer itself: the record must never take the gateway down
                log.exception("%s: could not write %d records", self.name, len(batch))
            finally:
                for _ in range(taken):
                    self._queue.task_done()
