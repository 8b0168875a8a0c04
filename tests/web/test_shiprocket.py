"""The Shiprocket webhook: checks the token and the payload, stores the event, answers 200.

The order changes when the worker drains the inbox; these tests run that worker in-process
(RQ's SimpleWorker in burst mode on the real Redis), the same job code the Procfile runs.
"""
import pytest

from tests.support.jobs import run_jobs
from tests.support.values import SHIPROCKET_TOKEN, demo_id

HDR = {"x-api-key": SHIPROCKET_TOKEN}


def event(awb, label="OUT FOR DELIVERY", ts="28 11 2026 09:30:00"):
    return {"awb": awb, "courier_name": "Delhivery", "current_status": label, "current_status_id": 17,
            "shipment_status": label, "shipment_status_id": 17, "current_timestamp": ts, "order_id": "x",
            "etd": "2026-11-28 18:00:00",
            "scans": [{"date": "2026-11-28 09:30:00", "activity": "Out for delivery", "location": "Indore",
                       "sr-status": "17", "sr-status-label": label}]}


@pytest.fixture
def worker(services):
    """Run the queued jobs (the inbox drain, then the sends) like `rq worker orderline` would."""
    services.redis.flushdb()

    return lambda: run_jobs(services)


def accepted(resp):
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "accepted" and isinstance(resp.json["id"], int)
    return resp.json["id"]


@pytest.mark.parametrize("key", [None, "", "wrong"])
def test_token_required(client, services, demo, key):
    headers = {"x-api-key": key} if key is not None else {}
    awb = demo[demo_id(demo, "in_transit")]["shipment"]["awb"]
    assert client.post("/webhooks/shiprocket", json=event(awb), headers=headers).status_code == 401
    assert services.inbox.pending() == 0


def test_event_updates_order_once(client, services, worker, auth, demo):
    oid = demo_id(demo, "in_transit")
    awb = demo[oid]["shipment"]["awb"]
    first = accepted(client.post("/webhooks/shiprocket", json=event(awb), headers=HDR))
    worker()
    assert services.inbox.outcome(first) == {"outcome": "applied", "order_id": oid, "error": None}
    before = client.get(f"/api/v1/orders/{oid}", headers=auth).json
    assert before["status"] == "out_for_delivery"
    again = accepted(client.post("/webhooks/shiprocket", json=event(awb), headers=HDR))
    worker()
    assert services.inbox.outcome(again)["outcome"] == "duplicate"
    assert client.get(f"/api/v1/orders/{oid}", headers=auth).json == before


def test_accepted_before_applied(client, services, worker, auth, demo):
    """The answer comes before the order changes; nothing accepted waits forever."""
    oid = demo_id(demo, "in_transit")
    first = accepted(client.post("/webhooks/shiprocket", json=event(demo[oid]["shipment"]["awb"]), headers=HDR))
    assert services.inbox.outcome(first) is None and services.inbox.pending() == 1
    assert client.get(f"/api/v1/orders/{oid}", headers=auth).json["status"] == "in_transit"
    worker()
    assert services.inbox.pending() == 0
    assert client.get(f"/api/v1/orders/{oid}", headers=auth).json["status"] == "out_for_delivery"


def test_a_burst_queues_one_drain(client, services, worker, demo):
    awbs = [r["shipment"]["awb"] for r in demo.values() if r["status"] == "in_transit" and r.get("shipment")]
    for awb in awbs:
        accepted(client.post("/webhooks/shiprocket", json=event(awb), headers=HDR))
    assert [job.func_name for job in services.queue.get_jobs()] == ["wiring.worker.drain_inbox"]
    worker()
    assert services.inbox.pending() == 0


@pytest.mark.parametrize("body, code", [("{oops", "bad_json"), (b"\xff{}", "bad_json"), ("[]", "validation_error"),
                                        ("{}", "validation_error"), ('{"awb": "1"}', "validation_error")])
def test_malformed_is_400(client, services, body, code):
    resp = client.post("/webhooks/shiprocket", data=body, content_type="application/json", headers=HDR)
    assert resp.status_code == 400 and resp.json["error"] == code
    assert services.inbox.pending() == 0


def test_unknown_awb_still_200(client, services, worker, demo):
    inbox_id = accepted(client.post("/webhooks/shiprocket", json=event("NOSUCH"), headers=HDR))
    worker()
    assert services.inbox.outcome(inbox_id) == {"outcome": "unknown_shipment", "order_id": None, "error": None}


def test_alias_without_the_forbidden_keyword(client, services, worker, auth, demo):
    oid = demo_id(demo, "in_transit")
    accepted(client.post("/webhooks/courier-tracking", json=event(demo[oid]["shipment"]["awb"]), headers=HDR))
    worker()
    assert client.get(f"/api/v1/orders/{oid}", headers=auth).json["status"] == "out_for_delivery"
    assert client.post("/webhooks/courier-tracking", json=event("1")).status_code == 401
