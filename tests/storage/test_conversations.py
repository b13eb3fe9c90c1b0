"""Conversations: optimistic locking, one row per (channel, address), processed ids, audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage import conversations
from storage.db import Conflict, Database

NOW = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)


async def test_saved_state_comes_back_with_the_next_version(db: Database) -> None:
    """A save bumps the version and keeps the JSON state as given."""
    async with db.transaction() as conn:
        created = await conversations.create(conn, "console", "s1", {"phase": "new"}, NOW)
    async with db.transaction() as conn:
        found = await conversations.find(conn, "console", "s1")
        assert found is not None and found.version == 0
        version = await conversations.save(conn, found, {"phase": "asking", "values": {"姓": "基金"}}, NOW)
    async with db.read() as conn:
        again = await conversations.get(conn, created.id)
    assert version == 1
    assert again is not None
    assert (again.version, again.phase, again.state["values"]) == (1, "asking", {"姓": "基金"})


async def test_a_stale_save_raises_conflict_and_changes_nothing(db: Database) -> None:
    """Saving from a version someone else already replaced is refused (no lost update)."""
    async with db.transaction() as conn:
        created = await conversations.create(conn, "console", "s1", {"phase": "new"}, NOW)
    async with db.transaction() as conn:
        await conversations.save(conn, created, {"phase": "asking"}, NOW)
    with pytest.raises(Conflict):
        async with db.transaction() as conn:
            await conversations.save(conn, created, {"phase": "summary"}, NOW)
    async with db.read() as conn:
        again = await conversations.get(conn, created.id)
    assert again is not None and (again.version, again.phase) == (1, "asking")


async def test_the_same_address_cannot_be_created_twice(db: Database) -> None:
    """A concurrent create of one address comes out as a Conflict to retry."""
    async with db.transaction() as conn:
        await conversations.create(conn, "slack", "D1", {"phase": "new"}, NOW)
    with pytest.raises(Conflict):
        async with db.transaction() as conn:
            await conversations.create(conn, "slack", "D1", {"phase": "new"}, NOW)


async def test_concurrent_read_modify_write_with_retry_loses_nothing(db: Database) -> None:
    """Twenty concurrent increments of one conversation, each retried on Conflict, all land."""
    async with db.transaction() as conn:
        created = await conversations.create(conn, "console", "s1", {"phase": "new", "count": 0}, NOW)

    async def increment() -> None:
        for _ in range(50):
            try:
                async with db.transaction() as conn:
                    current = await conversations.get(conn, created.id)
                    assert current is not None
                    await asyncio.sleep(0)  # let the others read the same version
                    state = dict(current.state, count=current.state["count"] + 1)
                    await conversations.save(conn, current, state, NOW)
                return
            except Conflict:
                continue
        raise AssertionError("never got through")

    await asyncio.gather(*(increment() for _ in range(20)))
    async with db.read() as conn:
        final = await conversations.get(conn, created.id)
    assert final is not None and (final.state["count"], final.version) == (20, 20)


async def test_processed_message_ids_are_unique_per_channel(db: Database) -> None:
    """A message id is recorded once per channel (a repeat says so); on another channel it is new."""
    async with db.transaction() as conn:
        created = await conversations.create(conn, "slack", "D1", {"phase": "new"}, NOW)
        assert await conversations.record_processed(conn, "slack", "Ev1", created.id, NOW)
        assert await conversations.record_processed(conn, "email", "Ev1", created.id, NOW)
    async with db.read() as conn:
        assert await conversations.seen(conn, "slack", "Ev1")
        assert not await conversations.seen(conn, "slack", "Ev2")
    async with db.transaction() as conn:
        assert not await conversations.record_processed(conn, "slack", "Ev1", created.id, NOW)
    async with db.transaction() as conn:
        assert await conversations.forget_processed(conn, NOW + timedelta(seconds=1)) == 2


async def test_idle_and_purgeable_selections(db: Database) -> None:
    """The jobs' selections: idle by last activity and phase, purgeable by phase and last change."""
    async with db.transaction() as conn:
        old = await conversations.create(conn, "console", "old", {"phase": "asking"}, NOW)
        await conversations.create(conn, "console", "new", {"phase": "asking"}, NOW + timedelta(hours=5))
        ended = await conversations.create(conn, "console", "end", {"phase": "expired"}, NOW)
    later = NOW + timedelta(hours=1)
    async with db.transaction() as conn:
        assert await conversations.idle(conn, ["asking"], later, unreminded_only=True) == [old.id]
        await conversations.mark_reminded(conn, old.id)
        assert await conversations.idle(conn, ["asking"], later, unreminded_only=True) == []
        assert await conversations.idle(conn, ["asking"], later) == [old.id]
        assert await conversations.purgeable(conn, ["expired"], later) == [ended.id]
        assert await conversations.purge(conn, ended, {"phase": "expired", "values": {}}, later)
        assert not await conversations.purge(conn, ended, {"phase": "expired", "values": {}}, later)
        assert await conversations.purgeable(conn, ["expired"], later) == []


async def test_audit_keeps_event_and_field_only(db: Database) -> None:
    """The audit trail is (event, field id) pairs in order."""
    async with db.transaction() as conn:
        created = await conversations.create(conn, "console", "s1", {"phase": "new"}, NOW)
        await conversations.record_audit(conn, created.id, [("field.set", "email"), ("phase", None)], NOW)
    async with db.read() as conn:
        assert await conversations.audit_trail(conn, created.id) == [("field.set", "email"), ("phase", None)]
