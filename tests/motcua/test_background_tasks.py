"""motcua.background.cancel_and_wait: every task ended when it returns, a task's own error logged and not raised,
the caller's cancellation not swallowed."""

from __future__ import annotations

import asyncio
import logging

import pytest

from motcua.background import cancel_and_wait


async def _forever(started: asyncio.Event, cleaned: list[str], name: str) -> None:
    started.set()
    try:
        await asyncio.sleep(3600)
    finally:
        await asyncio.sleep(0.01)  # clean-up that itself awaits
        cleaned.append(name)


async def test_every_task_has_ended_and_cleaned_up_when_it_returns():
    cleaned: list[str] = []
    events = [asyncio.Event(), asyncio.Event()]
    tasks = [asyncio.create_task(_forever(event, cleaned, f"t{i}")) for i, event in enumerate(events)]
    for event in events:
        await event.wait()
    await cancel_and_wait(tasks[0], None, tasks[1])
    assert all(task.done() and task.cancelled() for task in tasks)
    assert sorted(cleaned) == ["t0", "t1"]


async def test_none_and_finished_tasks_are_fine():
    await cancel_and_wait()
    await cancel_and_wait(None)
    done = asyncio.create_task(asyncio.sleep(0, result=7))
    await done
    await cancel_and_wait(done)
    assert done.result() == 7


async def test_a_task_that_died_of_an_error_is_logged_not_raised(caplog):
    async def boom() -> None:
        raise ValueError("hỏng")

    task = asyncio.create_task(boom(), name="boom-task")
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="motcua.background"):
        await cancel_and_wait(task)
    assert any("boom-task" in record.getMessage() and record.exc_info for record in caplog.records)


async def test_the_callers_own_cancellation_propagates():
    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(3600)  # takes its time to stop

    inner = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    stopper = asyncio.create_task(cancel_and_wait(inner))
    await asyncio.sleep(0.01)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    inner.cancel()  # let the test's loop end cleanly
    await asyncio.wait([inner])
