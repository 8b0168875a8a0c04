"""The exceptions a seller loses money on, from the real Shiprocket webhook to the customer's phone:
every failed attempt, the reattempt day, a lost or destroyed parcel, a shipment gone silent.

The clock moves with the story (a day per attempt), so the hourly rate limit and the 24-hour
window behave as they would over those days.
"""
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orderline.clock import Clock
from tests.support.fake_twilio import FakeTwilio
from tests.support.jobs import run_jobs
from tests.support.values import IST, SHIPROCKET_TOKEN
from wiring import Services, create_app

SID, TOKEN = "AC" + "3" * 32, "exceptions-token"


class Hands:
    """The clock's hands, which the test moves."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def clock(self) -> Clock:
        return Clock(ZoneInfo("Asia/Kolkata"), lambda: self.at)


@pytest.fixture
def fake():
    f = FakeTwilio(SID, TOKEN)
    f.start()
    yield f
    f.stop()


@pytest.fixture
def hands():
    return Hands(datetime(2026, 11, 28, 10, 0, tzinfo=IST))


def build(settings, fake, hands, **changes):
    cfg = replace(settings, twilio_account_sid=SID, twilio_auth_token=TOKEN, twilio_api_base_url=fake.base_url,
                  twilio_whatsapp_from="whatsapp:+14155238886", **changes)
    svc = Services.build(cfg, hands.clock())
    svc.redis.flushdb()
    return svc, create_app(svc.settings, svc).test_client()


@pytest.fixture
def stack(settings, fake, hands, demo):
    svc, client = build(settings, fake, hands)
    yield svc, client
    svc.engine.dispose()


def event(awb, label, ts, activity="", status_id=0):
    """Shiprocket's webhook body: `ts` as it writes it (IST), with the scan that caused it."""
    day, month, year, clock = ts.split()
    return {"awb": awb, "courier_name": "Delhivery", "current_status": label, "current_status_id": status_id,
            "shipment_status": label, "shipment_status_id": status_id, "current_timestamp": ts, "order_id": "",
            "etd": "", "scans": [{"date": f"{year}-{month}-{day} {clock}", "activity": activity or label.title(),
                                  "location": "Indore_Hub", "sr-status": str(status_id), "sr-status-label": label}]}


def post(client, body):
    resp = client.post("/webhooks/shiprocket", json=body, headers={"x-api-key": SHIPROCKET_TOKEN})
    assert resp.status_code == 200, resp.json


def pick(demo, status, payment="prepaid"):
    return next(o for o, r in demo.items() if r["status"] == status and r.get("shipment")
                and r["customer"]["language"] == "en" and r["payment"]["method"] == payment
                and r["shipment"]["expected_date"] <= r["shipment"]["promised_date"])


def bodies(fake, phone, oid):
    return [m["body"] for m in fake.sent_to(phone) if oid in (m["body"] or "")]


def test_every_failed_attempt_and_every_reattempt_is_told_once(stack, demo, fake, hands, auth):
    svc, client = stack
    oid = pick(demo, "in_transit")
    phone, awb = demo[oid]["customer"]["phone"], demo[oid]["shipment"]["awb"]
    reasons = ["Customer not available", "Door locked", "Address not found"]
    for n, (day, reason) in enumerate(zip((28, 29, 30), reasons), start=1):
        hands.at = datetime(2026, 11, day, 14, 30, tzinfo=IST)
        svc.conversations.record_inbound(phone, "whatsapp", "ok", sid=f"SMday{day}")  # inside the window
        post(client, event(awb, "OUT FOR DELIVERY", f"{day} 11 2026 09:30:00", status_id=17))
        run_jobs(svc)  # sent that morning, before the attempt failed
        failed = event(awb, "UNDELIVERED", f"{day} 11 2026 14:00:00", reason, status_id=21)
        post(client, failed)
        run_jobs(svc)
        post(client, failed)  # Shiprocket delivers the same webhook again
        run_jobs(svc)
        sent = bodies(fake, phone, oid)
        assert len(sent) == 2 * n, sent
        assert "out for delivery today" in sent[-2] and "couldn't deliver" in sent[-1] and reason in sent[-1]
        assert client.get(f"/api/v1/orders/{oid}", headers=auth).json["status"] == "delivery_failed"
    with svc.sessions() as s:
        from orderline.models import Order
        order = s.query(Order).filter_by(order_id=oid).one()
        assert order.shipment.attempts == 3
    # A day later the first attempt's webhook comes round once more: nothing new to say.
    hands.at += timedelta(days=1)
    post(client, event(awb, "UNDELIVERED", "28 11 2026 14:00:00", reasons[0], status_id=21))
    run_jobs(svc)
    assert len(bodies(fake, phone, oid)) == 6


