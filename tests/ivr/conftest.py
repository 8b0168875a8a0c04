"""IVR fixtures: the app with Twilio credentials pointed at a local fake, and a scripted caller."""
from __future__ import annotations

import os

import pytest
import redis

from orderline.settings import Settings
from tests.conftest import API_TOKEN, SHIPROCKET_TOKEN
from tests.ivr.caller import ScriptedCaller, flask_transport
from tests.support.fake_twilio import running_fake_twilio

TWILIO_SID, TWILIO_TOKEN = "AC" + "5" * 32, "ivr-test-token"
PUBLIC = "https://voice.example.test"
# A Redis DB of our own: the conversation-state cache must not leak between tests.
IVR_REDIS_URL = os.environ.get("TEST_IVR_REDIS_URL", "redis://127.0.0.1:6379/11")
UNKNOWN = "+919812345678"


@pytest.fixture(scope="session")
def fake_twilio():
    with running_fake_twilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


@pytest.fixture
def extra_settings(request):
    """Per-test Settings fields: @pytest.mark.parametrize("extra_settings", [{...}], indirect=True)."""
    return getattr(request, "param", {})


@pytest.fixture
def settings(db_url, fake_twilio, extra_settings):
    fake_twilio.reset()
    cache = redis.Redis.from_url(IVR_REDIS_URL)
    for pattern in ("conv:state:*", "ivr:call:*"):
        keys = list(cache.scan_iter(pattern, count=500))
        if keys:
            cache.delete(*keys)
    cache.close()
    return Settings(database_url=db_url, redis_url=IVR_REDIS_URL, api_token=API_TOKEN,
                    shiprocket_webhook_token=SHIPROCKET_TOKEN, secret_key="test-secret",
                    rasa_url="http://127.0.0.1:9", twilio_account_sid=TWILIO_SID, twilio_auth_token=TWILIO_TOKEN,
                    twilio_api_base_url=fake_twilio.base_url, twilio_whatsapp_from="whatsapp:+14155238886",
                    public_base_url=PUBLIC, orderline_env="development", **extra_settings)


@pytest.fixture
def caller(client):
    """caller(phone) -> a ScriptedCaller on the test client."""

    def make(phone: str, client_=None) -> ScriptedCaller:
        return ScriptedCaller(flask_transport(client_ or client), TWILIO_TOKEN, PUBLIC, phone)

    return make
