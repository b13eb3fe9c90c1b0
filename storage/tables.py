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
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import Insert
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
    # Who did it when it was not the person: a help-desk staff member's Slack user id (migration 0003).
    Column("actor", String(64), nullable=True),
    Index(None, "conversation_id"),
    Index(None, "event", "at"),
)

# ------------------------------------------------------------------------------------ email channel
# (storage/mail_threads.py speaks to these; migration 0002.)

# One row per email conversation: the reply key (the conversation's address on channel ``email``) bound to
# the sender it was issued to, and what the next bot mail needs to thread.  ``sender``, ``subject`` and the
# message ids are personal: emptied when the conversation is purged.
mail_threads = Table(
    "mail_threads",
    metadata,
    Column("reply_key", String(32), primary_key=True),
    Column("conversation_id", String(32), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("sender", String(255), nullable=True),
    Column("sender_hash", String(64), nullable=True),
    Column("subject", String(255), nullable=True),
    Column("first_message_id", String(255), nullable=True),
    Column("last_message_id", String(255), nullable=True),
    Column("references", Json, nullable=True),
    # An older open conversation of the same sender, offered in this thread's first mail.
    Column("resume_key", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "conversation_id"),
    Index(None, "sender_hash"),
    Index(None, "first_message_id"),
)

# The Message-IDs of the bot's own mails, so a reply without its key is found by In-Reply-To/References.
mail_sent_ids = Table(
    "mail_sent_ids",
    metadata,
    Column("message_id", String(255), primary_key=True),
    Column("reply_key", String(32), ForeignKey("mail_threads.reply_key", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "reply_key"),
)

# Raw inbound mail, stored before the SMTP 250 (or the IMAP \Seen) and deleted once processed.
mail_inbox = Table(
    "mail_inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(8), nullable=False),
    Column("envelope_sender", String(255), nullable=True),
    Column("raw", LargeBinary, nullable=False),
    # Over the size limit: ``raw`` holds the header only (IMAP), enough to answer with one refusal.
    Column("oversize", Boolean, nullable=False, default=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_until", UTCDateTime, nullable=False),
    Index(None, "claimed_until"),
)

# How far the IMAP reader has read a mailbox (``mailbox`` is a hash of user, host, port and folder).
mail_cursors = Table(
    "mail_cursors",
    metadata,
    Column("mailbox", String(64), primary_key=True),
    Column("uid_validity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Per-sender flood window (SHA-256 of the address, never the address).
mail_senders = Table(
    "mail_senders",
    metadata,
    Column("sender_hash", String(64), primary_key=True),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("window_count", Integer, nullable=False),
)

# When a sender last got each kind of notice (foreign key, oversize, flood): at most one a day.
mail_notices = Table(
    "mail_notices",
    metadata,
    Column("sender_hash", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("sent_at", UTCDateTime, nullable=False),
)

# ------------------------------------------------------------------------------------------ help desk
# (storage/helpdesk.py speaks to this; migration 0003.)

# One help-desk thread per conversation (SPEC §6): the Slack channel and the ts of the thread's first
# message.  ``thread_ts`` is NULL while a deliverer is opening it (``reserved_at`` says since when), so two
# processes never open two threads.  Holds no personal value.
helpdesk_threads = Table(
    "helpdesk_threads",
    metadata,
    Column(
        "conversation_id", String(32), ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("channel_id", String(32), nullable=False),
    Column("thread_ts", String(32), nullable=True),
    Column("reserved_at", UTCDateTime, nullable=False),
    Column("opened_at", UTCDateTime, nullable=True),
    Column("escalations", Integer, nullable=False, default=0),
    Column("last_posted_at", UTCDateTime, nullable=True),
    UniqueConstraint("channel_id", "thread_ts"),
)


def insert_unless_present(table: Table, index_elements: list[str]) -> dict[str, Insert]:
    """``INSERT … ON CONFLICT (index_elements) DO NOTHING`` for each dialect, by dialect name (built once
    at import; a statement's caller picks ``conn.dialect.name``)."""
    return {
        "postgresql": postgresql_insert(table).on_conflict_do_nothing(index_elements=index_elements),
        "sqlite": sqlite_insert(table).on_conflict_do_nothing(index_elements=index_elements),
    }
