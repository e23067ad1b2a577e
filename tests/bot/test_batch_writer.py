"""The background batch writer: flush waits for the disk, a failing row costs only itself, stop drains."""

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
    assert writer.failures == 1
    await writer.stop()


async def test_a_batch_with_one_bad_row_keeps_the_others_and_logs_the_bad_one_without_its_text(caplog):
    written: list[str] = []
    calls: list[int] = []

    def write(batch):
        calls.append(len(batch))
        if any("\x00" in item for item in batch):
            raise ValueError("refused")
        written.extend(batch)

    writer: BatchWriter[str] = BatchWriter("rows", write, batch_size=10)
    writer.start()
    for item in ("một", "hai", "số 001190012345\x00", "bốn", "năm"):
        writer.put(item)
    await writer.flush()
    assert written == ["một", "hai", "bốn", "năm"]
    assert calls == [5, 1, 1, 1, 1, 1]  # the batch, then each row alone
    assert writer.failures == 1
    assert "length 16, ValueError" in caplog.text
    assert "001190012345" not in caplog.text
    await writer.stop()


async def test_when_every_row_fails_the_writer_gives_up_on_the_batch_after_a_few(caplog):
    calls: list[int] = []

    def write(batch):
        calls.append(len(batch))
        raise ConnectionError("database down")

    writer: BatchWriter[int] = BatchWriter("down", write, batch_size=50, give_up_after=3)
    writer.start()
    for i in range(20):
        writer.put(i)
    await writer.flush()
    assert calls == [20, 1, 1, 1]  # not twenty slow attempts at a database that is down
    assert writer.failures == 20
    assert "the other 17 of the batch are dropped" in caplog.text
    writer.put(99)  # and the writer carries on
    await writer.flush()
    assert writer.failures == 21
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
