"""The background batch writer: flush waits for the disk, a failing write is dropped, stop drains."""

from __future__ import annotations

import threading
import time

from bot.batch_writer import BatchWriter


async def test_flush_returns_only_after_a_slow_write_has_finished():
    written: list[int] = []

    def slow_write(batch):
        time.sleep(0.3)  # a busy disk at peak hour
        written.extend(batch)

    writer: BatchWriter[int] = BatchWriter("slow", slow_write)
    writer.start()
    for i in range(5):
        writer.put(i)
    await writer.flush()
    assert written == [0, 1, 2, 3, 4]
    writer.put(5)
    await writer.flush()
    assert written == [0, 1, 2, 3, 4, 5]
    await writer.stop()


async def test_a_failing_write_is_logged_and_does_not_block_flush_or_later_writes(caplog):
    written: list[str] = []

    def write(batch):
        if "hỏng" in batch:
            raise OSError("đĩa đầy")
        written.extend(batch)

    writer: BatchWriter[str] = BatchWriter("flaky", write)
    writer.start()
    writer.put("hỏng")
    await writer.flush()
    writer.put("tốt")
    await writer.flush()
    assert written == ["tốt"]
    assert "could not write 1 records" in caplog.text
    await writer.stop()


async def test_stop_drains_what_is_queued_and_flush_after_stop_returns():
    written: list[int] = []
    threads: set[str] = set()

    def write(batch):
        threads.add(threading.current_thread().name)
        written.extend(batch)

    writer: BatchWriter[int] = BatchWriter("drain", write, batch_size=3)
    writer.start()
    for i in range(10):
        writer.put(i)
    await writer.stop()
    assert written == list(range(10))
    assert threading.main_thread().name not in threads  # writes happen off the event loop's thread
    await writer.flush()  # nothing running: returns at once instead of waiting forever
