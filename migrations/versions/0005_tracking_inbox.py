"""tracking inbox: courier events as received, applied later by the worker

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 23:50:00.000000
"""
from alembic import op
import sqlalchemy as sa
import orderline.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tracking_inbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', orderline.models.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('processed_at', orderline.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tracking_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_inbox_pending', ['id'], unique=False,
                              postgresql_where=sa.text('processed_at IS NULL'),
                              sqlite_where=sa.text('processed_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('tracking_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_inbox_pending', postgresql_where=sa.text('processed_at IS NULL'),
                            sqlite_where=sa.text('processed_at IS NULL'))
    op.drop_table('tracking_inbox')
