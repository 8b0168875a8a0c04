"""Shipment events become WhatsApp messages: webhook in, message out at the fake Twilio."""
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from wiring.worker import dispatch_due
from orderline.clock import Clock
from orderline.importer import import_orders
from orderline.models import AuditLog, Notification
from tests.support.fake_twilio import FakeTwilio
from tests.support.values import IST, SHIPROCKET_TOKEN, demo_id
from wiring import create_app
from wiring import Services
from tests.support.jobs import run_jobs

SID, TOKEN = "AC" + "2" * 32, "notify-token"


@pytest.fixture
def fake():
    f = FakeTwilio(SID, TOKEN)
    f.start()
    yield f
    f.stop()


def build(settings, fake, at, templates=()):
    cfg = replace(settings, twilio_account_sid=SID, twilio_auth_token=TOKEN, twilio_api_base_url=fake.base_url,
                  twilio_whatsapp_from="whatsapp:+14155238886", templates=templates)
    return Services.build(cfg, Clock.fixed(at))


@pytest.fixture
def stack(settings, fake, demo):
    """The app and an in-process RQ worker sharing services, at 11:00 IST on a Saturday."""
    svc = build(settings, fake, datetime(2026, 11, 28, 11, 0, tzinfo=IST),
                templates=(("delivered", "HXdelivered"), ("out_for_delivery", "HXofd"), ("shipped", "HXshipped"),
                           ("delivery_failed", "HXndr"), ("rto_initiated", "HXrto"), ("delayed", "HXdelay"),
                           ("confirmed", "HXconfirmed")))
    svc.redis.flushdb()
    app = create_app(svc.settings, svc)
    yield svc, app.test_client()
    svc.engine.dispose()


def run_worker(svc):
    run_jobs(svc)


def event(awb, label, ts, etd="", scans=()):
    return {"awb": awb, "courier_name": "Delhivery", "current_status": label, "current_status_id": 0,
            "shipment_status": label, "shipment_status_id": 0, "current_timestamp": ts, "order_id": "", "etd": etd,
            "scans": [{"date": d, "activity": a, "location": "Hub", "sr-status": "", "sr-status-label": l} for d, a, l in scans]}


def post(client, body):
    resp = client.post("/webhooks/shiprocket", json=body, headers={"x-api-key": SHIPROCKET_TOKEN})
    assert resp.status_code == 200, resp.json
    return resp.json


@pytest.mark.parametrize("status_from,label,lang,expect", [
    ("packed", "PICKED UP", "en", ["shipped with", "AWB"]),
    ("in_transit", "OUT FOR DELIVERY", "en", ["out for delivery today", "reschedule"]),
    ("out_for_delivery", "UNDELIVERED", "en", ["couldn't deliver", "1 - deliver again", "3 - talk to us"]),
    ("delivery_failed", "RTO INITIATED", "hi", ["wapas ja raha hai"]),
    ("out_for_delivery", "DELIVERED", "en", ["was delivered", "1 (poor) to 5 (great)"]),
])
def test_each_event_reaches_the_customer(stack, demo, fake, status_from, label, lang, expect):
    svc, client = stack
    oid = next(o for o, r in demo.items() if r["status"] == status_from and r.get("shipment") and r["customer"]["language"] == lang)
    phone = demo[oid]["customer"]["phone"]
    svc.conversations.record_inbound(phone, "whatsapp", "hi", sid=f"SMwin{oid}")  # inside the 24 h window
    post(client, event(demo[oid]["shipment"]["awb"], label, "28 11 2026 10:30:00"))
    run_worker(svc)
    [msg] = fake.sent_to(phone)
    for text in expect:
        assert text in msg["body"], msg["body"]
    assert oid in msg["body"]


def test_hinglish_customer_gets_hinglish(stack, demo, fake):
    svc, client = stack
    oid = "OL-100231"  # Rohit, language hi, delivery failed
    phone = demo[oid]["customer"]["phone"]
    svc.conversations.record_inbound(phone, "whatsapp", "hello", sid="SMrohit")
    post(client, event(demo[oid]["shipment"]["awb"], "OUT FOR DELIVERY", "28 11 2026 10:00:00"))
    run_worker(svc)
    [msg] = fake.sent_to(phone)
    assert "aaj deliver hoga" in msg["body"] and "tayyar rakhein" in msg["body"]  # COD: keep cash ready


