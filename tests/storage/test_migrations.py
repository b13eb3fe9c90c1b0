"""`storage.migrate.upgrade`: creates the schema from nothing, is idempotent, matches `storage.tables`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from storage.db import Database
from storage.migrate import head_revision, upgrade
from storage.tables import metadata

TABLES = {
    "accounts",
    "alembic_version",
    "audit",
    "conversations",
    "mail_cursors",
    "mail_inbox",
    "mail_notices",
    "mail_senders",
    "mail_sent_ids",
    "helpdesk_threads",
    "mail_threads",
    "outbox",
    "pending_registrations",
    "processed_messages",
    "verification_tokens",
}


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_upgrade_creates_every_table_and_is_idempotent(blank_db_url: str) -> None:
    """Running the migrations twice leaves the same schema at the head revision."""
    db = Database.open(blank_db_url)
    try:
        await upgrade(db)
        await upgrade(db)
        async with db.read() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            revision = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
        assert tables == TABLES
        assert revision == head_revision()
    finally:
        await db.dispose()


async def test_migrated_schema_matches_the_tables_module(db_url: str) -> None:
    """The hand-kept migration and `storage.tables` describe the same schema."""
    db = Database.open(db_url)
    try:
        async with db.read() as conn:
            differences = await conn.run_sync(_schema_differences)
        assert differences == []
    finally:
        await db.dispose()


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: object) -> None:
    """SPEC §9: WAL, a busy timeout and foreign keys on every SQLite connection."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    db = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'dir' / 'x.sqlite3'}")
    try:
        async with db.read() as conn:
            journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            foreign_keys = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert (journal, foreign_keys) == ("wal", 1)
        assert busy is not None and int(busy) >= 1
    finally:
        await db.dispose()


async def test_sqlite_writer_waits_for_another_process_without_blocking_the_loop(tmp_path: object) -> None:
    """SQLite runs in the loop's thread: a write lock held elsewhere (another process, e.g. ``regbot
    chat``) far longer than SQLite's own busy wait is waited for asynchronously, the loop keeps running."""
    import asyncio
    import sqlite3
    from pathlib import Path

    from sqlalchemy import text

    assert isinstance(tmp_path, Path)
    path = tmp_path / "x.sqlite3"
    db = Database.open(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.transaction() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        loop = asyncio.get_running_loop()
        loop.call_later(0.5, other.execute, "COMMIT")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        started = loop.time()
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))
        waited = loop.time() - started
        ticking.cancel()
        other.close()
        async with db.read() as conn:
            rows = sorted((await conn.execute(text("SELECT x FROM t"))).scalars())
        assert rows == [1, 2]
        assert waited >= 0.4
        assert ticks >= 10  # the loop ran while the writer waited
    finally:
        await db.dispose()


async def test_sqlite_wal_is_checkpointed_off_the_event_loop(tmp_path: object) -> None:
    """Automatic checkpoints are off on the loop's connections (they fsync inside a commit); a worker
    thread checkpoints every CHECKPOINT_EVERY writes, so the WAL stays bounded."""
    import asyncio
    from pathlib import Path

    from sqlalchemy import text

    from storage.db import CHECKPOINT_EVERY

    assert isinstance(tmp_path, Path)
    path = tmp_path / "x.sqlite3"
    db = Database.open(f"sqlite+aiosqlite:///{path}")
    db.wal_frames_limit = 2_000  # 8 MB, so that this test passes it several times
    try:
        async with db.read() as conn:
            assert (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == 0
        async with db.transaction() as conn:
            await conn.execute(text("CREATE TABLE t (x BLOB)"))
        for _ in range(CHECKPOINT_EVERY * 10):  # 2 000 commits of 8 KB: a 34 MB WAL without checkpoints
            async with db.transaction() as conn:
                await conn.execute(text("INSERT INTO t VALUES (zeroblob(8192))"))
            await asyncio.sleep(0)
        await asyncio.sleep(0.2)  # the last checkpoint's thread
        wal = (tmp_path / "x.sqlite3-wal").stat().st_size
        copied = path.stat().st_size
    finally:
        await db.dispose()
    assert wal < 16 * 1024 * 1024  # about wal_frames_limit pages and one interval's writes
    assert copied > 8 * 1024 * 1024  # the rows reached the database file while it ran


async def test_sqlite_transactions_let_arrived_io_run_first_unless_urgent(tmp_path: Path) -> None:
    """SQLite statements never yield to the loop, so a write transaction first lets what is ready run
    (a relay's answer, a Slack response); an urgent one (the outbox settle) goes at once."""
    db = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        for urgent, ran_first in ((False, True), (True, False)):
            ran: list[str] = []
            asyncio.get_running_loop().call_soon(ran.append, "ready callback")
            async with db.transaction(urgent=urgent) as conn:
                await conn.exec_driver_sql("SELECT 1")
                assert (ran == ["ready callback"]) is ran_first, urgent
            await asyncio.sleep(0)
    finally:
        await db.dispose()
