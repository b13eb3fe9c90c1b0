"""The database handle: one async engine, transactions, and the dialect quirks in one place.

SQLite (the default) and PostgreSQL run the same statements.  What differs is set up here:

* SQLite gets WAL, a busy timeout and foreign keys on every connection, and write transactions start
  with ``BEGIN IMMEDIATE`` so a writer takes the lock up front instead of failing half-way.  Writers
  inside one process are serialised by an `asyncio.Lock`: SQLite's busy handler sleeps and polls,
  which is far slower than waiting on a lock (SPEC §9).  SQLite calls run in the event loop's thread
  (`storage.sqlite_inline`), so SQLite's own busy wait is kept short and a write lock held by another
  process is waited for here, asynchronously, for up to `SQLITE_BUSY_WAIT_SECONDS`.
* PostgreSQL runs at READ COMMITTED; lost updates are prevented by the version column
  (`storage.conversations`) and `Conflict`, which the caller retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage.direct import RAW_SQLITE, driver_errors
from storage.sqlite_inline import BUSY_TIMEOUT_MS, InlineConnection, inline_creator

DEFAULT_URL = "sqlite+aiosqlite:///var/regbot.sqlite3"

log = logging.getLogger(__name__)

# aiosqlite logs every statement with its parameters at DEBUG: names, addresses, hashes.  Logs must never
# carry personal values (SPEC §7), whatever level the root logger is set to.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

SQLITE_BUSY_WAIT_SECONDS = 10.0
CHECKPOINT_EVERY = 200
"""SQLite write transactions between two WAL checkpoints (each turn writes a handful of pages; SQLite's
own default is every 1 000 pages)."""
WAL_FRAMES_LIMIT = 10_000
"""WAL size (frames, 4 KB each) past which a checkpoint holds this process's writers back (see
`Database._checkpoint`); each such pause costs an fsync, so it is kept rare."""
_MODE = "regbot_mode"


class Conflict(Exception):
    """Another transaction changed the same rows first: roll back and run the whole unit again."""


class Rollback(Exception):
    """Raised inside `Database.transaction` to undo it on purpose; passes out of the block unchanged."""


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def prepare_sqlite_path(url: str | URL) -> None:
    """Create the folder of a file database (the default ``var/`` is relative to the cwd)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin): the sqlite3 module's legacy transaction
    # control would skip it for SELECTs and break read-modify-write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # see Database._checkpoint
    cursor.close()
    driver = getattr(dbapi_connection, "driver_connection", None)
    if isinstance(driver, InlineConnection) and driver.sqlite is not None:
        record.info[RAW_SQLITE] = driver.sqlite  # the turn's statements run on it (storage.direct)


def _sqlite_file(url: URL) -> str | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _checkpoint(path: str) -> int:
    """In a worker thread: copy the WAL into the database file (PASSIVE: never waits for, nor blocks,
    the writer or readers).  Returns how many frames the WAL holds."""
    connection = sqlite3.connect(path, timeout=1.0)
    try:
        row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        connection.close()
    return int(row[1]) if row else 0


def _sqlite_begin(connection: Connection) -> None:
    raw = connection.info.get(RAW_SQLITE)
    if raw is not None and raw.in_transaction:
        return  # begun on the driver already (Database._sqlite_write): SQLAlchemy joins it
    mode = connection.get_execution_options().get(_MODE, "write")
    connection.exec_driver_sql("BEGIN" if mode == "read" else "BEGIN IMMEDIATE")


