"""Changing the delivery address: before shipping through the order service,
after a failed delivery as an update request to the courier (NDR)."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Order, OrderServiceClient, Outcome
from actions.base import OrderAction, OrderTaskAction
from actions.context import request_proof
from actions.formatting import Ctx, address_text, buttons, courier_name, order_ref, refusal
from actions.identity import ask_change_code, code_required
from actions.pending import PatientForm, stopped
from actions.routes import offer_person, service_down

ADDRESS_SLOTS = ("address_line1", "address_line2", "address_city", "address_pincode", "address_confirmed")
PINCODE_RE = re.compile(r"(?<!\d)([1-9]\d{2})\s?(\d{3})(?!\d)")
SKIP_WORDS = {"no", "nahi", "nahin", "nhi", "skip", "none", "na", "nil", "nothing", "-", "no landmark",
              "kuch nahi", "nope", "n/a"}


def clear_address() -> List[EventType]:
    # order_id too: a pincode typed into the form can be tagged as an order id.
    return [SlotSet(s, None) for s in ADDRESS_SLOTS] + [SlotSet("address_mode", None), SlotSet("order_id", None)]


def open_address_form(mode: str) -> List[EventType]:
    """Starts `address_form` from scratch; Rasa runs the form next and it asks."""
    return [SlotSet(s, None) for s in ADDRESS_SLOTS] + [SlotSet("address_mode", mode), ActiveLoop("address_form")]


def new_address(tracker: Tracker) -> Dict[str, str]:
    line2 = tracker.get_slot("address_line2") or ""
    return {
        "line1": tracker.get_slot("address_line1") or "",
        "line2": "" if line2 == "-" else line2,
        "landmark": "",
        "city": tracker.get_slot("address_city") or "",
        "state": "",
        "pincode": tracker.get_slot("address_pincode") or "",
    }


def api_reason(reason: Optional[str], status: str, ctx: Ctx) -> str:
    """The service's own words for English; our Hinglish wording otherwise."""
    return reason if reason and ctx.style == "en" else refusal(status, ctx)


