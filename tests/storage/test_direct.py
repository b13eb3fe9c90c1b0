"""storage.direct: a turn's statements run on SQLite's own connection must store and return exactly what
SQLAlchemy would, inside the same transaction as statements SQLAlchemy runs."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import create_async_engine

from storage import conversations, mail_threads, outbox
from storage.db import Conflict, Database, Rollback
from storage.direct import RAW_SQLITE, Prepared
from storage.tables import audit

NOW = datetime(2025, 4, 1, 9, 30, 15, 123456, tzinfo=UTC)
STATE = {"phase": "collecting", "values": {"family_name": "山田", "email": "taro@example.jp"}, "n": [1, None]}


async def _a_turn(db: Database) -> None:
    """What a turn writes and reads, through the storage functions (fixed ids where they are random)."""
    async with db.transaction() as conn:
        conversation = await conversations.create(conn, "slack", "D1", dict(STATE), NOW)
        assert await conversations.record_processed(conn, "slack", "Ev1", conversation.id, NOW)
        assert not await conversations.record_processed(conn, "slack", "Ev1", conversation.id, NOW)
        assert not await outbox.has_queued(conn, conversation.id, "D1")
        first = await outbox.enqueue(
            conn,
            kind="reply",
            channel="slack",
            recipient="D1",
            now=NOW,
            conversation_id=conversation.id,
            payload={"reply": "こんにちは", "lines": [1, 2]},
        )
        await outbox.enqueue(
            conn,
            kind="verification_mail",
            recipient="taro@example.jp",
            now=NOW,
            conversation_id=conversation.id,
            body="本文".encode(),
            claimed_until=NOW + timedelta(seconds=30),
        )
        assert await outbox.has_queued(conn, conversation.id, "D1")
        later = NOW + timedelta(minutes=5)
        await conversations.save(
            conn, conversation, {**STATE, "reminded": True}, later, password_hash="$argon2id$x"
        )
        await conversations.record_audit(
            conn, conversation.id, [("inbound.text", "email"), ("field.set", None)], later
        )
        await outbox.mark_delivered(conn, [(first, "C1/1.2")], later)
        await mail_threads.create_thread(
            conn,
            reply_key="k1",
            conversation_id=conversation.id,
            sender="Taro@Example.jp",
            message_id="<m1@example.jp>",
            references=["<m0@example.jp>"],
            subject="登録",
            resume_key=None,
            now=NOW,
        )
        await mail_threads.record_inbound(
            conn,
            "k1",
            message_id="<m2@example.jp>",
            references=["<m0@example.jp>", "<m1@example.jp>"],
            subject="Re: 登録",
            now=later,
        )
        await mail_threads.record_sent(conn, "k1", "<r1@regbot>", later)
        await mail_threads.record_sent(conn, "k1", "<r1@regbot>", later)
        inbox_id = await mail_threads.store_inbound(
            conn, source="smtp", raw=b"From: a\r\n\r\nx", envelope_sender=None, now=NOW, oversize=True
        )
        await mail_threads.store_inbound(
            conn, source="imap", raw=b"y", envelope_sender="a@example.jp", now=NOW, claimed_until=later
        )
        await mail_threads.finish_inbound(conn, inbox_id)
        for minutes in (0, 1, 90):
            await mail_threads.count_arrival(
                conn, "a@example.jp", NOW + timedelta(minutes=minutes), timedelta(hours=1)
            )
    async with db.read() as conn:
        found = await conversations.find(conn, "slack", "D1")
        assert found is not None
        assert (found.channel, found.address, found.version, found.password_hash) == (
            "slack",
            "D1",
            1,
            "$argon2id$x",
        )
        assert found.state == {**STATE, "reminded": True}
        assert found.created_at == NOW and found.last_activity_at == later
        assert found.created_at.tzinfo is UTC
        assert await conversations.processed_in(conn, "slack", "Ev1") == found.id
        assert await conversations.processed_in(conn, "slack", "Ev2") is None
        thread = await mail_threads.find_thread(conn, "k1")
        assert thread is not None and thread.references == ("<m0@example.jp>", "<m1@example.jp>")
        assert thread.last_message_id == "<m2@example.jp>" and thread.created_at == NOW
        assert (
            await mail_threads.thread_by_first_message(conn, "<m1@example.jp>", "taro@example.jp") == thread
        )
        assert await mail_threads.sent_count(conn, "k1") == 1
        assert await mail_threads.sent_count(conn, "k1", excluding="<r1@regbot>") == 0


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the turn's tables as SQLite holds it (storage class and text), random ids left out."""
    connection = sqlite3.connect(path)
    try:
        tables = (
            "conversations",
            "processed_messages",
            "outbox",
            "audit",
            "mail_threads",
            "mail_sent_ids",
            "mail_inbox",
            "mail_senders",
        )
        dump = {}
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            kept = [c for c in columns if c not in ("id", "conversation_id")]
            select_list = ", ".join(f'typeof("{c}"), quote("{c}")' for c in kept)
            dump[table] = sorted(connection.execute(f"SELECT {select_list} FROM {table}").fetchall())
        return dump
    finally:
        connection.close()


