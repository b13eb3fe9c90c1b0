"""A PostgreSQL session advisory lock on a dedicated connection: the basis of leadership (bot/leader.py).

The lock lives as long as the connection: when the process holding it dies (even by SIGKILL) the server
notices the closed socket, ends the session and the lock is free for another process.  The connection runs
in autocommit, so holding the lock never keeps a transaction open.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

# pg_try_advisory_lock takes a bigint; one key per duty that a single process must hold.
LEADER_KEY = 0x7265676C  # "regl"
_TIMEOUT_SECONDS = 5.0


class AdvisoryLock:
    """``try_acquire`` (non-blocking), ``held`` (the connection still answers), ``release``."""

    def __init__(self, db: Database, key: int = LEADER_KEY, *, timeout: float = _TIMEOUT_SECONDS) -> None:
        if not db.is_postgresql:
            raise ValueError("advisory locks need PostgreSQL")
        self._db = db
        self._key = key
        self._timeout = timeout
        self._conn: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False when another session does."""
        if self._conn is None:
            conn = await asyncio.wait_for(self._db.engine.connect(), self._timeout)
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            result = await asyncio.wait_for(
                self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}),
                self._timeout,
            )
            return bool(result.scalar())
        except BaseException:
            await self._drop()
            raise

    async def held(self) -> bool:
        """Whether the session that took the lock is still alive (then it still holds the lock)."""
        if self._conn is None:
            return False
        try:
            await asyncio.wait_for(self._conn.execute(text("SELECT 1")), self._timeout)
        except Exception:
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        """Unlock and give the connection back (closing it would unlock too)."""
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}),
                self._timeout,
            )
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.invalidate()  # never hand a session that may still hold the lock back to the pool
        with contextlib.suppress(Exception):
            await conn.close()
