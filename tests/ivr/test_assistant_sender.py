"""A phone call talks to the assistant in a conversation of its own, never the caller ID's WhatsApp one.

Caller ID can be spoofed: a call sharing the WhatsApp conversation would read and write it (its
verified orders, its ownership tries). The fake Rasa records the sender and metadata of every turn.
"""
from __future__ import annotations

import dataclasses

import pytest

from orderline.demo import demo_phone
from tests.support.ivr_caller import PUBLIC, TWILIO_TOKEN, Keys, Speech
from tests.support.whatsapp import bodies, signed_post, twilio_form

ASHA = demo_phone(0)


@pytest.fixture
def settings(settings, fake_rasa):
    return dataclasses.replace(settings, rasa_url=fake_rasa.base_url, rasa_channel_secret=fake_rasa.secret,
                               rasa_auth_token=fake_rasa.token)


def test_a_voice_turn_and_a_whatsapp_turn_of_one_phone_are_different_conversations(client, caller, demo, fake_rasa):
    bodies(signed_post(client, "/twilio/whatsapp", twilio_form("where is my order", phone=ASHA),
                       token=TWILIO_TOKEN, public=PUBLIC))
    call = caller(ASHA)
    call.call([Speech("where is my order"), Keys("0")])
    whatsapp_turn, voice_turn = fake_rasa.heard()
    assert whatsapp_turn["sender"] == ASHA and whatsapp_turn["metadata"]["channel"] == "whatsapp"
    assert voice_turn["sender"] == f"voice:{call.call_sid}" != ASHA
    # The actions still know the customer: the phone travels in the metadata.
    assert voice_turn["metadata"] == {"channel": "voice", "phone": ASHA, "language": "en",
                                       "caller_attested": True}  # the scripted caller is attested A
    assert fake_rasa.heard(ASHA) == [whatsapp_turn]


def test_each_call_starts_a_conversation_of_its_own(caller, demo, fake_rasa):
    first, second = caller(ASHA), caller(ASHA)
    for call in (first, second):
        call.call([Speech("hello")])
    assert [t["sender"] for t in fake_rasa.heard()] == [f"voice:{first.call_sid}", f"voice:{second.call_sid}"]


def test_a_paused_whatsapp_conversation_neither_mutes_nor_is_touched_by_a_call(caller, demo, fake_rasa):
    """A person owns the WhatsApp conversation in Rasa (paused); the call still gets answers, and
    sends no event (pause, resume) to the WhatsApp conversation."""
    fake_rasa.paused.add(ASHA)
    call = caller(ASHA).call([Speech("where is my order")])
    assert "You said: where is my order" in call.docs[1].text
    assert fake_rasa.events == [] and fake_rasa.paused == {ASHA}
