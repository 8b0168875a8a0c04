"""The Core read path presents every order exactly as `order_dict` does over the ORM."""
import pytest

from orderline.errors import OrderNotFound
from orderline.phones import InvalidPhone
from orderline.present import OrderRows, order_dict
from tests.support.odd_orders import add_odd_orders, all_numbers
from tests.support.values import demo_id


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
