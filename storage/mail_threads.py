"""The email channel's tables: threads, the bot's sent Message-IDs, the raw inbox, the IMAP cursor and the
per-sender limits (SPEC §5 Email, §7).

A *thread* binds a reply key — the conversation's address on channel ``email`` — to the one sender it was
issued to, and keeps what the next bot mail needs to thread (the person's last Message-ID, References,
subject).  The sender's address is personal: it is kept only for writing to them and is emptied, with the
subject and message ids, when the conversation is purged (`purge_threads`).  Lookups by sender use a
SHA-256 of the address (`sender_hash`); the rate-limit tables only ever hold that hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.direct import Prepared
from storage.tables import (
    conversations,
    insert_unless_present,
    mail_cursors,
    mail_inbox,
    mail_notices,
    mail_senders,
    mail_sent_ids,
    mail_threads,
)

MAX_ID_LENGTH = 255  # the message id columns

# The statements of a mail turn are built once, with bind parameters (as in storage.conversations); those
# without an IN list run on the driver directly on SQLite (storage.direct).
_CREATE_THREAD = Prepared(insert(mail_threads))
_FIND_THREAD = Prepared(select(mail_threads).where(mail_threads.c.reply_key == bindparam("reply_key")))
_BY_SENT_IDS = (
    select(mail_threads)
    .join(mail_sent_ids, mail_sent_ids.c.reply_key == mail_threads.c.reply_key)
    .where(mail_sent_ids.c.message_id.in_(bindparam("ids", expanding=True)))
    .order_by(mail_sent_ids.c.created_at.desc())
    .limit(1)
)
_BY_FIRST_MESSAGE = Prepared(
    select(mail_threads).where(
        mail_threads.c.first_message_id == bindparam("message_id"),
        mail_threads.c.sender_hash == bindparam("sender_hash"),
    )
)
_OPEN_THREADS = (
    select(mail_threads, conversations.c.last_activity_at)
    .join(conversations, conversations.c.id == mail_threads.c.conversation_id)
    .where(
        mail_threads.c.sender_hash == bindparam("sender_hash"),
        conversations.c.phase.in_(bindparam("phases", expanding=True)),
    )
    .order_by(conversations.c.last_activity_at.desc())
)
_NOTE_INBOUND = Prepared(update(mail_threads).where(mail_threads.c.reply_key == bindparam("b_reply_key")))
_RECORD_SENT = {
    dialect: Prepared(statement)
    for dialect, statement in insert_unless_present(mail_sent_ids, ["message_id"]).items()
}
_SENT_QUERY = select(mail_sent_ids.c.message_id).where(mail_sent_ids.c.reply_key == bindparam("reply_key"))
_SENT = Prepared(_SENT_QUERY)
_SENT_EXCLUDING = Prepared(_SENT_QUERY.where(mail_sent_ids.c.message_id != bindparam("excluding")))
_STORE_INBOUND = Prepared(insert(mail_inbox).returning(mail_inbox.c.id))
_FINISH_INBOUND = Prepared(delete(mail_inbox).where(mail_inbox.c.id == bindparam("id")))
_SENDER_WINDOW = Prepared(
    select(mail_senders.c.window_started_at, mail_senders.c.window_count).where(
        mail_senders.c.sender_hash == bindparam("sender_hash")
    )
)
_NEW_WINDOW = Prepared(insert(mail_senders))
_COUNT_WINDOW = Prepared(update(mail_senders).where(mail_senders.c.sender_hash == bindparam("b_sender_hash")))


def sender_hash(address: str) -> str:
    """The SHA-256 of a lower-cased address: what the limits and the open-thread look-up key on."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------ threads


@dataclass(frozen=True)
class MailThread:
    reply_key: str
    conversation_id: str
    sender: str | None  # None once purged
    sender_hash: str | None
    subject: str | None
    first_message_id: str | None
    last_message_id: str | None
    references: tuple[str, ...]
    resume_key: str | None
    created_at: datetime

    def __repr__(self) -> str:  # the sender, subject and ids are personal
        return f"MailThread(conversation_id={self.conversation_id!r})"

    def belongs_to(self, address: str | None) -> bool:
        """Whether mail from ``address`` may speak in this thread (the address the key was issued to)."""
        return (
            bool(address) and self.sender_hash is not None and self.sender_hash == sender_hash(address or "")
        )


def _thread(row: Mapping[Any, Any]) -> MailThread:
    references = row["references"] or []
    return MailThread(
        reply_key=row["reply_key"],
        conversation_id=row["conversation_id"],
        sender=row["sender"],
        sender_hash=row["sender_hash"],
        subject=row["subject"],
        first_message_id=row["first_message_id"],
        last_message_id=row["last_message_id"],
        references=tuple(str(ref) for ref in references),
        resume_key=row["resume_key"],
        created_at=row["created_at"],
    )


