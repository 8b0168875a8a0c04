"""What the customer asks on WhatsApp reaches Shiprocket, through the whole running product.

Signed Twilio webhooks go to the running app; the real Rasa and action server call the order API;
the domain operation writes a courier request; a worker process sends it to the fake Shiprocket
server (tests/support/fake_shiprocket.py), which records every call.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from orderline.clock import Clock
from orderline.courier_outbox import CourierOutbox, marker
from orderline.models import CourierRequest, Escalation, Order
from orderline.notifications import queue_notification
from orderline.orders import in_transaction
from orderline.settings import ROOT
from tests.bot.test_live import turn


@pytest.fixture
def live(live_stack):
    assert live_stack.shiprocket is not None
    return live_stack


def latest_request(stack, oid: str) -> CourierRequest:
    with stack.services.sessions() as session:
        return session.scalars(select(CourierRequest).join(Order).where(Order.order_id == oid)
                               .order_by(CourierRequest.id.desc())).first()


def after_lease(stack) -> CourierOutbox:
    """The stack's outbox as the periodic sweep sees it once a dead worker's lease has run out."""
    out = stack.services.courier_outbox
    later = Clock(out.clock.tz, lambda: datetime.now(timezone.utc) + out.lease + timedelta(seconds=5))
    return CourierOutbox(out.factory, later, out.courier, out.messenger, out.escalations, out.lease)


def worker_process(stack, request_id: int) -> subprocess.Popen:
    """A separate worker process running the job, configured from the environment like the Procfile's."""
    s = stack.settings
    env = {**os.environ, "ORDERLINE_ENV": "development", "DATABASE_URL": s.database_url, "REDIS_URL": s.redis_url,
           "SHIPROCKET_API_BASE_URL": s.shiprocket_api_base_url, "SHIPROCKET_API_EMAIL": s.shiprocket_api_email,
           "SHIPROCKET_API_PASSWORD": s.shiprocket_api_password, "TWILIO_ACCOUNT_SID": ""}
    code = f"from wiring import worker; print(worker.send_courier_request({request_id}))"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def mine(calls: list[dict], request_id: int) -> list[dict]:
    return [c for c in calls if marker(request_id) in c["body"].get("comments", "")]


def test_whatsapp_reattempt_reaches_shiprocket_once_even_when_the_worker_dies_after_sending(live):
    oid, phone = "OL-100361", "+919000000014"  # demo: delivery failed with Delhivery, Hinglish
    order = live.services.orders.get(oid)
    awb = order.shipment.awb
    live.shiprocket.add_order(oid, awb)
    turn(live, phone, "mera order kahan hai")  # the customer has written: WhatsApp's window is open

    def queue(session):
        row = session.scalars(select(Order).where(Order.order_id == oid)).one()
        note = queue_notification(session, row, "delivery_failed", live.services.clock.now())
        session.flush()
        return note.id if note else None
    note_id = in_transaction(live.services.sessions, queue)
    if note_id:
        live.services.notifier.process(note_id)
    turn(live, phone, "1")
    booked = turn(live, phone, "kal")
    assert "Delhivery" in booked and "request" in booked.lower(), booked
    assert "ho gaya" not in booked.lower(), booked

    req = latest_request(live, oid)
    assert (req.kind, req.status, req.awb) == ("reattempt", "requested", awb)

    # A worker sends it; Shiprocket records the call; the worker is killed before it reads the answer.
    live.shiprocket.hold_next("ndr_action")
    proc = worker_process(live, req.id)
    try:
        sent = live.shiprocket.wait_for("ndr_action", 1 + len(live.shiprocket.calls_to("ndr_action")), timeout=60)
        assert mine(sent, req.id), sent
    finally:
        proc.kill()
        proc.wait(10)
    live.shiprocket.release()  # Shiprocket finishes applying what it received
    assert latest_request(live, oid).status == "sending"

    # Any number of later runs: the duplicate job, the sweep after the lease.
    assert live.services.courier_outbox.process(req.id).status == "not_claimed"
    assert after_lease(live).process(req.id).status == "accepted"
    assert after_lease(live).process(req.id).status == "not_claimed"

    calls = mine(live.shiprocket.calls_to("ndr_action"), req.id)
    assert len(calls) == 1
    assert calls[0]["path"] == f"/v1/external/ndr/{awb}/action" and calls[0]["body"]["action"] == "re-attempt"
    tomorrow = (live.services.clock.today() + timedelta(days=1)).isoformat()
    assert tomorrow in calls[0]["body"]["comments"] and "kal" in calls[0]["body"]["comments"]
    assert latest_request(live, oid).status == "accepted"


def test_whatsapp_cancel_reaches_shiprocket_orders_cancel(live):
    oid, phone = "OL-100281", "+919000000007"  # demo: placed, English
    sr_id = live.shiprocket.add_order(oid)
    turn(live, phone, f"please cancel my order {oid}")
    done = turn(live, phone, "yes")
    assert "cancel" in done.lower() and "requested" in done.lower(), done
    req = latest_request(live, oid)
    assert req.kind == "cancel"
    before = len(live.shiprocket.calls_to("cancel"))
    assert live.services.courier_outbox.process(req.id).status == "accepted"
    calls = live.shiprocket.calls_to("cancel")[before:]
    assert [c["body"] for c in calls] == [{"ids": [sr_id]}]


def test_refusal_sends_the_customer_a_follow_up_and_opens_an_escalation(live):
    oid, phone = "OL-100527", "+919000000012"  # demo: confirmed, English
    live.shiprocket.add_order(oid)
    turn(live, phone, f"cancel order {oid}")
    turn(live, phone, "yes")
    req = latest_request(live, oid)
    assert req.kind == "cancel"
    live.shiprocket.fail_next("cancel", 422, {"message": "Oops! Invalid Data.",
                                              "errors": {"ids": ["Order already picked up, cannot be cancelled."]},
                                              "status_code": 422})
    before = len(live.fake.sent_to(phone))
    assert live.services.courier_outbox.process(req.id).status == "refused"
    follow_up = live.fake.wait_for(phone, before + 1)[before:]
    assert follow_up and "Sorry" in follow_up[-1]["body"] and oid in follow_up[-1]["body"], follow_up
    with live.services.sessions() as session:
        esc = session.scalars(select(Escalation).where(Escalation.order_id == oid)).one()
    assert esc.status == "open" and "already picked up" in esc.note
    assert live.services.conversations.state(phone) == "waiting_for_agent"
