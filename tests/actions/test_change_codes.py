"""Changes by anyone but the order's own (attested) number need the one-time code sent to the order's
WhatsApp number: asked for, checked by the order API, 3 tries."""
import re
import sqlite3

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa: make test-rasa)

from actions.cancel import ActionStartCancel  # noqa: E402
from actions.conversation import ActionHandleInform  # noqa: E402
from actions.reschedule import ActionStartReschedule  # noqa: E402
from helpers import ARJUN, NEHA, STRANGER, responses, run, slot, tracker  # noqa: E402


def _cancel(phone=STRANGER, **kw):
    slots = {"active_order_id": "OL-100601", "verified_order_ids": ["OL-100601"], **kw.pop("slots", {})}
    return tracker("cancel my order", "cancel_order", phone=phone, slots=slots, **kw)


def latest_code(order_db, phone):
    """The code in the last message the order API wrote to `phone` (the outbox: no Twilio here)."""
    with sqlite3.connect(order_db) as db:
        text, = db.execute("SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                           "WHERE c.phone = ? AND m.direction = 'out' ORDER BY m.id DESC LIMIT 1", (phone,)).fetchone()
    return re.search(r"\b(\d{6})\b", text).group(1)


def _answer(text, phone=STRANGER, pending="action_start_cancel", **slots):
    return tracker(text, "inform", phone=phone,
                   slots={"active_order_id": "OL-100601", "verified_order_ids": ["OL-100601"],
                          "awaiting": "change_code", "pending_action": pending, **slots})


def test_a_stranger_who_proved_the_order_needs_the_code_sent_to_its_own_number(client, domain, order_db):
    events, messages = run(ActionStartCancel(client), _cancel(), domain)
    assert responses(messages) == ["utter_ask_change_code"]
    assert slot(events, "awaiting") == "change_code" and slot(events, "pending_action") == "action_start_cancel"
    code = latest_code(order_db, NEHA)  # went to Neha, whose order it is, never to the stranger
    # The NLU may read the 6 digits as an order number or a pincode; it is still just the code.
    events, messages = run(ActionHandleInform(client), _answer(f"{code}", order_id=f"OL-{code}", pincode=code), domain)
    assert responses(messages) == ["utter_confirm_cancel"]
    assert slot(events, "code_order_ids") == ["OL-100601"] and slot(events, "awaiting") == "cancel_confirm"
    # Used up: the same code again does not confirm anything.
    _, messages = run(ActionHandleInform(client), _answer(code), domain)
    assert responses(messages) == ["utter_change_code_failed"]


def test_three_wrong_codes_and_the_change_is_off(client, domain, order_db):
    run(ActionStartCancel(client), _cancel(), domain)
    code = latest_code(order_db, NEHA)
    wrong = "000000" if code != "000000" else "111111"
    lefts = []
    for _ in range(2):
        _, messages = run(ActionHandleInform(client), _answer(wrong), domain)
        lefts.append((responses(messages), messages[0].get("tries_left")))
    assert lefts == [(["utter_change_code_wrong"], 2), (["utter_change_code_wrong"], 1)]
    events, messages = run(ActionHandleInform(client), _answer(code + " " + wrong), domain)  # several: a try, not two
    assert responses(messages) == ["utter_change_code_failed"] and slot(events, "awaiting") == "handoff_offer"
    _, messages = run(ActionHandleInform(client), _answer(code), domain)
    assert responses(messages) == ["utter_change_code_failed"]  # dead, even for the right one


def test_the_owners_own_number_needs_no_code_on_whatsapp_or_an_attested_call(client, domain):
    _, messages = run(ActionStartCancel(client), _cancel(phone=NEHA, slots={"verified_order_ids": []}), domain)
    assert responses(messages) == ["utter_confirm_cancel"]
    attested = tracker("reschedule", "reschedule_delivery", phone=ARJUN, channel="voice",
                       metadata={"caller_attested": True})
    _, messages = run(ActionStartReschedule(client), attested, domain)
    assert "utter_ask_change_code" not in responses(messages)


def test_an_unattested_call_from_the_owners_number_needs_the_code(client, domain):
    for metadata in ({}, {"caller_attested": False}):
        trk = tracker("reschedule", "reschedule_delivery", phone=ARJUN, channel="voice", metadata=metadata)
        events, messages = run(ActionStartReschedule(client), trk, domain)
        assert responses(messages) == ["utter_ask_change_code"]
        assert slot(events, "pending_action") == "action_start_reschedule"