async def create_thread(
    conn: AsyncConnection,
    *,
    reply_key: str,
    conversation_id: str,
    sender: str,
    message_id: str | None,
    references: Sequence[str],
    subject: str,
    resume_key: str | None,
    now: datetime,
) -> MailThread:
    values: dict[str, Any] = {
        "reply_key": reply_key,
        "conversation_id": conversation_id,
        "sender": sender,
        "sender_hash": sender_hash(sender),
        "subject": subject[:255],
        "first_message_id": message_id,
        "last_message_id": message_id,
        "references": list(references),
        "resume_key": resume_key,
        "created_at": now,
        "updated_at": now,
    }
    await _CREATE_THREAD.execute(conn, values)
    return MailThread(
        reply_key=reply_key,
        conversation_id=conversation_id,
        sender=sender,
        sender_hash=values["sender_hash"],
        subject=values["subject"],
        first_message_id=message_id,
        last_message_id=message_id,
        references=tuple(references),
        resume_key=resume_key,
        created_at=now,
    )


async def find_thread(conn: AsyncConnection, reply_key: str) -> MailThread | None:
    rows = (await _FIND_THREAD.execute(conn, {"reply_key": reply_key})).mappings()
    return _thread(rows[0]) if rows else None


async def thread_by_sent_ids(conn: AsyncConnection, message_ids: Sequence[str]) -> MailThread | None:
    """The thread of the newest of ``message_ids`` that the bot sent (In-Reply-To / References)."""
    ids = [ident for ident in message_ids if len(ident) <= MAX_ID_LENGTH]
    if not ids:
        return None
    row = (await conn.execute(_BY_SENT_IDS, {"ids": ids})).mappings().first()
    return None if row is None else _thread(row)


async def thread_by_first_message(conn: AsyncConnection, message_id: str, sender: str) -> MailThread | None:
    """The thread this very mail opened before (a retry after a crash between two transactions)."""
    values = {"message_id": message_id, "sender_hash": sender_hash(sender)}
    rows = (await _BY_FIRST_MESSAGE.execute(conn, values)).mappings()
    return _thread(rows[0]) if rows else None


async def open_threads(
    conn: AsyncConnection, sender: str, open_phases: Sequence[str]
) -> list[tuple[MailThread, datetime]]:
    """The sender's threads whose conversation is in ``open_phases``, with its last activity, newest first."""
    values = {"sender_hash": sender_hash(sender), "phases": list(open_phases)}
    rows = (await conn.execute(_OPEN_THREADS, values)).mappings()
    return [(_thread(row), row["last_activity_at"]) for row in rows]


async def record_inbound(
    conn: AsyncConnection,
    reply_key: str,
    *,
    message_id: str | None,
    references: Sequence[str],
    subject: str,
    now: datetime,
) -> None:
    """The person wrote again: the next bot mail answers this one."""
    values: dict[str, Any] = {
        "b_reply_key": reply_key,
        "references": list(references),
        "subject": subject[:255],
        "updated_at": now,
    }
    if message_id is not None:
        values["last_message_id"] = message_id
    await _NOTE_INBOUND.execute(conn, values)


async def record_sent(conn: AsyncConnection, reply_key: str, message_id: str, now: datetime) -> None:
    """Remember a Message-ID the bot sent in a thread; a second send of the same mail (an outbox row
    retried after a crash between sending and settling) keeps the first record."""
    values = {"message_id": message_id, "reply_key": reply_key, "created_at": now}
    await _RECORD_SENT[conn.dialect.name].execute(conn, values)


async def sent_count(conn: AsyncConnection, reply_key: str, *, excluding: str | None = None) -> int:
    """How many mails the bot sent in a thread (``excluding`` one Message-ID: the mail being sent)."""
    if excluding is None:
        return len((await _SENT.execute(conn, {"reply_key": reply_key})).rows)
    return len((await _SENT_EXCLUDING.execute(conn, {"reply_key": reply_key, "excluding": excluding})).rows)


async def purge_threads(conn: AsyncConnection) -> int:
    """Empty the personal columns of threads whose conversation has been purged (bot/jobs.py)."""
    purged = select(conversations.c.id).where(conversations.c.purged_at.is_not(None))
    result = await conn.execute(
        update(mail_threads)
        .where(mail_threads.c.conversation_id.in_(purged), mail_threads.c.sender_hash.is_not(None))
        .values(
            sender=None,
            sender_hash=None,
            subject=None,
            first_message_id=None,
            last_message_id=None,
            references=None,
            resume_key=None,
        )
    )
    return result.rowcount


# -------------------------------------------------------------------------------------------- inbox


@dataclass(frozen=True)
class InboxItem:
    id: int
    source: str
    envelope_sender: str | None
    raw: bytes
    oversize: bool
    attempts: int

    def __repr__(self) -> str:
        return f"InboxItem(id={self.id}, source={self.source!r}, attempts={self.attempts})"


async def store_inbound(
    conn: AsyncConnection,
    *,
    source: str,
    raw: bytes,
    envelope_sender: str | None,
    now: datetime,
    oversize: bool = False,
    claimed_until: datetime | None = None,
) -> int:
    """Keep a raw mail until it is processed; ``claimed_until``: stored already claimed (one attempt) by
    the caller, who processes it at once."""
    values = {
        "source": source,
        "envelope_sender": None if envelope_sender is None else envelope_sender[:MAX_ID_LENGTH],
        "raw": raw,
        "oversize": oversize,
        "received_at": now,
        "attempts": 0 if claimed_until is None else 1,
        "claimed_until": now if claimed_until is None else claimed_until,
    }
    result = await _STORE_INBOUND.execute(conn, values)
    return int(result.scalar())


