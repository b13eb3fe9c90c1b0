"""email channel: threads (reply key ↔ sender), sent Message-IDs, raw inbox, IMAP cursor, sender limits

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "mail_threads",
        sa.Column("reply_key", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=True),
        sa.Column("sender_hash", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("first_message_id", sa.String(length=255), nullable=True),
        sa.Column("last_message_id", sa.String(length=255), nullable=True),
        sa.Column("references", _JSON, nullable=True),
        sa.Column("resume_key", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_mail_threads_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("reply_key", name=op.f("pk_mail_threads")),
    )
    op.create_index(
        op.f("ix_mail_threads_conversation_id"), "mail_threads", ["conversation_id"], unique=False
    )
    op.create_index(
        op.f("ix_mail_threads_first_message_id"), "mail_threads", ["first_message_id"], unique=False
    )
    op.create_index(op.f("ix_mail_threads_sender_hash"), "mail_threads", ["sender_hash"], unique=False)
    op.create_table(
        "mail_sent_ids",
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("reply_key", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reply_key"],
            ["mail_threads.reply_key"],
            name=op.f("fk_mail_sent_ids_reply_key_mail_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_mail_sent_ids")),
    )
    op.create_index(op.f("ix_mail_sent_ids_reply_key"), "mail_sent_ids", ["reply_key"], unique=False)
    op.create_table(
        "mail_inbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("envelope_sender", sa.String(length=255), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("oversize", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_inbox")),
    )
    op.create_index(op.f("ix_mail_inbox_claimed_until"), "mail_inbox", ["claimed_until"], unique=False)
    op.create_table(
        "mail_cursors",
        sa.Column("mailbox", sa.String(length=64), nullable=False),
        sa.Column("uid_validity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("mailbox", name=op.f("pk_mail_cursors")),
    )
    op.create_table(
        "mail_senders",
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("window_started_at", sa.DateTime(), nullable=False),
        sa.Column("window_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sender_hash", name=op.f("pk_mail_senders")),
    )
    op.create_table(
        "mail_notices",
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sender_hash", "kind", name=op.f("pk_mail_notices")),
    )


def downgrade() -> None:
    op.drop_table("mail_notices")
    op.drop_table("mail_senders")
    op.drop_table("mail_cursors")
    op.drop_index(op.f("ix_mail_inbox_claimed_until"), table_name="mail_inbox")
    op.drop_table("mail_inbox")
    op.drop_index(op.f("ix_mail_sent_ids_reply_key"), table_name="mail_sent_ids")
    op.drop_table("mail_sent_ids")
    op.drop_index(op.f("ix_mail_threads_sender_hash"), table_name="mail_threads")
    op.drop_index(op.f("ix_mail_threads_first_message_id"), table_name="mail_threads")
    op.drop_index(op.f("ix_mail_threads_conversation_id"), table_name="mail_threads")
    op.drop_table("mail_threads")
