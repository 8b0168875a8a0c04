"""Attack (or accident): a customer sends a card number, a CVV or a one-time code, written any way.

It is sent through the real front doors (the signed WhatsApp webhook, a scripted phone call, the
order API the assistant's actions call) and must reach none of the stores: what Rasa receives
(the fake Rasa records every turn), the messages transcript, an escalation's note, a CSAT comment
and the NDR words kept for the courier. The patterns themselves: tests/orderline/test_redact.py.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from orderline.models import Conversation, Escalation, Message, NdrAction, OrderFeedback
from tests.support.ivr_caller import Keys, ScriptedCaller, Speech, flask_transport
from tests.support.notices import sent
from tests.support.values import demo_id
from tests.support.whatsapp import PHONE, PUBLIC, TOKEN, bodies, signed_post, tuned, twilio_form

CARD = "4012888888881881"  # a Visa test number: Luhn-valid
WRITTEN = {
    "dots": "4012.8888.8888.1881",
    "slashes": "4012/8888/8888/1881",
    "newlines": "4012\n8888\n8888\n1881",
    "mixed whitespace": "4012 \t8888\r\n8888  1881",
    "dashes": "4012-8888-8888-1881",
    "one run": CARD,
}


def leaks(text: str) -> bool:
    """Any run of the card's digits long enough to matter, whatever separates them."""
    digits = re.sub(r"\D", "", text or "")
    return any(CARD[i:i + 8] in digits for i in range(len(CARD) - 7))


@pytest.fixture
def settings(settings, fake_rasa):
    return tuned(settings, rasa_url=fake_rasa.base_url, twilio_auth_token=TOKEN, public_base_url=PUBLIC)


def whatsapp(client, body: str, phone: str = PHONE):
    return bodies(signed_post(client, "/twilio/whatsapp", twilio_form(body, phone=phone)))


def transcript(services, phone: str) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(Message.text).join(Conversation).where(Conversation.phone == phone)))


def escalation_notes(services) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(Escalation.note)))


@pytest.mark.parametrize("written", WRITTEN.values(), ids=WRITTEN.keys())
def test_a_card_on_whatsapp_reaches_neither_rasa_nor_the_transcript(client, services, fake_rasa, written):
    whatsapp(client, f"refund to my card {written} please")
    [turn] = fake_rasa.heard()
    assert "[card redacted]" in turn["message"] and not leaks(turn["message"])
    assert turn["message"].startswith("refund to my card") and turn["message"].endswith("please")
    texts = transcript(services, PHONE)
    assert len(texts) >= 2 and not any(leaks(t) for t in texts)  # the customer's message and the echo


@pytest.mark.parametrize("said, secret", [("my cvv number is 123", "123"), ("cvv no. 4567", "4567"),
                                          ("otp 1 2 3 4 5 6", "1 2 3 4 5 6"), ("OTP is 12 34 56", "12 34 56")])
def test_cvvs_and_spaced_one_time_codes_are_redacted_before_rasa(client, services, fake_rasa, said, secret):
    whatsapp(client, said)
    [turn] = fake_rasa.heard()
    assert secret not in turn["message"] and "[redacted]" in turn["message"]
    assert not any(secret in t for t in transcript(services, PHONE))


def test_a_card_read_out_on_the_phone_reaches_no_store(client, services, fake_rasa):
    caller = ScriptedCaller(flask_transport(client), TOKEN, PUBLIC, PHONE)
    call = caller.call([Speech("my card number is 4012 8888 8888 1881"), Keys("0")])
    assert call.ended == "enqueue"
    [turn] = fake_rasa.heard()
    assert "[card redacted]" in turn["message"] and not leaks(turn["message"])
    assert not any(leaks(t) for t in transcript(services, PHONE))
    [note] = escalation_notes(services)  # the call's turn log goes to the agent
    assert "caller: my card number is [card redacted]" in note and not leaks(note)


def test_a_card_keyed_in_as_an_order_number_reaches_no_store(client, services, fake_rasa):
    caller = ScriptedCaller(flask_transport(client), TOKEN, PUBLIC, PHONE)
    call = caller.call([Keys("1"), Keys(CARD + "#")])
    assert "Sorry, I didn't catch that" in call.docs[2].text, call.docs[2].text  # not taken for an order number
    texts = transcript(services, PHONE)
    assert any("pressed 1" in t for t in texts) and not any(leaks(t) for t in texts)


def test_a_card_in_a_csat_comment_reaches_neither_the_comment_nor_the_escalation(client, services, demo):
    oid = demo_id(demo, "delivered")
    phone = demo[oid]["customer"]["phone"]
    sent(services, oid, "delivered")
    whatsapp(client, "1 you charged my card 4012.8888.8888.1881 twice", phone=phone)
    with services.sessions() as session:
        [comment] = session.scalars(select(OrderFeedback.comment).where(OrderFeedback.kind == "csat"))
    assert comment == "you charged my card [card redacted] twice"
    [note] = escalation_notes(services)
    assert note == "CSAT 1/5: you charged my card [card redacted] twice"
    assert not any(leaks(t) for t in transcript(services, phone))


def test_a_card_in_an_escalation_note_through_the_api_is_redacted(client, services, auth):
    """What an action sends when it hands off ("customer: <their words>"), or any holder of the token."""
    resp = client.post("/api/v1/escalations", headers=auth,
                       json={"phone": PHONE, "note": "customer: card 4012/8888/8888/1881 cvv number is 123"})
    assert resp.status_code == 201
    assert resp.get_json()["escalation"]["note"] == "customer: card [card redacted] cvv number is [redacted]"
    assert not any(leaks(n) or "123" in n for n in escalation_notes(services))


def test_a_card_in_ndr_words_through_the_api_is_redacted(client, services, demo, auth):
    """The NDR answer the assistant records for the courier quotes the customer's words."""
    oid = demo_id(demo, "delivery_failed")
    resp = client.post(f"/api/v1/orders/{oid}/ndr", headers=auth, json={
        "action": "update_details", "details": "landmark: near the temple, card 4012 8888 8888 1881",
        "customer_words": "landmark near the temple\n4012\n8888\n8888\n1881", "channel": "whatsapp"})
    assert resp.status_code == 201, resp.get_json()
    with services.sessions() as session:
        [ndr] = session.scalars(select(NdrAction))
    assert ndr.details == "landmark: near the temple, card [card redacted]"
    assert ndr.customer_words == "landmark near the temple\n[card redacted]"
