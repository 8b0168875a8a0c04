"""Attacks on the courier webhook that would cost a seller money or an agent's time: a forged
LOST (an apology promising a refund, an urgent escalation), a replayed one, a guessed AWB,
an oversized history of scans."""
import pytest

from tests.support.jobs import run_jobs
from tests.support.values import SHIPROCKET_TOKEN, demo_id


def lost(awb, ts="28 11 2026 09:40:00", scans=1):
    return {"awb": awb, "courier_name": "Delhivery", "current_status": "LOST", "current_status_id": 12,
            "shipment_status": "LOST", "shipment_status_id": 12, "current_timestamp": ts, "order_id": "", "etd": "",
            "scans": [{"date": "2026-11-28 09:40:00", "activity": "Shipment lost", "location": "Hub",
                       "sr-status": "12", "sr-status-label": "LOST"}] * scans}


def losses(services, oid):
    return [e for e in services.escalations.list("active") if e.order_id == oid]


def notes(services):
    from sqlalchemy import func, select

    from orderline.models import Notification
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(Notification))


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "guessed"}, {"x-api-key": SHIPROCKET_TOKEN + "x"}])
def test_a_forged_loss_changes_nothing(client, services, demo, auth, headers):
    services.redis.flushdb()
    oid = demo_id(demo, "in_transit")
    resp = client.post("/webhooks/shiprocket", json=lost(demo[oid]["shipment"]["awb"]), headers=headers)
    assert resp.status_code == 401
    run_jobs(services)
    assert client.get(f"/api/v1/orders/{oid}", headers=auth).json["status"] == "in_transit"
    assert losses(services, oid) == [] and notes(services) == 0


def test_a_replayed_loss_escalates_once_and_apologises_once(client, services, demo):
    services.redis.flushdb()
    oid = demo_id(demo, "in_transit")
    for _ in range(3):
        assert client.post("/webhooks/shiprocket", json=lost(demo[oid]["shipment"]["awb"]),
                           headers={"x-api-key": SHIPROCKET_TOKEN}).status_code == 200
        run_jobs(services)
    services.jobs.enqueue("escalate_losses")
    run_jobs(services)
    [escalation] = losses(services, oid)
    assert escalation.note.count("Shipment lost") == 1
    assert notes(services) == 1


def test_a_guessed_awb_escalates_nothing(client, services, demo):
    services.redis.flushdb()
    resp = client.post("/webhooks/shiprocket", json=lost("GUESSED-0001"), headers={"x-api-key": SHIPROCKET_TOKEN})
    assert resp.status_code == 200  # stored, so Shiprocket stops retrying; it matches no shipment
    run_jobs(services)
    assert services.escalations.list("active") == [] and notes(services) == 0


@pytest.mark.parametrize("scans, code, escalated", [(2000, 200, 1), (10000, 413, 0)])  # 10,000 scans: over 1 MB
def test_a_flood_of_scans_is_cut_or_refused_and_escalated_at_most_once(client, services, demo, scans, code, escalated):
    services.redis.flushdb()
    oid = demo_id(demo, "in_transit")
    resp = client.post("/webhooks/shiprocket", json=lost(demo[oid]["shipment"]["awb"], scans=scans),
                       headers={"x-api-key": SHIPROCKET_TOKEN})
    assert resp.status_code == code
    run_jobs(services)
    assert len(losses(services, oid)) == escalated
