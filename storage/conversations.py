"""Conversations (state JSON + version for optimistic locking), processed inbound message ids, audit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Conflict
from storage.direct import Prepared
from storage.tables import audit, conversations, insert_unless_present, processed_messages


class Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()
"""Pass as ``password_hash`` to `save` to leave the stored hash as it is."""


@dataclass(frozen=True)
class Conversation:
    id: str
    channel: str
    address: str
    state: dict[str, Any]
    version: int
    password_hash: str | None
    phase: str
    created_at: datetime
    last_activity_at: datetime

    def __repr__(self) -> str:  # the state holds personal values
        return f"Conversation(id={self.id!r}, channel={self.channel!r}, version={self.version})"


def _conversation(row: Mapping[str, Any]) -> Conversation:
    return Conversation(
        id=row["id"],
        channel=row["channel"],
        address=row["address"],
        state=dict(row["state"]),
        version=row["version"],
        password_hash=row["password_hash"],
        phase=row["phase"],
        created_at=row["created_at"],
        last_activity_at=row["last_activity_at"],
    )


# The statements of every turn are built once, with bind parameters: SQLAlchemy then skips building them
# and their cache keys on each call (a quarter of its share of a turn, bench/NOTES.md).
# On SQLite they run on the driver directly (storage.direct).
_FIND_QUERY = select(conversations).where(
    conversations.c.channel == bindparam("channel"), conversations.c.address == bindparam("address")
)
_FIND = Prepared(_FIND_QUERY)
_FIND_LOCKED = Prepared(_FIND_QUERY.with_for_update())
_GET_QUERY = select(conversations).where(conversations.c.id == bindparam("id"))
_GET = Prepared(_GET_QUERY)
_GET_LOCKED = Prepared(_GET_QUERY.with_for_update())
_CREATE = Prepared(insert(conversations))
_SAVE = Prepared(
    update(conversations).where(
        conversations.c.id == bindparam("b_id"), conversations.c.version == bindparam("b_version")
    )
)
_PROCESSED = {
    dialect: Prepared(statement.returning(processed_messages.c.id))
    for dialect, statement in insert_unless_present(processed_messages, ["channel", "message_id"]).items()
}
_AUDIT = Prepared(insert(audit))
_PROCESSED_IN = Prepared(
    select(processed_messages.c.conversation_id).where(
        processed_messages.c.channel == bindparam("channel"),
        processed_messages.c.message_id == bindparam("message_id"),
    )
)


async def _one(
    conn: AsyncConnection, query: Prepared, locked: Prepared, params: dict[str, Any]
) -> Conversation | None:
    """One conversation row; on PostgreSQL it stays locked (``locked``) until commit."""
    rows = (await (locked if conn.dialect.name == "postgresql" else query).execute(conn, params)).mappings()
    return _conversation(rows[0]) if rows else None


async def find(conn: AsyncConnection, channel: str, address: str) -> Conversation | None:
    """The conversation at (channel, address); on PostgreSQL the row stays locked until commit."""
    return await _one(conn, _FIND, _FIND_LOCKED, {"channel": channel, "address": address})


async def get(conn: AsyncConnection, conversation_id: str) -> Conversation | None:
    return await _one(conn, _GET, _GET_LOCKED, {"id": conversation_id})


async def create(
    conn: AsyncConnection, channel: str, address: str, state: dict[str, Any], now: datetime
) -> Conversation:
    """A new conversation at version 0.  A concurrent create of the same address raises `Conflict`
    (at commit or here), and the retry then finds the other one."""
    conversation = Conversation(
        id=uuid.uuid4().hex,
        channel=channel,
        address=address,
        state=state,
        version=0,
        password_hash=None,
        phase=str(state.get("phase", "new")),
        created_at=now,
        last_activity_at=now,
    )
    await _CREATE.execute(
        conn,
        {
            "id": conversation.id,
            "channel": channel,
            "address": address,
            "state": state,
            "phase": conversation.phase,
            "reminded": bool(state.get("reminded", False)),
            "version": 0,
            "password_hash": None,
            "created_at": now,
            "updated_at": now,
            "last_activity_at": now,
        },
    )
    return conversation


async def save(
    conn: AsyncConnection,
    conversation: Conversation,
    state: dict[str, Any],
    now: datetime,
    *,
    password_hash: str | Keep | None = KEEP,
    activity: bool = True,
) -> int:
    """Store the next state if nobody saved since ``conversation`` was read; return the new version.

    ``activity`` is False for turns the person did not cause (reminder, expiry, completion), so the
    idle clock keeps running.  Raises `Conflict` when the version moved on.
    """
    values: dict[str, Any] = {
        "b_id": conversation.id,
        "b_version": conversation.version,
        "state": state,
        "phase": str(state.get("phase", "new")),
        "reminded": bool(state.get("reminded", False)),
        "version": conversation.version + 1,
        "updated_at": now,
    }
    if activity:
        values["last_activity_at"] = now
    if not isinstance(password_hash, Keep):
        values["password_hash"] = password_hash
    result = await _SAVE.execute(conn, values)
    if result.rowcount != 1:
        raise Conflict("conversation changed by a concurrent transaction")
    return conversation.version + 1


async def idle(
    conn: AsyncConnection,
    phases: Sequence[str],
    inactive_since: datetime,
    *,
    unreminded_only: bool = False,
    limit: int = 100,
) -> list[str]:
    """Ids of conversations in ``phases`` with no activity since ``inactive_since``, oldest first."""
    query = (
        select(conversations.c.id)
        .where(conversations.c.phase.in_(phases), conversations.c.last_activity_at <= inactive_since)
        .order_by(conversations.c.last_activity_at)
        .limit(limit)
    )
    if unreminded_only:
        query = query.where(conversations.c.reminded.is_(False))
    return list((await conn.execute(query)).scalars())


async def mark_reminded(conn: AsyncConnection, conversation_id: str) -> None:
    """Remember that the reminder job has seen this conversation, whatever the engine made of it."""
    await conn.execute(
        update(conversations).where(conversations.c.id == conversation_id).values(reminded=True)
    )


async def purgeable(
    conn: AsyncConnection, phases: Sequence[str], untouched_since: datetime, *, limit: int = 100
) -> list[str]:
    """Ids of ended conversations not changed since ``untouched_since`` whose values are still kept."""
    query = (
        select(conversations.c.id)
        .where(
            conversations.c.phase.in_(phases),
            conversations.c.updated_at <= untouched_since,
            conversations.c.purged_at.is_(None),
        )
        .order_by(conversations.c.updated_at)
        .limit(limit)
    )
    return list((await conn.execute(query)).scalars())


async def purge(
    conn: AsyncConnection, conversation: Conversation, state: dict[str, Any], now: datetime
) -> bool:
    """Replace the state by its emptied form and drop the password hash, unless the conversation moved
    on since it was read (then False: it is not abandoned after all)."""
    result = await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation.id, conversations.c.version == conversation.version)
        .values(state=state, password_hash=None, version=conversation.version + 1, purged_at=now)
    )
    return result.rowcount == 1


# ------------------------------------------------------------------------------ processed messages


async def seen(conn: AsyncConnection, channel: str, message_id: str) -> bool:
    return await processed_in(conn, channel, message_id) is not None


async def processed_in(conn: AsyncConnection, channel: str, message_id: str) -> str | None:
    """The conversation an inbound message id was processed in, if it was."""
    found = await _PROCESSED_IN.execute(conn, {"channel": channel, "message_id": message_id})
    value = found.scalar()
    return None if value is None else str(value)


async def record_processed(
    conn: AsyncConnection, channel: str, message_id: str, conversation_id: str, now: datetime
) -> bool:
    """Remember an inbound message id in one statement; False when it is already there (a repeat).

    ``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL alike): a twin being inserted by another
    transaction makes this one wait for it and then report the repeat, instead of failing.
    """
    statement = _PROCESSED["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    params = {
        "channel": channel,
        "message_id": message_id,
        "conversation_id": conversation_id,
        "processed_at": now,
    }
    return (await statement.execute(conn, params)).first() is not None


async def forget_processed(conn: AsyncConnection, before: datetime) -> int:
    """Drop message ids older than any retry a channel would still send."""
    result = await conn.execute(delete(processed_messages).where(processed_messages.c.processed_at < before))
    return result.rowcount


# ------------------------------------------------------------------------------------------ audit


async def record_audit(
    conn: AsyncConnection,
    conversation_id: str | None,
    events: Iterable[tuple[str, str | None]],
    now: datetime,
) -> None:
    """Append (event, field id) pairs.  Never a value: the audit trail outlives the retention period."""
    rows = [
        {"conversation_id": conversation_id, "event": event, "field_id": field_id, "at": now}
        for event, field_id in events
    ]
    if rows:
        await _AUDIT.execute(conn, rows)


async def audit_trail(conn: AsyncConnection, conversation_id: str) -> list[tuple[str, str | None]]:
    query = (
        select(audit.c.event, audit.c.field_id)
        .where(audit.c.conversation_id == conversation_id)
        .order_by(audit.c.id)
    )
    return [(row.event, row.field_id) for row in await conn.execute(query)]