@pytest.mark.parametrize("label, status_id, remedy, promise", [
    ("LOST", 12, "replacement", "sending you a replacement"),
    ("DESTROYED", 24, "refund", "refunding the full"),
])
def test_a_lost_parcel_is_escalated_with_the_couriers_words_and_the_customer_gets_an_apology(
        settings, fake, hands, demo, label, status_id, remedy, promise):
    svc, client = build(settings, fake, hands, lost_parcel_remedy=remedy)
    oid = pick(demo, "in_transit")
    phone, awb = demo[oid]["customer"]["phone"], demo[oid]["shipment"]["awb"]
    svc.conversations.record_inbound(phone, "whatsapp", "where is it?", sid="SMlost")
    lost = event(awb, label, "28 11 2026 09:40:00", f"Shipment {label.lower()} at hub", status_id=status_id)
    post(client, lost)
    run_jobs(svc)
    post(client, lost)  # redelivered: no second apology, no second escalation
    run_jobs(svc)
    [apology] = bodies(fake, phone, oid)
    assert "so sorry" in apology and promise in apology, apology
    assert ("lost your order" if label == "LOST" else "damaged in transit") in apology
    [esc] = [e for e in svc.escalations.list("open") if e.order_id == oid]
    assert esc.priority == 1 and esc.reason == "delivery" and esc.phone == phone
    assert f"{label}: Shipment {label.lower()} at hub (Indore_Hub)" in esc.note, esc.note
    assert svc.conversations.state(phone) == "waiting_for_agent"
    svc.jobs.enqueue("escalate_losses")  # the cron's periodic run finds nothing left to do
    run_jobs(svc)
    assert [e.note for e in svc.escalations.list("open") if e.order_id == oid] == [esc.note]
    svc.engine.dispose()


def test_a_silent_shipment_is_one_delay_per_silence(stack, demo, fake, hands):
    svc, client = stack
    oid = pick(demo, "in_transit")
    phone, awb = demo[oid]["customer"]["phone"], demo[oid]["shipment"]["awb"]
    last_scan = max(datetime.fromisoformat(e["at"]) for e in demo[oid]["shipment"]["events"])

    def sweep(at):
        hands.at = at
        svc.conversations.record_inbound(phone, "whatsapp", "hello?", sid=f"SM{at.timestamp()}")
        svc.jobs.enqueue("scan_delays")
        run_jobs(svc)
        return bodies(fake, phone, oid)

    quiet_since = last_scan.astimezone(IST).replace(hour=11, minute=0, second=0)
    assert sweep(quiet_since + timedelta(days=2)) == []  # under 72 hours: not yet a delay
    [told] = sweep(quiet_since + timedelta(days=4))
    assert "running late" in told and "hasn't updated it since" in told, told
    assert len(sweep(quiet_since + timedelta(days=4, hours=2))) == 1  # the same silence
    assert len(sweep(quiet_since + timedelta(days=6))) == 1
    # The courier scans it again; then it falls silent once more: a new silence, a new message.
    hands.at = quiet_since + timedelta(days=6, hours=1)
    post(client, event(awb, "IN TRANSIT", hands.at.strftime("%d %m %Y %H:%M:%S"), "Bag received", status_id=18))
    run_jobs(svc)
    assert len(bodies(fake, phone, oid)) == 1  # a transit scan is no news
    assert len(sweep(quiet_since + timedelta(days=8))) == 1
    assert len(sweep(quiet_since + timedelta(days=10))) == 2
