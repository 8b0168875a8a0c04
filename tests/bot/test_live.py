"""WhatsApp turns through the real app, the real Rasa with the trained model and the action server.

Each message is a signed Twilio webhook posted over HTTP to the running app (live_stack).
"""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import pytest
import requests

from bot import routing
from tests.support.live_stack import TWILIO_TOKEN
from web.twilio_auth import sign


@pytest.fixture
def live(live_stack):
    # The live stack waits up to 30 s for Rasa inline: a cold Rasa on a busy 2-core machine can
    # exceed the 5 s default; this suite checks what the assistant answers, and the holding path
    # is covered in test_whatsapp.
    assert live_stack.settings.rasa_timeout >= 30
    return live_stack


def turn(stack, phone: str, text: str) -> str:
    sid = "SM" + uuid.uuid4().hex
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Test", "MessageType": "text", "SmsSid": sid,
            "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": text, "To": "whatsapp:+14155238886",
            "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid, "AccountSid": stack.settings.twilio_account_sid,
            "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}
    signature = sign(TWILIO_TOKEN, stack.settings.public_base_url + "/twilio/whatsapp", form)
    resp = requests.post(stack.app_url + "/twilio/whatsapp", data=form, timeout=60,
                         headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 200, resp.text
    messages = [m.text or "" for m in ET.fromstring(resp.content)]
    reply = "\n".join(messages)
    assert reply and reply not in (routing.HOLDING, routing.APOLOGY), reply
    return reply


def test_english_status_question_is_answered_from_the_order(live):
    reply = turn(live, "+919000000003", "where is my order")
    assert "100241" in reply, reply
    assert "out for delivery" in reply.lower(), reply


def test_hinglish_status_question_is_answered_from_the_order(live):
    reply = turn(live, "+919000000002", "mera order kab aayega")
    assert "100231" in reply, reply


def test_stranger_gets_no_data_about_someone_elses_order(live):
    reply = turn(live, "+919000000099", "where is my order OL-100241")
    lowered = reply.lower()
    for secret in ("delhivery", "7700031676", "1397", "1,397", "park street", "700016", "kolkata", "priya",
                   "water bottle", "t-shirt", "out for delivery"):
        assert secret not in lowered, (secret, reply)
