"""Pending registrations, tokens (digest only, latest wins, single use) and accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import conversations, registrations
from storage.db import Conflict, Database

NOW = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=24)
EMAIL = "kikin@example.jp"


async def _pending(db: Database) -> registrations.PendingRegistration:
    async with db.transaction() as conn:
        conversation = await conversations.create(conn, "console", "s1", {"phase": "verifying"}, NOW)
        return await registrations.create_pending(
            conn, conversation.id, EMAIL, {"family_name": "基金"}, "$argon2id$x", NOW
        )


async def test_only_the_digest_is_stored_and_found_again(db: Database) -> None:
    """The raw token is nowhere in the table; looking it up by the raw value works."""
    pending = await _pending(db)
    async with db.transaction() as conn:
        await registrations.issue_token(conn, pending.id, EMAIL, "raw-token-value", NOW, LATER)
    async with db.read() as conn:
        stored = (await conn.exec_driver_sql("SELECT token_hash FROM verification_tokens")).scalar()
        record = await registrations.find_token(conn, "raw-token-value")
        assert await registrations.find_token(conn, "raw-token-valuf") is None
    assert stored == registrations.token_digest("raw-token-value") and "raw" not in str(stored)
    assert record is not None and record.registration.values == {"family_name": "基金"}


async def test_a_new_token_supersedes_every_older_one_for_the_email(db: Database) -> None:
    """手順書 ④: only the newest mail's link works."""
    pending = await _pending(db)
    async with db.transaction() as conn:
        await registrations.issue_token(conn, pending.id, EMAIL, "first", NOW, LATER)
        await registrations.issue_token(conn, pending.id, EMAIL, "second", NOW, LATER)
    async with db.transaction() as conn:
        first = await registrations.find_token(conn, "first")
        second = await registrations.find_token(conn, "second")
        assert first is not None and second is not None
        assert first.superseded_at == NOW and second.superseded_at is None
        assert not await registrations.consume_token(conn, first.id, NOW)


async def test_a_token_is_consumed_once_and_never_after_expiry(db: Database) -> None:
    """The consuming UPDATE wins once; an expired token cannot be consumed."""
    pending = await _pending(db)
    async with db.transaction() as conn:
        await registrations.issue_token(conn, pending.id, EMAIL, "once", NOW, LATER)
        record = await registrations.find_token(conn, "once")
        assert record is not None
        assert not await registrations.consume_token(conn, record.id, LATER)
        assert await registrations.consume_token(conn, record.id, NOW)
        assert not await registrations.consume_token(conn, record.id, NOW)


async def test_cancel_kills_the_conversation_tokens(db: Database) -> None:
    """Cancelling marks the live tokens; purging removes registrations and tokens."""
    pending = await _pending(db)
    async with db.transaction() as conn:
        await registrations.issue_token(conn, pending.id, EMAIL, "t", NOW, LATER)
        assert await registrations.cancel_tokens(conn, pending.conversation_id, EMAIL, NOW) == 1
        record = await registrations.find_token(conn, "t")
        assert record is not None and record.cancelled_at == NOW
        assert await registrations.purge_pending(conn, pending.conversation_id) == 1
        assert await registrations.find_token(conn, "t") is None


async def test_an_email_has_one_account(db: Database) -> None:
    """Accounts are unique by email; the look-up answers which mentioned addresses are taken."""
    async with db.transaction() as conn:
        await registrations.create_account(conn, EMAIL, "$argon2id$x", {}, None, NOW)
        assert await registrations.registered_among(conn, {EMAIL, "other@example.jp"}) == {EMAIL}
        assert await registrations.registered_among(conn, set()) == frozenset()
    with pytest.raises(Conflict):
        async with db.transaction() as conn:
            await registrations.create_account(conn, EMAIL, "$argon2id$y", {}, None, NOW)
