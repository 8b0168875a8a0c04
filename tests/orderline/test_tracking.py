"""Applying tracking updates: the core's own types, whichever courier sent them."""
from datetime import date, datetime

from sqlalchemy import select

from orderline.models import AuditLog, Notification, Order, OrderStatus as S
from orderline.orders import in_transaction
from orderline.tracking import Scan, TrackingUpdate, apply_tracking, apply_updates, may_move
from orderline.uow import NotificationQueued, events
from tests.support.values import IST, demo_id

SOURCE = "acme"  # no real courier: the core takes the source from the update


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=IST)


def update(awb, status, when, label=None, scans=(), etd=None, order_ref=None):
    """An update as a courier adapter hands it over; `label` is the courier's words (opaque)."""
    return TrackingUpdate(source=SOURCE, awb=awb, courier="Delhivery Surface",
                          label=label or (status.value.upper() if status else "WEIGHED"), status=status, at=when,
                          order_ref=order_ref, etd=etd, scans=tuple(scans))


def scan(when, activity, status, label=None):
    return Scan(when, label or status.value.upper(), activity, "Indore_Hub", status)


def test_no_regression_from_terminal_states():
    assert not may_move(S.DELIVERED, S.SHIPPED)
    assert not may_move(S.CANCELLED, S.IN_TRANSIT)
    assert may_move(S.RTO_INITIATED, S.RTO_DELIVERED)
    assert may_move(S.DELIVERY_FAILED, S.OUT_FOR_DELIVERY)  # a reattempt
    assert not may_move(S.IN_TRANSIT, S.PACKED)
    assert not may_move(S.SHIPPED, S.CANCELLED)


def _awb(demo, oid):
    return demo[oid]["shipment"]["awb"]


def _events(services, oid):
    with services.sessions() as s:
        order = s.scalars(select(Order).where(Order.order_id == oid)).one()
        return [(e.status, e.order_status, e.source, e.note) for e in order.shipment.events if e.source == SOURCE]


def test_apply_out_for_delivery_then_duplicate(services, demo, orders):
    oid = demo_id(demo, "in_transit")
    upd = update(_awb(demo, oid), S.OUT_FOR_DELIVERY, at(28, 9))
    first = apply_tracking(services.sessions, upd)
    assert (first.outcome, first.old_status, first.new_status) == ("applied", "in_transit", "out_for_delivery")
    events_before = len(orders.get(oid).shipment.events)
    second = apply_tracking(services.sessions, upd)
    assert second.outcome == "duplicate"
    assert len(orders.get(oid).shipment.events) == events_before


def test_events_keep_the_couriers_words_and_our_status(services, demo):
    """The timeline shows the courier's label; `order_status` says what it meant, for the dashboard."""
    oid = demo_id(demo, "in_transit")
    apply_tracking(services.sessions, update(_awb(demo, oid), S.DELIVERY_FAILED, at(28, 15), label="NOT HOME",
                                             scans=[scan(at(28, 14), "Bagged", None, label="BAGGED")]))
    assert _events(services, oid) == [("BAGGED", None, SOURCE, "Bagged"), ("NOT HOME", "delivery_failed", SOURCE, "")]
    with services.sessions() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.entity_id == oid, AuditLog.action == "tracking_update")).one()
    assert audit.actor == SOURCE and audit.changes["label"] == "NOT HOME"


def test_an_update_meaning_no_status_is_recorded_only(services, demo, orders):
    oid = demo_id(demo, "in_transit")
    res = apply_tracking(services.sessions, update(_awb(demo, oid), None, at(28, 9)))
    assert (res.outcome, res.new_status) == ("recorded", "in_transit")
    assert orders.get(oid).status == "in_transit" and _events(services, oid) == [("WEIGHED", None, SOURCE, "")]


def test_undelivered_records_attempt_and_reason(services, demo, orders):
    oid = demo_id(demo, "out_for_delivery")
    attempts = orders.get(oid).shipment.attempts
    upd = update(_awb(demo, oid), S.DELIVERY_FAILED, at(28, 18), label="UNDELIVERED",
                 scans=[scan(at(28, 17, 55), "Consignee unavailable - door locked", S.DELIVERY_FAILED, "UNDELIVERED")])
    apply_tracking(services.sessions, upd)
    order = orders.get(oid)
    assert order.status == "delivery_failed"
    assert order.shipment.attempts == attempts + 1
    assert order.shipment.ndr_reason == "Consignee unavailable - door locked"


def test_late_shipped_after_delivered_changes_nothing(services, demo, orders):
    oid = demo_id(demo, "out_for_delivery")
    awb = _awb(demo, oid)
    apply_tracking(services.sessions, update(awb, S.DELIVERED, at(28, 12)))
    res = apply_tracking(services.sessions, update(awb, S.SHIPPED, at(25, 12), label="PICKED UP"))
    assert res.new_status == "delivered" and res.outcome in ("recorded", "duplicate")
    assert orders.get(oid).status == "delivered"
    assert orders.get(oid).shipment.delivered_at is not None


