"""Never stuck: what happens when the answer to a pending question doesn't come.

A pending question is a form's requested slot or the `awaiting` question (yes/no, which
order, order number). When the customer says something else:

- a question we can answer on the spot (where is my order, payment, refund) gets a short
  answer about the order in hand, then the pending question is asked again;
- anything else counts as a miss, and the question is asked again with the answers it accepts;
- no question is asked more than `MAX_ASKS` times in a row: at the third miss we offer a
  person instead (slot `awaiting` = handoff_offer), and a "yes" opens an escalation through
  `actions.routes.hand_off`, as every other offer does.

Slot `question_misses` counts the misses in a row; any usable answer resets it.
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import OrderServiceClient, Outcome
from actions.formatting import Ctx, buttons, order_ref
from actions.routes import hand_off, offer_person
from actions.payments import ActionPaymentStatus, ActionRefundStatus
from actions.status import ActionOrderStatus

MAX_ASKS = 3
SIDE_CONFIDENCE = 0.8
# Questions worth a short answer in the middle of another question (intent -> task).
SIDE_QUESTIONS = {
    "order_status": ActionOrderStatus,
    "payment_query": ActionPaymentStatus,
    "refund_status": ActionRefundStatus,
}
# `awaiting` questions asked again by `reask`, and their responses (which say the answers they accept).
REASK = {
    "cancel_confirm": "utter_reask_cancel_confirm",
    "ndr_update_offer": "utter_reask_courier_address",
    "ndr_submit_offer": "utter_reask_courier_address",
    "handoff_offer": "utter_reask_handoff_offer",
    "order_choice": "utter_reask_order_choice",
    "order_id": "utter_ask_order_id",
}
YES_NO = {"cancel_confirm", "ndr_update_offer", "ndr_submit_offer", "handoff_offer"}


def misses(tracker: Tracker) -> int:
    return int(tracker.get_slot("question_misses") or 0)


def answered() -> List[EventType]:
    """A usable answer: the count starts again."""
    return [SlotSet("question_misses", 0.0)]


def side_question(tracker: Tracker) -> Optional[Text]:
    """The intent of a question we can answer on the spot, if the message is one."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name")
    if name in SIDE_QUESTIONS and float(intent.get("confidence") or 0) >= SIDE_CONFIDENCE:
        return name
    return None


async def answer_aside(client: OrderServiceClient, dispatcher: CollectingDispatcher, tracker: Tracker,
                       intent: Text) -> bool:
    """Answers a side question about the order in hand; False when there is none to answer about.

    Only the answer is kept: whatever the task would ask next waits for the pending question.
    """
    active = tracker.get_slot("active_order_id")
    if not active:
        return False
    found = await client.get_order(active)
    if found.outcome is not Outcome.OK:
        return False
    await SIDE_QUESTIONS[intent](client).handle(found.order, Ctx.from_tracker(tracker), dispatcher, tracker)
    return True


def give_up(dispatcher: CollectingDispatcher, tracker: Tracker, question: Text) -> List[EventType]:
    """The third miss: offer a person instead of asking again."""
    dispatcher.utter_message(response="utter_offer_person_stuck", buttons=buttons(
        Ctx.from_tracker(tracker), [("Yes, get a person", "/affirm"), ("No", "/deny")]))
    text = ((tracker.latest_message or {}).get("text") or "")[:200]
    return answered() + offer_person(
        "general", f"no usable answer {MAX_ASKS} times in a row to '{question}'; last: {text}")


async def missed(client: OrderServiceClient, dispatcher: CollectingDispatcher, tracker: Tracker,
                 question: Text, aside: bool = True) -> List[EventType]:
    """Counts a miss; answers a side question first (unless `aside` is False: already answered).

    Returns the count, or the offer of a person; the caller asks the question again unless
    the result has `awaiting` = handoff_offer.
    """
    intent = side_question(tracker) if aside else None
    if intent:
        await answer_aside(client, dispatcher, tracker, intent)
    count = misses(tracker) + 1
    if count >= MAX_ASKS:
        return give_up(dispatcher, tracker, question)
    return [SlotSet("question_misses", float(count))]


def gave_up(events: List[EventType]) -> bool:
    return any(e.get("event") == "slot" and e.get("name") == "awaiting" and e.get("value") == "handoff_offer"
               for e in events)


def reask(dispatcher: CollectingDispatcher, tracker: Tracker, awaiting: Text) -> None:
    """Asks the `awaiting` question again, saying which answers it takes."""
    ctx = Ctx.from_tracker(tracker)
    response = REASK[awaiting]
    details: Dict[Text, Any] = {}
    if awaiting == "order_choice":
        first, second = (list(tracker.get_slot("order_choices") or []) + ["-", "-"])[:2]
        details = dict(first=order_ref(first, ctx), second=order_ref(second, ctx))
    elif awaiting != "handoff_offer" and awaiting != "order_id":
        details = dict(order_ref=order_ref(tracker.get_slot("active_order_id") or "-", ctx))
    if awaiting in YES_NO:
        details["buttons"] = buttons(ctx, [("Yes", "/affirm"), ("No", "/deny")])
    dispatcher.utter_message(response=response, **details)


async def miss_awaiting(client: OrderServiceClient, dispatcher: CollectingDispatcher, tracker: Tracker,
                        awaiting: Text, aside: bool = True) -> List[EventType]:
    """A miss on an `awaiting` question: ask it again, or after the third, offer a person.

    A person already offered three times over is not offered a fourth time: we hand over.
    """
    events = await missed(client, dispatcher, tracker, awaiting, aside)
    if not gave_up(events):
        reask(dispatcher, tracker, awaiting)
        return events
    if awaiting == "handoff_offer":
        return await hand_off(client, dispatcher, tracker, "general",
                              "customer did not answer the offer of a person three times")
    return events


class PatientForm(FormValidationAction):
    """A form validation that answers side questions and never asks a slot more than 3 times.

    Each miss (nothing usable for the requested slot) is counted; the form itself asks the slot
    again. At the third miss the form stops and a person is offered; the form's submit action
    then does nothing (see `stopped`).
    """

    def __init__(self, client: Optional[OrderServiceClient] = None) -> None:
        self.client = client or OrderServiceClient.from_env()

    @abstractmethod
    def name(self) -> Text:
        """validate_<form name>, as declared in domain/."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        asked = tracker.get_slot("requested_slot")
        if not asked:
            return await super().run(dispatcher, tracker, domain)
        if side_question(tracker):
            # A question is not an answer, even where any text would do.
            events: List[EventType] = [SlotSet(asked, None)]
            given = None
        else:
            given = tracker.get_slot(asked)
            events = await super().run(dispatcher, tracker, domain)
        kept = next((e.get("value") for e in reversed(events)
                     if e.get("event") == "slot" and e.get("name") == asked), given)
        if kept is not None or given is False:  # a "no" at a confirmation is an answer too
            return events + answered()
        outcome = await missed(self.client, dispatcher, tracker, asked)
        if gave_up(outcome):
            # Stop the form; its submit action sees `awaiting` = handoff_offer and stays quiet.
            return events + outcome + [SlotSet("requested_slot", None)]
        return events + outcome


def stopped(tracker: Tracker) -> bool:
    """The form ended because we offered a person, not because it was filled."""
    return tracker.get_slot("awaiting") == "handoff_offer"
