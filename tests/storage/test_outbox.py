"""The outbox table: claiming with a lease, settling, retries, replies taken by the console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import conversations, outbox
from storage.db import Database
from storage.outbox import Route

NOW = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
MAIL = Route("verification_mail")


async def _conversation(db: Database) -> str:
    async with db.transaction() as conn:
        return (await conversations.create(conn, "console", "s1", {"phase": "new"}, NOW)).id


async def test_a_claimed_row_is_leased_then_settled_and_its_bytes_dropped(db: Database) -> None:
    """Claiming gives one more attempt and hides the row until the lease ends; delivery drops the body."""
    conversation_id = await _conversation(db)
    async with db.transaction() as conn:
        row_id = await outbox.enqueue(
            conn,
            kind="verification_mail",
            recipient="a@example.jp",
            now=NOW,
            conversation_id=conversation_id,
            body=b"mail with a link",
        )
    lease = NOW + timedelta(minutes=5)
    async with db.transaction() as conn:
        claimed = await outbox.claim_due(conn, [MAIL], NOW, lease)
    assert [(item.id, item.attempts, item.body) for item in claimed] == [(row_id, 1, b"mail with a link")]
    async with db.transaction() as conn:
        assert await outbox.claim_due(conn, [MAIL], NOW + timedelta(minutes=4), lease) == []
        assert await outbox.next_due(conn, [MAIL]) == lease
        await outbox.mark_delivered(conn, [(row_id, "/tmp/x.eml")], NOW)
    async with db.transaction() as conn:
        assert await outbox.claim_due(conn, [MAIL], NOW + timedelta(hours=1), lease) == []
        assert await outbox.status_counts(conn) == {"delivered": 1}
        body = (await conn.exec_driver_sql("SELECT body FROM outbox")).scalar()
        assert body is None
        assert await outbox.purge_settled(conn, conversation_id) == 1


async def test_a_dead_claimer_leaves_the_row_to_be_claimed_after_the_lease(db: Database) -> None:
    """A process that claimed and died does not lose the row: it is due again when the lease ends."""
    async with db.transaction() as conn:
        row_id = await outbox.enqueue(
            conn, kind="verification_mail", recipient="a@example.jp", now=NOW, body=b"x"
        )
        await outbox.claim_due(conn, [MAIL], NOW, NOW + timedelta(minutes=5))
    async with db.transaction() as conn:
        again = await outbox.claim_due(conn, [MAIL], NOW + timedelta(minutes=5), NOW + timedelta(minutes=10))
    assert [(item.id, item.attempts) for item in again] == [(row_id, 2)]


async def test_routes_pick_kinds_and_reply_channels(db: Database) -> None:
    """A deliverer only gets its own kind; reply rows are routed by channel."""
    async with db.transaction() as conn:
        await outbox.enqueue(conn, kind="reply", channel="slack", recipient="D1", now=NOW, payload={"n": 1})
        await outbox.enqueue(conn, kind="reply", channel="console", recipient="s1", now=NOW, payload={"n": 2})
        await outbox.enqueue(conn, kind="helpdesk", recipient="C1", now=NOW, payload={"n": 3})
    async with db.transaction() as conn:
        claimed = await outbox.claim_due(conn, [Route("reply", "slack")], NOW, NOW + timedelta(minutes=5))
        assert [item.payload for item in claimed] == [{"n": 1}]
        assert await outbox.claim_due(conn, [], NOW, NOW) == []


async def test_retry_then_failure(db: Database) -> None:
    """A retry moves the due time and keeps the error; a failure settles the row and drops the body."""
    async with db.transaction() as conn:
        row_id = await outbox.enqueue(
            conn, kind="verification_mail", recipient="a@example.jp", now=NOW, body=b"x"
        )
        await outbox.schedule_retry(conn, row_id, NOW + timedelta(seconds=30), "DeliveryError")
        assert await outbox.claim_due(conn, [MAIL], NOW + timedelta(seconds=29), NOW) == []
        await outbox.mark_failed(conn, row_id, NOW, "DeliveryError")
        assert await outbox.status_counts(conn) == {"failed": 1}


async def test_take_replies_returns_an_address_rows_once(db: Database) -> None:
    """The console's poll: the queued replies of one address, in order, then never again."""
    async with db.transaction() as conn:
        for n in range(3):
            await outbox.enqueue(
                conn, kind="reply", channel="console", recipient="s1", now=NOW, payload={"n": n}
            )
        await outbox.enqueue(conn, kind="reply", channel="console", recipient="s2", now=NOW, payload={"n": 9})
    async with db.transaction() as conn:
        taken = await outbox.take_replies(conn, "console", "s1", NOW)
    async with db.transaction() as conn:
        assert await outbox.take_replies(conn, "console", "s1", NOW) == []
    assert [item.payload for item in taken] == [{"n": 0}, {"n": 1}, {"n": 2}]