def test_older_event_never_overrides_newer(services, demo, orders):
    oid = demo_id(demo, "in_transit")
    awb = _awb(demo, oid)
    apply_tracking(services.sessions, update(awb, S.DELIVERY_FAILED, at(28, 15)))
    apply_tracking(services.sessions, update(awb, S.OUT_FOR_DELIVERY, at(28, 9)))
    assert orders.get(oid).status == "delivery_failed"


def test_etd_moves_expected_date(services, demo, orders):
    oid = demo_id(demo, "in_transit")
    apply_tracking(services.sessions, update(_awb(demo, oid), S.IN_TRANSIT, at(28, 8), etd=date(2026, 12, 3)))
    assert orders.get(oid).shipment.expected_date.isoformat() == "2026-12-03"


def test_unknown_awb_is_ignored(services, demo):
    res = apply_tracking(services.sessions, update("NOPE123", S.DELIVERED, at(28, 12)))
    assert res.outcome == "unknown_shipment" and res.order_id is None


def test_first_event_by_order_ref_attaches_awb(services, demo, orders):
    oid = demo_id(demo, "confirmed")
    res = apply_tracking(services.sessions, update("AWB-NEW-1", S.SHIPPED, at(28, 10), order_ref=oid))
    assert res.new_status == "shipped"
    assert orders.get(oid).shipment.awb == "AWB-NEW-1"


# -- batches (the worker drains the inbox this way) ---------------------------------

SEQUENCE = [  # a bumpy delivery, with a duplicate and a late, stale scan
    (S.OUT_FOR_DELIVERY, at(28, 9), [scan(at(28, 9), "Out for delivery", S.OUT_FOR_DELIVERY)]),
    (S.DELIVERY_FAILED, at(28, 15), [scan(at(28, 14, 55), "Door locked", S.DELIVERY_FAILED)]),
    (S.DELIVERY_FAILED, at(28, 15), [scan(at(28, 14, 55), "Door locked", S.DELIVERY_FAILED)]),
    (S.SHIPPED, at(25, 10), []),
    (S.OUT_FOR_DELIVERY, at(29, 9), []),
    (S.DELIVERED, at(29, 12, 30), []),
]


def _state(services, oid):
    with services.sessions() as s:
        order = s.scalars(select(Order).where(Order.order_id == oid)).one()
        notes = sorted(n.event for n in s.scalars(select(Notification).where(Notification.order_pk == order.id)))
        ship = order.shipment
        return {"status": order.status, "attempts": ship.attempts, "ndr_reason": ship.ndr_reason,
                "delivered_at": ship.delivered_at, "events": len(ship.events), "notifications": notes,
                "version": order.version}


def test_a_batch_does_what_one_at_a_time_does(services, demo):
    one, batch = [oid for oid, r in demo.items() if r["status"] == "in_transit"][:2]
    before = {oid: _state(services, oid) for oid in (one, batch)}
    singles = [apply_tracking(services.sessions, update(_awb(demo, one), status, when, scans=scans))
               for status, when, scans in SEQUENCE]
    updates = [update(_awb(demo, batch), status, when, scans=scans) for status, when, scans in SEQUENCE]
    def batch_work(session):
        return apply_updates(session, updates), events(session, NotificationQueued)

    results, queued = in_transaction(services.sessions, batch_work)
    assert [r.outcome for r in results] == [r.outcome for r in singles] == \
        ["applied", "applied", "duplicate", "recorded", "applied", "applied"]
    assert [r.new_status for r in results] == [r.new_status for r in singles]
    after_one, after_batch = _state(services, one), _state(services, batch)
    for key in ("status", "attempts", "ndr_reason", "delivered_at", "notifications"):
        assert after_batch[key] == after_one[key], key
    assert after_batch["events"] - before[batch]["events"] == after_one["events"] - before[one]["events"]
    assert after_batch["status"] == "delivered" and after_batch["attempts"] == before[batch]["attempts"] + 1
    # One per piece of news: the reattempt day's out-for-delivery is news again; the duplicate is not.
    assert after_batch["notifications"] == ["delivered", "delivery_failed", "out_for_delivery", "out_for_delivery"]
    assert len(queued) == 4  # each recorded on the unit of work
    assert after_batch["version"] > before[batch]["version"]  # ORM writers holding the old row must retry


