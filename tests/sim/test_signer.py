"""The simulator signs exactly as Twilio does, and never in production."""
from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from orderline.settings import Settings
from sim.signer import SigningRefused, signature_headers

FORM = {"MessageSid": "SM" + "a" * 32, "From": "whatsapp:+919000000001", "Body": "where is my order ₹",
        "To": "whatsapp:+14155238886", "NumMedia": "0"}


def dev(**changes) -> Settings:
    return Settings(**{"twilio_auth_token": "sign-me", "public_base_url": "https://abc123.ngrok-free.app/",
                       "orderline_env": "development", **changes})


@pytest.mark.parametrize("path", ["/twilio/whatsapp", "/twilio/voice/agent/pin?try=2"])
def test_twilio_request_validator_accepts_the_signature(path):
    signature = signature_headers(dev(), path, FORM)["X-Twilio-Signature"]
    url = "https://abc123.ngrok-free.app" + path  # PUBLIC_BASE_URL + path, trailing slash dropped
    assert RequestValidator("sign-me").validate(url, FORM, signature)
    assert not RequestValidator("sign-me").validate(url, {**FORM, "Body": "tampered"}, signature)
    assert not RequestValidator("other-token").validate(url, FORM, signature)
    assert not RequestValidator("sign-me").validate("http://localhost:5000" + path, FORM, signature)


@pytest.mark.parametrize("enabled", [None, True, False])
def test_production_never_signs(enabled):
    with pytest.raises(SigningRefused, match="never signs Twilio requests in production"):
        signature_headers(dev(orderline_env="production", simulator_enabled=enabled), "/twilio/whatsapp", FORM)


def test_no_signing_when_the_simulator_is_off_or_without_a_token():
    with pytest.raises(SigningRefused, match="SIMULATOR_ENABLED=false"):
        signature_headers(dev(simulator_enabled=False), "/twilio/whatsapp", FORM)
    with pytest.raises(SigningRefused, match="TWILIO_AUTH_TOKEN"):
        signature_headers(dev(twilio_auth_token=""), "/twilio/whatsapp", FORM)


def test_the_app_accepts_what_the_simulator_signs(app, services):
    """The real `twilio_signed` check, through the Flask test client (no simulator view involved)."""
    form = {"MessageSid": "SMx", "MessageStatus": "read"}
    headers = signature_headers(services.settings, "/twilio/message-status", form)
    client = app.test_client()
    assert client.post("/twilio/message-status", data=form, headers=headers).status_code == 200
    assert client.post("/twilio/message-status", data={"MessageSid": "SMy", "MessageStatus": "read"},
                       headers=headers).status_code == 403
