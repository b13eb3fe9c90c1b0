"""The schema, as SQLAlchemy Core tables.  The Alembic migrations in storage/migrations create exactly this
(tests/storage/test_migrations.py compares the two).

Personal values live only in ``conversations.state``, ``pending_registrations``, ``accounts`` and, until
delivered, ``outbox``; the retention job (bot/jobs.py) empties them.  ``audit`` never holds a value.
Verification tokens are kept as their SHA-256 only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (the same on SQLite and PostgreSQL)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to storage: pass timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(255), nullable=False),
    Column("state", Json, nullable=False),
    # Mirrors of the state's phase / reminded flag, so the scheduled jobs can select without JSON.
    Column("phase", String(16), nullable=False),
    Column("reminded", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False),
    # Argon2id hash of the password given in the conversation; never part of the JSON state.
    Column("password_hash", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_activity_at", UTCDateTime, nullable=False),
    Column("purged_at", UTCDateTime, nullable=True),
    UniqueConstraint("channel", "address"),
    Index(None, "phase", "last_activity_at"),
)

processed_messages = Table(
    "processed_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("conversation_id", String(32), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("processed_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "message_id"),
    Index(None, "processed_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", String(32), ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True),
    Column("kind", String(32), nullable=False),
    # For ``reply`` rows: the conversation's channel; ``recipient`` is then its address.
    Column("channel", String(16), nullable=True),
    Column("recipient", String(255), nullable=False),
    Column("payload", Json, nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", String(200), nullable=True),
    Column("location", String(1000), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index(None, "status", "next_attempt_at"),
    Index(None, "channel", "recipient", "status"),
    Index(None, "conversation_id"),
)

pending_registrations = Table(
    "pending_registrations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", String(32), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(255), nullable=False),
    Column("values", Json, nullable=False),
    Column("password_hash", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "conversation_id"),
    Index(None, "email"),
)

verification_tokens = Table(
    "verification_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False),
    Column(
        "pending_registration_id",
        Id,
        ForeignKey("pending_registrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("email", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("superseded_at", UTCDateTime, nullable=True),
    Column("cancelled_at", UTCDateTime, nullable=True),
    UniqueConstraint("token_hash"),
    Index(None, "email"),
    Index(None, "pending_registration_id"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(255), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("values", Json, nullable=False),
    Column("conversation_id", String(32), ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("email"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", String(32), nullable=True),
    Column("event", String(64), nullable=False),
    Column("field_id", String(64), nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "conversation_id"),
)
