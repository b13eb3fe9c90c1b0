"""Pending registrations, verification tokens (SHA-256 only) and accounts.

A token's raw value exists only in the mail that carries it: this module takes raw tokens and stores and
looks up nothing but their digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import accounts, pending_registrations, verification_tokens


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PendingRegistration:
    id: int
    conversation_id: str
    email: str
    values: dict[str, str]
    password_hash: str | None

    def __repr__(self) -> str:
        return f"PendingRegistration(id={self.id}, conversation_id={self.conversation_id!r})"


@dataclass(frozen=True)
class TokenRecord:
    """A token row with its pending registration."""

    id: int
    email: str
    expires_at: datetime
    used_at: datetime | None
    superseded_at: datetime | None
    cancelled_at: datetime | None
    registration: PendingRegistration

    def __repr__(self) -> str:
        return f"TokenRecord(id={self.id}, registration={self.registration.id})"


async def create_pending(
    conn: AsyncConnection,
    conversation_id: str,
    email: str,
    values: dict[str, str],
    password_hash: str | None,
    now: datetime,
) -> PendingRegistration:
    result = await conn.execute(
        insert(pending_registrations)
        .values(
            conversation_id=conversation_id,
            email=email,
            values=values,
            password_hash=password_hash,
            created_at=now,
        )
        .returning(pending_registrations.c.id)
    )
    return PendingRegistration(
        id=int(result.scalar_one()),
        conversation_id=conversation_id,
        email=email,
        values=values,
        password_hash=password_hash,
    )


async def latest_pending(
    conn: AsyncConnection, conversation_id: str, email: str
) -> PendingRegistration | None:
    query = (
        select(pending_registrations)
        .where(
            pending_registrations.c.conversation_id == conversation_id,
            pending_registrations.c.email == email,
        )
        .order_by(pending_registrations.c.id.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        return None
    return PendingRegistration(
        id=row["id"],
        conversation_id=row["conversation_id"],
        email=row["email"],
        values=dict(row["values"]),
        password_hash=row["password_hash"],
    )


def _live() -> Any:
    return (
        verification_tokens.c.used_at.is_(None),
        verification_tokens.c.superseded_at.is_(None),
        verification_tokens.c.cancelled_at.is_(None),
    )


async def issue_token(
    conn: AsyncConnection, registration_id: int, email: str, token: str, now: datetime, expires_at: datetime
) -> int:
    """Store a new token's digest; every older live token for the same email is superseded (手順書 ④)."""
    await conn.execute(
        update(verification_tokens)
        .where(verification_tokens.c.email == email, *_live())
        .values(superseded_at=now)
    )
    result = await conn.execute(
        insert(verification_tokens)
        .values(
            token_hash=token_digest(token),
            pending_registration_id=registration_id,
            email=email,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(verification_tokens.c.id)
    )
    return int(result.scalar_one())


async def cancel_tokens(conn: AsyncConnection, conversation_id: str, email: str, now: datetime) -> int:
    """Kill the live tokens this conversation was sent for ``email``."""
    mine = select(pending_registrations.c.id).where(
        pending_registrations.c.conversation_id == conversation_id
    )
    result = await conn.execute(
        update(verification_tokens)
        .where(
            verification_tokens.c.email == email,
            verification_tokens.c.pending_registration_id.in_(mine),
            *_live(),
        )
        .values(cancelled_at=now)
    )
    return result.rowcount


async def find_token(conn: AsyncConnection, token: str) -> TokenRecord | None:
    query = (
        select(
            verification_tokens,
            pending_registrations.c.conversation_id,
            pending_registrations.c["values"],
            pending_registrations.c.password_hash,
        )
        .join(pending_registrations)
        .where(verification_tokens.c.token_hash == token_digest(token))
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        return None
    return TokenRecord(
        id=row["id"],
        email=row["email"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
        superseded_at=row["superseded_at"],
        cancelled_at=row["cancelled_at"],
        registration=PendingRegistration(
            id=row["pending_registration_id"],
            conversation_id=row["conversation_id"],
            email=row["email"],
            values=dict(row["values"]),
            password_hash=row["password_hash"],
        ),
    )


async def consume_token(conn: AsyncConnection, token_id: int, now: datetime) -> bool:
    """Mark a token used if it is still live and unexpired, in one statement: True when this call won."""
    result = await conn.execute(
        update(verification_tokens)
        .where(verification_tokens.c.id == token_id, verification_tokens.c.expires_at > now, *_live())
        .values(used_at=now)
    )
    return result.rowcount == 1


async def purge_pending(conn: AsyncConnection, conversation_id: str) -> int:
    """Delete a conversation's pending registrations (their tokens go with them)."""
    mine = select(pending_registrations.c.id).where(
        pending_registrations.c.conversation_id == conversation_id
    )
    await conn.execute(
        delete(verification_tokens).where(verification_tokens.c.pending_registration_id.in_(mine))
    )
    result = await conn.execute(
        delete(pending_registrations).where(pending_registrations.c.conversation_id == conversation_id)
    )
    return result.rowcount


# --------------------------------------------------------------------------------------- accounts


async def registered_among(conn: AsyncConnection, emails: Iterable[str]) -> frozenset[str]:
    """Which of ``emails`` already belong to an account."""
    wanted = sorted(set(emails))
    if not wanted:
        return frozenset()
    query = select(accounts.c.email).where(accounts.c.email.in_(wanted))
    return frozenset((await conn.execute(query)).scalars())


async def create_account(
    conn: AsyncConnection,
    email: str,
    password_hash: str,
    values: dict[str, str],
    conversation_id: str | None,
    now: datetime,
) -> int:
    """A new active account (username = email).  A concurrent twin makes the commit raise `Conflict`."""
    result = await conn.execute(
        insert(accounts)
        .values(
            email=email,
            password_hash=password_hash,
            values=values,
            conversation_id=conversation_id,
            created_at=now,
        )
        .returning(accounts.c.id)
    )
    return int(result.scalar_one())
