"""Only the front door speaks for a customer: attacks on the running Rasa and action server.

Each test drives the live stack (tests/support/live_stack.py: the app, Rasa with the trained
model, the action server, all started through rasa_gate like the Procfile) the way an attacker
on the network or on the same host would, and asserts that it fails and reveals nothing. Each
also makes the legitimate call, so it fails if the defence is removed rather than if the stack
is broken. See docs/security.md for the threat model.
"""
from __future__ import annotations

import json
import socket
import time
import uuid

import pytest
import requests

from bot.rasa_client import CHANNEL_PATH, signed_turn
from rasa_gate.signing import NONCE_KEY_PREFIX

VICTIM = "+919000000003"  # Priya: OL-100241, out for delivery, COD
VICTIM_SECRETS = ("100241", "7700031676", "park street", "priya")
ATTACKER = "+919000000099"  # a stranger with no orders


def metadata(phone: str) -> dict[str, str]:
    return {"channel": "whatsapp", "phone": phone, "language": "en"}


def reveals_victim(resp: requests.Response) -> bool:
    return any(secret in resp.text.lower() for secret in VICTIM_SECRETS)


def post_turn(stack, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(stack.rasa_url + CHANNEL_PATH, data=body, headers=headers, timeout=60)


def heard(stack, sender: str) -> list[str]:
    """What Rasa's tracker recorded from `sender` (read with the app's token)."""
    resp = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params=stack.rasa_params, timeout=10)
    assert resp.status_code == 200, resp.text
    return [e.get("text") or "" for e in resp.json().get("events") or [] if e.get("event") == "user"]


@pytest.fixture
def stack(live_stack):
    return live_stack


def test_rasa_open_rest_channel_is_not_served(stack):
    """The issue's attack verbatim: a JSON post naming the victim's phone in the metadata."""
    resp = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=60,
                         json={"sender": "x", "message": "where is my order", "metadata": metadata(VICTIM)})
    assert resp.status_code == 404 and not reveals_victim(resp), resp.text


def test_forged_channel_call_is_refused(stack):
    sender = "forged-" + uuid.uuid4().hex[:8]
    body = json.dumps({"sender": sender, "message": "where is my order", "metadata": metadata(VICTIM)}).encode()
    unsigned = post_turn(stack, body, {"Content-Type": "application/json"})
    assert unsigned.status_code == 401 and not reveals_victim(unsigned), unsigned.text
    guessed_body, guessed = signed_turn("guessed-secret", sender, "where is my order", metadata(VICTIM))
    wrong_key = post_turn(stack, guessed_body, guessed)
    assert wrong_key.status_code == 401 and not reveals_victim(wrong_key), wrong_key.text
    assert heard(stack, sender) == []  # Rasa never ran a turn for it

    # The same turn signed with the app's secret is answered: the signature is what refused it.
    body, headers = signed_turn(stack.settings.rasa_channel_secret, sender, "where is my order", metadata(VICTIM))
    assert post_turn(stack, body, headers).status_code == 200
    assert heard(stack, sender) == ["where is my order"]


def test_tampered_metadata_phone_is_refused(stack):
    """A captured signed turn from the attacker's own phone, with the metadata phone changed."""
    sender = "tamper-" + uuid.uuid4().hex[:8]
    body, headers = signed_turn(stack.settings.rasa_channel_secret, sender, "where is my order", metadata(ATTACKER))
    tampered = json.dumps({**json.loads(body), "metadata": metadata(VICTIM)}).encode()
    resp = post_turn(stack, tampered, headers)
    assert resp.status_code == 401 and not reveals_victim(resp), resp.text
    assert heard(stack, sender) == []
    assert post_turn(stack, body, headers).status_code == 200  # the capture itself was genuine and unused


def test_replayed_signed_call_is_refused_by_every_rasa_sharing_the_redis(stack):
    """The victim's own turn, captured on the wire and sent again."""
    sender = VICTIM + "-replay-" + uuid.uuid4().hex[:6]
    body, headers = signed_turn(stack.settings.rasa_channel_secret, sender, "where is my order", metadata(VICTIM))
    first = post_turn(stack, body, headers)
    assert first.status_code == 200 and reveals_victim(first), first.text  # the genuine turn is answered
    replay = post_turn(stack, body, headers)
    assert replay.status_code == 403 and not reveals_victim(replay), replay.text
    assert heard(stack, sender) == ["where is my order"]
    # The nonce is claimed in the Redis database every Rasa process of this deployment shares,
    # for longer than the timestamp stays fresh.
    ttl = stack.services.redis.ttl(NONCE_KEY_PREFIX + headers["X-Orderline-Nonce"])
    assert 300 < ttl <= 600, ttl