class ActionStartAddressChange(OrderTaskAction):
    """Checks the order may take a new address, then opens `address_form`."""

    def name(self) -> Text:
        return "action_start_address_change"

    @staticmethod
    def wants(order: Order) -> bool:
        return order.allowed.change_address or order.status == "delivery_failed"

    async def handle(self, order: Order, ctx: Ctx, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        ref = order_ref(order.shown_id, ctx)
        if order.allowed.change_address or order.status == "delivery_failed":
            if code_required(order, tracker):
                return await ask_change_code(self.client, dispatcher, tracker, order, self.name())
        if order.allowed.change_address:
            dispatcher.utter_message(response="utter_address_change_start", order_ref=ref)
            return open_address_form(mode="update")
        if order.status == "delivery_failed":
            dispatcher.utter_message(
                response="utter_address_change_ndr_offer", order_ref=ref, reason=refusal(order.status, ctx)
            )
            return [SlotSet("awaiting", "ndr_update_offer")]
        dispatcher.utter_message(
            response="utter_address_change_refused", order_ref=ref, reason=refusal(order.status, ctx)
        )
        return offer_person("delivery", f"wants to change address of {order.order_id} ({order.status})")


class ValidateAddressForm(PatientForm):
    """Cleans each part of the new address; a 'no' at the confirmation starts over."""

    def name(self) -> Text:
        return "validate_address_form"

    def validate_address_line1(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < 5 or not re.search(r"[A-Za-z\u0900-\u097F]", text):
            dispatcher.utter_message(response="utter_address_line1_invalid")
            return {"address_line1": None}
        return {"address_line1": text[:200]}

    def validate_address_line2(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        text = " ".join(str(value or "").split())
        if not text or text.lower().strip(".! ") in SKIP_WORDS:
            return {"address_line2": "-"}
        return {"address_line2": text[:200]}

    def validate_address_city(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        text = " ".join(str(value or "").split()).strip(".,")
        if len(text) < 2 or not re.search(r"[A-Za-z\u0900-\u097F]", text):
            dispatcher.utter_message(response="utter_address_city_invalid")
            return {"address_city": None}
        return {"address_city": text[:100].title()}

    def validate_address_pincode(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        pincode = valid_pincode(value)
        if not pincode:
            dispatcher.utter_message(response="utter_pincode_invalid")
            return {"address_pincode": None}
        return {"address_pincode": pincode}

    def validate_address_confirmed(self, value: Any, dispatcher: CollectingDispatcher,
                                   tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if value is True:
            return {"address_confirmed": True}
        dispatcher.utter_message(response="utter_address_start_over")
        return {s: None for s in ADDRESS_SLOTS}


def valid_pincode(value: Any) -> Optional[str]:
    """The 6-digit Indian pincode in `value` (not starting with 0), else None."""
    text = str(value or "").strip()
    digits = re.sub(r"\D", "", text)
    if len(digits) == 6:
        return digits if digits[0] != "0" else None
    match = PINCODE_RE.search(text)
    return match.group(1) + match.group(2) if match else None


class ActionAskAddressConfirmed(Action):
    """Reads the whole new address back before anything is sent."""

    def name(self) -> Text:
        return "action_ask_address_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        ctx = Ctx.from_tracker(tracker)
        dispatcher.utter_message(
            response="utter_ask_address_confirmed",
            address=address_text(new_address(tracker)),
            buttons=buttons(ctx, [("Yes, correct", "/affirm"), ("No, change it", "/deny")]),
        )
        return []


async def submit_address(client: OrderServiceClient, dispatcher: CollectingDispatcher,
                         tracker: Tracker) -> List[EventType]:
    """Sends the confirmed address; claims success only on the service's 2xx."""
    ctx = Ctx.from_tracker(tracker)
    order_id = tracker.get_slot("active_order_id")
    if not order_id or tracker.get_slot("address_confirmed") is not True:
        dispatcher.utter_message(response="utter_address_not_sent")
        return clear_address()
    ref = order_ref(order_id, ctx)
    address = new_address(tracker)
    ndr = tracker.get_slot("address_mode") == "ndr"
    if ndr:
        result = await client.ndr_action(
            order_id, "update_details", details="New address: " + address_text(address),
            channel=tracker.get_slot("channel"), **request_proof(tracker))
    else:
        result = await client.change_address(order_id, address)

    if result.outcome is Outcome.UNAVAILABLE:
        return clear_address() + await service_down(client, dispatcher, tracker, f"address change for {order_id}")
    if result.ok:
        if ndr:
            dispatcher.utter_message(response="utter_ndr_details_sent", order_ref=ref,
                                     address=address_text(address), courier=courier_name(result.order, ctx))
        else:
            dispatcher.utter_message(response="utter_address_updated", order_ref=ref,
                                     address=address_text(result.order.shipping_address),
                                     courier=courier_name(result.order, ctx))
        return clear_address()
    if result.outcome is Outcome.INVALID:
        dispatcher.utter_message(response="utter_address_rejected",
                                 fields=", ".join(sorted(result.fields)) or "address")
        return clear_address()
    if result.outcome is Outcome.NOT_ALLOWED and not ndr:
        current = await client.get_order(order_id)
        status = current.order.status if current.ok else "shipped"
        if status == "delivery_failed":
            # Keep the address the customer just confirmed: it can go to the courier instead.
            dispatcher.utter_message(response="utter_address_change_ndr_offer_now", order_ref=ref,
                                     reason=api_reason(result.reason, status, ctx))
            return [SlotSet("address_mode", "ndr"), SlotSet("awaiting", "ndr_submit_offer")]
        dispatcher.utter_message(response="utter_address_change_refused", order_ref=ref,
                                 reason=api_reason(result.reason, status, ctx))
        return clear_address() + offer_person("delivery", f"address change refused for {order_id}: {result.reason}")
    dispatcher.utter_message(response="utter_ndr_not_allowed", order_ref=ref)
    return clear_address() + offer_person("delivery", f"courier update refused for {order_id}")


class ActionSubmitAddress(OrderAction):
    """Runs when `address_form` completes."""

    def name(self) -> Text:
        return "action_submit_address"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if stopped(tracker):
            return clear_address()
        return await submit_address(self.client, dispatcher, tracker)
