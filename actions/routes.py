"""Handing a conversation to a person, from any action.

Every path ends in `ConversationPaused()`: the bot goes quiet and the team's
inbox owns the conversation. If the escalation could not be recorded we say so
plainly and give the customer another way to reach us.
"""
from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Escalation, OrderServiceClient


def build_escalation(
    tracker: Tracker, reason: Optional[str], note: Optional[str], order_id: Optional[str]
) -> Escalation:
    """The escalation for this conversation. Without a `reason` the order service picks the
    queue from the intent, and it sets the priority: those rules live with the escalations."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    text = (tracker.latest_message or {}).get("text") or ""
    return Escalation(
        reason=reason or None,
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        channel=tracker.get_slot("channel"),
        phone=tracker.get_slot("phone"),
        order_id=order_id or tracker.get_slot("active_order_id"),
        note=(note or f"customer: {text}")[:500],
    )


async def hand_off(
    client: OrderServiceClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: Optional[str] = None,
    note: Optional[str] = None,
    order_id: Optional[str] = None,
) -> List[EventType]:
    """Opens an escalation, tells the customer what happens next, pauses the bot.

    Args:
        reason: Queue (delivery, payments, complaint, general); the order service
            picks it from the intent if None.
        note: One line for the agent.
        order_id: The order in question; may be one the customer has not proven
            is theirs, which is why it is never put in `active_order_id` here.
    """
    escalation = build_escalation(tracker, reason, note, order_id)
    result = await client.escalate(escalation)
    if result.ok:
        queue = escalation.reason or result.reason  # the service's choice when we left it to the intent
        response = "utter_handoff_payments" if queue == "payments" else "utter_handoff_done"
    else:
        response = "utter_handoff_failed"
    dispatcher.utter_message(response=response)
    return [
        SlotSet("handoff_reason", None),
        SlotSet("handoff_note", None),
        SlotSet("awaiting", None),
        SlotSet("pending_action", None),
        SlotSet("pending_order_id", None),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        ConversationPaused(),
    ]


async def service_down(
    client: OrderServiceClient, dispatcher: CollectingDispatcher, tracker: Tracker, note: str
) -> List[EventType]:
    """Says sorry for an unreachable order service and hands over to a person."""
    dispatcher.utter_message(response="utter_service_down")
    return await hand_off(client, dispatcher, tracker, "general", f"order service unavailable: {note}")


def offer_person(reason: str, note: str) -> List[EventType]:
    """Remembers that we asked 'shall I connect you to our team?'; a yes hands off."""
    return [SlotSet("awaiting", "handoff_offer"), SlotSet("handoff_reason", reason),
            SlotSet("handoff_note", note)]


def updated(tracker: Tracker, events: List[EventType]) -> Tracker:
    """A copy of `tracker` with the slot events applied, for running a step inline."""
    copy = tracker.copy()
    copy.add_slots(events)
    return copy
