"""Schema migrations with Alembic, configured in code so they work from any cwd and from an installed wheel
(the scripts ship inside this package, in storage/migrations)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from storage.db import Database

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Two processes starting at once on one PostgreSQL must not both create the tables.
_PG_LOCK_KEY = 0x72656762  # "regb"


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision; does nothing when it is already there."""
    head = head_revision()
    async with db.read() as conn:
        current = await conn.run_sync(_current_revision)
    if current == head:
        log.info("database schema up to date (revision %s)", head)
        return
    async with db.transaction() as conn:
        if db.is_postgresql:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        await conn.run_sync(_upgrade)
    log.info("database schema migrated from %s to %s", current or "empty", head)
