"""Leadership (bot/leader.py): one process at a time does the scheduled jobs and IMAP; when it goes, another
takes over; on SQLite the single process just does them."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.leader import Leadership, StopDuty
from storage.db import Database


class Duty:
    """Counts how often it was started and stopped; ``active`` while started."""

    def __init__(self) -> None:
        self.starts = 0
        self.stops = 0
        self.active = False

    async def start(self) -> StopDuty:
        self.starts += 1
        self.active = True

        async def stop() -> None:
            self.stops += 1
            self.active = False

        return stop


async def _until(check: object, timeout: float = 10.0) -> None:
    assert callable(check)
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_one_leader_at_a_time_and_takeover(db: Database, db_url: str) -> None:
    """Two contenders: exactly one runs the duty; when the leader's session ends (on SQLite: when it
    stops), the duty moves to the other.  On SQLite both would lead: a single process is assumed there."""
    if not db.is_postgresql:
        duty, stop = Duty(), asyncio.Event()
        leader = Leadership(db, poll_seconds=0.05)
        leader.add("duty", duty.start)
        task = asyncio.create_task(leader.run(stop))
        await _until(lambda: duty.active)
        stop.set()
        await task
        assert (duty.starts, duty.stops) == (1, 1)
        return

    other_db = Database.open(db_url)  # a second "process": its own engine and connections
    duties, stops, leaders = [Duty(), Duty()], [asyncio.Event(), asyncio.Event()], []
    for database, duty in zip((db, other_db), duties, strict=True):
        leader = Leadership(database, poll_seconds=0.05)
        leader.add("duty", duty.start)
        leaders.append(leader)
    tasks = [asyncio.create_task(leader.run(stop)) for leader, stop in zip(leaders, stops, strict=True)]
    try:
        await _until(lambda: any(d.active for d in duties))
        await asyncio.sleep(0.3)  # several polls: the other must still not lead
        assert sum(d.active for d in duties) == 1
        first = 0 if duties[0].active else 1
        second = 1 - first

        # The leader's database session dies (as when its process is killed): the other takes over, and
        # the old leader notices and stops its duty.
        admin = Database.open(db_url)
        try:
            async with admin.transaction() as conn:
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks "
                        "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                    )
                )
        finally:
            await admin.dispose()
        await _until(lambda: duties[second].active and not duties[first].active)
        assert leaders[second].terms == 1

        # A clean stop releases the lock at once: the first process leads again.
        stops[second].set()
        await tasks[second]
        await _until(lambda: duties[first].active)
        assert leaders[first].terms == 2
        assert sum(d.active for d in duties) == 1
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks)
        await other_db.dispose()
    assert all(d.starts == d.stops for d in duties)
