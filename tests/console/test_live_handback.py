"""Hand-back against the real assistant: the console's `resume` un-mutes a Rasa tracker that the
handoff action paused, also when Rasa was down at hand-back. The customer talks over signed
WhatsApp webhooks to the running app (live_stack: app + Rasa with the trained model + action
server + fake Twilio); the agent uses the console over HTTP like a browser would (session
cookie, CSRF token)."""
from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests

from bot import routing
from console.actions import active_escalation
from console.agents import create_agent
from tests.support.live_stack import TWILIO_TOKEN
from edge.twilio_auth import sign

PHONE = "+919000000011"
RESTART_PHONE = "+919000000005"  # a customer of their own: the stack and its trackers live for the session
FALLBACK = "Sorry, I didn't get that"  # utter_default


@pytest.fixture
def stack(live_stack, monkeypatch):
    # A cold Rasa on a busy 2-core machine can be slower than the 5 s inline budget.
    monkeypatch.setenv("RASA_TIMEOUT", "30")
    return live_stack


def whatsapp(stack, text: str, phone: str = PHONE) -> list[str]:
    """One signed customer message; the bot's inline TwiML answers."""
    sid = "SM" + uuid.uuid4().hex
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Console Test", "MessageType": "text",
            "SmsSid": sid, "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": text,
            "To": "whatsapp:+14155238886", "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid,
            "AccountSid": stack.settings.twilio_account_sid, "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}
    signature = sign(TWILIO_TOKEN, stack.settings.public_base_url + "/twilio/whatsapp", form)
    resp = requests.post(stack.app_url + "/twilio/whatsapp", data=form, timeout=60,
                         headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 200, resp.text
    return [m.text or "" for m in ET.fromstring(resp.content)]


def console_session(stack) -> tuple[requests.Session, str]:
    name, password = "live-" + uuid.uuid4().hex[:8], "live-password-1"
    create_agent(stack.services.sessions, name, password)
    http = requests.Session()
    login = http.get(stack.app_url + "/agent/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    resp = http.post(stack.app_url + "/agent/login", data={"name": name, "password": password, "csrf_token": token},
                     timeout=10, allow_redirects=False)
    assert resp.status_code == 302, resp.text
    queue = http.get(stack.app_url + "/agent/", timeout=10).text
    return http, re.search(r'<meta name="csrf-token" content="([^"]+)"', queue).group(1)


def assert_answered(stack, phone: str, answer: list[str]) -> None:
    """The assistant answered the question itself: no fallback, no second handoff to a person."""
    assert not any(text.startswith(FALLBACK) for text in answer), answer
    assert any("OL-" in text for text in answer), answer  # it talked about the customer's order
    assert stack.services.conversations.state(phone) == "bot" and active_escalation(stack.services, phone) is None


def test_hand_back_unmutes_the_real_assistant(stack):
    whatsapp(stack, "I want to talk to a person")  # the handoff action opens an escalation, pauses Rasa
    esc = active_escalation(stack.services, PHONE)
    assert esc is not None and esc.status == "open", "the assistant should have escalated"
    before = requests.get(f"{stack.rasa_url}/conversations/{PHONE}/tracker", params=stack.rasa_params,
                          timeout=10).json()
    assert before["paused"] is True, "the handoff action pauses the tracker"

    http, csrf = console_session(stack)
    post = lambda path, body=None: http.post(stack.app_url + path, json=body or {}, timeout=30,  # noqa: E731
                                             headers={"X-CSRFToken": csrf})
    assert post(f"/agent/api/escalations/{esc['id']}/claim").json()["result"] == "claimed"
    replied = post(f"/agent/api/conversations/{PHONE}/reply", {"text": "Hello, this is a person. Sorted!"})
    assert replied.json()["result"] == "sent"
    assert any(m["body"] == "Hello, this is a person. Sorted!" for m in stack.fake.wait_for(PHONE, 1))

    back = post(f"/agent/api/escalations/{esc['id']}/handback").json()
    assert back["result"] == "handed_back" and back["rasa_resumed"] is True
    assert stack.services.conversations.state(PHONE) == "bot"
    tracker = requests.get(f"{stack.rasa_url}/conversations/{PHONE}/tracker", params=stack.rasa_params,
                           timeout=10).json()
    assert tracker["paused"] is False

    answer = whatsapp(stack, "where is my order")  # Rasa hears the customer again and answers
    assert any(text.strip() for text in answer), answer
    assert routing.HOLDING not in answer and routing.APOLOGY not in answer, answer
    assert_answered(stack, PHONE, answer)


def test_rasa_down_at_hand_back_then_restarted_the_next_message_is_answered(stack):
    whatsapp(stack, "I want to talk to a person", RESTART_PHONE)
    esc = active_escalation(stack.services, RESTART_PHONE)
    assert esc is not None and esc.status == "open", "the assistant should have escalated"
    tracker_url = f"{stack.rasa_url}/conversations/{RESTART_PHONE}/tracker"
    assert requests.get(tracker_url, params=stack.rasa_params, timeout=10).json()["paused"] is True

    http, csrf = console_session(stack)
    post = lambda path, body=None: http.post(stack.app_url + path, json=body or {}, timeout=30,  # noqa: E731
                                             headers={"X-CSRFToken": csrf})
    assert post(f"/agent/api/escalations/{esc['id']}/claim").json()["result"] == "claimed"
    stack.stop_rasa()
    try:
        back = post(f"/agent/api/escalations/{esc['id']}/handback").json()
    finally:
        stack.start_rasa()
    assert back["result"] == "handed_back" and back["rasa_resumed"] is False
    assert stack.services.conversations.state(RESTART_PHONE) == "bot"
    # Nobody has un-paused it yet (the retry job waits its backoff; no worker runs in this stack).
    assert requests.get(tracker_url, params=stack.rasa_params, timeout=10).json()["paused"] is True

    answer = whatsapp(stack, "where is my order", RESTART_PHONE)  # the front door un-pauses first
    assert any(text.strip() for text in answer), answer
    assert routing.HOLDING not in answer and routing.APOLOGY not in answer, answer
    assert_answered(stack, RESTART_PHONE, answer)
    assert requests.get(tracker_url, params=stack.rasa_params, timeout=10).json()["paused"] is False
