"""IVR fixtures: the app with Twilio credentials pointed at a local fake, and a scripted caller
(tests/support/ivr_caller.py)."""
from __future__ import annotations

import pytest

from orderline.settings import Settings
from tests.support.fake_twilio import running_fake_twilio
from tests.support.ivr_caller import PUBLIC, TWILIO_SID, TWILIO_TOKEN, ScriptedCaller, flask_transport
from tests.support.values import API_TOKEN, SHIPROCKET_TOKEN


@pytest.fixture(scope="session")
def fake_twilio():
    with running_fake_twilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


@pytest.fixture
def extra_settings(request):
    """Per-test Settings fields: @pytest.mark.parametrize("extra_settings", [{...}], indirect=True)."""
    return getattr(request, "param", {})


@pytest.fixture
def settings(db_url, redis_url, fake_twilio, extra_settings):
    fake_twilio.reset()
    return Settings(database_url=db_url, redis_url=redis_url, api_token=API_TOKEN,
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
