"""One engine step written down: effects carried out, outbox rows, audit, state — inside the caller's
transaction, so all of it commits together or not at all.

Used by the service (inbound messages, reminders, expiry) and by verification (completion).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.outbox import HELPDESK, REPLY, VERIFICATION_MAIL, encode_reply
from bot.passwords import Passwords
from conversations.state import dump_state
from conversations.turn import awaited_field
from conversations.types import (
    CancelVerification,
    Choice,
    Expire,
    Inbound,
    IssueVerification,
    NotifyHelpdesk,
    Remind,
    ResendVerification,
    Secret,
    SetPassword,
    Start,
    State,
    Step,
    Text,
    VerificationCompleted,
)
from mail.compose import verification_mail
from storage import conversations, outbox, registrations
from storage.conversations import KEEP, Conversation, Keep
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

TurnHook = Callable[[AsyncConnection, Conversation, State, Inbound, Step, datetime], Awaitable[None]]
"""Runs inside a turn's transaction after its state is saved (help desk: escalations, thread copies).
It may write rows with the connection; raising aborts the turn."""

_INBOUND_EVENTS: dict[type[Any], str] = {
    Start: "inbound.start",
    Text: "inbound.text",
    Choice: "inbound.choice",
    Secret: "inbound.secret",
    VerificationCompleted: "inbound.verification_completed",
    Remind: "inbound.remind",
    Expire: "inbound.expire",
}


def new_token() -> str:
    """A verification token: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Prehashed:
    """A password hashed before the transaction (hashing takes tens of milliseconds; the SQLite writer
    lock should not wait for it).  Used only if the step's `SetPassword` carries the same password."""

    password: str
    password_hash: str

    def __repr__(self) -> str:
        return "Prehashed(***)"

    def matches(self, password: str) -> bool:
        return secrets.compare_digest(self.password.encode(), password.encode())


@dataclass(frozen=True)
class Written:
    """What a written turn left for delivery: reply rows claimed for the caller (send them after the
    commit, in order) and whether other rows were queued for the delivery loop."""

    claimed: tuple[OutboxItem, ...]
    other_rows: bool


@dataclass(frozen=True)
class TurnWriter:
    config: Config
    passwords: Passwords
    hooks: list[TurnHook] = field(default_factory=list)  # shared with the service: add_turn_hook

    async def write(
        self,
        conn: AsyncConnection,
        conversation: Conversation,
        before: State,
        inbound: Inbound,
        step: Step,
        now: datetime,
        *,
        activity: bool,
        queue_replies: bool,
        prehashed: Prehashed | None = None,
        password_hash: str | Keep | None = KEEP,
        claim_until: datetime | None = None,
    ) -> Written:
        """Carry out ``step``'s effects and save its state; raises `Conflict` if the version moved on.

        ``queue_replies``: the replies become ``reply`` outbox rows for the conversation's channel
        (every channel but the console's own turns, whose replies are printed directly).
        ``claim_until``: the reply rows are claimed for the caller until then (to be sent right after the
        commit), unless an earlier row of the conversation is still queued: they then wait behind it.
        ``password_hash``: a hash to store on the conversation regardless of the effects (KEEP: as is).
        """
        conn.info[outbox.ENQUEUED] = 0  # effects and hooks may queue rows for the delivery loop
        current_hash = conversation.password_hash if isinstance(password_hash, Keep) else password_hash
        events: list[tuple[str, str | None]] = [
            (_INBOUND_EVENTS.get(type(inbound), "inbound"), before.awaiting)
        ]
        for effect in step.effects:
            if isinstance(effect, SetPassword):
                if prehashed is not None and prehashed.matches(effect.password):
                    current_hash = prehashed.password_hash
                else:
                    current_hash = await self.passwords.hash(effect.password)
                password_hash = current_hash
                events.append(("password.set", "password"))
        for effect in step.effects:
            match effect:
                case IssueVerification(email=email):
                    pending = await registrations.create_pending(
                        conn, conversation.id, email, dict(step.state.values), current_hash, now
                    )
                    await self._send_link(conn, conversation, pending, now)
                    events.append(("verification.issued", "email"))
                case ResendVerification(email=email):
                    latest = await registrations.latest_pending(conn, conversation.id, email)
                    if latest is not None:
                        pending = latest
                    else:  # e.g. an edited address: a fresh pending registration
                        pending = await registrations.create_pending(
                            conn, conversation.id, email, dict(step.state.values), current_hash, now
                        )
                    await self._send_link(conn, conversation, pending, now)
                    events.append(("verification.resent", "email"))
                case CancelVerification(email=email):
                    cancelled = await registrations.cancel_tokens(conn, conversation.id, email, now)
                    events.append(("verification.cancelled", None))
                    log.info("conversation %s: %d verification link(s) cancelled", conversation.id, cancelled)
                case NotifyHelpdesk(reason=reason, field_id=field_id, error_key=error_key):
                    await enqueue_escalation(
                        conn,
                        conversation,
                        reason,
                        field_id,
                        error_key,
                        now,
                        recipient=self.config.helpdesk_channel or "helpdesk",
                    )
                    events.append((f"helpdesk.{reason}", field_id))
        claimed: list[OutboxItem] = []
        if queue_replies:
            claimed = await enqueue_replies(conn, conversation, step, now, claim_until=claim_until)
        events.extend(_state_events(before, step.state))
        await conversations.save(
            conn, conversation, dump_state(step.state), now, password_hash=password_hash, activity=activity
        )
        await conversations.record_audit(conn, conversation.id, events, now)
        for hook in self.hooks:
            await hook(conn, conversation, before, inbound, step, now)
        return Written(claimed=tuple(claimed), other_rows=conn.info[outbox.ENQUEUED] > len(claimed))

    async def _send_link(
        self,
        conn: AsyncConnection,
        conversation: Conversation,
        pending: registrations.PendingRegistration,
        now: datetime,
    ) -> None:
        """A new token (older ones for the address die) and the メールアドレス登録確認メール in the outbox."""
        token = new_token()
        expires_at = now + timedelta(hours=self.config.token_ttl_hours)
        await registrations.issue_token(conn, pending.id, pending.email, token, now, expires_at)
        message = verification_mail(
            to=pending.email,
            family_name=pending.values.get("family_name", ""),
            given_name=pending.values.get("given_name", ""),
            link=self.config.link(f"verify/{token}"),
            ttl_hours=self.config.token_ttl_hours,
            mail_from=self.config.mail_from,
            now=now,
        )
        await outbox.enqueue(
            conn,
            kind=VERIFICATION_MAIL,
            recipient=pending.email,
            now=now,
            conversation_id=conversation.id,
            body=bytes(message),
        )


