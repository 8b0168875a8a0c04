"""escalation assignee: whose queue a new escalation lands in, and which agents are on shift

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02 13:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

import orderline.models


revision = '0010'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: existing escalations and agents have no assignee and no shift yet.
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_shift_until', orderline.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_escalations_assignee_id', ['assignee_id'], unique=False)
        batch_op.create_foreign_key('fk_escalations_assignee_id_agents', 'agents', ['assignee_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_escalations_assignee_id_agents', type_='foreignkey')
        batch_op.drop_index('ix_escalations_assignee_id')
        batch_op.drop_column('assignee_id')
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('on_shift_until')
