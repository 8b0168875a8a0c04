"""Console fixtures: a fake Twilio and a fake Rasa as local servers, agents, and signed-in clients."""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

import pytest

from console.agents import AgentUser, create_agent
from tests.support.fake_twilio import FakeTwilio, running_fake_twilio

SID, TOKEN = "AC" + "4" * 32, "console-test-auth-token"
PASSWORD = "correct horse battery"
# Its own Redis DB: the state cache is keyed by phone, and other suites use the same demo phones.
# (Pub/sub channels are server-wide, so the event tests still look for their own events only.)
CONSOLE_REDIS_URL = os.environ.get("CONSOLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/10")
PHONE = "+919000000001"  # a demo customer with orders (Asha Verma)
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture
def fake_twilio():
    with running_fake_twilio(SID, TOKEN) as fake:
        yield fake


def twilio_settings(settings: Any, fake_twilio: FakeTwilio, rasa_url: str) -> Any:
    return dataclasses.replace(settings, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                               twilio_api_base_url=fake_twilio.base_url,
                               twilio_whatsapp_from="whatsapp:+14155238886",
                               public_base_url="https://example.test", rasa_url=rasa_url,
                               redis_url=CONSOLE_REDIS_URL)


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


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def sign_in(client: Any, name: str, password: str = PASSWORD) -> Any:
    token = csrf_from(client.get("/agent/login").get_data(as_text=True))
    return client.post("/agent/login", data={"name": name, "password": password, "csrf_token": token})


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


def page_token(client: Any, path: str = "/agent/") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def post_form(client: Any, path: str, data: dict[str, str] | None = None, page: str = "/agent/") -> Any:
    """Post a console form the way the browser does: with the page's CSRF token, following the redirect."""
    return client.post(path, data={"csrf_token": page_token(client, page), **(data or {})}, follow_redirects=True)


def post_json(client: Any, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, json=body or {}, headers={"X-CSRFToken": page_token(client)})


@pytest.fixture
def open_escalation(services, demo):
    """Open an escalation for the demo customer the way the Rasa action does."""
    def make(phone: str = PHONE, reason: str = "payments", inbound: str | None = "Where is my refund?",
             **extra: Any) -> dict[str, Any]:
        if inbound is not None:
            services.conversations.record_inbound(phone, "whatsapp", inbound, profile_name="Asha")
        order = next(iter(o.order_id for o in services.orders.for_phone(phone)), None)
        esc, created = services.escalations.open({"reason": reason, "phone": phone, "order_id": order,
                                                  "intent": "refund_status", "confidence": 0.42,
                                                  "note": "customer asked for a person", **extra})
        assert created
        return esc
    return make


@pytest.fixture(autouse=True)
def fresh_state_cache():
    """Each test has a fresh database, so the owner cache in Redis must not outlive it; nor must
    the sign-in throttle's counts and the agents' streams (agent ids start again at 1)."""
    import redis

    cache = redis.Redis.from_url(CONSOLE_REDIS_URL)
    keys = [k for pattern in ("conv:state:*", "console:throttle:*", "console:streams:*")
            for k in cache.scan_iter(pattern)]
    if keys:
        cache.delete(*keys)
    cache.close()
