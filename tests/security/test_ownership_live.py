"""Guessing ownership through the chat, the way an attacker would: signed WhatsApp webhooks posted over
HTTP to the running app, Rasa with the trained model and the action server (tests/support/live_stack.py).
The same attacks on the order API and the phone line are in test_ownership.py."""
from __future__ import annotations

import requests

from tests.support.whatsapp import live_turn

VICTIM = "+919000000003"  # Priya: OL-100241, out for delivery; the last 4 digits of her phone are 0003
VICTIM_SECRETS = ("7700031676", "park street", "priya", "delhivery", "out for delivery", "700016")


def reveals_victim(reply: str) -> bool:
    return any(secret in reply.lower() for secret in VICTIM_SECRETS)


def test_several_guesses_in_one_message_are_not_tried(live_stack):
    attacker = "+919812300011"
    live_turn(live_stack, attacker, "where is my order OL-100241")
    reply = live_turn(live_stack, attacker, "0001 0002 0003 0004 0005")  # the right answer is among them
    assert "just one number" in reply.lower(), reply
    assert not reveals_victim(reply)
    assert not reveals_victim(live_turn(live_stack, attacker, "where is my order"))


def test_a_stranger_cannot_tell_a_real_order_from_a_made_up_one(live_stack):
    replies = {}
    for ref, stranger in (("OL-100241", "+919812300012"), ("OL-999999", "+919812300013")):
        asked = live_turn(live_stack, stranger, f"where is my order {ref}")
        wrong = live_turn(live_stack, stranger, "5555")
        replies[ref] = (asked, wrong)
    assert replies["OL-100241"] == replies["OL-999999"], replies
    assert "prove it's yours" in replies["OL-999999"][0]


def test_after_a_lock_strangers_are_refused_but_the_owner_is_not(live_stack):
    api = f"{live_stack.app_url}/api/v1/orders/OL-100241/verify"
    for n in range(5):  # five senders guessing once each
        requests.post(api, json={"proof": f"{9000 + n}", "sender": f"+91981230{n:04d}"},
                      headers=live_stack.api_headers, timeout=10).raise_for_status()
    stranger = "+919812300014"
    live_turn(live_stack, stranger, "where is my order OL-100241")
    refused = live_turn(live_stack, stranger, "0003")  # the right answer, too late
    assert "can't check that order" in refused and not reveals_victim(refused), refused
    own = live_turn(live_stack, VICTIM, "where is my order")
    assert "100241" in own and "out for delivery" in own.lower(), own
