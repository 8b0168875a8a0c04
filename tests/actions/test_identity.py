"""Who may hear about which order: the sender's phone, or proof of ownership."""
import asyncio
import json

import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa: make test-rasa)

from actions.conversation import ActionHandleDeny, ActionHandleInform  # noqa: E402
from actions.status import ActionOrderStatus  # noqa: E402
from helpers import ASHA, KABIR, RAVI, STRANGER, paused, responses, run, slot, tracker  # noqa: E402


def test_own_single_order_needs_no_id(client, domain):
    events, messages = run(ActionOrderStatus(client), tracker("where is my order", "order_status",
                                                               phone=KABIR), domain)
    assert responses(messages) == ["utter_order_delayed"]
    assert messages[0]["order_ref"] == "OL-100501"
    assert slot(events, "active_order_id") == "OL-100501"


def test_several_open_orders_offer_the_two_most_recent(client, domain):
    events, messages = run(ActionOrderStatus(client), tracker("where is my order", "order_status"), domain)
    assert responses(messages) == ["utter_ask_which_order"]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ['/inform{"order_id":"OL-100235"}', '/inform{"order_id":"OL-100234"}']
    assert slot(events, "awaiting") == "order_choice"
    assert slot(events, "pending_action") == "action_order_status"

    # The customer taps the second button; the status task resumes inline.
    picked = tracker('/inform{"order_id":"OL-100234"}', "inform", [{"entity": "order_id", "value": "OL-100234"}],
                     slots={"order_id": "OL-100234", "awaiting": "order_choice", "pending_action": "action_order_status",
                            "order_choices": ["OL-100235", "OL-100234"]})
    events, messages = run(ActionHandleInform(client), picked, domain)
    assert responses(messages) == ["utter_order_in_transit"]
    assert messages[0]["courier"] == "Delhivery" and messages[0]["awb"] == "1234567890"
    assert slot(events, "active_order_id") == "OL-100234"
    assert slot(events, "awaiting") is None


def test_choice_by_word_on_voice(client, domain):
    picked = tracker("pehla wala", "inform", phone=ASHA, channel="voice",
                     slots={"awaiting": "order_choice", "pending_action": "action_order_status",
                            "order_choices": ["OL-100235", "OL-100234"]})
    events, messages = run(ActionHandleInform(client), picked, domain)
    assert responses(messages) == ["utter_order_not_shipped"]
    assert messages[0]["order_ref"] == "O L 1 0 0 2 3 5"
    assert not messages[0].get("buttons")


def test_stranger_learns_nothing_but_that_an_order_exists(client, domain):
    trk = tracker("where is my order OL-100301", "order_status",
                  [{"entity": "order_id", "value": "OL-100301"}], slots={"order_id": "OL-100301"}, phone=STRANGER)
    events, messages = run(ActionOrderStatus(client), trk, domain)
    assert responses(messages) == ["utter_ask_ownership_proof"]
    dumped = json.dumps(messages)
    for secret in ("Ravi", "560034", "Ekart", "EK998877", "Bengaluru", "Koramangala", "delivery_failed", "Shoes"):
        assert secret not in dumped
    assert slot(events, "active_order_id") == "<unset>"
    assert slot(events, "pending_order_id") == "OL-100301"
    assert slot(events, "awaiting") == "ownership"


def _proof(text, attempts=0, entities=None, phone=STRANGER, **slots):
    return tracker(text, "inform", entities or [], phone=phone,
                   slots={"awaiting": "ownership", "pending_order_id": "OL-100301",
                          "pending_action": "action_order_status", "verification_attempts": float(attempts),
                          **slots})


def test_ownership_proven_by_pincode_then_status(client, domain):
    events, messages = run(ActionHandleInform(client), _proof("pincode is 560034", entities=[
        {"entity": "pincode", "value": "560034"}], pincode="560034"), domain)
    assert responses(messages) == ["utter_ownership_verified", "utter_delivery_failed"]
    assert slot(events, "verified_order_ids") == ["OL-100301"]
    assert slot(events, "active_order_id") == "OL-100301"


def test_ownership_proven_by_last_four_digits_in_plain_text(client, domain):
    events, messages = run(ActionHandleInform(client), _proof("0001"), domain)
    assert responses(messages)[0] == "utter_ownership_verified"


def test_three_wrong_answers_hand_off(client, domain):
    events, messages = run(ActionHandleInform(client), _proof("1234"), domain)
    assert responses(messages) == ["utter_verification_failed"]
    assert messages[0]["tries_left"] == 2
    assert slot(events, "verification_attempts") == 1.0
    assert not paused(events)

    events, messages = run(ActionHandleInform(client), _proof("110001", attempts=1), domain)
    assert responses(messages) == ["utter_verification_failed"] and messages[0]["tries_left"] == 1

    events, messages = run(ActionHandleInform(client), _proof("9999", attempts=2), domain)
    assert responses(messages)[0] == "utter_verification_failed_final"
    assert responses(messages)[-1] in ("utter_handoff_done", "utter_handoff_failed")
    assert paused(events)
    assert slot(events, "active_order_id") == "<unset>"
    assert "560034" not in json.dumps(messages)


