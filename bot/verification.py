"""The verification link (SPEC §4, 手順書 7–9) on top of storage: look at a link, complete a registration.

``inspect`` (the page's GET) never changes anything, so link scanners that pre-fetch URLs cannot burn a
link.  ``complete`` (the POST) consumes the token with one conditional UPDATE, so of two simultaneous
POSTs exactly one wins; in the same transaction it creates the account, queues the
アカウント登録完了メール and tells the conversation, whose replies reach the person where they started.
A password refused by the rule leaves the link usable.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.outbox import COMPLETION_MAIL
from bot.passwords import Passwords
from bot.turns import TurnHook, TurnWriter
from conversations.engine import step
from conversations.rules.errors import RuleError
from conversations.rules.password import check_password
from conversations.state import load_state
from conversations.types import VerificationCompleted
from mail.compose import completion_mail
from storage import conversations, outbox, registrations
from storage.db import Conflict, Database
from storage.registrations import TokenRecord

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# `secrets.token_urlsafe(32)` gives 43 characters; anything far from that shape is not ours (手順書 ①:
# a link cut by a line break).
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")
_ATTEMPTS = 8


class LinkState(enum.Enum):
    VALID = "valid"
    COMPLETED = "completed"  # 手順書 ②: already used → log in
    EXPIRED = "expired"  # 手順書 ③: older than REGBOT_TOKEN_TTL_HOURS → start again
    SUPERSEDED = "superseded"  # 手順書 ④: a newer mail was sent → use the newest
    CANCELLED = "cancelled"  # the person cancelled or restarted the conversation
    MALFORMED = "malformed"  # 手順書 ①: unknown, cut or altered


@dataclass(frozen=True)
class LinkView:
    state: LinkState
    needs_password: bool  # the conversation came by email: the page asks for the password
    display_name: str  # "<姓> <名>" for the page greeting, "" when state is not VALID


@dataclass(frozen=True)
class CompletionResult:
    state: LinkState  # VALID → completed now; otherwise why the link is dead
    completed: bool
    username: str | None  # the email (shown on the completion page) when completed
    error: RuleError | None  # password rule broken: page re-shown, link still usable


class VerificationPort(Protocol):
    async def inspect(self, token: str) -> LinkView: ...

    async def complete(
        self, token: str, password: str | None, confirmation: str | None
    ) -> CompletionResult: ...


class ServiceBusy(RuntimeError):
    """Too many concurrent changes to one conversation in a row; the caller may try again."""


def link_state(record: TokenRecord, now: datetime, *, registered: bool) -> LinkState:
    if record.used_at is not None or registered:
        return LinkState.COMPLETED
    if record.cancelled_at is not None:
        return LinkState.CANCELLED
    if record.superseded_at is not None:
        return LinkState.SUPERSEDED
    if now >= record.expires_at:
        return LinkState.EXPIRED
    return LinkState.VALID


def _dead(state: LinkState) -> CompletionResult:
    return CompletionResult(state=state, completed=False, username=None, error=None)


class StorageVerification:
    """`VerificationPort` on the database; shares the service's `Database` (and its writer lock)."""

    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        passwords: Passwords,
        *,
        committed: Callable[[], None] = lambda: None,
        hooks: list[TurnHook] | None = None,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._passwords = passwords
        self._writer = TurnWriter(config, passwords, [] if hooks is None else hooks)
        self._committed = committed  # wakes the outbox loop

    async def _look(self, token: str) -> tuple[TokenRecord | None, LinkState]:
        if not _TOKEN_SHAPE.fullmatch(token):
            return None, LinkState.MALFORMED
        async with self._db.read() as conn:
            record = await registrations.find_token(conn, token)
            if record is None:
                return None, LinkState.MALFORMED
            registered = bool(await registrations.registered_among(conn, [record.email]))
        return record, link_state(record, self._clock(), registered=registered)

    async def inspect(self, token: str) -> LinkView:
        record, state = await self._look(token)
        if record is None or state is not LinkState.VALID:
            log.info("verification link inspected: %s", state.value)
            return LinkView(state=state, needs_password=False, display_name="")
        values = record.registration.values
        name = f"{values.get('family_name', '')} {values.get('given_name', '')}".strip()
        return LinkView(
            state=state, needs_password=record.registration.password_hash is None, display_name=name
        )

    async def complete(self, token: str, password: str | None, confirmation: str | None) -> CompletionResult:
        record, state = await self._look(token)
        if record is None or state is not LinkState.VALID:
            log.info("verification link refused: %s", state.value)
            return _dead(state)
        password_hash = record.registration.password_hash
        if password_hash is None:  # SPEC §3.3: the conversation came by email, the page asked for it
            try:
                check_password(password or "", confirmation or "")
            except RuleError as error:
                log.info("verification token %d: password refused (%s)", record.id, error.key)
                return CompletionResult(state=LinkState.VALID, completed=False, username=None, error=error)
            password_hash = await self._passwords.hash(password or "")
        for _ in range(_ATTEMPTS):
            try:
                async with self._db.transaction() as conn:
                    result = await self._complete(conn, token, password_hash)
            except Conflict:
                continue
            if result.completed:
                self._committed()
            return result
        raise ServiceBusy("verification could not be completed; try again")

    async def _complete(self, conn: AsyncConnection, token: str, password_hash: str) -> CompletionResult:
        now = self._clock()
        record = await registrations.find_token(conn, token)
        if record is None:
            return _dead(LinkState.MALFORMED)
        if await registrations.registered_among(conn, [record.email]):
            return _dead(LinkState.COMPLETED)  # another registration of the address won the race
        if not await registrations.consume_token(conn, record.id, now):
            return _dead(link_state(record, now, registered=False))
        registration = record.registration
        await registrations.create_account(
            conn, record.email, password_hash, registration.values, registration.conversation_id, now
        )
        message = completion_mail(
            to=record.email,
            username=record.email,
            portal_url=self._config.portal_url,
            mail_from=self._config.mail_from,
            now=now,
        )
        await outbox.enqueue(
            conn,
            kind=COMPLETION_MAIL,
            recipient=record.email,
            now=now,
            conversation_id=registration.conversation_id,
            body=bytes(message),
        )
        conversation = await conversations.get(conn, registration.conversation_id)
        if conversation is not None:
            before = load_state(conversation.state)
            inbound = VerificationCompleted()
            result = step(before, inbound, now)
            # The account holds the hash now; the conversation's copy is no longer needed.
            await self._writer.write(
                conn,
                conversation,
                before,
                inbound,
                result,
                now,
                activity=False,
                queue_replies=True,
                password_hash=None,
            )
        log.info("verification token %d completed: account created", record.id)
        return CompletionResult(state=LinkState.VALID, completed=True, username=record.email, error=None)
