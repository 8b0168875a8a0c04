"""After a hand-back Rasa did not accept (it was down), the customer is still answered: the front door
un-pauses before forwarding, and a job retries the un-pause until Rasa accepts. Through the signed
webhook, the real DB and Redis, an in-process RQ worker, and the fake Rasa stopped and restarted."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from rq.registry import ScheduledJobRegistry

from bot import routing
from orderline.handback import mark_key
from tests.support.whatsapp import PHONE
from tests.support.fake_rasa import resume_events
from orderline.escalations import OpenEscalation
from tests.support.agents import add_agent


def bodies(resp) -> list[str]:
    assert resp.status_code == 200, resp.data
    return [(m.find("Body").text if m.find("Body") is not None else m.text) or ""
            for m in ET.fromstring(resp.data)]


@pytest.fixture
def handed_back_while_rasa_was_down(whatsapp, services, fake_rasa):
    """The customer asked for a person (Rasa paused them); a person handed back while Rasa was down."""
    whatsapp("hi")
    fake_rasa.paused.add(PHONE)  # what the handoff action's ConversationPaused does
    esc, _ = services.escalations.open(OpenEscalation(PHONE, reason="general", channel="whatsapp"))
    agent_id = add_agent(services.sessions)
    services.escalations.claim(esc.id, agent_id)
    fake_rasa.stop()
    _, resumed = services.handback.resolve(esc.id, agent_id, "handed_back")
    assert not resumed and services.conversations.state(PHONE) == "bot"
    assert services.redis.exists(mark_key(PHONE))
    return esc


def test_next_message_after_rasa_restarts_is_answered(whatsapp, services, fake_rasa, handed_back_while_rasa_was_down):
    fake_rasa.restart()
    assert bodies(whatsapp("where is my order")) == ["You said: where is my order"]
    assert fake_rasa.events == resume_events(PHONE) and fake_rasa.paused == set()
    assert not services.redis.exists(mark_key(PHONE))


def test_the_retry_job_un_pauses_once_rasa_is_back(whatsapp, services, fake_rasa, worker,
                                                   handed_back_while_rasa_was_down):
    [job_id] = ScheduledJobRegistry(queue=services.queue).get_job_ids()  # in 5 s
    worker.release_scheduled(services)
    [job] = worker.run(services)
    assert job.id == job_id and job.return_value() == "retrying"  # Rasa still down: scheduled again
    fake_rasa.restart()
    worker.release_scheduled(services)
    [job] = worker.run(services)
    assert job.return_value() == "resumed" and fake_rasa.paused == set()
    assert ScheduledJobRegistry(queue=services.queue).get_job_ids() == []  # no more retries
    assert bodies(whatsapp("where is my order")) == ["You said: where is my order"]
    assert fake_rasa.events == resume_events(PHONE)  # once: the front door had nothing to do


def test_a_message_while_rasa_is_still_down_is_answered_by_the_background_turn(
        whatsapp, services, fake_rasa, fake_twilio, worker, handed_back_while_rasa_was_down):
    assert bodies(whatsapp("where is my order")) == [routing.HOLDING]
    fake_rasa.restart()
    [job] = worker.run(services)  # the background turn, not the (scheduled) retry
    assert job.return_value() == "answered"
    assert [m["body"] for m in fake_twilio.wait_for(PHONE, 1)] == ["You said: where is my order"]
    assert fake_rasa.paused == set()


def test_a_paused_tracker_without_a_mark_is_un_paused_and_asked_again(whatsapp, services, fake_rasa):
    fake_rasa.paused.add(PHONE)  # e.g. the app's Redis lost the mark, or the handoff could not be recorded
    assert bodies(whatsapp("where is my order")) == ["You said: where is my order"]
    assert [c["message"] for c in fake_rasa.heard(PHONE)] == ["where is my order"] * 2
    assert fake_rasa.events == resume_events(PHONE)


def test_an_empty_answer_from_an_unpaused_rasa_is_left_alone(whatsapp, services, fake_rasa):
    fake_rasa.reply = lambda body: []
    assert bodies(whatsapp("ok")) == []
    assert len(fake_rasa.heard(PHONE)) == 1 and fake_rasa.events == []
