"""message intents: what the assistant understood in each inbound message

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: older messages, outbound messages and unparsed turns have no intent.
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intent', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('confidence', sa.Double(), nullable=True))  # like escalations.confidence
        # The dashboard buckets messages by day; without it long date ranges scan every message.
        batch_op.create_index('ix_messages_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_created_at')
        batch_op.drop_column('confidence')
        batch_op.drop_column('intent')
