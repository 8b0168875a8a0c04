"""Shiprocket's payload read into the core's TrackingUpdate: labels, ids, times, shape."""
from datetime import date, datetime

import pytest

from couriers.shiprocket import IST, SOURCE, parse, parse_time
from orderline.errors import InvalidInput
from orderline.models import OrderStatus as S


def payload(awb, label, ts, status_id=None, etd=None, scans=(), order_id=None):
    return {"awb": awb, "courier_name": "Delhivery Surface", "current_status": label,
            "current_status_id": status_id or 0, "shipment_status": label, "shipment_status_id": status_id or 0,
            "current_timestamp": ts, "order_id": order_id or "", "etd": etd or "",
            "scans": [{"date": d, "activity": a, "location": "Indore_Hub", "sr-status": "", "sr-status-label": l}
                      for d, a, l in scans]}


@pytest.mark.parametrize("label,expected", [
    ("OUT FOR DELIVERY", S.OUT_FOR_DELIVERY), ("UNDELIVERED", S.DELIVERY_FAILED), ("DELIVERED", S.DELIVERED),
    ("RTO INITIATED", S.RTO_INITIATED), ("IN TRANSIT", S.IN_TRANSIT), ("PICKED UP", S.SHIPPED),
    ("CANCELED", S.CANCELLED), ("RTO DELIVERED", S.RTO_DELIVERED), ("Out For Delivery", S.OUT_FOR_DELIVERY),
])
def test_labels_map_onto_our_statuses(label, expected):
    assert parse(payload("1", label, "23 05 2023 11:43:52")).status == expected


def test_status_id_used_when_label_unknown():
    body = payload("1", "", "23 05 2023 11:43:52", status_id=17)
    body["current_status"] = body["shipment_status"] = ""
    update = parse(body)
    assert (update.status, update.label) == (S.OUT_FOR_DELIVERY, "17")


def test_unknown_label_is_recorded_without_status():
    assert parse(payload("1", "SHIPMENT WEIGHED", "23 05 2023 11:43:52")).status is None


def test_the_update_in_our_terms():
    update = parse(payload("AWB1", "Undelivered", "28 11 2026 18:00:00", etd="2026-12-03 15:40:19",
                           order_id="OL-100234_1",
                           scans=[("2026-11-28 17:55:00", "Door locked", "UNDELIVERED"),
                                  ("2026-11-28 12:00:00", "Bagged", "BAGGED"), ("never", "Lost", "DELIVERED")]))
    assert (update.source, update.awb, update.courier, update.label) == (SOURCE, "AWB1", "Delhivery Surface",
                                                                          "UNDELIVERED")
    assert update.at == datetime(2026, 11, 28, 18, 0, tzinfo=IST) and update.etd == date(2026, 12, 3)
    assert update.order_ref == "OL-100234"  # Shiprocket's suffix is its own business
    assert [(s.label, s.status, s.activity, s.location) for s in update.scans] == [
        ("UNDELIVERED", S.DELIVERY_FAILED, "Door locked", "Indore_Hub"), ("BAGGED", None, "Bagged", "Indore_Hub")]


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
        parse(body)


def test_overlong_labels_are_cut_to_fit_the_timeline():
    assert len(parse(payload("1", "X" * 60, "23 05 2023 11:43:52")).label) == 40


@pytest.mark.parametrize("label, status_id, expected", [
    ("LOST", 12, S.LOST), ("DAMAGED", 25, S.DAMAGED), ("DESTROYED", 24, S.DAMAGED), ("MISROUTED", 39, S.IN_TRANSIT),
])
def test_the_statuses_that_hurt_by_label_and_by_id(label, status_id, expected):
    assert parse(payload("1", label, "23 05 2023 11:43:52")).status == expected
    body = payload("1", "", "23 05 2023 11:43:52", status_id=status_id)
    body["current_status"] = body["shipment_status"] = ""
    assert parse(body).status == expected