def test_outside_window_uses_the_template(stack, demo, fake):
    svc, client = stack
    oid = demo_id(demo, "in_transit")
    phone = demo[oid]["customer"]["phone"]
    post(client, event(demo[oid]["shipment"]["awb"], "OUT FOR DELIVERY", "28 11 2026 10:00:00"))
    run_worker(svc)
    [msg] = fake.sent_to(phone)
    assert msg["content_sid"] == "HXofd" and msg["body"] is None


def test_no_template_outside_window_is_recorded_not_sent(settings, fake, demo):
    svc = build(settings, fake, datetime(2026, 11, 28, 11, 0, tzinfo=IST))
    svc.redis.flushdb()
    client = create_app(svc.settings, svc).test_client()
    oid = demo_id(demo, "in_transit")
    post(client, event(demo[oid]["shipment"]["awb"], "OUT FOR DELIVERY", "28 11 2026 10:00:00"))
    run_worker(svc)
    assert fake.messages == []
    with svc.sessions() as s:
        note = s.scalars(select(Notification)).one()
    assert note.status == "refused" and "24-hour" in note.reason


def test_duplicates_and_stale_events_send_once(stack, demo, fake):
    svc, client = stack
    oid = demo_id(demo, "out_for_delivery")
    phone, awb = demo[oid]["customer"]["phone"], demo[oid]["shipment"]["awb"]
    svc.conversations.record_inbound(phone, "whatsapp", "hi", sid="SMdup")
    body = event(awb, "DELIVERED", "28 11 2026 10:00:00")
    post(client, body)
    post(client, body)
    post(client, event(awb, "PICKED UP", "25 11 2026 10:00:00"))  # late and stale
    post(client, event(awb, "DELIVERED", "28 11 2026 10:05:00"))  # another DELIVERED scan
    run_worker(svc)
    assert [("delivered" in m["body"]) for m in fake.sent_to(phone)] == [True]


def test_queued_news_gone_stale_is_skipped(stack, demo, fake):
    svc, client = stack
    oid = demo_id(demo, "in_transit")
    phone, awb = demo[oid]["customer"]["phone"], demo[oid]["shipment"]["awb"]
    svc.conversations.record_inbound(phone, "whatsapp", "hi", sid="SMstale")
    post(client, event(awb, "OUT FOR DELIVERY", "28 11 2026 09:00:00"))
    post(client, event(awb, "DELIVERED", "28 11 2026 10:00:00"))  # before the worker ran
    run_worker(svc)
    bodies = [m["body"] for m in fake.sent_to(phone)]
    assert len(bodies) == 1 and "was delivered" in bodies[0]
    with svc.sessions() as s:
        skipped = s.scalars(select(Notification).where(Notification.event == "out_for_delivery")).one()
    assert skipped.status == "skipped" and "stale" in skipped.reason


def test_quiet_hours_hold_until_nine(settings, fake, demo):
    night = datetime(2026, 11, 28, 22, 30, tzinfo=IST)
    svc = build(settings, fake, night, templates=(("shipped", "HXs"), ("out_for_delivery", "HXo")))
    svc.redis.flushdb()
    client = create_app(svc.settings, svc).test_client()
    packed, transit = demo_id(demo, "packed"), demo_id(demo, "in_transit")
    post(client, event(demo[packed]["shipment"]["awb"], "PICKED UP", "28 11 2026 22:20:00"))
    post(client, event(demo[transit]["shipment"]["awb"], "OUT FOR DELIVERY", "28 11 2026 22:25:00"))
    run_jobs(svc)
    sent = {m["to"] for m in fake.messages}
    assert sent == {"whatsapp:" + demo[transit]["customer"]["phone"]}  # out-for-delivery is exempt
    with svc.sessions() as s:
        held = s.scalars(select(Notification).where(Notification.event == "shipped")).one()
    assert held.status == "pending" and held.not_before.astimezone(IST) == datetime(2026, 11, 29, 9, 0, tzinfo=IST)
    morning = build(settings, fake, datetime(2026, 11, 29, 9, 1, tzinfo=IST), templates=(("shipped", "HXs"),))
    assert morning.notifier.due() == [held.id]
    assert morning.notifier.process(held.id).status == "sent"
    assert len(fake.messages) == 2


