"""Order shapes the demo lacks, for tests that compare the fast SQL reads with the ORM."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select

from orderline.models import Customer, Order, Payment, ReturnRequest, Shipment, ShipmentEvent
from tests.support.values import demo_id


def add_odd_orders(services, demo):
    """Shapes the demo lacks: no payment, address or shipment; several returns; a late-filed scan."""
    with services.sessions.begin() as session:
        customer = session.scalars(select(Customer).where(Customer.phone == "+919000000001")).one()
        session.add(Order(order_id="OL-900001", number="900001", customer=customer, placed_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                          items=[], amount=Decimal("0.50"), status="placed"))
        bare_ship = Order(order_id="OL-900002", number="900002", customer=customer, placed_at=datetime(2026, 11, 2, tzinfo=timezone.utc),
                          items=[{"sku": "X", "name": "Ünïcode ✓", "qty": 1, "unit_price": 1.0}], amount=Decimal("1.00"),
                          status="in_transit", payment=Payment(method="prepaid", status="refunded", refund_status="processed"))
        bare_ship.shipment = Shipment(attempts=0)
        session.add(bare_ship)
        delivered = session.scalars(select(Order).where(Order.order_id == demo_id(demo, "delivered"))).one()
        delivered.return_requests.extend([
            ReturnRequest(kind="return", reason="first, already closed", status="rejected"),
            ReturnRequest(kind="exchange", reason="the open one", status="requested"),
            ReturnRequest(kind="return", reason="a later open one", status="requested"),
        ])
        # Filed last but happened first: the timeline is ordered by time, not by insertion.
        late = session.scalars(select(Order).where(Order.order_id == demo_id(demo, "in_transit"))).one()
        first_at = late.shipment.events[0].at
        late.shipment.events.append(ShipmentEvent(at=first_at.replace(year=2025), status="manifested", location="Seller"))
        late.shipment.rescheduled_for = services.clock.today()


def all_numbers(services):
    with services.sessions() as session:
        return list(session.scalars(select(Order.number).order_by(Order.id)))
