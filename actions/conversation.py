"""Short answers whose meaning depends on what we just asked (slot `awaiting`):
an order number or choice, proof of ownership, yes, no, and messages the NLU
could not place. Each resumes the task that asked, inline, so one user turn is
one action in the conversation and rules stay simple."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.address import ActionStartAddressChange, clear_address, open_address_form, submit_address
from actions.base import OrderAction, OrderTaskAction
from actions.cancel import ActionStartCancel, cancel_order
from actions.formatting import normalise_order_id
from actions.identity import DEFAULT_TASK, check_change_code, picked_choice, verify_ownership
from actions.payments import ActionPaymentStatus, ActionRefundStatus
from actions.pending import REASK, YES_NO, answered, miss_awaiting
from actions.reschedule import ActionStartReschedule
from actions.returns import ActionStartReturn
from actions.routes import hand_off, updated
from actions.status import ActionOrderStatus

# Tasks that can stop to ask which order, resumed here by name (slot `pending_action`).
TASKS = {
    "action_order_status": ActionOrderStatus,
    "action_start_address_change": ActionStartAddressChange,
    "action_start_reschedule": ActionStartReschedule,
    "action_payment_status": ActionPaymentStatus,
    "action_refund_status": ActionRefundStatus,
    "action_start_cancel": ActionStartCancel,
    "action_start_return": ActionStartReturn,
}
FALLBACKS_BEFORE_HANDOFF = 2


class ActionHandleInform(OrderAction):
    """Takes the customer's answer to the question in `awaiting` and resumes the task."""

    def name(self) -> Text:
        return "action_handle_inform"

    async def resume(self, name: Text, events: List[EventType], dispatcher: CollectingDispatcher,
                     tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        task: OrderTaskAction = TASKS.get(name, ActionOrderStatus)(self.client)
        return events + await task.run(dispatcher, updated(tracker, events), domain)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        awaiting = tracker.get_slot("awaiting")
        resume = tracker.get_slot("pending_action") or DEFAULT_TASK
        text = (tracker.latest_message or {}).get("text") or ""

        if awaiting == "ownership":
            proven = await verify_ownership(self.client, dispatcher, tracker)
            if proven.order is None:
                return proven.events
            return await self.resume(resume, proven.events, dispatcher, tracker, domain)

        if awaiting == "change_code":
            confirmed = await check_change_code(self.client, dispatcher, tracker)
            if confirmed.order is None:
                return confirmed.events
            return await self.resume(resume, confirmed.events, dispatcher, tracker, domain)

        if awaiting == "order_choice":
            picked = picked_choice(tracker, tracker.get_slot("order_choices") or [])
            if not picked:
                return await miss_awaiting(self.client, dispatcher, tracker, awaiting)
            events = [SlotSet("order_id", picked), SlotSet("awaiting", None)] + answered()
            return await self.resume(resume, events, dispatcher, tracker, domain)

        named = normalise_order_id(tracker.get_slot("order_id")) or (
            normalise_order_id(text) if awaiting == "order_id" else None
        )
        if named:
            events = [SlotSet("order_id", named), SlotSet("awaiting", None)] + answered()
            return await self.resume(resume, events, dispatcher, tracker, domain)
        if awaiting == "order_id" or awaiting in YES_NO:
            return await miss_awaiting(self.client, dispatcher, tracker, awaiting)
        if tracker.get_slot("delivery_date") or tracker.get_slot("delivery_slot"):
            return await self.resume("action_start_reschedule", [], dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_how_can_i_help")
        return []


class ActionHandleAffirm(OrderAction):
    """'Yes' to whatever we offered last."""

    def name(self) -> Text:
        return "action_handle_affirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        awaiting = tracker.get_slot("awaiting")
        done = [SlotSet("awaiting", None)] + answered()
        if awaiting == "cancel_confirm":
            return done + await cancel_order(self.client, dispatcher, tracker)
        if awaiting == "ndr_update_offer":
            return done + open_address_form(mode="ndr")
        if awaiting == "ndr_submit_offer":
            return done + await submit_address(self.client, dispatcher, tracker)
        if awaiting == "handoff_offer":
            return await hand_off(self.client, dispatcher, tracker,
                                  reason=tracker.get_slot("handoff_reason"),
                                  note=tracker.get_slot("handoff_note") or "customer accepted a person")
        dispatcher.utter_message(response="utter_how_can_i_help")
        return []


class ActionHandleDeny(OrderAction):
    """'No' to whatever we offered or asked last."""

    def name(self) -> Text:
        return "action_handle_deny"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        awaiting = tracker.get_slot("awaiting")
        done = [SlotSet("awaiting", None)] + answered()
        if awaiting == "cancel_confirm":
            dispatcher.utter_message(response="utter_cancel_kept")
            return done
        if awaiting == "ownership":
            dispatcher.utter_message(response="utter_cannot_share_without_proof")
            return [SlotSet("pending_order_id", None), SlotSet("awaiting", "handoff_offer"),
                    SlotSet("handoff_reason", "general"),
                    SlotSet("handoff_note", "customer could not prove ownership of an order")]
        dispatcher.utter_message(response="utter_no_problem")
        if awaiting == "ndr_submit_offer":
            return done + clear_address()
        return done


class ActionHandleFallback(OrderAction):
    """Low-confidence NLU: answer a pending question if we can, else rephrase, else a person."""

    def name(self) -> Text:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        awaiting = tracker.get_slot("awaiting")
        if awaiting in ("order_id", "order_choice", "ownership", "change_code") and (
            re.search(r"\d", text) or awaiting == "order_choice"
        ):
            return await ActionHandleInform(self.client).run(dispatcher, tracker, domain)
        if awaiting in REASK:
            # Inside a question: ask it again with the answers it takes, never the generic fallback.
            return await miss_awaiting(self.client, dispatcher, tracker, awaiting)
        if consecutive_fallbacks(tracker) >= FALLBACKS_BEFORE_HANDOFF:
            dispatcher.utter_message(response="utter_fallback_handoff")
            return await hand_off(self.client, dispatcher, tracker, "general",
                                  f"did not understand the customer twice; last: {text[:200]}")
        dispatcher.utter_message(response="utter_default")
        return []


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were nlu_fallback."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != "nlu_fallback":
            break
        count += 1
    return count
