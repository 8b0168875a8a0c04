import copy

from orderline.importer import import_orders

GOOD = {"order_id": "OL-100234", "placed_at": "2026-11-20T10:15:00+05:30",
        "customer": {"name": "Asha Verma", "phone": "+919000000099", "email": "a@example.com", "language": "en"},
        "items": [{"sku": "TSHIRT-M", "name": "Cotton T-shirt (M)", "qty": 2, "unit_price": 499.0}],
        "amount": 998.0, "currency": "INR",
        "payment": {"method": "cod", "status": "pending", "reference": "pay_1",
                    "refund": {"amount": 998.0, "status": "processed", "reference": "rf_1", "expected_by": "2026-11-30"}},
        "shipping_address": {"line1": "12 MG Road", "line2": "", "landmark": "", "city": "Indore",
                             "state": "Madhya Pradesh", "pincode": "452001"},
        "status": "in_transit",
        "shipment": {"courier": "Delhivery", "awb": "1234567890", "tracking_url": "https://example.com/t",
                     "promised_date": "2026-11-25", "expected_date": "2026-11-26", "attempts": 0, "ndr_reason": None,
                     "events": [{"at": "2026-11-22T09:00:00+05:30", "status": "shipped", "location": "Surat",
                                 "note": "Picked up"}]}}


def test_import_reports_bad_rows_and_keeps_good_ones(services, orders):
    bad_pin = copy.deepcopy(GOOD); bad_pin["order_id"] = "OL-100235"; bad_pin["shipping_address"]["pincode"] = "012345"
    bad_status = copy.deepcopy(GOOD); bad_status["order_id"] = "OL-100236"; bad_status["status"] = "lost"
    second = copy.deepcopy(GOOD); second["order_id"] = "OL-100237"; second["shipment"]["awb"] = "999"
    report = import_orders(services.sessions, [GOOD, bad_pin, "junk", bad_status, second])
    assert report.created == 2 and report.updated == 0
    assert [(i, oid) for i, oid, _ in report.errors] == [(1, "OL-100235"), (2, ""), (3, "OL-100236")]
    assert "pincode" in report.errors[0][2] and "status" in report.errors[2][2]
    order = orders.get("100234")
    assert order.payment.refund_status == "processed" and order.shipment.events[0].location == "Surat"
    assert order.customer.phone == "+919000000099"


def test_import_upserts_by_order_id(services, orders):
    import_orders(services.sessions, [GOOD])
    changed = copy.deepcopy(GOOD)
    changed["status"] = "delivered"
    changed["shipment"]["events"].append({"at": "2026-11-26T12:00:00+05:30", "status": "delivered",
                                          "location": "Indore", "note": "Delivered"})
    report = import_orders(services.sessions, [changed])
    assert (report.created, report.updated) == (0, 1)
    order = orders.get("OL-100234")
    assert order.status == "delivered" and len(order.shipment.events) == 2


def test_import_rejects_non_array(services):
    assert import_orders(services.sessions, {"order_id": "x"}).errors
