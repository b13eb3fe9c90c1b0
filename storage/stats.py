"""The funnel's raw counts (issue 7 §4): conversations started, and the audit events that end, redirect
or escalate them, per channel, in a period.  Ids, channels, event names and field ids only — no value.

A conversation's outcome is counted in the period its event happened in (a conversation started on
Monday and completed on Tuesday is started in Monday's figures and completed in Tuesday's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from storage.tables import audit, conversations

COMPLETED = "phase.completed"
EXPIRED = "phase.expired"
CANCELLED = "phase.cancelled"
REDIRECTED = "phase.redirected"
ESCALATIONS = ("helpdesk.asked", "helpdesk.failures", "helpdesk.idle")
FUNNEL_EVENTS = (COMPLETED, EXPIRED, CANCELLED, REDIRECTED, *ESCALATIONS)


@dataclass(frozen=True)
class FunnelEvent:
    channel: str
    event: str
    field_id: str | None  # for expiry and cancellation: the field the conversation was at
    conversation_id: str
    at: datetime
    started_at: datetime


async def started(conn: AsyncConnection, since: datetime, until: datetime) -> dict[str, int]:
    """Conversations created in [since, until), by channel."""
    query = (
        select(conversations.c.channel, func.count())
        .where(conversations.c.created_at >= since, conversations.c.created_at < until)
        .group_by(conversations.c.channel)
    )
    return {str(row[0]): int(row[1]) for row in await conn.execute(query)}


async def funnel_events(conn: AsyncConnection, since: datetime, until: datetime) -> list[FunnelEvent]:
    """The funnel's events in [since, until), oldest first.

    An expiry or cancellation recorded without a field id (older rows) takes the field of the turn's own
    inbound event, which the service records with the field that was awaited just before.
    """
    earlier = aliased(audit)
    awaited_before = (
        select(earlier.c.field_id)
        .where(
            earlier.c.conversation_id == audit.c.conversation_id,
            earlier.c.id < audit.c.id,
            earlier.c.event.like("inbound%"),
        )
        .order_by(earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            conversations.c.channel,
            audit.c.event,
            audit.c.field_id,
            awaited_before.label("awaited_before"),
            audit.c.conversation_id,
            audit.c.at,
            conversations.c.created_at,
        )
        .join(conversations, conversations.c.id == audit.c.conversation_id)
        .where(audit.c.event.in_(FUNNEL_EVENTS), audit.c.at >= since, audit.c.at < until)
        .order_by(audit.c.id)
    )
    events: list[FunnelEvent] = []
    for row in await conn.execute(query):
        field_id = row.field_id
        if field_id is None and row.event in (EXPIRED, CANCELLED):
            field_id = row.awaited_before
        events.append(
            FunnelEvent(
                channel=str(row.channel),
                event=str(row.event),
                field_id=None if field_id is None else str(field_id),
                conversation_id=str(row.conversation_id),
                at=row.at,
                started_at=row.created_at,
            )
        )
    return events
