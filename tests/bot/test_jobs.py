"""The periodic "no agent yet" check, run by a real RQ worker on the real Redis."""
from __future__ import annotations

from datetime import timedelta

import pytest

from wiring.worker import check_waiting_escalations
from orderline.clock import Clock
from orderline.models import Agent
from tests.support.values import NOW
from tests.support.whatsapp import PHONE
from wiring import Services
from orderline.escalations import OpenEscalation

OTHER = "+919000000005"


@pytest.fixture
def later(settings):
    """The same app, `minutes` after the test clock, as the worker would see it."""
    built = []

    def at(minutes: float) -> Services:
        svc = Services.build(settings, Clock.fixed(NOW + timedelta(minutes=minutes)))
        built.append(svc)
        return svc

    yield at
    for svc in built:
        svc.engine.dispose()


def ask_for_person(services, phone, sid):
    services.conversations.record_inbound(phone, "whatsapp", "I need a person", sid=sid)
    esc, _ = services.escalations.open(OpenEscalation(phone, reason="delivery", channel="whatsapp"))
    return esc


def test_customer_told_once_when_no_agent_in_n_minutes(services, later, fake_twilio, worker):
    ask_for_person(services, PHONE, "SMwait1")
    ask_for_person(later(6), OTHER, "SMwait2")  # asked 6 minutes after the first customer

    services.queue.enqueue(check_waiting_escalations)
    [job] = worker.run(later(9))
    assert job.return_value() == 0 and fake_twilio.sent_to(PHONE) == []

    services.queue.enqueue(check_waiting_escalations)
    [job] = worker.run(later(11))
    assert job.return_value() == 1
    [note] = fake_twilio.wait_for(PHONE, 1)
    assert note["body"].startswith("Sorry for the wait") and "reply here" in note["body"]
    assert fake_twilio.sent_to(OTHER) == []

    services.queue.enqueue(check_waiting_escalations)
    [again] = worker.run(later(30))
    assert again.return_value() == 1  # only the second customer is new
    assert len(fake_twilio.sent_to(PHONE)) == 1 and len(fake_twilio.sent_to(OTHER)) == 1
    statuses = {e.phone: e.status for e in services.escalations.list("open")}
    assert statuses == {PHONE: "open", OTHER: "open"}  # told, not closed


def test_outside_business_hours_the_note_says_when(services, later, fake_twilio, worker):
    ask_for_person(later(11 * 60), PHONE, "SMlate")  # 22:00 IST
    services.queue.enqueue(check_waiting_escalations)
    [job] = worker.run(later(11 * 60 + 15))
    assert job.return_value() == 1
    [note] = fake_twilio.wait_for(PHONE, 1)
    assert "09:00–21:00 IST" in note["body"] and "after 09:00 tomorrow" in note["body"]


def test_claimed_escalations_are_not_nagged(services, later, fake_twilio, worker):
    esc = ask_for_person(services, PHONE, "SMclaimed")
    with services.sessions() as s:
        s.add(Agent(name="meera", password_hash="x"))
        s.commit()
        agent_id = s.query(Agent.id).scalar()
    services.escalations.claim(esc.id, agent_id)
    services.queue.enqueue(check_waiting_escalations)
    [job] = worker.run(later(60))
    assert job.return_value() == 0 and fake_twilio.sent_to(PHONE) == []
