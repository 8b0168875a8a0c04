import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from orderline.errors import (AddressChangeNotAllowed, CancelNotAllowed, InvalidInput, NdrNotAllowed,
                              OrderNotFound, RescheduleNotAllowed)
from orderline.models import AuditLog, NdrAction, Order
from orderline.orders import order_digits
from tests.support.values import demo_id

ADDRESS = {"line1": "12 Residency Road", "line2": "Apt 504", "landmark": "Near signal",
           "city": "Bengaluru", "state": "Karnataka", "pincode": "560025"}


@pytest.mark.parametrize("ref", ["OL-100234", "ol100234", "100234", "order no 100234", "#100234"])
def test_order_digits_agree(ref):
    assert order_digits(ref) == "100234"


def test_lookup_by_any_spelling(orders, demo):
    oid = next(iter(demo))
    digits = oid.split("-")[1]
    assert orders.get(digits).order_id == oid
    assert orders.get("ol" + digits).order_id == oid
    with pytest.raises(OrderNotFound):
        orders.get("OL-999999")


def test_orders_for_phone_newest_first(orders, demo):
    mine = orders.for_phone("+91 90000 00001")
    assert len(mine) >= 3
    placed = [o.placed_at for o in mine]
    assert placed == sorted(placed, reverse=True)
    assert {o.customer.phone for o in mine} == {"+919000000001"}


def test_address_change_before_shipping_is_saved_and_audited(orders, demo, services):
    oid = demo_id(demo, "placed")
    order = orders.change_address(oid, ADDRESS, actor="agent:asha")
    assert order.address.city == "Bengaluru" and order.address.pincode == "560025"
    with services.sessions() as s:
        log = s.scalars(select(AuditLog).where(AuditLog.entity_id == oid, AuditLog.action == "address_changed")).one()
    assert log.actor == "agent:asha" and log.changes["to"]["pincode"] == "560025"


def test_address_change_after_shipping_refused_and_unchanged(orders, demo):
    oid = demo_id(demo, "in_transit")
    before = orders.get(oid).address.line1
    with pytest.raises(AddressChangeNotAllowed) as err:
        orders.change_address(oid, ADDRESS)
    assert "shipped" in err.value.reason
    assert orders.get(oid).address.line1 == before


def test_address_validation_names_each_field(orders, demo):
    with pytest.raises(InvalidInput) as err:
        orders.change_address(demo_id(demo, "placed"), {"line1": "", "city": "", "pincode": "012345"})
    assert set(err.value.fields) == {"line1", "city", "pincode"}


def test_reschedule_window(orders, demo):
    oid = demo_id(demo, "out_for_delivery")
    order = orders.reschedule(oid, "2026-11-30", "evening")
    assert order.shipment.rescheduled_for == date(2026, 11, 30) and order.shipment.rescheduled_slot == "evening"
    for bad in ("2026-11-28", "2026-12-06", "30-11-2026", "2026-02-30"):
        with pytest.raises(InvalidInput):
            orders.reschedule(oid, bad)
    with pytest.raises(InvalidInput):
        orders.reschedule(oid, "2026-11-30", "night")


def test_reschedule_refused_for_delivered(orders, demo):
    with pytest.raises(RescheduleNotAllowed):
        orders.reschedule(demo_id(demo, "delivered"), "2026-11-30")


def test_cancel_prepaid_before_shipping_starts_refund(orders, demo):
    oid = demo_id(demo, "packed", method="prepaid", status="paid")
    order = orders.cancel(oid, "changed my mind")
    assert order.status == "cancelled"
    assert order.payment.refund_status == "initiated" and order.payment.refund_amount == order.amount


def test_cancel_after_shipping_refused(orders, demo):
    with pytest.raises(CancelNotAllowed) as err:
        orders.cancel(demo_id(demo, "shipped"))
    assert "refuse" in err.value.reason


def test_ndr_only_for_failed_delivery(orders, demo):
    oid = demo_id(demo, "delivery_failed")
    order = orders.record_ndr(oid, {"action": "reattempt", "date": "2026-11-29", "channel": "whatsapp",
                                    "message_sid": "SM123", "customer_words": "kal aana"})
    assert order.shipment.rescheduled_for == date(2026, 11, 29)
    assert [(a.action, a.message_sid, a.customer_words) for a in order.ndr_actions] == [("reattempt", "SM123", "kal aana")]
    with pytest.raises(NdrNotAllowed):
        orders.record_ndr(demo_id(demo, "in_transit"), {"action": "update_details", "details": "landmark: temple"})


def test_stale_writer_is_detected(services, demo):
    """Optimistic locking: a writer holding an old version cannot overwrite a newer one."""
    oid = demo_id(demo, "placed")
    a, b = services.sessions(), services.sessions()
    try:
        stale = a.scalars(select(Order).where(Order.order_id == oid)).one()
        _ = stale.version
        a.commit()  # release SQLite's lock; the object keeps its old version in memory
        fresh = b.scalars(select(Order).where(Order.order_id == oid)).one()
        fresh.status = "confirmed"
        b.commit()
        stale.status = "cancelled"
        with pytest.raises(StaleDataError):
            a.commit()
    finally:
        a.rollback(); a.close(); b.close()


def test_concurrent_cancels_succeed_exactly_once(orders, demo, services):
    oid = demo_id(demo, "confirmed")
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def cancel():
        barrier.wait()
        try:
            orders.cancel(oid)
            outcomes.append("ok")
        except CancelNotAllowed:
            outcomes.append("refused")

    threads = [threading.Thread(target=cancel) for _ in range(8)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    with services.sessions() as s:
        n = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity_id == oid, AuditLog.action == "cancelled"))
    assert n == 1


def test_concurrent_ndr_records_lose_nothing(orders, demo, services):
    oid = demo_id(demo, "delivery_failed")
    barrier = threading.Barrier(6)
    errors: list[Exception] = []

    def record(i):
        barrier.wait()
        try:
            orders.record_ndr(oid, {"action": "update_details", "details": f"landmark {i}"})
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(i,)) for i in range(6)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert errors == []
    with services.sessions() as s:
        details = set(s.scalars(select(NdrAction.details).join(Order).where(Order.order_id == oid)))
    assert details == {f"landmark {i}" for i in range(6)}
