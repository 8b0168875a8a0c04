"""store orders: the store's own order number, the last store update applied, an agent flag;
a customer may come without a usable phone

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02 13:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        # "#2041": the number the store showed the customer (Shopify's `name`, WooCommerce's `number`).
        batch_op.add_column(sa.Column('store_ref', sa.String(length=40), nullable=True))
        # The store's own update time of the last store event applied: older replays change nothing.
        batch_op.add_column(sa.Column('store_updated_at', sa.DateTime(timezone=True), nullable=True))
        # Why a person must look at this order (e.g. "no usable phone"); NULL when nothing is wrong.
        batch_op.add_column(sa.Column('needs_agent', sa.String(length=100), nullable=True))
    # A store order may arrive without a phone we can message: it is kept, with no phone, and flagged.
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sa.String(length=20), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sa.String(length=20), nullable=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('needs_agent')
        batch_op.drop_column('store_updated_at')
        batch_op.drop_column('store_ref')
