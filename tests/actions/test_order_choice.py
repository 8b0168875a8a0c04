"""Which of the customer's own orders a request is about, when they don't name one: each task
considers the orders it can act on (from the `allowed` rules the order API returns), asks only
when more than one fits, names the one chosen, and says why when none fits."""
import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa)

from actions.cancel import ActionStartCancel  # noqa: E402
from actions.returns import ActionStartReturn  # noqa: E402
from actions.status import ActionOrderStatus  # noqa: E402
from helpers import ASHA, DEV, KABIR, PRIYA, render, responses, run, slot, tracker  # noqa: E402


@pytest.mark.parametrize("text", ["I want to exchange for a bigger size", "return karna hai"])
def test_exchange_picks_the_delivered_order_not_the_one_we_just_talked_about(client, domain, text):
    # The customer just asked about OL-100902 (in transit); the exchange is about the delivered one.
    trk = tracker(text, "return_request", phone=DEV, slots={"active_order_id": "OL-100902"})
    events, messages = run(ActionStartReturn(client), trk, domain)
    assert responses(messages) == ["utter_return_start"]
    assert messages[0]["order_ref"] == "OL-100903"
    assert slot(events, "active_order_id") == "OL-100903"
    assert "OL-100903" in render(messages[0], domain, "whatsapp", "en")


def test_its_late_picks_the_delayed_order_and_names_it(client, domain):
    events, messages = run(ActionOrderStatus(client), tracker("my order is late", "order_status", phone=DEV), domain)
    assert responses(messages) == ["utter_order_delayed"]
    assert messages[0]["order_ref"] == "OL-100901" and slot(events, "active_order_id") == "OL-100901"


def test_where_is_my_order_asks_between_the_open_orders_only(client, domain):
    events, messages = run(ActionOrderStatus(client), tracker("where is my order", "order_status", phone=DEV), domain)
    assert responses(messages) == ["utter_ask_which_order"]
    assert sorted(slot(events, "order_choices")) == ["OL-100901", "OL-100902"]


def test_cancel_considers_only_orders_before_dispatch(client, domain):
    # Asha has one order in transit, one packed and one delivered: only the packed one can be cancelled.
    events, messages = run(ActionStartCancel(client), tracker("cancel my order", "cancel_order", phone=ASHA), domain)
    assert responses(messages) == ["utter_confirm_cancel"]
    assert messages[0]["order_ref"] == "OL-100235" and slot(events, "awaiting") == "cancel_confirm"


def test_cancel_with_nothing_before_dispatch_says_why(client, domain):
    events, messages = run(ActionStartCancel(client), tracker("cancel my order", "cancel_order", phone=DEV), domain)
    assert responses(messages) == ["utter_cancel_after_ship"]
    assert messages[0]["order_ref"] in ("OL-100901", "OL-100902")


def test_return_of_an_order_not_delivered_says_so(client, domain):
    _, messages = run(ActionStartReturn(client), tracker("I want to return it", "return_request", phone=KABIR), domain)
    assert responses(messages) == ["utter_return_not_delivered"]
    assert messages[0]["order_ref"] == "OL-100501"
    assert "hasn't been delivered yet" in render(messages[0], domain, "whatsapp", "en")


def test_return_with_the_window_closed_explains_on_the_delivered_order(client, domain):
    # Priya's newest order is not delivered; the refusal is about the delivered one whose window closed.
    _, messages = run(ActionStartReturn(client), tracker("return my order", "return_request", phone=PRIYA), domain)
    assert responses(messages) == ["utter_return_window_closed"]
    assert messages[0]["order_ref"] == "OL-100702"