async def test_direct_statements_store_exactly_what_sqlalchemy_stores(
    sqlite_template: str, tmp_path: Path
) -> None:
    direct_path, plain_path = tmp_path / "direct.sqlite3", tmp_path / "plain.sqlite3"
    shutil.copyfile(sqlite_template, direct_path)
    shutil.copyfile(sqlite_template, plain_path)
    direct = Database.open(f"sqlite+aiosqlite:///{direct_path}")
    # The same statements through SQLAlchemy all the way: an engine without storage.db's driver hook.
    plain = Database(create_async_engine(f"sqlite+aiosqlite:///{plain_path}"))
    try:
        async with direct.transaction() as conn:
            assert conn.info.get(RAW_SQLITE) is not None
        async with plain.transaction() as conn:
            assert conn.info.get(RAW_SQLITE) is None
        await _a_turn(direct)
        await _a_turn(plain)
    finally:
        await direct.dispose()
        await plain.dispose()
    direct_rows, plain_rows = _dump(direct_path), _dump(plain_path)
    assert all(direct_rows[table] for table in direct_rows)
    assert direct_rows == plain_rows


async def test_statements_through_sqlalchemy_join_the_transaction_begun_on_the_driver(db: Database) -> None:
    add = Prepared(insert(audit))
    rows = select(audit.c.event).order_by(audit.c.event)

    async def write(event: str) -> None:
        async with db.transaction() as conn:
            await add.execute(conn, {"conversation_id": None, "event": f"{event}.direct", "at": NOW})
            await conn.execute(insert(audit).values(event=f"{event}.sqlalchemy", at=NOW))
            await add.execute(conn, {"conversation_id": None, "event": f"{event}.after", "at": NOW})
            if event == "undone":
                raise Rollback()

    await write("kept")
    with pytest.raises(Rollback):
        await write("undone")
    async with db.read() as conn:
        assert list((await conn.execute(rows)).scalars()) == ["kept.after", "kept.direct", "kept.sqlalchemy"]
    # and the writer is still usable after both endings
    await write("again")
    async with db.read() as conn:
        assert len((await conn.execute(rows)).all()) == 6


async def test_an_error_on_the_direct_path_is_sqlalchemys_and_leaves_nothing(db: Database) -> None:
    async with db.transaction() as conn:
        await conversations.create(conn, "slack", "D9", dict(STATE), NOW)
    with pytest.raises(Conflict):
        async with db.transaction() as conn:
            await conversations.record_audit(conn, None, [("before.duplicate", None)], NOW)
            await conversations.create(conn, "slack", "D9", dict(STATE), NOW)
    async with db.read() as conn:
        events = (await conn.execute(text("SELECT event FROM audit"))).scalars().all()
        assert "before.duplicate" not in events


@pytest.mark.parametrize(
    ("condition", "params"),
    [
        (audit.c.event.in_(bindparam("events", expanding=True)), {"events": ["a"]}),
        (audit.c.event == bindparam("event", literal_execute=True), {"event": "a"}),
    ],
    ids=["expanding IN list", "literal_execute"],
)
async def test_statements_sqlalchemy_finishes_at_execution_are_refused_on_the_direct_path(
    tmp_path: Path, condition: Any, params: dict[str, Any]
) -> None:
    prepared = Prepared(select(audit.c.id).where(condition))
    db = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with pytest.raises(ValueError, match=r"renders at execution \(expanding IN lists, literal_execute\)"):
            async with db.read() as conn:
                await prepared.execute(conn, params)
    finally:
        await db.dispose()


async def test_an_empty_batch_writes_nothing_on_either_database(db: Database) -> None:
    async with db.transaction() as conn:
        done = await Prepared(insert(audit)).execute(conn, [])
        assert (done.rows, done.rowcount) == ([], 0)
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM audit"))).scalar() == 0


async def test_a_value_its_column_refuses_is_a_statement_error_on_either_database(db: Database) -> None:
    add = Prepared(insert(audit))
    naive = datetime(2025, 4, 1, 9, 30)  # UTCDateTime refuses naive datetimes
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as conn:
            await add.execute(conn, {"conversation_id": None, "event": "x", "at": naive})
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as conn:
            rows = [{"conversation_id": None, "event": "x", "at": at} for at in (NOW, naive)]
            await add.execute(conn, rows)
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM audit"))).scalar() == 0


async def test_a_transaction_cancelled_half_way_leaves_nothing_and_the_next_one_works(db: Database) -> None:
    add = Prepared(insert(audit))
    written = asyncio.Event()

    async def half_a_turn() -> None:
        async with db.transaction() as conn:
            await add.execute(conn, {"conversation_id": None, "event": "cancelled", "at": NOW})
            await conn.execute(insert(audit).values(event="cancelled.sqlalchemy", at=NOW))
            written.set()
            await asyncio.sleep(30)  # e.g. waiting for a password hash when the server stops

    task = asyncio.create_task(half_a_turn())
    await written.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.transaction() as conn:
        await add.execute(conn, {"conversation_id": None, "event": "next", "at": NOW})
    async with db.read() as conn:
        assert list((await conn.execute(text("SELECT event FROM audit"))).scalars()) == ["next"]
