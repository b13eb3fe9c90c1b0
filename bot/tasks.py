"""Work started in the background and tracked, so shutdown can wait for it or cancel it; a failure is
logged by its type only (a message could quote what the person typed).  Used for what the Slack channel
starts after acknowledging an event, the outbox's sends after a turn and its background settles, and
the SMTP sessions' QUITs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class TrackedTasks:
    def __init__(self, log: logging.Logger, name: str) -> None:
        """``name`` starts the log line of a failure (``"slack"``: "slack turn failed: …")."""
        self._log = log
        self._name = name
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], *, what: str) -> asyncio.Task[Any]:
        """``what`` names the work in the log line of a failure."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, what))
        return task

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait for the work started so far, and for what it starts; True when none is left."""
        while self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                return False
        return True

    async def cancel(self) -> None:
        """Cancel what is left and wait for it to end."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _finished(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self._log.error("%s %s failed: %s", self._name, what, type(error).__name__)
