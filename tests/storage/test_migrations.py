"""`storage.migrate.upgrade`: creates the schema from nothing, is idempotent, matches `storage.tables`."""

from __future__ import annotations

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
        assert busy is not None and int(busy) >= 1000
    finally:
        await db.dispose()
