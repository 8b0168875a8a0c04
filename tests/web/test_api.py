import json
import threading

import pytest
from werkzeug.serving import make_server

from orderline.present import order_dict
from tests.support.values import demo_id

ADDRESS = {"line1": "12 Residency Road", "line2": "Apt 504", "landmark": "Near signal",
           "city": "Bengaluru", "state": "Karnataka", "pincode": "560025"}


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer", "bearer "])
def test_missing_or_wrong_token_is_401(client, demo, header):
    headers = {"Authorization": header} if header else {}
    resp = client.get(f"/api/v1/orders/{next(iter(demo))}", headers=headers)
    assert resp.status_code == 401 and resp.is_json and resp.json["error"] == "unauthorized"


def test_get_order(client, auth, demo):
    oid = demo_id(demo, "delivery_failed")
    body = client.get(f"/api/v1/orders/{oid.lower().replace('-', '')}", headers=auth).json
    assert body["order_id"] == oid and body["status"] == "delivery_failed"
    assert body["shipment"]["ndr_reason"] and body["allowed"]["reschedule"] is True
    assert body["customer"]["phone"].startswith("+91")


def test_bodies_are_the_presented_orders(app, client, auth, demo, services):
    """By id (a cache miss, then a hit) and by phone, the body is jsonify(order_dict(...))."""
    services.redis.flushdb()
    with app.app_context():
        for oid in demo:
            expected = app.json.response(order_dict(services.orders.get(oid), services.clock)).get_data()
            for _ in ("miss", "hit"):
                resp = client.get(f"/api/v1/orders/{oid}", headers=auth)
                assert resp.status_code == 200 and resp.mimetype == "application/json" and resp.data == expected
        phone = "+919000000001"
        listed = [order_dict(o, services.clock) for o in services.orders.for_phone(phone)]
        resp = client.get("/api/v1/orders", query_string={"phone": phone}, headers=auth)
        assert len(listed) >= 3 and resp.data == app.json.response(orders=listed).get_data()


def test_unknown_order_is_json_404(client, auth, demo):
    resp = client.get("/api/v1/orders/OL-999999", headers=auth)
    assert resp.status_code == 404 and resp.json["error"] == "order_not_found"


def test_orders_by_phone(client, auth, demo):
    resp = client.get("/api/v1/orders", query_string={"phone": "+919000000001"}, headers=auth)
    ids = [o["order_id"] for o in resp.json["orders"]]
    expected = sorted((r["placed_at"], oid) for oid, r in demo.items() if r["customer"]["phone"] == "+919000000001")
    assert ids == [oid for _, oid in reversed(expected)]
    assert client.get("/api/v1/orders", query_string={"phone": "not-a-phone"}, headers=auth).status_code == 400
    assert client.get("/api/v1/orders", headers=auth).status_code == 400
    assert client.get("/api/v1/orders", query_string={"phone": "+919111111111"}, headers=auth).json == {"orders": []}


def test_address_change_200_409_422(client, auth, demo):
    ok = client.post(f"/api/v1/orders/{demo_id(demo, 'placed')}/address", headers=auth, json=ADDRESS)
    assert ok.status_code == 200 and ok.json["shipping_address"]["pincode"] == "560025"
    refused = client.post(f"/api/v1/orders/{demo_id(demo, 'shipped')}/address", headers=auth, json=ADDRESS)
    assert refused.status_code == 409 and refused.json["error"] == "address_change_not_allowed" and refused.json["reason"]
    invalid = client.post(f"/api/v1/orders/{demo_id(demo, 'placed')}/address", headers=auth,
                          json={**ADDRESS, "pincode": "01234"})
    assert invalid.status_code == 422 and "pincode" in invalid.json["fields"]


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", "null", "\"text\"", "\xff\xfe"])
def test_malformed_json_is_400_never_500(client, auth, demo, body):
    resp = client.post(f"/api/v1/orders/{demo_id(demo, 'placed')}/address", headers={**auth, "Content-Type": "application/json"},
                       data=body.encode("latin-1"))
    assert resp.status_code == 400 and resp.json["error"] == "bad_json"


def test_huge_body_is_rejected_cleanly(client, auth, demo):
    resp = client.post(f"/api/v1/orders/{demo_id(demo, 'placed')}/address", headers=auth,
                       data=json.dumps({"line1": "x" * 2_000_000}), content_type="application/json")
    assert resp.status_code == 413 and resp.is_json


def test_reschedule(client, auth, demo):
    oid = demo_id(demo, "out_for_delivery")
    ok = client.post(f"/api/v1/orders/{oid}/reschedule", headers=auth, json={"date": "2026-12-01", "slot": "morning"})
    assert ok.status_code == 200 and ok.json["shipment"]["rescheduled_for"] == "2026-12-01"
    assert client.post(f"/api/v1/orders/{oid}/reschedule", headers=auth, json={"date": "2026-12-25"}).status_code == 422
    assert client.post(f"/api/v1/orders/{oid}/reschedule", headers=auth, json={}).status_code == 422
    delivered = demo_id(demo, "delivered")
    refused = client.post(f"/api/v1/orders/{delivered}/reschedule", headers=auth, json={"date": "2026-12-01"})
    assert refused.status_code == 409 and refused.json["error"] == "reschedule_not_allowed"


