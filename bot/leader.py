"""Leadership: the duties that one process at a time must do (scheduled jobs, the IMAP reader).

Several `regbot serve` processes may share one PostgreSQL (SPEC §7): all of them serve Slack, SMTP and the
pages and all deliver the outbox (rows are claimed with ``FOR UPDATE SKIP LOCKED``), but the scheduled jobs
and the IMAP reader run in the leader only.  The leader is whoever holds a PostgreSQL advisory lock on a
dedicated connection (`storage.locks.AdvisoryLock`).  The others try to take it every ``poll_seconds``;
when the leader dies its session ends, the lock is freed and one of them takes over within that period.
The leader checks its connection as often: if it is lost, the duties stop at once and it contends again.

Both duties stay correct even if two processes ran them for a moment (a connection lost but not yet
noticed): each job changes a conversation in its own transaction with the version check, and a mail read
twice by IMAP is processed once, by its Message-ID.

On SQLite a single `regbot serve` process is assumed (the database is a local file): the duties just run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from storage.db import Database
from storage.locks import LEADER_KEY, AdvisoryLock

log = logging.getLogger(__name__)

StopDuty = Callable[[], Awaitable[None]]
StartDuty = Callable[[], Awaitable[StopDuty]]
"""Starts one duty (in the background) and returns how to stop it."""

POLL_SECONDS = 1.0


class Leadership:
    def __init__(self, db: Database, *, key: int = LEADER_KEY, poll_seconds: float = POLL_SECONDS) -> None:
        self._db = db
        self._key = key
        self._poll = poll_seconds
        self._duties: list[tuple[str, StartDuty]] = []
        self._running: list[tuple[str, StopDuty]] = []
        self.leading = False
        self.terms = 0  # how many times this process became the leader (tests)
        self.changed = asyncio.Event()  # set whenever ``leading`` changes (tests wait on it)

    def add(self, name: str, start: StartDuty) -> None:
        """A duty for the leader only; add them all before `run`."""
        self._duties.append((name, start))

    async def run(self, stop: asyncio.Event) -> None:
        """Contend for leadership until ``stop`` is set; do the duties while leading."""
        if not self._db.is_postgresql:
            log.info("leadership: SQLite, a single process is assumed: scheduled jobs and IMAP run here")
            await self._gain()
            await stop.wait()
            await self._lose()
            return
        lock = AdvisoryLock(self._db, self._key)
        try:
            while not stop.is_set():
                try:
                    if self.leading:
                        if not await lock.held():
                            log.warning("leadership lost (database connection gone); stopping the duties")
                            await self._lose()
                    elif await lock.try_acquire():
                        log.info("leadership taken: this process runs the scheduled jobs and IMAP")
                        await self._gain()
                except Exception as exc:  # the database is away: not leading, try again later
                    log.warning("leadership: database unavailable (%s)", type(exc).__name__)
                    if self.leading:
                        await self._lose()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._poll)
        finally:
            await self._lose()
            await lock.release()

    async def _gain(self) -> None:
        self.leading = True
        self.terms += 1
        for name, start in self._duties:
            try:
                self._running.append((name, await start()))
            except Exception:
                log.exception("leadership: %s failed to start", name)
        self.changed.set()

    async def _lose(self) -> None:
        if not self.leading:
            return
        self.leading = False
        running, self._running = self._running, []
        for name, stop_duty in reversed(running):
            try:
                await stop_duty()
            except Exception:
                log.exception("leadership: %s failed to stop", name)
        self.changed.set()


def background_duty(work: Callable[[asyncio.Event], Coroutine[Any, Any, None]], *, name: str) -> StartDuty:
    """A duty that is one long-running coroutine taking a stop event (e.g. `Housekeeping.run`)."""

    async def start() -> StopDuty:
        stop = asyncio.Event()
        task = asyncio.create_task(work(stop), name=name)

        async def stop_duty() -> None:
            stop.set()
            try:
                await asyncio.wait_for(task, timeout=30)
            except TimeoutError:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        return stop_duty

    return start
