from datetime import datetime

import pytest

from sqlalchemy import select

from orderline.errors import InvalidInput
from orderline.models import Notification, Order, OrderStatus as S
from orderline.orders import in_transaction
from orderline.tracking import IST, apply_tracking, apply_updates, may_move, parse_shiprocket, parse_time
from tests.support.values import demo_id


def payload(awb, label, ts, status_id=None, etd=None, scans=(), order_id=None):
    body = {"awb": awb, "courier_name": "Delhivery Surface", "current_status": label,
            "current_status_id": status_id or 0, "shipment_status": label, "shipment_status_id": status_id or 0,
            "current_timestamp": ts, "order_id": order_id or "", "etd": etd or "",
            "scans": [{"date": d, "activity": a, "location": "Indore_Hub", "sr-status": "", "sr-status-label": l}
                      for d, a, l in scans]}
    return body


@pytest.mark.parametrize("label,expected", [
    ("OUT FOR DELIVERY", S.OUT_FOR_DELIVERY), ("UNDELIVERED", S.DELIVERY_FAILED), ("DELIVERED", S.DELIVERED),
    ("RTO INITIATED", S.RTO_INITIATED), ("IN TRANSIT", S.IN_TRANSIT), ("PICKED UP", S.SHIPPED),
    ("CANCELED", S.CANCELLED), ("RTO DELIVERED", S.RTO_DELIVERED), ("Out For Delivery", S.OUT_FOR_DELIVERY),
])
def test_labels_map_onto_our_statuses(label, expected):
    assert parse_shiprocket(payload("1", label, "23 05 2023 11:43:52")).status == expected


def test_status_id_used_when_label_unknown():
    body = payload("1", "", "23 05 2023 11:43:52", status_id=17)
    body["current_status"] = body["shipment_status"] = ""
    assert parse_shiprocket(body).status == S.OUT_FOR_DELIVERY


def test_unknown_label_is_recorded_without_status():
    assert parse_shiprocket(payload("1", "SHIPMENT WEIGHED", "23 05 2023 11:43:52")).status is None


def test_times_are_ist():
    assert parse_time("23 05 2023 11:43:52") == datetime(2023, 5, 23, 11, 43, 52, tzinfo=IST)
    assert parse_time("2023-05-19 11:59:16") == datetime(2023, 5, 19, 11, 59, 16, tzinfo=IST)
    assert parse_time("yesterday") is None


