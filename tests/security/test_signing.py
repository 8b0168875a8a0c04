"""The signed-channel protocol: what the app signs (bot/rasa_client.py) is what Rasa's channel
verifies (rasa_gate/signing.py, the code Rasa runs), and any change to a signed part is refused.
The live attacks on the running stack are in test_rasa_boundary.py."""
from __future__ import annotations

import json
import time

import pytest

from bot.rasa_client import RasaClient, signed_turn
from orderline.ports import AssistantUnavailable
from orderline.settings import Settings
from rasa_gate import serve
from rasa_gate.signing import MAX_SKEW_SECONDS, verify
from tools.rasa_env import rasa_side_env

SECRET = "test-channel-secret"
META = {"channel": "whatsapp", "phone": "+919000000099", "language": "en"}


def test_what_the_app_signs_the_channel_accepts():
    body, headers = signed_turn(SECRET, "+919000000099", "where is my order", META)
    nonce, refusal = verify(SECRET, headers, body, time.time())
    assert refusal is None and nonce == headers["X-Orderline-Nonce"]
    assert json.loads(body) == {"sender": "+919000000099", "message": "where is my order", "metadata": META}


@pytest.mark.parametrize("field, value", [("sender", "+919000000003"), ("message", "cancel my order"),
                                          ("metadata", {**META, "phone": "+919000000003"})])
def test_changing_a_signed_field_is_refused(field, value):
    body, headers = signed_turn(SECRET, "+919000000099", "where is my order", META)
    tampered = json.dumps({**json.loads(body), field: value}).encode()
    assert verify(SECRET, headers, tampered, time.time())[1].status == 401


@pytest.mark.parametrize("header, change", [
    ("X-Orderline-Timestamp", lambda v: str(int(v) - 1)),         # still fresh, but not what was signed
    ("X-Orderline-Nonce", lambda v: v[::-1]),                      # a "new" nonce to dodge the replay check
    ("X-Orderline-Signature", lambda v: ("0" if v[0] != "0" else "1") + v[1:]),
])
def test_a_changed_or_missing_header_is_refused(header, change):
    body, headers = signed_turn(SECRET, "+919000000099", "hi", META)
    changed = {**headers, header: change(headers[header])}
    missing = {k: v for k, v in headers.items() if k != header}
    assert verify(SECRET, changed, body, time.time())[1].reason == "bad signature"
    assert verify(SECRET, missing, body, time.time())[1].reason == "unsigned"


def test_wrong_or_empty_secret_and_stale_or_future_timestamps_are_refused():
    body, headers = signed_turn(SECRET, "+919000000099", "hi", META)
    assert verify("another-secret", headers, body, time.time())[1].reason == "bad signature"
    assert verify("", headers, body, time.time())[1].reason == "unsigned"
    for skew in (-MAX_SKEW_SECONDS - 5, MAX_SKEW_SECONDS + 5):
        body, headers = signed_turn(SECRET, "+919000000099", "hi", META, now=time.time() + skew)
        assert verify(SECRET, headers, body, time.time())[1].reason == "stale timestamp"


def test_rasa_starts_only_with_its_secrets_and_never_opens_the_rest_channel():
    env = {"RASA_AUTH_TOKEN": "tok", "RASA_CHANNEL_SECRET": "sec"}
    argv = serve.rasa_argv(["--enable-api", "--port", "5005"], env)
    assert argv[:2] == ["rasa", "run"]
    assert argv[argv.index("--connector") + 1] == "rasa_gate.channel.SignedInput"
    assert argv[argv.index("--auth-token") + 1] == "tok" and argv[argv.index("--interface") + 1] == "127.0.0.1"
    assert serve.rasa_argv([], {**env, "RASA_BIND_HOST": "10.0.0.5"})[-1] == "10.0.0.5"
    for missing in ("RASA_AUTH_TOKEN", "RASA_CHANNEL_SECRET"):
        with pytest.raises(SystemExit, match="refusing to start"):
            serve.rasa_argv([], {k: v for k, v in env.items() if k != missing})
    for flag in ("--connector=rest", "--interface", "--jwt-secret"):
        with pytest.raises(SystemExit, match="sets"):
            serve.rasa_argv([flag, "x"], env)


def test_each_rasa_side_process_gets_only_the_secrets_it_uses():
    settings = Settings(api_token="api", rasa_channel_secret="chan", rasa_auth_token="rasa-tok",
                        action_server_token="act", redis_url="redis://:pw@10.0.0.2:6380/4")
    rasa = rasa_side_env(settings, "rasa")
    actions = rasa_side_env(settings, "actions")
    assert (rasa["RASA_CHANNEL_SECRET"], rasa["RASA_AUTH_TOKEN"], rasa["ACTION_SERVER_TOKEN"]) == ("chan", "rasa-tok", "act")
    assert (rasa["REDIS_HOST"], rasa["REDIS_PORT"], rasa["REDIS_DB"], rasa["REDIS_PASSWORD"]) == ("10.0.0.2", "6380", "4", "pw")
    assert "API_TOKEN" not in rasa  # Rasa never calls the order API itself
    assert (actions["ACTION_SERVER_TOKEN"], actions["API_TOKEN"]) == ("act", "api")
    assert not {"RASA_CHANNEL_SECRET", "RASA_AUTH_TOKEN"} & set(actions)


def test_the_client_signs_its_turns_and_sends_its_token(fake_rasa):
    good = RasaClient(fake_rasa.base_url, channel_secret=fake_rasa.secret, auth_token=fake_rasa.token)
    assert good.send("+919000000099", "hi", META)[0].text.startswith("Hi!")
    assert good.parse("hi").intent == "greet" and good.resume("+919000000099")

    forger = RasaClient(fake_rasa.base_url, channel_secret="guessed", auth_token="guessed")
    with pytest.raises(AssistantUnavailable, match="401"):
        forger.send("+919000000003", "where is my order", {**META, "phone": "+919000000003"})
    assert forger.parse("hi") is None and not forger.resume("+919000000099")
    assert [c["sender"] for c in fake_rasa.heard()] == ["+919000000099"]
