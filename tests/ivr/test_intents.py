"""Calls store the intent of what the caller asked: keypad choices by the menu, speech by the assistant's parse."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from edge import intents
from orderline.demo import demo_phone
from orderline.models import Message
from tests.support.ivr_caller import Keys, Speech

ASHA = demo_phone(0)


@pytest.fixture
def settings(settings, fake_rasa):
    return dataclasses.replace(settings, rasa_url=fake_rasa.base_url, rasa_channel_secret=fake_rasa.secret,
                               rasa_auth_token=fake_rasa.token)


def voice_inputs(services) -> list[tuple[str, str | None, float | None]]:
    with services.sessions() as session:
        rows = session.scalars(select(Message).where(Message.channel == "voice", Message.direction == "in")
                               .order_by(Message.id)).all()
        return [(m.text, m.intent, m.confidence) for m in rows]


def test_keypad_choices_are_stored_with_the_assistants_intent_names(caller, demo, services):
    caller(ASHA).call([Keys("4"), Keys("8"), Keys("100201#"), Keys("1"), Keys("0")])
    assert voice_inputs(services) == [
        ("[pressed 4: payments]", "payment_query", 1.0),
        ("[pressed 8: another order]", "order_status", 1.0),
        ("[entered order number 100201]", None, None),
        ("[pressed 1: confirmed]", None, None),
        ("[pressed 0: a person]", "human_handoff", 1.0),
    ]


def test_speech_gets_the_assistants_parse_in_the_background(caller, demo, services, fake_rasa):
    call = caller(ASHA).call([Speech("where is my order"), Keys("2")])
    assert "You said: where is my order" in call.docs[1].text
    assert intents.drain()
    assert voice_inputs(services)[:2] == [("where is my order", "order_status", 0.91),
                                          ("[pressed 2: address]", "change_address", 1.0)]
    assert fake_rasa.parse_calls == ["where is my order"]


def test_speech_without_a_parse_still_answers(caller, demo, services, fake_rasa):
    fake_rasa.parse_status = 503
    call = caller(ASHA).call([Speech("where is my order")])
    assert "You said: where is my order" in call.docs[1].text
    assert intents.drain() and fake_rasa.parse_calls == ["where is my order"]
    assert voice_inputs(services)[0] == ("where is my order", None, None)
