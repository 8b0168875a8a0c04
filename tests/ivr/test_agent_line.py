"""The agent line: a PIN, then the longest-waiting caller through <Dial><Queue>.
Guessing the PIN across calls, lockout and the allow-list are attacks: tests/security/test_agent_pin.py."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.support.ivr_caller import PUBLIC, TWILIO_TOKEN, Keys, ScriptedCaller, flask_transport

AGENT_PHONE = "+919888800001"


def agent(client) -> ScriptedCaller:
    return ScriptedCaller(flask_transport(client), TWILIO_TOKEN, PUBLIC, AGENT_PHONE, voice_url="/twilio/voice/agent")


WITH_PIN = pytest.mark.parametrize("extra_settings", [{"agent_line_pin": "492817"}], indirect=True)


@WITH_PIN
def test_right_pin_bridges_to_the_support_queue(client):
    call = agent(client).call([Keys("492817#")])
    assert call.ended == "dial" and call.queue == "support"
    dial = ET.fromstring(call.docs[-1].body).find("Dial")
    assert dial.get("action") == "/twilio/voice/agent/next"


@WITH_PIN
def test_a_wrong_pin_is_asked_again_and_the_right_one_then_bridges(client):
    call = agent(client).call([Keys("111111#"), Keys("492817#")])
    assert call.ended == "dial" and "That PIN is not right." in call.docs[1].text


@WITH_PIN
def test_wrong_pin_three_times_hangs_up_without_bridging(client):
    call = agent(client).call([Keys("111111#"), Keys("222222#"), Keys("333333#")])
    assert call.ended == "hangup"
    assert all("<Dial" not in d.body for d in call.docs)
    assert [d.url.rsplit("/", 2)[-1] for d in call.docs[1:4]] == ["pin"] * 3  # no try counter in the URL


def test_agent_line_without_a_pin_configured_refuses(client):
    call = agent(client).call([Keys("#")])
    assert call.ended == "hangup" and "not set up" in call.text


@pytest.mark.parametrize("extra_settings", [{"agent_line_pin": "4321"}, {"agent_line_pin": "12345x"},
                                            {"agent_line_pin": "492817", "agent_line_allowed_numbers": "98888 00001"}],
                         indirect=True)
def test_in_development_an_unusable_setting_turns_the_line_off_with_one_log_line(client, caplog, extra_settings):
    call = agent(client).call([Keys("4321#")])
    assert call.ended == "hangup" and "not set up" in call.text
    wanted = "AGENT_LINE_ALLOWED_NUMBERS" if "agent_line_allowed_numbers" in extra_settings else "AGENT_LINE_PIN"
    built = caplog.get_records("setup")  # logged once, as the app is built
    assert [r.getMessage() for r in built if "agent line" in r.getMessage()][0].startswith(
        "the agent line is off: " + wanted)
