"""The outbox: everything that leaves the bot is first a row here, written in the transaction that caused it.

A row is ``queued`` until a deliverer has sent it (``delivered``) or it has failed too often (``failed``).
Claiming a row pushes its ``next_attempt_at`` forward by a lease, so a process that dies mid-send leaves
the row to be claimed again once the lease is over; on PostgreSQL the claim skips rows another process is
claiming at the same moment (``FOR UPDATE SKIP LOCKED``).  A conversation's rows for one recipient
leave in order: only the oldest queued one is ever claimed.  A mail's bytes (which hold the verification
link) are dropped once the row is settled, so the raw token does not stay at rest.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from storage.direct import Prepared
from storage.tables import outbox

ENQUEUED = "regbot.outbox.enqueued"
"""Key of ``conn.info``: how many rows `enqueue` wrote on that connection (callers reset it)."""

QUEUED = "queued"
DELIVERED = "delivered"
FAILED = "failed"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    conversation_id: str | None
    kind: str
    channel: str | None
    recipient: str
    payload: dict[str, Any] | None
    body: bytes | None
    attempts: int

    def __repr__(self) -> str:  # recipient and payload are personal
        return f"OutboxItem(id={self.id}, kind={self.kind!r}, attempts={self.attempts})"


@dataclass(frozen=True)
class Route:
    """Which rows a deliverer takes: a kind, and for ``reply`` rows the channel."""

    kind: str
    channel: str | None = None


def _item(row: RowMapping) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        conversation_id=row["conversation_id"],
        kind=row["kind"],
        channel=row["channel"],
        recipient=row["recipient"],
        payload=None if row["payload"] is None else dict(row["payload"]),
        body=None if row["body"] is None else bytes(row["body"]),
        attempts=row["attempts"],
    )


# A turn's statements run on the driver directly on SQLite (storage.direct).
_ENQUEUE = Prepared(insert(outbox).returning(outbox.c.id))
_SETTLE = Prepared(update(outbox).where(outbox.c.id == bindparam("b_id")))


async def enqueue(
    conn: AsyncConnection,
    *,
    kind: str,
    recipient: str,
    now: datetime,
    conversation_id: str | None = None,
    channel: str | None = None,
    payload: dict[str, Any] | None = None,
    body: bytes | None = None,
    claimed_until: datetime | None = None,
) -> int:
    """A new row; with ``claimed_until`` it is claimed by the caller at once (its first attempt, leased
    until then), to be sent straight after the commit instead of by the delivery loop."""
    conn.info[ENQUEUED] = conn.info.get(ENQUEUED, 0) + 1
    result = await _ENQUEUE.execute(
        conn,
        {
            "conversation_id": conversation_id,
            "kind": kind,
            "channel": channel,
            "recipient": recipient,
            "payload": payload,
            "body": body,
            "status": QUEUED,
            "attempts": 0 if claimed_until is None else 1,
            "next_attempt_at": now if claimed_until is None else claimed_until,
            "created_at": now,
        },
    )
    return int(result.scalar())


_EARLIER = outbox.alias("earlier")
_WAITING = Prepared(
    select(_EARLIER.c.id)
    .where(
        _EARLIER.c.conversation_id == bindparam("conversation_id"),
        _EARLIER.c.recipient == bindparam("recipient"),
        _EARLIER.c.status == QUEUED,
    )
    .limit(1)
)


async def has_queued(conn: AsyncConnection, conversation_id: str, recipient: str) -> bool:
    """Whether a row of the conversation for ``recipient`` is still queued (new rows must wait behind it)."""
    params = {"conversation_id": conversation_id, "recipient": recipient}
    return (await _WAITING.execute(conn, params)).first() is not None


def _route_filter(routes: Sequence[Route]) -> ColumnElement[bool]:
    return or_(
        *(
            outbox.c.kind == route.kind
            if route.channel is None
            else and_(outbox.c.kind == route.kind, outbox.c.channel == route.channel)
            for route in routes
        )
    )


async def claim_due(
    conn: AsyncConnection,
    routes: Sequence[Route],
    now: datetime,
    lease_until: datetime,
    *,
    limit: int = 20,
    excluding: Collection[int] = (),
) -> list[OutboxItem]:
    """Queued rows of ``routes`` that are due, oldest first; each gets one more attempt and a lease.

    Only the oldest queued row of a conversation's recipient is claimed: the next one waits until that
    one is settled (delivered or failed for good), so a recipient gets a conversation's messages in
    order even across retries, and the rows of one claim can be sent at the same time.  ``excluding``:
    rows this process is sending already (claimed at their turn's commit)."""
    if not routes:
        return []
    earlier = _EARLIER
    head_of_line = ~exists().where(
        earlier.c.conversation_id == outbox.c.conversation_id,
        earlier.c.recipient == outbox.c.recipient,
        earlier.c.status == QUEUED,
        earlier.c.id < outbox.c.id,
    )
    query = (
        select(outbox)
        .where(
            outbox.c.status == QUEUED, outbox.c.next_attempt_at <= now, _route_filter(routes), head_of_line
        )
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    if excluding:
        query = query.where(outbox.c.id.not_in(list(excluding)))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    items = [_item(row) for row in (await conn.execute(query)).mappings()]
    if items:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_([item.id for item in items]))
            .values(attempts=outbox.c.attempts + 1, next_attempt_at=lease_until)
        )
    return [
        OutboxItem(
            id=item.id,
            conversation_id=item.conversation_id,
            kind=item.kind,
            channel=item.channel,
            recipient=item.recipient,
            payload=item.payload,
            body=item.body,
            attempts=item.attempts + 1,
        )
        for item in items
    ]