async def enqueue_escalation(
    conn: AsyncConnection,
    conversation: Conversation,
    reason: str,
    field_id: str | None,
    error_key: str | None,
    now: datetime,
    *,
    recipient: str,
) -> None:
    """The `helpdesk` outbox row that asks for a person (SPEC §6): ids and field ids only."""
    await outbox.enqueue(
        conn,
        kind=HELPDESK,
        recipient=recipient,
        now=now,
        conversation_id=conversation.id,
        payload={
            "conversation_id": conversation.id,
            "channel": conversation.channel,
            "address": conversation.address,
            "reason": reason,
            "field_id": field_id,
            "error_key": error_key,
        },
    )


async def enqueue_replies(
    conn: AsyncConnection,
    conversation: Conversation,
    step: Step,
    now: datetime,
    *,
    claim_until: datetime | None = None,
) -> list[OutboxItem]:
    """The step's replies as ``reply`` rows; returns the ones claimed (see `TurnWriter.write`)."""
    if not step.replies:
        return []
    if claim_until is not None and await outbox.has_queued(conn, conversation.id, conversation.address):
        claim_until = None  # an earlier row goes first: the delivery loop keeps the order
    claimed: list[OutboxItem] = []
    for reply in step.replies:
        payload = {
            "channel": conversation.channel,
            "address": conversation.address,
            "lang": step.state.lang,
            "reply": encode_reply(reply),
        }
        outbox_id = await outbox.enqueue(
            conn,
            kind=REPLY,
            channel=conversation.channel,
            recipient=conversation.address,
            now=now,
            conversation_id=conversation.id,
            payload=payload,
            claimed_until=claim_until,
        )
        if claim_until is not None:
            claimed.append(
                OutboxItem(
                    id=outbox_id,
                    conversation_id=conversation.id,
                    kind=REPLY,
                    channel=conversation.channel,
                    recipient=conversation.address,
                    payload=payload,
                    body=None,
                    attempts=1,
                )
            )
    return claimed


def _state_events(before: State, after: State) -> Iterable[tuple[str, str | None]]:
    """What changed, by field id only (never the values).  Leaving for ``expired`` / ``cancelled`` names
    the field the person was at (``verification`` once the link was mailed): the funnel's drop-off point."""
    if after.phase != before.phase:
        where = None
        if after.phase in ("expired", "cancelled"):
            where = awaited_field(before) or ("verification" if before.phase == "verifying" else None)
        yield (f"phase.{after.phase}", where)
    for field_id in sorted(set(before.values) | set(after.values)):
        old, new = before.values.get(field_id), after.values.get(field_id)
        if old == new:
            continue
        yield ("field.cleared" if new is None else "field.set", field_id)
