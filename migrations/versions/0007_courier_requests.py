"""courier requests: the outbox of changes the courier must hear about (reattempts, cancels, addresses)

Revision ID: 0007
Revises: 0010 (main's head when this branch merged it; the lead may re-chain)
Create Date: 2026-12-02 13:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

from orderline.models import UTCDateTime

revision = '0007'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'courier_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_pk', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('courier', sa.String(length=100), nullable=True),
        sa.Column('awb', sa.String(length=50), nullable=True),
        sa.Column('external_order_id', sa.String(length=40), nullable=True),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('uncertain', sa.Boolean(), nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(), nullable=True),
        sa.Column('claimed_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('settled_at', UTCDateTime(), nullable=True),
        sa.Column('followed_up_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['order_pk'], ['orders.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_courier_requests_order_pk', 'courier_requests', ['order_pk'])
    op.create_index('ix_courier_requests_status', 'courier_requests', ['status'])


def downgrade() -> None:
    op.drop_index('ix_courier_requests_status', table_name='courier_requests')
    op.drop_index('ix_courier_requests_order_pk', table_name='courier_requests')
    op.drop_table('courier_requests')