def test_a_batch_mixes_orders_and_unknown_shipments(services, demo, orders):
    a, b = [oid for oid, r in demo.items() if r["status"] == "in_transit"][:2]
    confirmed = demo_id(demo, "confirmed")
    updates = [update(_awb(demo, a), S.OUT_FOR_DELIVERY, at(28, 9)),
               update("NOPE-1", S.DELIVERED, at(28, 9)),
               update("AWB-NEW-2", S.SHIPPED, at(28, 10), order_ref=confirmed),
               update("AWB-NEW-2", S.IN_TRANSIT, at(28, 12)),
               update(_awb(demo, b), S.DELIVERED, at(28, 11))]
    results = in_transaction(services.sessions, lambda s: apply_updates(s, updates))
    assert [(r.outcome, r.order_id) for r in results] == [
        ("applied", a), ("unknown_shipment", None), ("applied", confirmed), ("applied", confirmed), ("applied", b)]
    assert orders.get(confirmed).shipment.awb == "AWB-NEW-2" and orders.get(confirmed).status == "in_transit"
    assert (orders.get(a).status, orders.get(b).status) == ("out_for_delivery", "delivered")


# -- news keyed by the scan, and the parcels that will not arrive ---------------------

def _notes(services, oid):
    with services.sessions() as s:
        order = s.scalars(select(Order).where(Order.order_id == oid)).one()
        return [(n.event, n.key) for n in s.scalars(select(Notification).where(Notification.order_pk == order.id)
                                                     .order_by(Notification.id))]


def test_a_failed_attempt_on_a_later_day_is_a_new_attempt_even_without_out_for_delivery(services, demo, orders):
    oid = demo_id(demo, "out_for_delivery")
    awb, attempts = _awb(demo, oid), orders.get(oid).shipment.attempts
    apply_tracking(services.sessions, update(awb, S.DELIVERY_FAILED, at(28, 15), label="UNDELIVERED"))
    same_day = apply_tracking(services.sessions, update(awb, S.DELIVERY_FAILED, at(28, 16), label="UNDELIVERED"))
    next_day = apply_tracking(services.sessions, update(awb, S.DELIVERY_FAILED, at(29, 15), label="UNDELIVERED"))
    assert (same_day.outcome, next_day.outcome) == ("recorded", "applied")  # a later scan of the same attempt is kept
    assert orders.get(oid).shipment.attempts == attempts + 2
    assert [e for e, _ in _notes(services, oid)] == ["delivery_failed", "delivery_failed"]
    keys = [k for _, k in _notes(services, oid)]
    assert keys == [f"scan:{awb}:UNDELIVERED:20261128T093000Z", f"scan:{awb}:UNDELIVERED:20261129T093000Z"]


def test_later_delays_are_news_once_each_and_an_earlier_date_is_not(services, demo):
    oid = next(o for o, r in demo.items() if r["status"] == "in_transit"
               and r["shipment"]["expected_date"] <= r["shipment"]["promised_date"])
    awb = _awb(demo, oid)
    for day, etd in ((28, date(2026, 12, 9)), (29, date(2026, 12, 12)), (30, date(2026, 12, 10))):
        apply_tracking(services.sessions, update(awb, None, at(day, 8), etd=etd))
    apply_tracking(services.sessions, update(awb, None, at(30, 9), etd=date(2026, 12, 12)))  # back to a date told
    assert _notes(services, oid) == [("delayed", "eta:2026-12-09"), ("delayed", "eta:2026-12-12")]


def test_losses_move_from_any_open_state_and_only_on_to_an_end():
    for current in (S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED, S.RTO_INITIATED):
        assert may_move(current, S.LOST) and may_move(current, S.DAMAGED)
    assert not may_move(S.DELIVERED, S.LOST) and not may_move(S.RTO_DELIVERED, S.DAMAGED)
    assert may_move(S.LOST, S.DELIVERED) and may_move(S.DAMAGED, S.RTO_INITIATED)  # found again
    assert not may_move(S.LOST, S.IN_TRANSIT) and not may_move(S.LOST, S.OUT_FOR_DELIVERY)  # a stale scan
    assert not may_move(S.LOST, S.DAMAGED)


def test_a_lost_parcel_is_news_for_the_customer_and_a_loss_for_a_person(services, demo, orders):
    oid = demo_id(demo, "in_transit")
    awb = _awb(demo, oid)

    def work(session):
        apply_updates(session, [update(awb, S.LOST, at(28, 9), label="LOST")])
        return [type(e).__name__ for e in session.info.get("orderline.uow.events", [])]

    recorded = in_transaction(services.sessions, work)
    assert orders.get(oid).status == "lost" and "ParcelLost" in recorded
    assert [e for e, _ in _notes(services, oid)] == ["lost"]
    stale = apply_tracking(services.sessions, update(awb, S.IN_TRANSIT, at(28, 10), label="IN TRANSIT"))
    assert stale.new_status == "lost"


def test_a_parcel_lost_on_its_way_back_tells_no_customer(services, demo, orders):
    oid = demo_id(demo, "rto_initiated")
    res = apply_tracking(services.sessions, update(_awb(demo, oid), S.DAMAGED, at(28, 9), label="DESTROYED"))
    assert (res.new_status, res.notification_ids) == ("damaged", [])