class Database:
    """An async engine plus the in-process writer lock (SQLite only)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer_lock: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None
        self._writer_connection: AsyncConnection | None = None
        # WAL checkpoints (copying the log into the database file, with an fsync) would run inside a
        # commit, in the event loop's thread; they run in a worker thread instead (`_checkpoint`).
        self._file = _sqlite_file(engine.url) if self.dialect == "sqlite" else None
        self._commits = 0
        self.wal_frames_limit = WAL_FRAMES_LIMIT
        self._checkpointing: asyncio.Task[None] | None = None

    @classmethod
    def open(cls, url: str) -> Database:
        if is_sqlite(url):
            prepare_sqlite_path(url)
            engine = create_async_engine(url, async_creator=inline_creator(url))
            event.listen(engine.sync_engine, "connect", _sqlite_connect)
            event.listen(engine.sync_engine, "begin", _sqlite_begin)
        else:
            engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        return cls(engine)

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed when the block ends, rolled back on any exception.

        Unique-key violations and serialisation failures come out as `Conflict`.

        SQLite statements run without yielding to the event loop (`storage.sqlite_inline`), so a busy
        loop would only look at its sockets between whole turns.  Each transaction therefore lets the
        loop take what has arrived first — unless it is ``urgent``: recording that a message has left
        (the outbox settle), where every moment between the relay's answer and the commit is one in
        which a crash sends the message again.
        """
        if self._writer_lock is None:
            async with self._begin("write") as conn:
                yield conn
            return
        if not urgent:
            await asyncio.sleep(0)
        async with self._writer_lock, self._sqlite_write() as conn:
            yield conn
        self._commits += 1
        idle = self._checkpointing is None or self._checkpointing.done()
        if self._commits >= CHECKPOINT_EVERY and self._file is not None and idle:
            self._commits = 0
            self._checkpointing = asyncio.create_task(self._checkpoint(self._file))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot (SQLite: a deferred BEGIN that does not block writers)."""
        async with self._begin("read") as conn:
            yield conn

    @asynccontextmanager
    async def _writer(self) -> AsyncIterator[AsyncConnection]:
        """SQLite's one writer connection, kept open between transactions (a pool check-out and
        check-in cost more than the BEGIN and COMMIT); dropped after an error it may not survive."""
        if self._writer_connection is None:
            self._writer_connection = await self.engine.connect()
            await self._writer_connection.execution_options(**{_MODE: "write"})
        try:
            yield self._writer_connection
        except (Conflict, Rollback, IntegrityError):
            raise
        except BaseException:
            await self._drop_writer()
            raise

    async def _drop_writer(self) -> None:
        connection, self._writer_connection = self._writer_connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    @asynccontextmanager
    async def _pooled(self, mode: str) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            await conn.execution_options(**{_MODE: mode})
            yield conn

    @asynccontextmanager
    async def _begin(
        self, mode: str, connect: Callable[[], AbstractAsyncContextManager[AsyncConnection]] | None = None
    ) -> AsyncIterator[AsyncConnection]:
        with _conflicts():
            async with (connect or partial(self._pooled, mode))() as conn:
                await self._start(conn)
                try:
                    yield conn
                except BaseException:
                    await conn.rollback()
                    raise
                await conn.commit()

    @asynccontextmanager
    async def _sqlite_write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction on the writer connection, begun and ended on the driver itself (through
        SQLAlchemy, BEGIN and COMMIT cost ≈ 0.15 ms of CPU each, bench/NOTES.md); statements run through
        SQLAlchemy inside it join it (`_sqlite_begin`)."""
        with _conflicts():
            async with self._writer() as conn:
                raw: sqlite3.Connection | None = conn.info.get(RAW_SQLITE)
                if raw is None:
                    async with self._begin("write", partial(_just, conn)) as same:
                        yield same
                    return
                await self._raw_begin(conn, raw)
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction():
                        await conn.rollback()
                    else:
                        with driver_errors(conn, "ROLLBACK"):
                            raw.rollback()
                    raise
                if conn.in_transaction():
                    await conn.commit()
                    return
                try:
                    with driver_errors(conn, "COMMIT"):
                        raw.commit()
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        raw.rollback()
                    raise

    async def _raw_begin(self, conn: AsyncConnection, raw: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE on the driver (see `_until_unlocked`)."""

        async def begin() -> None:
            with driver_errors(conn, "BEGIN IMMEDIATE"):
                raw.execute("BEGIN IMMEDIATE")

        await _until_unlocked(begin)

    async def _start(self, conn: AsyncConnection) -> None:
        """BEGIN (on SQLite see `_until_unlocked`)."""
        if self.dialect != "sqlite":
            await conn.begin()
            return
        await _until_unlocked(conn.begin, conn.rollback)

    async def _checkpoint(self, path: str) -> None:
        """A checkpoint in a worker thread.  The WAL file only starts over when a writer begins right
        after a checkpoint has caught up, which steady writing may never allow; so once the WAL holds
        more than `wal_frames_limit` frames, one is run with this process's writers held back (they
        wait; the event loop does not)."""
        try:
            frames = await asyncio.to_thread(_checkpoint, path)
            if frames > self.wal_frames_limit:
                await self.checkpoint()
        except sqlite3.Error as exc:
            log.warning("sqlite checkpoint failed (%s); the next one retries", type(exc).__name__)

    async def checkpoint(self) -> None:
        """SQLite: copy the whole WAL into the database file now, this process's writers held back
        meanwhile (the next writer then starts the WAL over).  PostgreSQL: nothing to do."""
        if self._file is None or self._writer_lock is None:
            return
        async with self._writer_lock:
            await asyncio.to_thread(_checkpoint, self._file)

    async def dispose(self) -> None:
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        await self._drop_writer()
        await self.engine.dispose()


@contextlib.contextmanager
def _conflicts() -> Iterator[None]:
    """Unique-key violations and transient failures (locks, serialisation) as `Conflict`."""
    try:
        yield
    except IntegrityError as exc:
        if _is_unique_violation(exc):
            raise Conflict("unique key taken by a concurrent transaction") from exc
        raise
    except OperationalError as exc:
        if _is_transient(exc):
            raise Conflict("database busy") from exc
        raise
    except DBAPIError as exc:
        if _is_transient(exc):
            raise Conflict("serialisation failure") from exc
        raise


async def _until_unlocked(
    begin: Callable[[], Awaitable[Any]], undo: Callable[[], Awaitable[Any]] | None = None
) -> None:
    """SQLite: ``begin``, and while another process holds the write lock, wait for it asynchronously
    (SQLite's own busy wait would block the event loop) for up to `SQLITE_BUSY_WAIT_SECONDS`; ``undo``
    after each refused attempt."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SQLITE_BUSY_WAIT_SECONDS
    pause = 0.005
    while True:
        try:
            await begin()
            return
        except OperationalError as exc:
            if not _is_transient(exc) or loop.time() + pause > deadline:
                raise
            if undo is not None:
                await undo()
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.2)


@asynccontextmanager
async def _just(conn: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    yield conn


def _is_unique_violation(exc: DBAPIError) -> bool:
    text = type(exc.orig).__name__ + " " + str(exc.orig)
    return "UNIQUE constraint failed" in text or "UniqueViolation" in text or "duplicate key" in text


def _is_transient(exc: DBAPIError) -> bool:
    text = type(exc.orig).__name__ + " " + str(exc.orig)
    markers = ("database is locked", "SerializationError", "DeadlockDetected", "could not serialize")
    return any(marker in text for marker in markers)
