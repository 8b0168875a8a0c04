"""Cancel only after an explicit yes and before shipping; returns within 7 days of delivery."""
import asyncio

import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa: make test-rasa)

from actions.cancel import ActionStartCancel  # noqa: E402
from actions.conversation import ActionHandleAffirm, ActionHandleDeny  # noqa: E402
from actions.returns import ActionStartReturn, ActionSubmitReturn, return_kind  # noqa: E402
from helpers import ASHA, PRIYA, responses, run, slot, tracker  # noqa: E402


def test_cancel_asks_first_and_no_keeps_the_order(client, domain):
    events, messages = run(ActionStartCancel(client), tracker("cancel my order", "cancel_order", phone=PRIYA), domain)
    assert responses(messages) == ["utter_confirm_cancel"]
    assert slot(events, "awaiting") == "cancel_confirm"
    no = tracker("no", "deny", phone=PRIYA, slots={"awaiting": "cancel_confirm", "active_order_id": "OL-100701"})
    _, messages = run(ActionHandleDeny(client), no, domain)
    assert responses(messages) == ["utter_cancel_kept"]
    assert asyncio.run(client.get_order("OL-100701")).order.status == "confirmed"


def test_cancel_after_yes(client, domain):
    yes = tracker("yes", "affirm", phone=PRIYA, slots={"awaiting": "cancel_confirm", "active_order_id": "OL-100701"})
    events, messages = run(ActionHandleAffirm(client), yes, domain)
    assert responses(messages) == ["utter_order_cancelled_refund"]
    assert asyncio.run(client.get_order("OL-100701")).order.status == "cancelled"


def test_shipped_order_is_not_cancelled_refusal_at_door_offered(client, domain):
    trk = tracker("cancel OL-100234", "cancel_order", [{"entity": "order_id", "value": "OL-100234"}],
                  slots={"order_id": "OL-100234"}, phone=ASHA)
    events, messages = run(ActionStartCancel(client), trk, domain)
    assert responses(messages) == ["utter_cancel_after_ship"]
    assert slot(events, "awaiting") == "handoff_offer"


def test_return_within_window_is_recorded(client, domain):
    trk = tracker("I want to return OL-100200", "return_request", [{"entity": "order_id", "value": "OL-100200"}],
                  slots={"order_id": "OL-100200"}, phone=ASHA)
    events, messages = run(ActionStartReturn(client), trk, domain)
    assert responses(messages) == ["utter_return_start"]
    assert {"event": "active_loop", "name": "return_form", "timestamp": None} in events
    done = tracker("colour is different from the photo", phone=ASHA,
                   slots={"active_order_id": "OL-100200", "return_reason": "colour is different from the photo",
                          "return_kind": "return"})
    events, messages = run(ActionSubmitReturn(client), done, domain)
    assert responses(messages) == ["utter_return_recorded"]
    assert asyncio.run(client.get_order("OL-100200")).order.return_request is not None


def test_return_after_window_is_explained(client, domain):
    events, messages = run(ActionStartReturn(client), tracker("return karna hai", "return_request", phone=PRIYA),
                           domain)
    assert responses(messages) == ["utter_return_window_closed"]


@pytest.mark.parametrize("text,kind", [("size badalna hai", "exchange"), ("item is damaged", "replacement"),
                                       ("I want to return it", "return")])
def test_return_kind(text, kind):
    assert return_kind(text) == kind
