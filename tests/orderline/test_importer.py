import copy

from orderline.importer import import_orders
from tests.support.values import GOOD_ROW


def test_import_reports_bad_rows_and_keeps_good_ones(services, orders):
    bad_pin = copy.deepcopy(GOOD_ROW); bad_pin["order_id"] = "OL-100235"; bad_pin["shipping_address"]["pincode"] = "012345"
    bad_status = copy.deepcopy(GOOD_ROW); bad_status["order_id"] = "OL-100236"; bad_status["status"] = "vanished"
    second = copy.deepcopy(GOOD_ROW); second["order_id"] = "OL-100237"; second["shipment"]["awb"] = "999"
    report = import_orders(services.sessions, [GOOD_ROW, bad_pin, "junk", bad_status, second])
    assert report.created == 2 and report.updated == 0
    assert [(i, oid) for i, oid, _ in report.errors] == [(1, "OL-100235"), (2, ""), (3, "OL-100236")]
    assert "pincode" in report.errors[0][2] and "status" in report.errors[2][2]
    order = orders.get("100234")
    assert order.payment.refund_status == "processed" and order.shipment.events[0].location == "Surat"
    assert order.customer.phone == "+919000000099"


def test_import_upserts_by_order_id(services, orders):
    import_orders(services.sessions, [GOOD_ROW])
    changed = copy.deepcopy(GOOD_ROW)
    changed["status"] = "delivered"
    changed["shipment"]["events"].append({"at": "2026-11-26T12:00:00+05:30", "status": "delivered",
                                          "location": "Indore", "note": "Delivered"})
    report = import_orders(services.sessions, [changed])
    assert (report.created, report.updated) == (0, 1)
    order = orders.get("OL-100234")
    assert order.status == "delivered" and len(order.shipment.events) == 2


def test_import_rejects_non_array(services):
    assert import_orders(services.sessions, {"order_id": "x"}).errors