def test_twilio_500_is_retried_63016_is_not(stack, demo, fake):
    svc, client = stack
    a, b = demo_id(demo, "in_transit"), demo_id(demo, "packed")
    fake.fail_next(500, 20500, "Internal Server Error")
    post(client, event(demo[a]["shipment"]["awb"], "OUT FOR DELIVERY", "28 11 2026 10:00:00"))
    run_worker(svc)
    with svc.sessions() as s:
        note = s.scalars(select(Notification)).one()
        assert note.status == "pending" and note.attempts == 1
    later = Services(svc.settings, svc.engine, svc.sessions, Clock.fixed(svc.clock.now() + timedelta(minutes=5)))
    assert later.notifier.process(note.id).status == "sent"
    assert len(fake.messages) == 1  # the 500 created nothing at Twilio; the retry sent it once
    fake.fail_next(400, 63016, "outside window")
    post(client, event(demo[b]["shipment"]["awb"], "PICKED UP", "28 11 2026 10:10:00"))
    run_worker(svc)
    with svc.sessions() as s:
        failed = s.scalars(select(Notification).where(Notification.event == "shipped")).one()
    assert failed.status == "failed" and "63016" in failed.reason
    later2 = Services(svc.settings, svc.engine, svc.sessions, Clock.fixed(svc.clock.now() + timedelta(hours=1)))
    assert failed.id not in later2.notifier.due()


def test_delay_scan_finds_late_shipments(stack, demo, fake):
    svc, _ = stack
    ids = svc.notifier.scan_delays()
    with svc.sessions() as s:
        late = {n.order.order_id for n in s.scalars(select(Notification).where(Notification.id.in_(ids)))}
    delayed_demo = {oid for oid, r in demo.items() if r["status"] in ("in_transit", "shipped") and r.get("shipment")
                    and r["shipment"]["expected_date"] > r["shipment"]["promised_date"]}
    assert delayed_demo and delayed_demo <= late
    assert svc.notifier.scan_delays() == []  # told once


def test_agent_can_resend_and_see_statuses(stack, demo, fake):
    svc, client = stack
    oid = demo_id(demo, "in_transit")
    post(client, event(demo[oid]["shipment"]["awb"], "OUT FOR DELIVERY", "28 11 2026 10:00:00"))
    run_worker(svc)
    [row] = svc.notifier.for_order(oid)
    assert (row["event"], row["status"], row["message_status"]) == ("out_for_delivery", "sent", "sent")
    assert svc.notifier.resend(row["id"], "agent:asha").status == "sent"
    assert len(fake.sent_to(demo[oid]["customer"]["phone"])) == 2
    with svc.sessions() as s:
        log = s.scalars(select(AuditLog).where(AuditLog.action == "resend")).one()
    assert (log.actor, log.entity_id) == ("agent:asha", str(row["id"]))


def test_confirmed_cod_order_asks_for_yes_or_no(stack, demo, fake):
    """An order the store's import moves from placed to confirmed gets its summary and, being COD, YES/NO.

    (A first import is history, not news: only a re-import that moves the order notifies.)"""
    svc, _ = stack
    template = next(r for r in demo.values() if r["customer"]["language"] == "en")
    phone = template["customer"]["phone"]
    svc.conversations.record_inbound(phone, "whatsapp", "hi", sid="SMconfirm-window")
    row = {**template, "order_id": "OL-199001", "status": "placed", "amount": 749.0,
           "payment": {"method": "cod", "status": "pending", "reference": "cod-199001"}}
    row.pop("shipment", None)
    for status in ("placed", "confirmed"):
        report = import_orders(svc.sessions, [{**row, "status": status}], actor="test")
        assert not report.errors, report.errors
    svc.queue.enqueue(dispatch_due)
    run_worker(svc)
    [msg] = [m for m in fake.sent_to(phone) if "OL-199001" in (m["body"] or "")]
    assert "is confirmed" in msg["body"] and "Reply YES to confirm, NO to cancel" in msg["body"], msg["body"]


def test_a_later_etd_from_shiprocket_sends_an_apology_with_the_new_date(stack, demo, fake):
    svc, client = stack
    oid = next(o for o, r in demo.items() if r["status"] == "in_transit" and r["customer"]["language"] == "en"
               and r["shipment"]["expected_date"] <= r["shipment"]["promised_date"])
    phone = demo[oid]["customer"]["phone"]
    svc.conversations.record_inbound(phone, "whatsapp", "hi", sid=f"SMdelay{oid}")
    post(client, event(demo[oid]["shipment"]["awb"], "IN TRANSIT", "28 11 2026 10:45:00", etd="2026-12-09 18:00:00"))
    run_worker(svc)
    [msg] = fake.sent_to(phone)
    assert oid in msg["body"] and "running late" in msg["body"], msg["body"]
    assert "9" in msg["body"] and "Dec" in msg["body"], msg["body"]  # the new date, however it is written
