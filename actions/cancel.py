"""Cancelling an order: before shipping, after an explicit yes; after, explain."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Order, OrderServiceClient, Outcome
from actions.base import OrderTaskAction
from actions.formatting import Ctx, buttons, courier_name, items_summary, money, order_ref, refusal
from actions.identity import ask_change_code, code_required
from actions.routes import offer_person, service_down

IN_FLIGHT = ("shipped", "in_transit", "out_for_delivery", "delivery_failed")


class ActionStartCancel(OrderTaskAction):
    """Asks for a clear yes before cancelling, or explains why it can't be done."""

    def name(self) -> Text:
        return "action_start_cancel"

    @staticmethod
    def wants(order: Order) -> bool:
        return order.allowed.cancel  # not dispatched yet, by the order service's rule

    async def handle(self, order: Order, ctx: Ctx, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        ref = order_ref(order.shown_id, ctx)
        if order.allowed.cancel:
            if code_required(order, tracker):
                return await ask_change_code(self.client, dispatcher, tracker, order, self.name())
            dispatcher.utter_message(
                response="utter_confirm_cancel", order_ref=ref, items=items_summary(order),
                amount=money(order.amount, ctx),
                buttons=buttons(ctx, [("Yes, cancel it", "/affirm"), ("No, keep it", "/deny")]))
            return [SlotSet("awaiting", "cancel_confirm")]
        if order.status in IN_FLIGHT:
            dispatcher.utter_message(response="utter_cancel_after_ship", order_ref=ref)
            return offer_person("delivery", f"wants to cancel {order.order_id} after shipping ({order.status})")
        if order.status == "delivered":
            dispatcher.utter_message(response="utter_cancel_delivered", order_ref=ref)
            return []
        if order.status == "cancelled":
            dispatcher.utter_message(response="utter_already_cancelled", order_ref=ref)
            return []
        dispatcher.utter_message(response="utter_cancel_refused", order_ref=ref, reason=refusal(order.status, ctx))
        return offer_person("delivery", f"wants to cancel {order.order_id} ({order.status})")


async def cancel_order(client: OrderServiceClient, dispatcher: CollectingDispatcher,
                       tracker: Tracker) -> List[EventType]:
    """Cancels `active_order_id`; only after a 'yes' to utter_confirm_cancel."""
    ctx = Ctx.from_tracker(tracker)
    order_id = tracker.get_slot("active_order_id")
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if not order_id or intent != "affirm":
        dispatcher.utter_message(response="utter_something_went_wrong")
        return []
    ref = order_ref(order_id, ctx)
    result = await client.cancel(order_id, reason="customer asked in chat")
    if result.outcome is Outcome.UNAVAILABLE:
        return await service_down(client, dispatcher, tracker, f"cancel {order_id}")
    if result.ok:
        pay = result.order.payment
        response = ("utter_order_cancelled_refund" if pay.method == "prepaid" and pay.status == "paid"
                    else "utter_order_cancelled")
        dispatcher.utter_message(response=response, order_ref=ref, amount=money(result.order.amount, ctx),
                                 courier=courier_name(result.order, ctx))
        return []
    reason = result.reason if (result.reason and ctx.style == "en") else refusal("shipped", ctx)
    dispatcher.utter_message(response="utter_cancel_refused", order_ref=ref, reason=reason)
    return offer_person("delivery", f"cancel refused for {order_id}: {result.reason}")
