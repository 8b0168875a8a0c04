"""shipment event order status: what each event means for the order, in our statuses

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Frozen here, as they stood when this ran: later changes to the courier adapters must not
# change what this migration wrote. Labels are compared as UPPER(REPLACE(status, '_', ' ')),
# which is how the dashboard matched them before this column existed, so an import's
# `in_transit` and Shiprocket's `IN TRANSIT` both read as in_transit.
OUR_STATUSES = ('placed', 'confirmed', 'packed', 'shipped', 'in_transit', 'out_for_delivery', 'delivery_failed',
                'delivered', 'rto_initiated', 'rto_delivered', 'cancelled')
SHIPROCKET_LABELS = {
    'NEW': 'confirmed', 'INVOICED': 'confirmed',
    'READY TO SHIP': 'packed', 'AWB ASSIGNED': 'packed', 'LABEL GENERATED': 'packed', 'MANIFEST GENERATED': 'packed',
    'PICKUP SCHEDULED': 'packed', 'PICKUP GENERATED': 'packed', 'PICKUP QUEUED': 'packed', 'OUT FOR PICKUP': 'packed',
    'PICKUP RESCHEDULED': 'packed', 'PICKUP EXCEPTION': 'packed', 'PACKED': 'packed',
    'PICKED UP': 'shipped', 'SHIPPED': 'shipped', 'HANDOVER TO COURIER': 'shipped',
    'IN TRANSIT': 'in_transit', 'IN-TRANSIT': 'in_transit', 'REACHED AT DESTINATION HUB': 'in_transit',
    'REACHED DESTINATION HUB': 'in_transit', 'MISROUTED': 'in_transit', 'DELAYED': 'in_transit',
    'OUT FOR DELIVERY': 'out_for_delivery',
    'UNDELIVERED': 'delivery_failed', 'DELIVERY FAILED': 'delivery_failed', 'FAILED DELIVERY': 'delivery_failed',
    'DELIVERED': 'delivered',
    'RTO INITIATED': 'rto_initiated', 'RTO IN TRANSIT': 'rto_initiated', 'RTO IN INTRANSIT': 'rto_initiated',
    'RTO OFD': 'rto_initiated', 'RTO NDR': 'rto_initiated', 'RTO ACKNOWLEDGED': 'rto_initiated',
    'RTO DELIVERED': 'rto_delivered',
    'CANCELED': 'cancelled', 'CANCELLED': 'cancelled', 'CANCELLED BEFORE DISPATCHED': 'cancelled',
}
# An event Shiprocket sent with a status id and no label was stored under the id.
SHIPROCKET_STATUS_IDS = {
    '6': 'shipped', '7': 'delivered', '8': 'cancelled', '9': 'rto_initiated', '10': 'rto_delivered',
    '14': 'rto_initiated', '17': 'out_for_delivery', '18': 'in_transit', '19': 'packed', '21': 'delivery_failed',
    '38': 'in_transit', '42': 'shipped', '45': 'cancelled', '46': 'rto_initiated',
}


def upgrade() -> None:
    # Nullable: most scans (weighed, bagged, at a hub) mean no order status.
    with op.batch_alter_table('shipment_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_status', sa.String(length=20), nullable=True))
    events = sa.table('shipment_events', sa.column('status', sa.String), sa.column('source', sa.String),
                      sa.column('order_status', sa.String))
    spelled = sa.func.upper(sa.func.replace(events.c.status, '_', ' '))
    meanings = {**{s.upper().replace('_', ' '): s for s in OUR_STATUSES}, **SHIPROCKET_LABELS}
    op.execute(events.update().where(spelled.in_(list(meanings)))
               .values(order_status=sa.case(meanings, value=spelled)))
    op.execute(events.update().where(events.c.source == 'shiprocket', events.c.status.in_(list(SHIPROCKET_STATUS_IDS)))
               .values(order_status=sa.case(SHIPROCKET_STATUS_IDS, value=events.c.status)))


def downgrade() -> None:
    with op.batch_alter_table('shipment_events', schema=None) as batch_op:
        batch_op.drop_column('order_status')