@pytest.mark.parametrize("text,expected", [
    ("1 5 2023 1:02:03", datetime(2023, 5, 1, 1, 2, 3, tzinfo=IST)),  # unpadded, as strptime reads it
    ("2023-05-19T11:59:16+00:00", datetime(2023, 5, 19, 17, 29, 16, tzinfo=IST)),
    ("2023-05-19", datetime(2023, 5, 19, tzinfo=IST)),
    ("31 02 2023 10:00:00", None), ("2023-13-01 10:00:00", None),
])
def test_times_in_other_shapes(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("body", [None, [], {"awb": "1"}, {"current_status": "DELIVERED"},
                                  {"awb": "1", "current_status": "DELIVERED", "current_timestamp": "soon"}])
def test_malformed_payloads_rejected(body):
    with pytest.raises(InvalidInput):
        parse_shiprocket(body)


def test_no_regression_from_terminal_states():
    assert not may_move(S.DELIVERED, S.SHIPPED)
    assert not may_move(S.CANCELLED, S.IN_TRANSIT)
    assert may_move(S.RTO_INITIATED, S.RTO_DELIVERED)
    assert may_move(S.DELIVERY_FAILED, S.OUT_FOR_DELIVERY)  # a reattempt
    assert not may_move(S.IN_TRANSIT, S.PACKED)
    assert not may_move(S.SHIPPED, S.CANCELLED)


def _awb(demo, oid):
    return demo[oid]["shipment"]["awb"]


def test_apply_out_for_delivery_then_duplicate(services, demo, orders):
    oid = demo_id(demo, "in_transit")
    upd = parse_shiprocket(payload(_awb(demo, oid), "OUT FOR DELIVERY", "28 11 2026 09:00:00"))
    first = apply_tracking(services.sessions, upd)
    assert (first.outcome, first.old_status, first.new_status) == ("applied", "in_transit", "out_for_delivery")
    events_before = len(orders.get(oid).shipment.events)
    second = apply_tracking(services.sessions, upd)
    assert second.outcome == "duplicate"
    assert len(orders.get(oid).shipment.events) == events_before


def test_undelivered_records_attempt_and_reason(services, demo, orders):
    oid = demo_id(demo, "out_for_delivery")
    attempts = orders.get(oid).shipment.attempts
    upd = parse_shiprocket(payload(_awb(demo, oid), "UNDELIVERED", "28 11 2026 18:00:00",
                                   scans=[("2026-11-28 17:55:00", "Consignee unavailable - door locked", "UNDELIVERED")]))
    apply_tracking(services.sessions, upd)
    order = orders.get(oid)
    assert order.status == "delivery_failed"
    assert order.shipment.attempts == attempts + 1
    assert order.shipment.ndr_reason == "Consignee unavailable - door locked"


def test_late_shipped_after_delivered_changes_nothing(services, demo, orders):
    oid = demo_id(demo, "out_for_delivery")
    awb = _awb(demo, oid)
    apply_tracking(services.sessions, parse_shiprocket(payload(awb, "DELIVERED", "28 11 2026 12:00:00")))
    res = apply_tracking(services.sessions, parse_shiprocket(payload(awb, "PICKED UP", "25 11 2026 12:00:00")))
    assert res.new_status == "delivered" and res.outcome in ("recorded", "duplicate")
    assert orders.get(oid).status == "delivered"
    assert orders.get(oid).shipment.delivered_at is not None


def test_older_event_never_overrides_newer(services, demo, orders):
    oid = demo_id(demo, "in_transit")
    awb = _awb(demo, oid)
    apply_tracking(services.sessions, parse_shiprocket(payload(awb, "UNDELIVERED", "28 11 2026 15:00:00")))
    apply_tracking(services.sessions, parse_shiprocket(payload(awb, "OUT FOR DELIVERY", "28 11 2026 09:00:00")))
    assert orders.get(oid).status == "delivery_failed"


def test_etd_moves_expected_date(services, demo, orders):
    oid = demo_id(demo, "in_transit")
    apply_tracking(services.sessions, parse_shiprocket(
        payload(_awb(demo, oid), "IN TRANSIT", "28 11 2026 08:00:00", etd="2026-12-03 15:40:19")))
    assert orders.get(oid).shipment.expected_date.isoformat() == "2026-12-03"


def test_unknown_awb_is_ignored(services, demo):
    res = apply_tracking(services.sessions, parse_shiprocket(payload("NOPE123", "DELIVERED", "28 11 2026 12:00:00")))
    assert res.outcome == "unknown_shipment" and res.order_id is None


def test_first_event_by_order_id_attaches_awb(services, demo, orders):
    oid = demo_id(demo, "confirmed")
    res = apply_tracking(services.sessions, parse_shiprocket(
        payload("AWB-NEW-1", "PICKED UP", "28 11 2026 10:00:00", order_id=oid + "_1")))
    assert res.new_status == "shipped"
    assert orders.get(oid).shipment.awb == "AWB-NEW-1"


# -- batches (the worker drains the inbox this way) ---------------------------------

SEQUENCE = [  # a bumpy delivery, with a duplicate and a late, stale scan
    ("OUT FOR DELIVERY", "28 11 2026 09:00:00", [("2026-11-28 09:00:00", "Out for delivery", "OUT FOR DELIVERY")]),
    ("UNDELIVERED", "28 11 2026 15:00:00", [("2026-11-28 14:55:00", "Door locked", "UNDELIVERED")]),
    ("UNDELIVERED", "28 11 2026 15:00:00", [("2026-11-28 14:55:00", "Door locked", "UNDELIVERED")]),
    ("PICKED UP", "25 11 2026 10:00:00", []),
    ("OUT FOR DELIVERY", "29 11 2026 09:00:00", []),
    ("DELIVERED", "29 11 2026 12:30:00", []),
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
    singles = [apply_tracking(services.sessions, parse_shiprocket(payload(_awb(demo, one), label, ts, scans=scans)))
               for label, ts, scans in SEQUENCE]
    updates = [parse_shiprocket(payload(_awb(demo, batch), label, ts, scans=scans)) for label, ts, scans in SEQUENCE]
    results, note_ids = in_transaction(services.sessions, lambda s: apply_updates(s, updates))
    assert [r.outcome for r in results] == [r.outcome for r in singles] == \
        ["applied", "applied", "duplicate", "recorded", "applied", "applied"]
    assert [r.new_status for r in results] == [r.new_status for r in singles]
    after_one, after_batch = _state(services, one), _state(services, batch)
    for key in ("status", "attempts", "ndr_reason", "delivered_at", "notifications"):
        assert after_batch[key] == after_one[key], key
    assert after_batch["events"] - before[batch]["events"] == after_one["events"] - before[one]["events"]
    assert after_batch["status"] == "delivered" and after_batch["attempts"] == before[batch]["attempts"] + 1
    assert after_batch["notifications"] == ["delivered", "delivery_failed", "out_for_delivery"]  # one each
    assert len(note_ids) == 3
    assert after_batch["version"] > before[batch]["version"]  # ORM writers holding the old row must retry


def test_a_batch_mixes_orders_and_unknown_shipments(services, demo, orders):
    a, b = [oid for oid, r in demo.items() if r["status"] == "in_transit"][:2]
    confirmed = demo_id(demo, "confirmed")
    updates = [parse_shiprocket(payload(_awb(demo, a), "OUT FOR DELIVERY", "28 11 2026 09:00:00")),
               parse_shiprocket(payload("NOPE-1", "DELIVERED", "28 11 2026 09:00:00")),
               parse_shiprocket(payload("AWB-NEW-2", "PICKED UP", "28 11 2026 10:00:00", order_id=confirmed)),
               parse_shiprocket(payload("AWB-NEW-2", "IN TRANSIT", "28 11 2026 12:00:00")),
               parse_shiprocket(payload(_awb(demo, b), "DELIVERED", "28 11 2026 11:00:00"))]
    results, _ = in_transaction(services.sessions, lambda s: apply_updates(s, updates))
    assert [(r.outcome, r.order_id) for r in results] == [
        ("applied", a), ("unknown_shipment", None), ("applied", confirmed), ("applied", confirmed), ("applied", b)]
    assert orders.get(confirmed).shipment.awb == "AWB-NEW-2" and orders.get(confirmed).status == "in_transit"
    assert (orders.get(a).status, orders.get(b).status) == ("out_for_delivery", "delivered")


def test_overlong_labels_are_cut_to_fit_the_timeline():
    assert len(parse_shiprocket(payload("1", "X" * 60, "23 05 2023 11:43:52")).label) == 40