async def claim_inbound(
    conn: AsyncConnection, now: datetime, lease_until: datetime, *, limit: int = 16
) -> list[InboxItem]:
    """Stored mails not being processed by anyone, oldest first; each gets a lease and one more attempt."""
    query = select(mail_inbox).where(mail_inbox.c.claimed_until <= now).order_by(mail_inbox.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list((await conn.execute(query)).mappings())
    if not rows:
        return []
    await conn.execute(
        update(mail_inbox)
        .where(mail_inbox.c.id.in_([row["id"] for row in rows]))
        .values(attempts=mail_inbox.c.attempts + 1, claimed_until=lease_until)
    )
    return [
        InboxItem(
            id=row["id"],
            source=row["source"],
            envelope_sender=row["envelope_sender"],
            raw=bytes(row["raw"]),
            oversize=bool(row["oversize"]),
            attempts=row["attempts"] + 1,
        )
        for row in rows
    ]


async def finish_inbound(conn: AsyncConnection, inbox_id: int) -> None:
    """Processed (or given up): the raw mail goes."""
    await _FINISH_INBOUND.execute(conn, {"id": inbox_id})


async def retry_inbound(conn: AsyncConnection, inbox_id: int, at: datetime) -> None:
    await conn.execute(update(mail_inbox).where(mail_inbox.c.id == inbox_id).values(claimed_until=at))


async def next_inbound(conn: AsyncConnection) -> datetime | None:
    """When the earliest stored mail can be claimed (None: the inbox is empty)."""
    query = select(mail_inbox.c.claimed_until).order_by(mail_inbox.c.claimed_until).limit(1)
    value = (await conn.execute(query)).scalar()
    return value if isinstance(value, datetime) else None


async def inbox_size(conn: AsyncConnection) -> int:
    return len((await conn.execute(select(mail_inbox.c.id))).all())


# ------------------------------------------------------------------------------------------- cursor


async def get_cursor(conn: AsyncConnection, mailbox: str) -> tuple[int, int] | None:
    """(UIDVALIDITY, last UID handed to the inbox) of a mailbox, or None before the first run."""
    query = select(mail_cursors.c.uid_validity, mail_cursors.c.last_uid).where(
        mail_cursors.c.mailbox == mailbox
    )
    row = (await conn.execute(query)).first()
    return None if row is None else (int(row[0]), int(row[1]))


async def save_cursor(
    conn: AsyncConnection, mailbox: str, uid_validity: int, last_uid: int, now: datetime
) -> None:
    values = {"uid_validity": uid_validity, "last_uid": last_uid, "updated_at": now}
    result = await conn.execute(
        update(mail_cursors).where(mail_cursors.c.mailbox == mailbox).values(**values)
    )
    if result.rowcount == 0:
        await conn.execute(insert(mail_cursors).values(mailbox=mailbox, **values))


# ------------------------------------------------------------------------------------------- limits


async def count_arrival(conn: AsyncConnection, sender: str, now: datetime, window: timedelta) -> int:
    """Count one mail from ``sender`` in the current window (a new one starts after ``window``); returns
    how many arrived in it, this one included."""
    key = sender_hash(sender)
    row = (await _SENDER_WINDOW.execute(conn, {"sender_hash": key})).first()
    if row is None:
        await _NEW_WINDOW.execute(conn, {"sender_hash": key, "window_started_at": now, "window_count": 1})
        return 1
    started, count = row[0], int(row[1])
    if now - started >= window:
        started, count = now, 0
    count += 1
    values = {"b_sender_hash": key, "window_started_at": started, "window_count": count}
    await _COUNT_WINDOW.execute(conn, values)
    return count


async def claim_notice(
    conn: AsyncConnection, sender: str, kind: str, now: datetime, every: timedelta
) -> bool:
    """True (and remembered) when ``sender`` got no ``kind`` notice during the last ``every``."""
    key = sender_hash(sender)
    where = (mail_notices.c.sender_hash == key, mail_notices.c.kind == kind)
    last = (await conn.execute(select(mail_notices.c.sent_at).where(*where))).scalar()
    if last is None:
        await conn.execute(insert(mail_notices).values(sender_hash=key, kind=kind, sent_at=now))
        return True
    if now - last < every:
        return False
    await conn.execute(update(mail_notices).where(*where).values(sent_at=now))
    return True


async def forget_limits(conn: AsyncConnection, before: datetime) -> int:
    """Drop flood windows and notice times older than ``before`` (they no longer limit anything)."""
    windows = await conn.execute(delete(mail_senders).where(mail_senders.c.window_started_at < before))
    notices = await conn.execute(delete(mail_notices).where(mail_notices.c.sent_at < before))
    return windows.rowcount + notices.rowcount
