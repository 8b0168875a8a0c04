"""Address change: form, confirmation, the service's 200/409, and the courier update after a failed delivery."""
import asyncio

import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa: make test-rasa)

from actions.address import ActionStartAddressChange, ActionSubmitAddress, ValidateAddressForm, valid_pincode  # noqa: E402,E501
from actions.conversation import ActionHandleAffirm  # noqa: E402
from helpers import RAVI, responses, run, slot, tracker  # noqa: E402

NEW = {"address_line1": "221B Residency Road", "address_line2": "-", "address_city": "Bengaluru",
       "address_pincode": "560025", "address_confirmed": True}


@pytest.mark.parametrize("text,expected", [
    ("560025", "560025"), ("pin is 560 025", "560025"), ("012345", None), ("56002", None), ("abc", None),
])
def test_pincode_validation(text, expected):
    assert valid_pincode(text) == expected


def test_before_shipping_the_form_opens(client, domain):
    trk = tracker("I want to change my address for OL-100235", "change_address",
                  [{"entity": "order_id", "value": "OL-100235"}], slots={"order_id": "OL-100235"})
    events, messages = run(ActionStartAddressChange(client), trk, domain)
    # The form itself asks the first question: Rasa runs the active loop next.
    assert responses(messages) == ["utter_address_change_start"]
    assert {"event": "active_loop", "name": "address_form", "timestamp": None} in events
    assert slot(events, "address_mode") == "update"


def test_form_rejects_a_bad_pincode_and_restarts_on_no(domain):
    form = ValidateAddressForm()
    trk = tracker("012345", slots={"requested_slot": "address_pincode"}, extracted={"address_pincode": "012345"},
                  active_loop="address_form")
    events, messages = run(form, trk, domain)
    assert responses(messages) == ["utter_pincode_invalid"]
    assert slot(events, "address_pincode") is None
    trk = tracker("no", "deny", slots={**NEW, "requested_slot": "address_confirmed"},
                  extracted={"address_confirmed": False}, active_loop="address_form")
    events, messages = run(form, trk, domain)
    assert responses(messages) == ["utter_address_start_over"]
    assert slot(events, "address_line1") is None and slot(events, "address_confirmed") is None


def test_confirmed_address_is_saved_only_on_200(client, domain):
    trk = tracker("yes", "affirm", slots={**NEW, "active_order_id": "OL-100235", "address_mode": "update"})
    events, messages = run(ActionSubmitAddress(client), trk, domain)
    assert responses(messages) == ["utter_address_updated"]
    assert "221B Residency Road" in messages[0]["address"] and "560025" in messages[0]["address"]
    saved = asyncio.run(client.get_order("OL-100235")).order
    assert saved.shipping_address["line1"] == "221B Residency Road"
    assert saved.shipping_address["pincode"] == "560025"


def test_shipped_order_is_refused_up_front_with_a_person_offered(client, domain):
    trk = tracker("change address of OL-100234", "change_address",
                  [{"entity": "order_id", "value": "OL-100234"}], slots={"order_id": "OL-100234"})
    events, messages = run(ActionStartAddressChange(client), trk, domain)
    assert responses(messages) == ["utter_address_change_refused"]
    assert slot(events, "awaiting") == "handoff_offer"


def test_409_from_the_service_is_explained_not_claimed(client, domain):
    trk = tracker("yes", "affirm", slots={**NEW, "active_order_id": "OL-100234", "address_mode": "update"})
    events, messages = run(ActionSubmitAddress(client), trk, domain)
    assert responses(messages) == ["utter_address_change_refused"]
    assert "shipped" in messages[0]["reason"]
    assert asyncio.run(client.get_order("OL-100234")).order.shipping_address["line1"] == "12 MG Road"


def test_failed_delivery_offers_a_courier_update_and_sends_it(client, domain):
    trk = tracker("address galat hai, badalna hai", "change_address", phone=RAVI, slots={"reply_style": "hinglish"})
    events, messages = run(ActionStartAddressChange(client), trk, domain)
    assert responses(messages) == ["utter_address_change_ndr_offer"]
    assert slot(events, "awaiting") == "ndr_update_offer"

    yes = tracker("haan", "affirm", phone=RAVI, slots={"awaiting": "ndr_update_offer", "active_order_id": "OL-100301"})
    events, messages = run(ActionHandleAffirm(client), yes, domain)
    assert {"event": "active_loop", "name": "address_form", "timestamp": None} in events
    assert slot(events, "address_mode") == "ndr"

    done = tracker("yes", "affirm", phone=RAVI,
                   slots={**NEW, "active_order_id": "OL-100301", "address_mode": "ndr"})
    events, messages = run(ActionSubmitAddress(client), done, domain)
    assert responses(messages) == ["utter_ndr_details_sent"]
