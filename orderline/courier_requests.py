"""Recording what the courier must be told, in the same transaction as the order change.

The domain operations (`orderline.orders`) call `request_change`; whoever asked (the
assistant, an agent, the API) gets the courier request for free. `orderline.courier_outbox`
sends the rows through a `Courier` port; this module only writes them.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orderline.models import CourierRequest, Order
from orderline.uow import CourierRequestQueued, record

# reattempt and return answer a failed delivery; cancel and address come before pickup.
KINDS = ("reattempt", "return", "cancel", "address")
STATES = ("requested", "sending", "accepted", "refused", "failed", "not_sent")
OPEN_STATES = ("requested", "sending")


def request_change(session: Session, order: Order, kind: str, payload: dict[str, Any], actor: str,
                   now: datetime) -> CourierRequest:
    """Add a courier request for `order` to the session's transaction (flushed, so it has an id)."""
    if kind not in KINDS:
        raise ValueError(kind)
    ship = order.shipment
    row = CourierRequest(order=order, kind=kind, status="requested", payload=payload,
                         courier=(ship.courier if ship else None), awb=(ship.awb if ship else None),
                         actor=(actor or "unknown")[:100], attempts=0, uncertain=False, created_at=now)
    session.add(row)
    session.flush()
    record(session, CourierRequestQueued(row.id))
    return row
