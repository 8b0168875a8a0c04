"""Returns, exchanges and replacements within 7 days of delivery."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Order, Outcome
from actions.base import OrderAction, OrderTaskAction
from actions.formatting import Ctx, order_ref, when
from actions.pending import PatientForm, stopped
from actions.routes import service_down


def return_kind(text: str) -> str:
    text = text.lower()
    if re.search(r"exchange|size (change|badal)|badal|dusra size|different size", text):
        return "exchange"
    if re.search(r"replace|replacement|damaged|broken|defect|toota|tuta|kharab", text):
        return "replacement"
    return "return"


class ActionStartReturn(OrderTaskAction):
    """Opens `return_form` when the return window is open, else explains."""

    def name(self) -> Text:
        return "action_start_return"

    @staticmethod
    def wants(order: Order) -> bool:
        # Delivered, inside the return window, no return open yet: the order service's rule.
        return order.allowed.return_

    @staticmethod
    def near(order: Order) -> bool:
        return order.status == "delivered"  # e.g. its return window has closed

    async def handle(self, order: Order, ctx: Ctx, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        ref = order_ref(order.shown_id, ctx)
        if order.return_request:
            dispatcher.utter_message(response="utter_return_exists", order_ref=ref,
                                     return_status=str(order.return_request.get("status") or "open"))
            return []
        if order.allowed.return_:
            kind = return_kind((tracker.latest_message or {}).get("text") or "")
            dispatcher.utter_message(response="utter_return_start", order_ref=ref,
                                     window_ends=when(order.return_window_ends, ctx) or "-")
            return [SlotSet("return_kind", kind), SlotSet("return_reason", None), ActiveLoop("return_form")]
        if order.status == "delivered":
            dispatcher.utter_message(response="utter_return_window_closed", order_ref=ref,
                                     window_ends=when(order.return_window_ends, ctx) or "-")
            return []
        dispatcher.utter_message(response="utter_return_not_delivered", order_ref=ref)
        return []


class ValidateReturnForm(PatientForm):
    def name(self) -> Text:
        return "validate_return_form"

    def validate_return_reason(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < 3:
            dispatcher.utter_message(response="utter_ask_return_reason")
            return {"return_reason": None}
        return {"return_reason": text[:500]}


class ActionSubmitReturn(OrderAction):
    """Records the return request and says what happens next."""

    def name(self) -> Text:
        return "action_submit_return"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        ctx = Ctx.from_tracker(tracker)
        order_id = tracker.get_slot("active_order_id")
        reason = tracker.get_slot("return_reason")
        clear = [SlotSet("return_reason", None), SlotSet("return_kind", None), SlotSet("order_id", None)]
        if stopped(tracker):
            return clear
        if not order_id or not reason:
            dispatcher.utter_message(response="utter_something_went_wrong")
            return clear
        kind = tracker.get_slot("return_kind") or "return"
        result = await self.client.request_return(order_id, kind, reason)
        ref = order_ref(order_id, ctx)
        if result.outcome is Outcome.UNAVAILABLE:
            return clear + await service_down(self.client, dispatcher, tracker, f"return for {order_id}")
        if result.ok:
            dispatcher.utter_message(response="utter_return_recorded", order_ref=ref, kind=kind)
            return clear
        dispatcher.utter_message(response="utter_return_refused", order_ref=ref,
                                 reason=result.reason if ctx.style == "en" and result.reason else "-")
        return clear
