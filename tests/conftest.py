"""Shared fixtures: databases (SQLite and PostgreSQL), a configuration pointing at them, a fake clock.

``db_url`` is parametrised: every test that asks for it runs once on SQLite and once on PostgreSQL
(marked ``postgres``).  Each test gets an empty, already migrated database, so tests neither share rows
nor pay for migrations: SQLite copies a template file made once per session; PostgreSQL has one database
migrated once per session and emptied (DELETE, over asyncpg) before each test, which is twenty times
faster than CREATE DATABASE.  ``blank_db_url`` is a database without tables.
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select

from bot.config import Config, load_config
from bot.passwords import Passwords
from bot.service import Service, Turn
from conversations.types import Secret, Start, Text
from storage.db import Database
from storage.migrate import upgrade
from storage.tables import metadata
from tests.conversations.transcript import BRANCH_A, EMAIL
from tests.services import PostgresServer, ServiceUnavailable, ensure_postgres, unavailable

_PG_DATABASE = "regbot_test"
# Children before parents (foreign keys).
_TABLES = (
    "audit",
    "outbox",
    "verification_tokens",
    "pending_registrations",
    "accounts",
    "processed_messages",
    "conversations",
)


class FakeClock:
    """A clock the test moves by hand: ``clock()`` is now, ``clock.advance(hours=25)`` moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 4, 1, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _migrate(url: str) -> None:
    db = Database.open(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A private PostgreSQL for the whole session (skipped with the reason when unavailable, outside CI)."""
    try:
        server = ensure_postgres()
    except ServiceUnavailable as exc:
        unavailable("PostgreSQL", exc)
    try:
        _psql(server, f"CREATE DATABASE {_PG_DATABASE}")
        asyncio.run(_migrate(server.url(_PG_DATABASE)))
        yield server
    finally:
        server.stop()


def _psql(server: PostgresServer, sql: str, database: str = "postgres") -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", server.dsn(database), "-c", sql],
        check=True,
        capture_output=True,
    )


def empty_postgres_database(server: PostgresServer) -> str:
    """The session's migrated database with every row deleted."""

    async def empty() -> None:
        connection = await asyncpg.connect(server.dsn(_PG_DATABASE))
        try:
            await connection.execute("SET lock_timeout = '10s'")
            await connection.execute("; ".join(f"DELETE FROM {table}" for table in _TABLES))
        finally:
            await connection.close()

    asyncio.run(empty())
    return server.url(_PG_DATABASE)


def blank_postgres_database(server: PostgresServer) -> str:
    name = "blank_" + uuid.uuid4().hex[:16]
    _psql(server, f"CREATE DATABASE {name}")
    return server.url(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "regbot.sqlite3"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of this test's own."""
    if db_kind == "postgresql":
        return empty_postgres_database(request.getfixturevalue("postgres"))
    path = tmp_path / "regbot.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A `Database` on ``db_url``, disposed after the test."""
    database = Database.open(db_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def blank_db_url(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database without any table (for migration tests)."""
    if db_kind == "postgresql":
        return blank_postgres_database(request.getfixturevalue("postgres"))
    return f"sqlite+aiosqlite:///{tmp_path / 'blank.sqlite3'}"


@pytest.fixture
def config(db_url: str, tmp_path: Path) -> Config:
    return load_config(
        {
            "REGBOT_DATABASE_URL": db_url,
            "REGBOT_OUTBOX_DIR": str(tmp_path / "outbox"),
            "REGBOT_PUBLIC_URL": "http://127.0.0.1:8080",
            "REGBOT_MAIL_FROM": "from@mail.example.jp",
        }
    )


# ------------------------------------------------------------------------------ service helpers

PASSWORD = "Kikin2024pass"


@pytest.fixture
async def service(config: Config, clock: FakeClock) -> AsyncIterator[Service]:
    """A service on this test's database, with the fake clock and cheap (still Argon2id) hashing."""
    opened = await Service.open(config, clock=clock, passwords=Passwords.cheap(), migrate=False)
    try:
        yield opened
    finally:
        await opened.close()


async def fill_in(
    service: Service, channel: str = "console", address: str = "s1", *, mail: str = EMAIL, ok: bool = True
) -> Turn:
    """Answer every question of Branch A (and OK at the summary when ``ok``); returns the last turn."""
    turn = await service.handle(channel, address, Start(channel=channel))
    for answer in [*BRANCH_A, mail]:
        turn = await service.handle(channel, address, Text(answer))
    if channel != "email":
        assert turn.replies[-1].awaiting == "password", "the engine should ask for the password now"
        turn = await service.handle(channel, address, Secret(PASSWORD, PASSWORD))
    assert turn.replies[-1].awaiting == "terms_agreed"
    turn = await service.handle(channel, address, Text("同意します"))
    assert turn.replies[-1].awaiting == "confirm"
    if ok:
        turn = await service.handle(channel, address, Text("OK"))
    return turn


def token_in(path: str | None) -> str:
    """The verification token from a delivered .eml file."""
    assert path is not None
    message = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"/verify/([A-Za-z0-9_-]+)", body.get_content())
    assert found is not None
    return found.group(1)


async def database_text(db: Database) -> str:
    """Every value of every row of every table as one string (for "X is nowhere in the database")."""
    chunks: list[str] = []
    async with db.read() as conn:
        for table in metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value).decode("latin-1"))
                        chunks.append(bytes(value).decode("utf-8", errors="replace"))
                    else:
                        chunks.append(json.dumps(value, ensure_ascii=False, default=str))
    return "\n".join(chunks)
