"""aiosqlite's interface without its thread: SQLite calls run in the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, commit) to a worker thread and back.  On a 2-core
machine each hand-off costs ≈ 0.15 ms of CPU — a SELECT 1 through SQLAlchemy took 0.49 ms, 0.18 ms
without the hand-offs, while SQLite itself needs a few microseconds (bench/NOTES.md).  So SQLAlchemy's
aiosqlite dialect is given connections whose calls run at once, in the calling thread.

What makes blocking the loop acceptable: this process's writers are serialised by `storage.db.Database`
(an asyncio lock), statements touch a few rows by index, WAL readers never wait, and a busy database
(another process writing, e.g. ``regbot chat`` next to ``regbot serve``) waits at most
`BUSY_TIMEOUT_MS` inside SQLite; `storage.db.Database` then waits asynchronously and tries again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import aiosqlite
from sqlalchemy.engine import URL, make_url

BUSY_TIMEOUT_MS = 50
"""How long SQLite itself may wait (blocking the loop) for another process's write lock."""


class _RunNow:
    """Stands in for aiosqlite's queue to its worker thread: runs each call as it is queued.
    (SQLAlchemy's adapter queues some calls itself, e.g. setting ``isolation_level``.)"""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller, as the thread would
            if future is not None:
                future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An `aiosqlite.Connection` whose calls run in the calling thread (no worker thread is started)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._open().__await__()

    async def _open(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    @property
    def sqlite(self) -> sqlite3.Connection | None:
        """The `sqlite3.Connection` itself (`storage.direct` runs a turn's statements on it)."""
        return self._connection

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def inline_creator(url: str | URL) -> Callable[[], Awaitable[InlineConnection]]:
    """An ``async_creator`` for `create_async_engine` that opens ``url`` as the aiosqlite dialect would
    (same arguments), as an `InlineConnection`."""
    parsed = make_url(url)
    args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
    kwargs["check_same_thread"] = False  # the pool may close a connection from a finaliser
    kwargs["timeout"] = BUSY_TIMEOUT_MS / 1000

    def connect() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(*args, **kwargs)  # type: ignore[call-overload]
        return connection

    async def create() -> InlineConnection:
        return await InlineConnection(connect)

    return create
