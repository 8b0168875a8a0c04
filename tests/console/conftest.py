"""Console fixtures: a fake Twilio and a fake Rasa as local servers, agents, and signed-in clients.
The helpers tests import are in tests/support/agent_console.py."""
from __future__ import annotations

from typing import Any

import pytest

from console.agents import AgentUser, create_agent
from tests.support.agent_console import PASSWORD, PHONE, SID, TOKEN, sign_in, twilio_settings
from tests.support.fake_twilio import running_fake_twilio
from orderline.escalations import EscalationRecord, OpenEscalation


@pytest.fixture
def fake_twilio():
    with running_fake_twilio(SID, TOKEN) as fake:
        yield fake


@pytest.fixture
def settings(settings, fake_twilio, fake_rasa):
    """The shared settings (SQLite and PostgreSQL), sending through the fake Twilio and un-pausing at the fake Rasa."""
    return twilio_settings(settings, fake_twilio, fake_rasa.base_url)


@pytest.fixture
def asha(services) -> AgentUser:
    return create_agent(services.sessions, "asha", PASSWORD)


@pytest.fixture
def ravi(services) -> AgentUser:
    return create_agent(services.sessions, "ravi", PASSWORD)


@pytest.fixture
def as_asha(app, asha):
    client = app.test_client()
    assert sign_in(client, "asha").status_code == 302
    return client


@pytest.fixture
def as_ravi(app, ravi):
    client = app.test_client()
    assert sign_in(client, "ravi").status_code == 302
    return client


@pytest.fixture
def open_escalation(services, demo):
    """Open an escalation for the demo customer the way the Rasa action does."""
    def make(phone: str = PHONE, reason: str = "payments", inbound: str | None = "Where is my refund?",
             **extra: Any) -> EscalationRecord:
        if inbound is not None:
            services.conversations.record_inbound(phone, "whatsapp", inbound, profile_name="Asha")
        order = next(iter(o.order_id for o in services.orders.for_phone(phone)), None)
        fields = {"order_id": order, "intent": "refund_status", "confidence": 0.42,
                  "note": "customer asked for a person", **extra}
        esc, created = services.escalations.open(OpenEscalation(phone, reason=reason, **fields))
        assert created
        return esc
    return make
