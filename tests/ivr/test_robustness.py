"""Signatures, failures and after-hours: every answer is valid TwiML with a way to a person."""
from __future__ import annotations

import socket
from dataclasses import replace
from datetime import datetime

import pytest

from orderline.clock import Clock
from orderline.demo import demo_phone
from tests.support.ivr_caller import (PUBLIC, TWILIO_TOKEN, Keys, ScriptedCaller, Silence, flask_transport, validate,
                                      walk)
from tests.support.values import IST
from wiring import create_app
from wiring import Services
from edge.twilio_auth import sign

ASHA = demo_phone(0)
PATHS = ["/twilio/voice", "/twilio/voice/fallback", "/twilio/voice/status", "/twilio/voice/menu",
         "/twilio/voice/silence", "/twilio/voice/hold", "/twilio/voice/agent", "/twilio/voice/agent/pin?try=1"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.mark.parametrize("path", PATHS)
def test_unsigned_or_tampered_requests_get_403(client, path):
    form = {"CallSid": "CA" + "9" * 32, "From": ASHA, "To": "+911140000000", "Digits": "1"}
    assert client.post(path, data=form).status_code == 403
    bad = sign(TWILIO_TOKEN, PUBLIC + path, {**form, "Digits": "2"})  # signed for other values
    assert client.post(path, data=form, headers={"X-Twilio-Signature": bad}).status_code == 403
    good = sign(TWILIO_TOKEN, PUBLIC + path, form)
    assert client.post(path, data=form, headers={"X-Twilio-Signature": good}).status_code == 200


def test_fallback_is_an_apology_and_a_person(caller, demo, services):
    c = caller(ASHA)
    params = {**c.base_params(), "ErrorCode": "11200", "ErrorUrl": PUBLIC + "/twilio/voice"}
    doc = c.request(PUBLIC + "/twilio/voice/fallback", params, "fallback")
    nxt = walk(doc.body, doc.url, iter(()))
    assert nxt.ended == "enqueue" and nxt.queue == "support"
    assert nxt.said[0].text.startswith("Sorry, something went wrong")
    assert {s.language for s in nxt.said} == {"en-IN", "hi-IN"}
    [esc] = services.escalations.list("open")
    assert esc.channel == "voice" and esc.call_sid == c.call_sid


def test_redis_down_still_gives_valid_twiml_and_a_person(settings, clock, demo):
    down = replace(settings, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    svc = Services.build(down, clock)
    try:
        client = create_app(down, svc).test_client()
        c = ScriptedCaller(flask_transport(client), TWILIO_TOKEN, PUBLIC, ASHA)
        call = c.call([])
        assert call.ended == "enqueue" and call.queue == "support"
        assert "Sorry, something went wrong on our side." in call.text
        assert "You are number 2 in the queue" in call.hold.text  # the hold loop needs no Redis
        [esc] = svc.escalations.list("open")
        assert esc.call_sid == c.call_sid and esc.channel == "voice"
        # A mid-call step without its session also ends with a person.
        step = c.request(PUBLIC + "/twilio/voice/menu", {**c.base_params(), "Digits": "1"}, "keypad")
        assert walk(step.body, step.url, iter(())).ended == "enqueue"
    finally:
        svc.engine.dispose()


def test_after_hours_offers_a_callback_and_records_it(settings, demo):
    late = Clock.fixed(datetime(2026, 11, 28, 22, 30, tzinfo=IST))
    svc = Services.build(settings, late)
    try:
        client = create_app(settings, svc).test_client()
        call = ScriptedCaller(flask_transport(client), TWILIO_TOKEN, PUBLIC, ASHA).call([Keys("0"), Keys("1")])
        assert "To get a call back when we open, press 1." in call.docs[1].text
        assert "We will call you back on this number" in call.docs[2].text
        assert call.ended == "hangup"
        [esc] = svc.escalations.list("open")
        assert esc.callback_requested is True and esc.channel == "voice"
    finally:
        svc.engine.dispose()


def test_after_hours_silence_still_ends_with_a_person(settings, demo):
    late = Clock.fixed(datetime(2026, 11, 28, 7, 15, tzinfo=IST))
    svc = Services.build(settings, late)
    try:
        client = create_app(settings, svc).test_client()
        call = ScriptedCaller(flask_transport(client), TWILIO_TOKEN, PUBLIC, ASHA).call(
            [Silence(), Silence(), Silence(), Silence()])
        assert call.ended == "enqueue"
        [esc] = svc.escalations.list("open")
        assert esc.callback_requested is False
    finally:
        svc.engine.dispose()


def test_unknown_call_sid_mid_call_restarts_cleanly(caller, demo):
    c = caller(ASHA)
    doc = c.request(PUBLIC + "/twilio/voice/menu", {**c.base_params(), "Digits": "1"}, "keypad")
    assert "Hello Asha" in " ".join(s.text for s in walk(doc.body, doc.url, iter(())).said)


def test_every_answer_is_valid_twiml(client, caller, demo):
    """The hold loop in Hindi and the dequeue callback are valid too."""
    c = caller(demo_phone(1))
    c.call([Keys("0")])
    params = {**c.base_params(), "QueuePosition": "1"}
    doc = c.request(PUBLIC + "/twilio/voice/hold", params, "hold", wait_url=True)
    validate(doc.body, wait_url=True)
    assert "अगला नंबर आपका है" in doc.body or "next in line" in doc.body