async def mark_delivered(
    conn: AsyncConnection, rows: Sequence[tuple[int, str | None]], now: datetime
) -> None:
    """Rows (id, location) sent: delivered, in one statement; their bodies (a link) are dropped."""
    if not rows:
        return
    settled = [
        {
            "b_id": outbox_id,
            "status": DELIVERED,
            "delivered_at": now,
            "location": location,
            "body": None,
            "last_error": None,
        }
        for outbox_id, location in rows
    ]
    await _SETTLE.execute(conn, settled)


async def schedule_retry(
    conn: AsyncConnection, outbox_id: int, next_attempt_at: datetime, error: str
) -> None:
    """``error`` must hold no personal data (an exception class name, an SMTP code)."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == outbox_id)
        .values(next_attempt_at=next_attempt_at, last_error=error[:200])
    )


async def mark_failed(conn: AsyncConnection, outbox_id: int, now: datetime, error: str) -> None:
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == outbox_id)
        .values(status=FAILED, delivered_at=None, last_error=error[:200], body=None)
    )


async def take_replies(
    conn: AsyncConnection, channel: str, recipient: str, now: datetime
) -> list[OutboxItem]:
    """The queued ``reply`` rows of one address, oldest first, marked delivered (the console polls)."""
    query = (
        select(outbox)
        .where(
            outbox.c.kind == "reply",
            outbox.c.channel == channel,
            outbox.c.recipient == recipient,
            outbox.c.status == QUEUED,
        )
        .order_by(outbox.c.id)
    )
    items = [_item(row) for row in (await conn.execute(query)).mappings()]
    if items:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_([item.id for item in items]))
            .values(status=DELIVERED, delivered_at=now)
        )
    return items


async def purge_settled(conn: AsyncConnection, conversation_id: str) -> int:
    """Delete the delivered / failed rows of a conversation (recipients and payloads are personal)."""
    result = await conn.execute(
        delete(outbox).where(outbox.c.conversation_id == conversation_id, outbox.c.status != QUEUED)
    )
    return result.rowcount


async def status_counts(conn: AsyncConnection) -> dict[str, int]:
    query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
    return {str(row[0]): int(row[1]) for row in await conn.execute(query)}


async def next_due(conn: AsyncConnection, routes: Sequence[Route]) -> datetime | None:
    """When the earliest queued row of ``routes`` is due (the delivery loop sleeps until then)."""
    if not routes:
        return None
    query = select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status == QUEUED, _route_filter(routes))
    value = (await conn.execute(query)).scalar()
    return value if isinstance(value, datetime) else None
