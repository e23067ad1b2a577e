"""Stopping the assistant's background tasks (the notice relay, the webhook inbox worker, the retention job, a
page socket's pushers) one way: cancel, then wait until the task has really ended.

Waiting with :func:`asyncio.wait` rather than ``await task`` keeps two things apart: the task's own end (its
cancellation, or an error it died of earlier, which is logged, never raised into the caller's shutdown) and the
caller's cancellation, which still propagates — suppressing ``CancelledError`` around ``await task`` would swallow
the caller's too.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


async def cancel_and_wait(*tasks: asyncio.Future | None) -> None:
    """Cancel ``tasks`` (None ones are skipped) and return once every one has ended."""
    pending = [task for task in tasks if task is not None]
    for task in pending:
        task.cancel()
    if not pending:
        return
    await asyncio.wait(pending)
    for task in pending:
        if not task.cancelled() and task.exception() is not None:
            name = task.get_name() if isinstance(task, asyncio.Task) else "task"
            log.error("background task %s had ended with an error", name, exc_info=task.exception())
