import pytest

from tests.conftest import SHIPROCKET_TOKEN, demo_id


def event(awb, label="OUT FOR DELIVERY", ts="28 11 2026 09:30:00"):
    return {"awb": awb, "courier_name": "Delhivery", "current_status": label, "current_status_id": 17,
            "shipment_status": label, "shipment_status_id": 17, "current_timestamp": ts, "order_id": "x",
            "etd": "2026-11-28 18:00:00",
            "scans": [{"date": "2026-11-28 09:30:00", "activity": "Out for delivery", "location": "Indore",
                       "sr-status": "17", "sr-status-label": label}]}


@pytest.mark.parametrize("key", [None, "", "wrong"])
def test_token_required(client, demo, key):
    headers = {"x-api-key": key} if key is not None else {}
    awb = demo[demo_id(demo, "in_transit")]["shipment"]["awb"]
    assert client.post("/webhooks/shiprocket", json=event(awb), headers=headers).status_code == 401


def test_event_updates_order_once(client, auth, demo):
    oid = demo_id(demo, "in_transit")
    awb = demo[oid]["shipment"]["awb"]
    hdr = {"x-api-key": SHIPROCKET_TOKEN}
    first = client.post("/webhooks/shiprocket", json=event(awb), headers=hdr)
    assert first.status_code == 200 and first.json["status"] == "applied" and first.json["order_status"] == "out_for_delivery"
    before = client.get(f"/api/v1/orders/{oid}", headers=auth).json
    again = client.post("/webhooks/shiprocket", json=event(awb), headers=hdr)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    after = client.get(f"/api/v1/orders/{oid}", headers=auth).json
    assert after == before


@pytest.mark.parametrize("body", ["{oops", "[]", "{}", '{"awb": "1"}'])
def test_malformed_is_400(client, body):
    resp = client.post("/webhooks/shiprocket", data=body, content_type="application/json",
                       headers={"x-api-key": SHIPROCKET_TOKEN})
    assert resp.status_code == 400


def test_unknown_awb_still_200(client, demo):
    resp = client.post("/webhooks/shiprocket", json=event("NOSUCH"), headers={"x-api-key": SHIPROCKET_TOKEN})
    assert resp.status_code == 200 and resp.json["status"] == "unknown_shipment"


def test_alias_without_the_forbidden_keyword(client, demo):
    oid = demo_id(demo, "in_transit")
    resp = client.post("/webhooks/courier-tracking", json=event(demo[oid]["shipment"]["awb"]),
                       headers={"x-api-key": SHIPROCKET_TOKEN})
    assert resp.status_code == 200 and resp.json["order_status"] == "out_for_delivery"
    assert client.post("/webhooks/courier-tracking", json=event("1")).status_code == 401
