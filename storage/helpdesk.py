"""The help desk's rows (SPEC §6): one Slack thread per conversation, staff actions on the audit trail,
the state of a conversation's newest verification link, and finding a conversation by an address.

Nothing here holds a personal value except what is looked up by: an email given by a staff member is
compared, never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import (
    accounts,
    audit,
    conversations,
    helpdesk_threads,
    mail_threads,
    outbox,
    pending_registrations,
    verification_tokens,
)

OPEN = "open"  # the thread exists: post into it
RESERVED = "reserved"  # this caller may open it now
BUSY = "busy"  # another deliverer is opening it right now: try again later


@dataclass(frozen=True)
class HelpdeskThread:
    conversation_id: str
    channel_id: str
    thread_ts: str | None
    reserved_at: datetime
    opened_at: datetime | None
    escalations: int


@dataclass(frozen=True)
class Reservation:
    status: str  # OPEN, RESERVED or BUSY
    thread: HelpdeskThread | None = None
    stale: bool = False  # RESERVED by taking over an opening that never finished (look for its post)


def _thread(row: Any) -> HelpdeskThread:
    return HelpdeskThread(
        conversation_id=row["conversation_id"],
        channel_id=row["channel_id"],
        thread_ts=row["thread_ts"],
        reserved_at=row["reserved_at"],
        opened_at=row["opened_at"],
        escalations=row["escalations"],
    )


async def thread_of(conn: AsyncConnection, conversation_id: str) -> HelpdeskThread | None:
    query = select(helpdesk_threads).where(helpdesk_threads.c.conversation_id == conversation_id)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else _thread(row)


async def reserve_thread(
    conn: AsyncConnection, conversation_id: str, channel_id: str, now: datetime, stale_before: datetime
) -> Reservation:
    """Claim the right to open the conversation's thread, or say it is open already.

    A concurrent first claim makes the insert (or the commit) raise `storage.db.Conflict`; the caller
    treats that as BUSY.  A reservation older than ``stale_before`` without a thread is taken over.
    """
    existing = await thread_of(conn, conversation_id)
    if existing is None:
        await conn.execute(
            insert(helpdesk_threads).values(
                conversation_id=conversation_id,
                channel_id=channel_id,
                thread_ts=None,
                reserved_at=now,
                escalations=0,
            )
        )
        return Reservation(RESERVED)
    if existing.thread_ts is not None:
        return Reservation(OPEN, existing)
    if existing.reserved_at > stale_before:
        return Reservation(BUSY, existing)
    result = await conn.execute(
        update(helpdesk_threads)
        .where(
            helpdesk_threads.c.conversation_id == conversation_id,
            helpdesk_threads.c.thread_ts.is_(None),
            helpdesk_threads.c.reserved_at == existing.reserved_at,
        )
        .values(reserved_at=now, channel_id=channel_id)
    )
    return (
        Reservation(RESERVED, existing, stale=True) if result.rowcount == 1 else Reservation(BUSY, existing)
    )


async def open_thread(conn: AsyncConnection, conversation_id: str, thread_ts: str, now: datetime) -> None:
    """The reserved thread's first message was posted at ``thread_ts``."""
    await conn.execute(
        update(helpdesk_threads)
        .where(helpdesk_threads.c.conversation_id == conversation_id)
        .values(thread_ts=thread_ts, opened_at=now, last_posted_at=now, escalations=1)
    )


async def release_reservation(conn: AsyncConnection, conversation_id: str) -> None:
    """Opening failed before anything was posted: let the next attempt reserve again at once."""
    await conn.execute(
        helpdesk_threads.delete().where(
            helpdesk_threads.c.conversation_id == conversation_id, helpdesk_threads.c.thread_ts.is_(None)
        )
    )


async def note_posted(
    conn: AsyncConnection, conversation_id: str, now: datetime, *, escalation: bool
) -> None:
    values: dict[str, Any] = {"last_posted_at": now}
    if escalation:
        values["escalations"] = helpdesk_threads.c.escalations + 1
    await conn.execute(
        update(helpdesk_threads).where(helpdesk_threads.c.conversation_id == conversation_id).values(**values)
    )


async def conversation_of_thread(conn: AsyncConnection, channel_id: str, thread_ts: str) -> str | None:
    query = select(helpdesk_threads.c.conversation_id).where(
        helpdesk_threads.c.channel_id == channel_id, helpdesk_threads.c.thread_ts == thread_ts
    )
    value = (await conn.execute(query)).scalar()
    return None if value is None else str(value)


# ------------------------------------------------------------------------------------------ audit


