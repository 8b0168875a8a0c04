"""notification keys: one notification per piece of news (a scan, a new date, a silence), not per event type

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:00:00.000000
"""
from datetime import timezone

from alembic import op
import sqlalchemy as sa
import orderline.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Frozen here, as the code wrote them when this ran (orderline/tracking.py: scan_key).
# A courier-made notification was written with the time of its scan as created_at.
STATUS_EVENTS = ('confirmed', 'shipped', 'out_for_delivery', 'delivery_failed', 'rto_initiated', 'delivered')


def scan_key(awb, label, at):
    return f"scan:{awb}:{label}:{at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"[:120]


notes = sa.table('notifications', sa.column('id', sa.Integer), sa.column('order_pk', sa.Integer),
                 sa.column('event', sa.String), sa.column('key', sa.String), sa.column('variables', sa.JSON),
                 sa.column('created_at', orderline.models.UTCDateTime(timezone=True)))
ships = sa.table('shipments', sa.column('id', sa.Integer), sa.column('order_pk', sa.Integer),
                 sa.column('awb', sa.String), sa.column('expected_date', sa.Date))
events = sa.table('shipment_events', sa.column('shipment_id', sa.Integer), sa.column('status', sa.String),
                  sa.column('order_status', sa.String), sa.column('at', orderline.models.UTCDateTime(timezone=True)))


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key', sa.String(length=120), server_default='', nullable=False))
    conn = op.get_bind()
    keys = [{'b_id': note_id, 'key': key} for note_id, key in _keys(conn) if key]
    if keys:
        conn.execute(notes.update().where(notes.c.id == sa.bindparam('b_id')).values(key=sa.bindparam('key')), keys)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('uq_notification_order_event', type_='unique')
        batch_op.create_unique_constraint('uq_notification_order_event_key', ['order_pk', 'event', 'key'])


def _keys(conn):
    """Each existing row's key, as the new code would have written it: the scan that caused it,
    the date a delay announced; "" where neither can be found (an import's news)."""
    shipments = {row.order_pk: row for row in conn.execute(sa.select(ships))}
    timeline = {}
    for row in conn.execute(sa.select(events).where(events.c.order_status.in_(STATUS_EVENTS)).order_by(events.c.at)):
        timeline.setdefault((row.shipment_id, row.order_status), []).append(row)
    for note in conn.execute(sa.select(notes)):
        ship = shipments.get(note.order_pk)
        if ship is None:
            yield note.id, ''
        elif note.event == 'delayed':
            expected = (note.variables or {}).get('expected_date') or (ship.expected_date and ship.expected_date.isoformat())
            yield note.id, f"eta:{expected}" if expected else ''
        else:
            scans = [e for e in timeline.get((ship.id, note.event), []) if e.at <= note.created_at]
            same = [e for e in scans if e.at == note.created_at]
            cause = (same or scans or [None])[-1]
            yield note.id, scan_key(ship.awb or '', cause.status, cause.at) if cause is not None else ''


def downgrade() -> None:
    # Keeps the first notification of each type per order: the old rule allowed no more.
    conn = op.get_bind()
    first = sa.select(sa.func.min(notes.c.id)).group_by(notes.c.order_pk, notes.c.event)
    later = [row.id for row in conn.execute(sa.select(notes.c.id).where(notes.c.id.not_in(first)))]
    if later:
        conn.execute(notes.delete().where(notes.c.id.in_(later)))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('uq_notification_order_event_key', type_='unique')
        batch_op.create_unique_constraint('uq_notification_order_event', ['order_pk', 'event'])
        batch_op.drop_column('key')