def test_cancel(client, auth, demo):
    ok = client.post(f"/api/v1/orders/{demo_id(demo, 'confirmed')}/cancel", headers=auth, json={"reason": "ordered twice"})
    assert ok.status_code == 200 and ok.json["status"] == "cancelled"
    refused = client.post(f"/api/v1/orders/{demo_id(demo, 'in_transit')}/cancel", headers=auth)
    assert refused.status_code == 409 and "refuse" in refused.json["reason"]


def test_return_inside_window_only(client, auth, demo):
    recent = [oid for oid, r in demo.items() if r["status"] == "delivered"
              and r["shipment"]["delivered_at"] > "2026-11-24"]
    old = [oid for oid, r in demo.items() if r["status"] == "delivered" and r["shipment"]["delivered_at"] < "2026-11-15"]
    ok = client.post(f"/api/v1/orders/{recent[0]}/return", headers=auth, json={"kind": "exchange", "reason": "size too small"})
    assert ok.status_code == 201 and ok.json["return_request"]["kind"] == "exchange"
    late = client.post(f"/api/v1/orders/{old[0]}/return", headers=auth, json={"kind": "return", "reason": "meh"})
    assert late.status_code == 409 and "window" in late.json["reason"]


def test_unknown_route_is_json(client, auth):
    resp = client.get("/api/v1/nope", headers=auth)
    assert resp.status_code == 404 and resp.is_json


def test_concurrent_http_cancels_one_wins(app, auth, demo):
    """Eight clients race to cancel the same order through a real threaded HTTP server."""
    import requests

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api/v1/orders/{demo_id(demo, 'packed')}/cancel"
        barrier = threading.Barrier(8)
        codes: list[int] = []

        def go():
            barrier.wait()
            codes.append(requests.post(url, headers=auth, json={}, timeout=30).status_code)

        workers = [threading.Thread(target=go) for _ in range(8)]
        [w.start() for w in workers]
        [w.join(60) for w in workers]
    finally:
        server.shutdown()
    assert sorted(codes) == [200] + [409] * 7


def test_escalation_api(client, auth):
    body = {"reason": "payments", "intent": "payment_query", "confidence": 0.42, "channel": "whatsapp",
            "phone": "+919000000007", "order_id": "OL-100281", "note": "money deducted, order not confirmed"}
    created = client.post("/api/v1/escalations", headers=auth, json=body)
    assert created.status_code == 201 and created.json["escalation"]["conversation_state"] == "waiting_for_agent"
    again = client.post("/api/v1/escalations", headers=auth, json=body)
    assert again.status_code == 200 and again.json["created"] is False
    listed = client.get("/api/v1/escalations?status=open", headers=auth).json["escalations"]
    assert [e["order_id"] for e in listed] == ["OL-100281"]
    assert client.post("/api/v1/escalations", headers=auth, json={"reason": "x"}).status_code == 422
    assert client.post("/api/v1/escalations", json=body).status_code == 401


def test_escalation_without_a_reason_takes_the_queue_and_priority_of_the_intent(client, auth):
    body = {"intent": "refund_status", "confidence": 0.8, "channel": "whatsapp", "phone": "+919000000008"}
    created = client.post("/api/v1/escalations", headers=auth, json=body)
    assert created.status_code == 201
    assert (created.json["escalation"]["reason"], created.json["escalation"]["priority"]) == ("payments", 1)


def test_verify_answers_only_whether_the_one_proof_matches(client, auth, demo, services):
    oid = demo_id(demo, "delivery_failed")
    order = services.orders.get(oid)
    last4, pincode = order.customer.phone[-4:], order.address.pincode
    for n, (proof, matched) in enumerate([(last4, True), (pincode, True), (pincode[:4], False)]):
        resp = client.post(f"/api/v1/orders/{oid}/verify", headers=auth,
                           json={"proof": proof, "sender": f"+9198000000{n:02d}"})
        assert resp.status_code == 200 and resp.json == {"matched": matched, "refused": False}, proof
    made_up = client.post("/api/v1/orders/OL-999999/verify", headers=auth, json={"proof": last4, "sender": "+919800000050"})
    assert made_up.status_code == 200 and made_up.json == {"matched": False, "refused": False}
    several = client.post(f"/api/v1/orders/{oid}/verify", headers=auth, json={"proofs": ["9999", pincode], "sender": "x"})
    assert several.status_code == 400 and several.json["error"] == "one_proof_only"
    bad = client.post(f"/api/v1/orders/{oid}/verify", headers=auth, json={"proof": last4})
    assert bad.status_code == 422 and "sender" in bad.json["fields"]
    assert client.post(f"/api/v1/orders/{oid}/verify", headers=auth, data="{").status_code == 400
    assert client.post(f"/api/v1/orders/{oid}/verify", json={"proof": last4, "sender": "x"}).status_code == 401
