"""The courier-request outbox on SQLite and PostgreSQL, against the fake Shiprocket server.

Rows are written by the domain operations in the order change's own transaction; the outbox
sends each through the real Shiprocket client (couriers/shiprocket_api.py) to a local fake.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from orderline.clock import Clock
from orderline.courier_outbox import NO_ACCOUNT, CourierOutbox, marker
from orderline.errors import CancelNotAllowed
from orderline.models import CourierRequest, Escalation, Message, Order
from orderline.settings import replace_settings
from tests.support.fake_shiprocket import EMAIL, PASSWORD, FakeShiprocket
from tests.support.values import NOW, demo_id
from wiring import Services, worker

ADDRESS = {"line1": "12 Residency Road", "line2": "Apt 504", "landmark": "Near signal",
           "city": "Bengaluru", "state": "Karnataka", "pincode": "560025"}
REATTEMPT_ON = (NOW + timedelta(days=2)).date().isoformat()


@pytest.fixture
def fake():
    server = FakeShiprocket()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sr(settings, clock, fake):
    """Services with a Shiprocket API user pointed at the fake, and a short client timeout."""
    svc = Services.build(replace_settings(settings, shiprocket_api_base_url=fake.base_url,
                                          shiprocket_api_email=EMAIL, shiprocket_api_password=PASSWORD), clock)
    svc.shiprocket_api.timeout = (2.0, 1.0)
    yield svc
    svc.engine.dispose()


def rows(svc: Services, order_id: str) -> list[CourierRequest]:
    with svc.sessions() as s:
        return list(s.scalars(select(CourierRequest).join(Order).where(Order.order_id == order_id)
                              .order_by(CourierRequest.id)))


def ndr_order(svc: Services, demo: dict, fake: FakeShiprocket) -> tuple[str, str]:
    oid = demo_id(demo, "delivery_failed")
    awb = demo[oid]["shipment"]["awb"]
    fake.add_order(oid, awb)
    return oid, awb


def reattempt(svc: Services, oid: str, sid: str = "SM" + "a" * 32) -> CourierRequest:
    svc.orders.record_ndr(oid, {"action": "reattempt", "date": REATTEMPT_ON, "channel": "whatsapp",
                                "message_sid": sid, "customer_words": "kal aana please"}, actor="customer")
    return rows(svc, oid)[-1]


def later(svc: Services, minutes: int) -> CourierOutbox:
    """The same outbox, `minutes` later (a lease has run out)."""
    out = svc.courier_outbox
    return CourierOutbox(out.factory, Clock.fixed(NOW + timedelta(minutes=minutes)), out.courier, out.messenger,
                         out.escalations, out.lease)


def test_each_domain_change_writes_its_request_in_the_same_transaction(sr, demo, fake):
    placed = demo_id(demo, "placed")
    sr.orders.change_address(placed, ADDRESS, actor="agent:asha")
    sr.orders.cancel(placed, "ordered twice", actor="customer")
    oid, awb = ndr_order(sr, demo, fake)
    req = reattempt(sr, oid)
    kinds = [(r.kind, r.status, r.actor) for r in rows(sr, placed)]
    assert kinds == [("address", "requested", "agent:asha"), ("cancel", "requested", "customer")]
    assert rows(sr, placed)[0].payload["address"]["pincode"] == "560025"
    assert (req.kind, req.awb, req.courier, req.payload["date"]) == ("reattempt", awb, demo[oid]["shipment"]["courier"],
                                                                    REATTEMPT_ON)
    # A refused change writes nothing: the request and the change share one transaction.
    with pytest.raises(CancelNotAllowed):
        sr.orders.cancel(oid, "too late")
    assert [r.kind for r in rows(sr, oid)] == ["reattempt"]


def test_reattempt_reaches_shiprocket_with_the_customers_words_and_is_accepted(sr, demo, fake):
    oid, awb = ndr_order(sr, demo, fake)
    req = reattempt(sr, oid)
    with worker.bound(sr):
        assert worker.send_courier_request(req.id) == "accepted"
    (call,) = fake.calls_to("ndr_action")
    assert call["path"] == f"/v1/external/ndr/{awb}/action"
    assert call["body"]["action"] == "re-attempt"
    comments = call["body"]["comments"]
    assert REATTEMPT_ON in comments and "kal aana please" in comments and "SM" + "a" * 32 in comments
    assert marker(req.id) in comments
    assert rows(sr, oid)[-1].status == "accepted"
    # Sent once: running the job again (a duplicate job) sends nothing.
    with worker.bound(sr):
        assert worker.send_courier_request(req.id) == "not_claimed"
    assert len(fake.calls_to("ndr_action")) == 1


def test_return_is_the_ndr_return_action(sr, demo, fake):
    oid, awb = ndr_order(sr, demo, fake)
    sr.orders.record_ndr(oid, {"action": "return", "customer_words": "I don't want it any more"})
    req = rows(sr, oid)[-1]
    assert req.kind == "return"
    assert sr.courier_outbox.process(req.id).status == "accepted"
    assert fake.calls_to("ndr_action")[0]["body"]["action"] == "return"


def test_cancel_looks_up_shiprocket_order_id_once_and_remembers_it(sr, demo, fake):
    first, second = demo_id(demo, "placed"), demo_id(demo, "confirmed")
    sr_id = fake.add_order(first)
    fake.add_order(second)
    sr.orders.change_address(first, ADDRESS)
    sr.orders.cancel(first, "changed my mind")
    address, cancel = rows(sr, first)
    assert sr.courier_outbox.process(address.id).status == "accepted"
    assert sr.courier_outbox.process(cancel.id).status == "accepted"
    assert len(fake.calls_to("search")) == 1  # the second request used the remembered id
    assert fake.calls_to("cancel")[0]["body"] == {"ids": [sr_id]}
    body = fake.calls_to("address")[0]["body"]
    assert body["order_id"] == sr_id and body["shipping_pincode"] == 560025 and body["shipping_city"] == "Bengaluru"
    assert [r.external_order_id for r in rows(sr, first)] == [str(sr_id), str(sr_id)]


def test_order_unknown_at_shiprocket_is_not_sent_and_nobody_is_bothered(sr, demo, fake):
    oid = demo_id(demo, "placed")
    sr.orders.cancel(oid)
    req = rows(sr, oid)[-1]
    assert sr.courier_outbox.process(req.id).status == "not_sent"
    assert fake.calls_to("cancel") == []
    with sr.sessions() as s:
        assert s.scalar(select(Escalation.id)) is None


def test_without_credentials_requests_are_recorded_as_not_sent(services, demo):
    assert services.shiprocket_api is None
    oid = demo_id(demo, "placed")
    order = services.orders.cancel(oid)
    assert order.status == "cancelled"  # the flow still works
    req = rows(services, oid)[-1]
    assert services.courier_outbox.process(req.id).status == "not_sent"
    assert rows(services, oid)[-1].reason == NO_ACCOUNT


def test_refusal_keeps_shiprocket_reason_tells_the_customer_and_opens_an_escalation(sr, demo, fake):
    oid, _ = ndr_order(sr, demo, fake)
    req = reattempt(sr, oid)
    fake.fail_next("ndr_action", 422, {"message": "Oops! Invalid Data.",
                                       "errors": {"awb": ["NDR action already taken for this attempt."]},
                                       "status_code": 422})
    assert sr.courier_outbox.process(req.id).status == "refused"
    (row,) = rows(sr, oid)
    assert row.status == "refused" and "NDR action already taken" in row.reason and row.followed_up_at
    phone = demo[oid]["customer"]["phone"]
    with sr.sessions() as s:
        esc = s.scalars(select(Escalation)).one()
        texts = [m.text for m in s.scalars(select(Message).where(Message.author == "system"))]
    assert esc.order_id == oid and esc.reason == "delivery" and "NDR action already taken" in esc.note
    assert len(texts) == 1 and oid in texts[0]
    assert sr.conversations.state(phone) == "waiting_for_agent"
    # The follow-up is claimed once: asking again sends nothing more.
    assert sr.courier_outbox.follow_up(req.id) is False


def test_server_errors_retry_with_backoff_then_fail_and_follow_up(sr, demo, fake):
    placed = demo_id(demo, "placed")
    fake.add_order(placed)
    sr.orders.cancel(placed)
    req = rows(sr, placed)[-1]
    fake.fail_next("cancel", 500, {"message": "Trying to get property of non-object", "status_code": 500}, times=10)
    outcome = sr.courier_outbox.process(req.id)
    assert outcome.status == "retrying" and outcome.retry_in == 30
    assert sr.courier_outbox.process(req.id).status == "not_claimed"  # not due before the backoff
    minutes = 0
    statuses = []
    for _ in range(5):
        minutes += 120
        statuses.append(later(sr, minutes).process(req.id).status)
    assert statuses == ["retrying"] * 4 + ["failed"]
    row = rows(sr, placed)[-1]
    assert row.attempts == 6 and "gave up after 6 attempts" in row.reason and "HTTP 500" in row.reason
    with sr.sessions() as s:
        assert s.scalars(select(Escalation)).one().order_id == placed


def test_timeout_is_never_resent_but_confirmed_from_shiprocket_history(sr, demo, fake):
    oid, awb = ndr_order(sr, demo, fake)
    req = reattempt(sr, oid)
    fake.delay_next("ndr_action", 2.0)  # applied, but the answer comes after the client gave up
    assert sr.courier_outbox.process(req.id).status == "retrying"
    assert rows(sr, oid)[-1].uncertain is True
    deadline = time.time() + 10
    while not fake.ndr_history[awb] and time.time() < deadline:  # Shiprocket finishes applying it
        time.sleep(0.05)
    assert later(sr, 5).process(req.id).status == "accepted"
    assert len(fake.calls_to("ndr_action")) == 1
    assert len(fake.calls_to("ndr")) == 1  # asked instead of sending again


def test_a_worker_that_died_mid_send_is_recovered_without_a_second_reattempt(sr, demo, fake):
    oid, _ = ndr_order(sr, demo, fake)
    req = reattempt(sr, oid)
    assert sr.courier_outbox.claim(req.id)  # a worker claimed it and died (whether or not it sent)
    assert sr.courier_outbox.process(req.id).status == "not_claimed"  # still under its lease
    assert later(sr, 5).process(req.id).status == "failed"  # not in Shiprocket's history: never resent
    assert fake.calls_to("ndr_action") == []
    row = rows(sr, oid)[-1]
    assert row.uncertain and "check by hand" in row.reason
    with sr.sessions() as s:
        assert "check by hand" in s.scalars(select(Escalation)).one().note


def test_an_abandoned_cancel_is_simply_sent_again(sr, demo, fake):
    placed = demo_id(demo, "placed")
    fake.add_order(placed)
    sr.orders.cancel(placed)
    req = rows(sr, placed)[-1]
    assert sr.courier_outbox.claim(req.id)
    assert later(sr, 5).process(req.id).status == "accepted"
    assert len(fake.calls_to("cancel")) == 1


def test_sweep_finds_lost_jobs_and_the_console_reads_states(sr, demo, fake):
    oid, _ = ndr_order(sr, demo, fake)
    req = reattempt(sr, oid)
    assert sr.courier_outbox.due() == [req.id]
    sr.courier_outbox.process(req.id)
    assert sr.courier_outbox.due() == []
    (shown,) = sr.courier_outbox.for_order(oid)
    assert shown["status"] == "accepted" and shown["label"] == "delivery reattempt"
    assert sr.courier_outbox.counts() == {"accepted": 1}


def test_rescheduling_a_failed_delivery_is_a_reattempt_request_but_a_plain_reschedule_is_not(sr, demo, fake):
    oid, _ = ndr_order(sr, demo, fake)
    sr.orders.reschedule(oid, REATTEMPT_ON, "evening", actor="ivr")
    (req,) = rows(sr, oid)
    assert (req.kind, req.payload, req.actor) == ("reattempt", {"date": REATTEMPT_ON, "slot": "evening"}, "ivr")
    in_transit = demo_id(demo, "out_for_delivery")
    sr.orders.reschedule(in_transit, REATTEMPT_ON, "morning")
    assert rows(sr, in_transit) == []  # Shiprocket has no call for it: nothing is claimed to be sent