async def record_staff_action(
    conn: AsyncConnection,
    conversation_id: str | None,
    action: str,
    staff_user: str,
    now: datetime,
    *,
    field_id: str | None = None,
) -> None:
    """``staff.<action>`` with the staff member's Slack user id (an id, not a personal value here)."""
    await conn.execute(
        insert(audit).values(
            conversation_id=conversation_id,
            event=f"staff.{action}",
            field_id=field_id,
            at=now,
            actor=staff_user[:64],
        )
    )


async def staff_actions(conn: AsyncConnection, conversation_id: str) -> list[tuple[str, str | None]]:
    """(event, actor) of the staff actions on a conversation, oldest first."""
    query = (
        select(audit.c.event, audit.c.actor)
        .where(audit.c.conversation_id == conversation_id, audit.c.event.like("staff.%"))
        .order_by(audit.c.id)
    )
    return [(str(row.event), row.actor) for row in await conn.execute(query)]


# ------------------------------------------------------------------------------- verification link

NO_LINK = "none"
VALID = "valid"
COMPLETED = "completed"
CANCELLED = "cancelled"
SUPERSEDED = "superseded"
EXPIRED = "expired"


@dataclass(frozen=True)
class LinkStatus:
    """The newest verification link of a conversation, as the help desk needs to explain it."""

    state: str  # NO_LINK, VALID, COMPLETED, CANCELLED, SUPERSEDED, EXPIRED
    links_sent: int = 0
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    mail_status: str | None = None  # the newest verification mail's outbox row: queued/delivered/failed
    account_exists: bool = False  # an account holds the address (registered, maybe by another link)

    @property
    def bounced(self) -> bool:
        return self.mail_status == "failed"


async def link_status(conn: AsyncConnection, conversation_id: str, now: datetime) -> LinkStatus:
    mine = select(pending_registrations.c.id).where(
        pending_registrations.c.conversation_id == conversation_id
    )
    rows = (
        (
            await conn.execute(
                select(verification_tokens)
                .where(verification_tokens.c.pending_registration_id.in_(mine))
                .order_by(verification_tokens.c.id.desc())
            )
        )
        .mappings()
        .all()
    )
    mail = (
        await conn.execute(
            select(outbox.c.status)
            .where(outbox.c.conversation_id == conversation_id, outbox.c.kind == "verification_mail")
            .order_by(outbox.c.id.desc())
            .limit(1)
        )
    ).scalar()
    if not rows:
        return LinkStatus(NO_LINK, mail_status=None if mail is None else str(mail))
    newest = rows[0]
    if newest["used_at"] is not None:
        state = COMPLETED
    elif newest["cancelled_at"] is not None:
        state = CANCELLED
    elif newest["superseded_at"] is not None:
        state = SUPERSEDED
    elif newest["expires_at"] <= now:
        state = EXPIRED
    else:
        state = VALID
    account = (
        await conn.execute(select(accounts.c.id).where(accounts.c.email == newest["email"]).limit(1))
    ).scalar()
    return LinkStatus(
        state=state,
        links_sent=len(rows),
        issued_at=newest["created_at"],
        expires_at=newest["expires_at"],
        mail_status=None if mail is None else str(mail),
        account_exists=account is not None,
    )


# ----------------------------------------------------------------------------------------- lookup


async def conversations_by_email(conn: AsyncConnection, email: str) -> list[str]:
    """Ids of the conversations an address belongs to (state, pending registrations, accounts, the mail
    thread's sender), most recently changed first.  The address is compared only."""
    wanted = email.strip().lower()
    found: set[str] = set()
    sources: Sequence[Any] = (
        select(conversations.c.id).where(conversations.c.state["values"]["email"].as_string() == wanted),
        select(pending_registrations.c.conversation_id).where(pending_registrations.c.email == wanted),
        select(accounts.c.conversation_id).where(accounts.c.email == wanted),
        select(mail_threads.c.conversation_id).where(func.lower(mail_threads.c.sender) == wanted),
    )
    for query in sources:
        found.update(str(value) for value in (await conn.execute(query)).scalars() if value is not None)
    if not found:
        return []
    ordered = select(conversations.c.id).where(conversations.c.id.in_(sorted(found)))
    ordered = ordered.order_by(conversations.c.updated_at.desc())
    return [str(value) for value in (await conn.execute(ordered)).scalars()]


async def conversations_by_id_prefix(conn: AsyncConnection, prefix: str, *, limit: int = 2) -> list[str]:
    """Ids starting with ``prefix`` (staff may type the first characters shown in a thread)."""
    if not prefix or not all(char in "0123456789abcdef" for char in prefix):
        return []
    query = select(conversations.c.id).where(conversations.c.id.like(prefix + "%")).limit(limit)
    return [str(value) for value in (await conn.execute(query)).scalars()]
