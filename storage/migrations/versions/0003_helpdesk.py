"""help desk: one Slack thread per conversation, the staff member on audit rows, audit by event and time

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "helpdesk_threads",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("reserved_at", sa.DateTime(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("last_posted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_helpdesk_threads_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_helpdesk_threads")),
        sa.UniqueConstraint("channel_id", "thread_ts", name=op.f("uq_helpdesk_threads_channel_id_thread_ts")),
    )
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_audit_event_at"), "audit", ["event", "at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_event_at"), table_name="audit")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("actor")
    op.drop_table("helpdesk_threads")