@pytest.mark.parametrize("age", [-900, 900])
def test_stale_or_future_timestamp_is_refused(stack, age):
    """A signed turn captured long ago (or minted to be used later) is refused however it is signed."""
    sender = "stale-" + uuid.uuid4().hex[:8]
    body, headers = signed_turn(stack.settings.rasa_channel_secret, sender, "where is my order",
                                metadata(VICTIM), now=time.time() + age)
    resp = post_turn(stack, body, headers)
    assert resp.status_code == 401 and not reveals_victim(resp), resp.text
    assert heard(stack, sender) == []


@pytest.mark.parametrize("method, path, body", [
    ("GET", f"/conversations/{VICTIM}/tracker", None),
    ("POST", f"/conversations/{VICTIM}/tracker/events", {"event": "resume"}),
    ("POST", f"/conversations/{VICTIM}/messages", {"text": "where is my order", "sender": "user"}),
    ("POST", f"/conversations/{VICTIM}/trigger_intent", {"name": "order_status"}),
    ("POST", "/model/parse", {"text": "where is my order"}),
])
def test_rasa_http_api_without_the_token_is_refused(stack, method, path, body):
    stack.rasa_turn(VICTIM, "where is my order")  # the victim has a conversation worth stealing
    for params in ({}, {"token": "guessed-token"}):
        resp = requests.request(method, stack.rasa_url + path, params=params, json=body, timeout=30)
        assert resp.status_code == 401 and not reveals_victim(resp), (params, resp.text)
        assert "events" not in resp.text
    if method == "GET":  # with the app's token the same read works: the token is what refused it
        ok = requests.get(stack.rasa_url + path, params=stack.rasa_params, timeout=30)
        assert ok.status_code == 200 and ok.json()["sender_id"] == VICTIM


def victims_status_call() -> dict:
    """The call Rasa makes to run `action_order_status` for the victim, built by hand."""
    parse = {"text": "where is my order", "intent": {"name": "order_status", "confidence": 0.99}, "entities": []}
    return {
        "next_action": "action_order_status", "sender_id": VICTIM, "version": "3.6.21", "domain": {},
        "tracker": {"sender_id": VICTIM, "slots": {"phone": VICTIM, "channel": "whatsapp", "reply_style": "en"},
                    "latest_message": parse, "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen", "latest_event_time": time.time(),
                    "events": [{"event": "user", "text": "where is my order", "parse_data": parse,
                                "metadata": metadata(VICTIM)}]},
    }


def test_direct_action_server_call_is_refused(stack):
    call = victims_status_call()
    for headers in ({}, {"Authorization": "Bearer guessed-token"}, {"Authorization": "Basic " + "x" * 20}):
        resp = requests.post(stack.actions_url + "/webhook", json=call, headers=headers, timeout=30)
        assert resp.status_code == 401 and not reveals_victim(resp), (headers, resp.text)
    # Rasa's own `?token=` style is not accepted either: only the header Rasa is configured to send.
    resp = requests.post(stack.actions_url + "/webhook", json=call, params={"token": stack.settings.action_server_token},
                         timeout=30)
    assert resp.status_code == 401 and not reveals_victim(resp), resp.text
    listing = requests.get(stack.actions_url + "/actions", timeout=30)
    assert listing.status_code == 401 and "action_order_status" not in listing.text

    # With Rasa's token the very same call runs the action: the token is what refused it.
    ok = requests.post(stack.actions_url + "/webhook", json=call, timeout=30,
                       headers={"Authorization": f"Bearer {stack.settings.action_server_token}"})
    assert ok.status_code == 200 and reveals_victim(ok), ok.text


def non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outbound interface
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_rasa_and_the_action_server_listen_on_loopback_only(stack):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this host has no non-loopback IPv4 address to try")
    for url in (stack.rasa_url, stack.actions_url):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # listening on loopback
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=5).close()
