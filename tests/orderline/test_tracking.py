from datetime import datetime

import pytest

from orderline.errors import InvalidInput
from orderline.models import OrderStatus as S
from orderline.tracking import IST, apply_tracking, may_move, parse_shiprocket, parse_time
from tests.conftest import demo_id


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