def test_order_service_down_during_the_proof_says_so_and_hands_off(down_client, domain):
    events, messages = run(ActionHandleInform(down_client), _proof("0001"), domain)
    assert responses(messages) == ["utter_service_down", "utter_handoff_failed"]
    assert paused(events) and slot(events, "active_order_id") == "<unset>"


def test_refusing_to_prove_offers_a_person(client, domain):
    trk = tracker("no I don't know", "deny", phone=STRANGER,
                  slots={"awaiting": "ownership", "pending_order_id": "OL-100301"})
    events, messages = run(ActionHandleDeny(client), trk, domain)
    assert responses(messages) == ["utter_cannot_share_without_proof"]
    assert slot(events, "awaiting") == "handoff_offer"


def _asked_about(ref, phone=STRANGER):
    return tracker(f"status of {ref}", "order_status", [{"entity": "order_id", "value": ref}],
                   slots={"order_id": ref}, phone=phone)


def test_a_made_up_order_gets_exactly_the_replies_a_real_one_gets(client, domain):
    """No existence oracle: the question, and every wrong answer, read the same for both."""
    seen = {}
    for ref, phone in (("OL-100301", STRANGER), ("OL-999999", "+919000000009")):  # two strangers
        events, messages = run(ActionOrderStatus(client), _asked_about(ref, phone), domain)
        replies = [messages]
        assert slot(events, "awaiting") == "ownership" and slot(events, "pending_order_id") == ref
        for attempts, answer in enumerate(("1234", "110001")):
            _, messages = run(ActionHandleInform(client), _proof(answer, attempts, pending_order_id=ref, phone=phone),
                              domain)
            replies.append(messages)
        seen[ref] = replies
    assert seen["OL-100301"] == seen["OL-999999"]
    assert responses(seen["OL-999999"][0]) == ["utter_ask_ownership_proof"]


def test_several_numbers_in_one_message_are_never_tried(client, domain, redis_db):
    import redis

    events, messages = run(ActionHandleInform(client), _proof("0001 0002 0003 560034"), domain)
    assert responses(messages) == ["utter_ask_one_proof"]
    # The NLU may pick one of the guesses as an entity: it does not choose for the customer.
    # "[card redacted] 0005": what the front door makes of "0001 0002 0003 0004 0005".
    for text in ("0001 0002 0003 0004 0005", "0001, 0002, 560034", "it is 0001 or 560034", "[card redacted] 0005"):
        _, messages = run(ActionHandleInform(client), _proof(text, entities=[{"entity": "pincode", "value": "560034"}],
                                                             pincode="560034"), domain)
        assert responses(messages) == ["utter_ask_one_proof"], text
    assert slot(events, "verification_attempts") == "<unset>" and slot(events, "active_order_id") == "<unset>"
    assert list(redis.Redis.from_url(redis_db.url).scan_iter("ownership:*")) == []  # nothing was checked


def test_a_locked_order_is_refused_even_with_the_right_answer(client, domain):
    for n in range(5):
        assert asyncio.run(client.verify_ownership("OL-100301", "1234", f"+9198765{n:05d}")).outcome.value == \
            "not_proven"
    events, messages = run(ActionHandleInform(client), _proof("560034"), domain)
    assert responses(messages)[0] == "utter_ownership_refused" and paused(events)
    assert slot(events, "active_order_id") == "<unset>" and "Ravi" not in json.dumps(messages)


def test_number_without_orders_is_asked_for_an_id_and_any_spelling_works(client, domain):
    events, messages = run(ActionOrderStatus(client), tracker("where is my order", "order_status",
                                                               phone=STRANGER), domain)
    assert responses(messages) == ["utter_ask_order_id_no_orders"]
    answer = tracker("order no 100301", "inform", phone=RAVI,
                     slots={"awaiting": "order_id", "pending_action": "action_order_status"})
    events, messages = run(ActionHandleInform(client), answer, domain)
    assert responses(messages) == ["utter_delivery_failed"]
    assert slot(events, "active_order_id") == "OL-100301"


@pytest.mark.parametrize("ref", ["EK998877", "#100301", "100301"])
def test_an_order_named_by_awb_or_store_number_is_resolved_by_the_order_service(client, domain, ref):
    """The reference goes to GET /orders/resolve as the customer wrote it; the owner hears about it."""
    trk = tracker(f"where is {ref}", "order_status", [{"entity": "order_id", "value": ref}],
                  slots={"order_id": ref}, phone=RAVI)
    events, messages = run(ActionOrderStatus(client), trk, domain)
    assert slot(events, "active_order_id") == "OL-100301"
    assert responses(messages) and responses(messages)[0] != "utter_order_not_found"
