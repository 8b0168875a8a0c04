"""The Core read path presents every order exactly as `order_dict` does over the ORM."""
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from orderline.errors import OrderNotFound
from orderline.models import Customer, Order, Payment, ReturnRequest, Shipment, ShipmentEvent
from orderline.phones import InvalidPhone
from orderline.present import OrderRows, order_dict, to_json
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


def test_every_order_matches_order_dict(services, demo):
    add_odd_orders(services, demo)
    rows = OrderRows(services.engine, services.clock)
    numbers = all_numbers(services)
    assert len(numbers) == len(demo) + 2
    for number in numbers:
        expected = order_dict(services.orders.get(number), services.clock)
        assert rows.by_number(number) == expected, number
    shapes = {n: rows.by_number(n) for n in ("900001", "900002")}
    assert shapes["900001"]["payment"] is None and shapes["900001"]["shipping_address"] is None
    assert shapes["900001"]["shipment"] is None and shapes["900002"]["shipment"]["events"] == []
    returned = rows.by_number(demo_id(demo, "delivered").split("-")[1])
    assert returned["return_request"]["reason"] == "the open one" and returned["allowed"]["return"] is False


def test_orders_for_a_phone_match_the_orm_newest_first(services, demo):
    add_odd_orders(services, demo)
    rows = OrderRows(services.engine, services.clock)
    phones = {r["customer"]["phone"] for r in demo.values()}
    for phone in phones:
        expected = [order_dict(o, services.clock) for o in services.orders.for_phone(phone)]
        assert rows.for_phone(phone) == expected, phone
    assert [o["order_id"] for o in rows.for_phone("+919000000001", limit=2)] == \
        [o.order_id for o in services.orders.for_phone("+919000000001", limit=2)]
    assert rows.for_phone("+919111111111") == []
    with pytest.raises(InvalidPhone):
        rows.for_phone("not a phone")


def test_unknown_order_is_not_found(services, demo):
    with pytest.raises(OrderNotFound):
        OrderRows(services.engine, services.clock).by_number("999999")


def test_json_body_is_what_jsonify_sends(app, services, demo):
    add_odd_orders(services, demo)
    rows = OrderRows(services.engine, services.clock)
    with app.app_context():
        for number in all_numbers(services):
            value = rows.by_number(number)
            assert to_json(value) == app.json.response(value).get_data()
            assert json.loads(to_json(value)) == value


def test_one_statement_per_lookup(services, demo):
    """One SELECT per lookup, however many events the order has."""
    from sqlalchemy import event

    statements = []
    event.listen(services.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    rows = OrderRows(services.engine, services.clock)
    rto = rows.by_number(demo_id(demo, "rto_initiated").split("-")[1])
    listed = rows.for_phone("+919000000001")
    assert len(rto["shipment"]["events"]) >= 3 and len(listed) >= 3
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
