"""storage.helpdesk on SQLite and PostgreSQL: thread reservation, lookup by address, link state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.service import Service
from storage import conversations, helpdesk
from storage.db import Conflict, Database
from tests.conftest import EMAIL, FakeClock, fill_in


async def test_a_thread_is_reserved_once_then_open(db: Database, clock: FakeClock) -> None:
    now = clock()
    async with db.transaction() as conn:
        conversation = await conversations.create(conn, "slack", "D1", {"phase": "asking"}, now)
    stale_before = now - timedelta(minutes=5)
    async with db.transaction() as conn:
        first = await helpdesk.reserve_thread(conn, conversation.id, "C0HELP", now, stale_before)
    async with db.transaction() as conn:
        second = await helpdesk.reserve_thread(conn, conversation.id, "C0HELP", now, stale_before)
    assert (first.status, second.status) == (helpdesk.RESERVED, helpdesk.BUSY)
    later = now + timedelta(minutes=6)  # the first opener died: its reservation goes stale
    async with db.transaction() as conn:
        taken = await helpdesk.reserve_thread(
            conn, conversation.id, "C0HELP", later, later - timedelta(minutes=5)
        )
        assert taken.status == helpdesk.RESERVED and taken.stale
        await helpdesk.open_thread(conn, conversation.id, "1700000001.000100", later)
    async with db.transaction() as conn:
        opened = await helpdesk.reserve_thread(conn, conversation.id, "C0HELP", later, stale_before)
        assert opened.status == helpdesk.OPEN and opened.thread is not None
        assert await helpdesk.conversation_of_thread(conn, "C0HELP", "1700000001.000100") == conversation.id


async def test_two_first_reservations_race_into_a_conflict(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as conn:
        conversation = await conversations.create(conn, "slack", "D2", {"phase": "asking"}, clock())
    async with db.transaction() as conn:
        await helpdesk.reserve_thread(conn, conversation.id, "C0HELP", clock(), clock())
    with pytest.raises(Conflict):
        async with db.transaction() as conn:
            await conn.execute(
                helpdesk.helpdesk_threads.insert().values(
                    conversation_id=conversation.id, channel_id="C0HELP", reserved_at=clock(), escalations=0
                )
            )


async def test_lookup_by_address_and_link_state(service: Service, clock: FakeClock) -> None:
    await fill_in(service, "console", "s1")
    async with service.db.read() as conn:
        [found] = await helpdesk.conversations_by_email(conn, EMAIL.upper().lower())
        assert await helpdesk.conversations_by_email(conn, "nobody@example.jp") == []
        link = await helpdesk.link_status(conn, found, clock())
    assert (link.state, link.links_sent, link.mail_status) == (helpdesk.VALID, 1, "queued")
    clock.advance(hours=25)
    async with service.db.read() as conn:
        assert (await helpdesk.link_status(conn, found, clock())).state == helpdesk.EXPIRED
