"""Handing over to a person: on request, on complaints, after two misunderstandings, and when the API is down."""
import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa: make test-rasa)

from actions.conversation import ActionHandleAffirm, ActionHandleFallback  # noqa: E402
from actions.handoff import ActionHandoff  # noqa: E402
from actions.routes import build_escalation  # noqa: E402
from actions.status import ActionOrderStatus  # noqa: E402
from helpers import ASHA, open_escalations, paused, responses, run, tracker  # noqa: E402



HANDOFF_REPLIES = ("utter_handoff_done", "utter_handoff_failed", "utter_handoff_payments")


def _fallback_turn(text):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.2}}}


def test_customer_asks_for_a_person(client, domain):
    events, messages = run(ActionHandoff(client), tracker("talk to a human", "human_handoff", phone=ASHA), domain)
    assert responses(messages)[-1] == "utter_handoff_done"  # the escalation was recorded
    assert paused(events)
    opened = [e for e in open_escalations(client) if e.get("phone") == ASHA]
    assert opened and opened[-1]["reason"] == "general" and opened[-1]["channel"] == "whatsapp"
    assert {"event": "active_loop", "name": None, "timestamp": None} in events


def test_complaint_goes_to_the_complaint_queue_at_high_priority(client, domain):
    phone = "+919812300001"  # no other escalation for this number in the shared order API
    trk = tracker("worst service, product was broken", "complaint", phone=phone,
                  slots={"active_order_id": "OL-100234"})
    escalation = build_escalation(trk, None, None, None)
    assert escalation.reason is None and escalation.intent == "complaint"  # the order service decides
    assert escalation.order_id == "OL-100234" and escalation.phone == phone and escalation.channel == "whatsapp"
    events, messages = run(ActionHandoff(client), trk, domain)
    assert responses(messages) == ["utter_complaint_sorry", "utter_handoff_done"] and paused(events)
    [opened] = [e for e in open_escalations(client) if e.get("phone") == phone]
    assert (opened["reason"], opened["priority"], opened["order_id"]) == ("complaint", 1, "OL-100234")


def test_a_refund_question_goes_to_the_payments_team(client, domain):
    phone = "+919812300002"
    events, messages = run(ActionHandoff(client), tracker("talk to someone about my refund", "refund_status",
                                                          phone=phone), domain)
    assert responses(messages) == ["utter_handoff_payments"] and paused(events)
    [opened] = [e for e in open_escalations(client) if e.get("phone") == phone]
    assert (opened["reason"], opened["priority"], opened["intent"]) == ("payments", 1, "refund_status")


def test_complaint_handoff(client, domain):
    events, messages = run(ActionHandoff(client), tracker("very bad experience", "complaint"), domain)
    assert responses(messages)[0] == "utter_complaint_sorry"
    assert paused(events)


def test_api_down_gives_a_polite_reply_tries_to_escalate_and_pauses(down_client, domain):
    events, messages = run(ActionOrderStatus(down_client), tracker("where is my order", "order_status"), domain)
    # The escalation goes to the same (down) service, so the customer hears that honestly too.
    assert responses(messages) == ["utter_service_down", "utter_handoff_failed"]
    assert paused(events)


def test_first_fallback_asks_to_rephrase_second_hands_off(client, domain):
    events, messages = run(ActionHandleFallback(client), tracker("asdf qwer", "nlu_fallback", confidence=0.2), domain)
    assert responses(messages) == ["utter_default"] and not paused(events)
    trk = tracker("zxcv", "nlu_fallback", confidence=0.2, history=[_fallback_turn("asdf qwer")])
    events, messages = run(ActionHandleFallback(client), trk, domain)
    assert responses(messages)[0] == "utter_fallback_handoff"
    assert paused(events)


def test_fallback_with_digits_answers_a_pending_question(client, domain):
    trk = tracker("its 100234", "nlu_fallback", confidence=0.3,
                  slots={"awaiting": "order_id", "pending_action": "action_order_status"})
    events, messages = run(ActionHandleFallback(client), trk, domain)
    assert responses(messages) == ["utter_order_in_transit"]


def test_yes_to_a_person_offer_hands_off(client, domain):
    trk = tracker("yes please", "affirm", slots={"awaiting": "handoff_offer", "handoff_reason": "delivery",
                                                 "handoff_note": "wants to cancel after shipping"})
    events, messages = run(ActionHandleAffirm(client), trk, domain)
    assert responses(messages)[-1] in HANDOFF_REPLIES
    assert paused(events)
