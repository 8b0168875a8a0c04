"""The agent line: a PIN, then the longest-waiting caller through <Dial><Queue>."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.support.ivr_caller import PUBLIC, TWILIO_TOKEN, Keys, ScriptedCaller, flask_transport

AGENT_PHONE = "+919888800001"


def agent(client) -> ScriptedCaller:
    return ScriptedCaller(flask_transport(client), TWILIO_TOKEN, PUBLIC, AGENT_PHONE, voice_url="/twilio/voice/agent")


WITH_PIN = pytest.mark.parametrize("extra_settings", [{"agent_line_pin": "4321"}], indirect=True)


@WITH_PIN
def test_right_pin_bridges_to_the_support_queue(client):
    call = agent(client).call([Keys("4321#")])
    assert call.ended == "dial" and call.queue == "support"
    dial = ET.fromstring(call.docs[-1].body).find("Dial")
    assert dial.get("action") == "/twilio/voice/agent/next"


@WITH_PIN
def test_wrong_pin_three_times_hangs_up_without_bridging(client):
    call = agent(client).call([Keys("1111#"), Keys("2222#"), Keys("3333#")])
    assert call.ended == "hangup"
    assert all("<Dial" not in d.body for d in call.docs)
    assert call.docs[1].url.endswith("/agent/pin?try=1") and call.docs[3].url.endswith("/agent/pin?try=3")


def test_agent_line_without_a_pin_configured_refuses(client):
    call = agent(client).call([Keys("#")])
    assert call.ended == "hangup" and "not set up" in call.text
