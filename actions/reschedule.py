"""Moving a delivery to another day and slot, or asking the courier to try again."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Order, OrderServiceClient, Outcome
from actions.base import OrderAction, OrderTaskAction
from actions.context import request_proof
from actions.identity import ask_change_code, code_required
from actions.dates import date_in_sentence, parse_date, today_ist
from actions.formatting import Ctx, buttons, courier_name, order_ref, refusal, when
from actions.pending import PatientForm, stopped
from actions.routes import offer_person, service_down, updated

MAX_DAYS_AHEAD = 7
_SLOT_WORDS = {
    "morning": ("morning", "subah", "subha", "savere", "sawere", "am", "forenoon", "early", "din"),
    "evening": ("evening", "shaam", "sham", "sam", "pm", "afternoon", "dopahar", "dopehar", "raat", "late"),
}


def normalise_slot(value: Any) -> Optional[str]:
    words = str(value or "").lower().replace("-", " ").split()
    for slot, markers in _SLOT_WORDS.items():
        if any(w in markers or w.startswith(slot) for w in words):
            return slot
    return None


def allowed_range(ctx: Ctx) -> Dict[str, str]:
    today = ctx.today or today_ist()
    return {"first": when(today + timedelta(days=1), ctx),
            "last": when(today + timedelta(days=MAX_DAYS_AHEAD), ctx)}


def _clear() -> List[EventType]:
    return [SlotSet("delivery_date", None), SlotSet("delivery_slot", None), SlotSet("reschedule_mode", None),
            SlotSet("order_id", None)]


def customer_date(value: Any, tracker: Tracker) -> Optional[date]:
    """The date in the slot value, unless the whole message names a fuller one
    (the entity may be just "tomorrow" out of "day after tomorrow")."""
    text = value[-1] if isinstance(value, list) and value else value
    return date_in_sentence((tracker.latest_message or {}).get("text")) or parse_date(text)


async def open_reschedule_form(client: OrderServiceClient, dispatcher: CollectingDispatcher,
                               tracker: Tracker, mode: str, order_ref: str) -> List[EventType]:
    """Starts `reschedule_form`, keeping a date/slot the customer already gave
    ("deliver kal shaam"); if nothing is missing, submits straight away."""
    events: List[EventType] = [SlotSet("reschedule_mode", mode)]
    given = tracker.get_slot("delivery_date")
    day = customer_date(given, tracker) if given else None
    slot = normalise_slot(tracker.get_slot("delivery_slot")) or normalise_slot(tracker.get_slot("delivery_date"))
    events += [SlotSet("delivery_date", day.isoformat() if day else None), SlotSet("delivery_slot", slot)]
    missing = "delivery_date" if day is None else ("delivery_slot" if slot is None and mode != "ndr" else None)
    if missing is None:
        return events + await submit_reschedule(client, dispatcher, updated(tracker, events))
    dispatcher.utter_message(response="utter_reschedule_start", order_ref=order_ref,
                             **allowed_range(Ctx.from_tracker(tracker)))
    # Rasa runs the active form next, and the form asks for what is missing.
    return events + [ActiveLoop("reschedule_form")]


def ask_slot(dispatcher: CollectingDispatcher, ctx: Ctx) -> None:
    dispatcher.utter_message(
        response="utter_ask_delivery_slot",
        buttons=buttons(ctx, [("Morning (9am-1pm)", '/inform{"slot":"morning"}'),
                              ("Evening (4pm-8pm)", '/inform{"slot":"evening"}')]),
    )


class ActionStartReschedule(OrderTaskAction):
    """Checks the delivery can move, then opens `reschedule_form`."""

    def name(self) -> Text:
        return "action_start_reschedule"

    @staticmethod
    def wants(order: Order) -> bool:
        return order.allowed.reschedule or order.status == "delivery_failed"

    async def handle(self, order: Order, ctx: Ctx, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        ref = order_ref(order.shown_id, ctx)
        if order.status == "delivery_failed":
            mode = "ndr"  # the courier needs a reattempt instruction, not a new slot
        elif order.allowed.reschedule:
            mode = "reschedule"
        else:
            dispatcher.utter_message(response="utter_reschedule_refused", order_ref=ref,
                                     reason=refusal(order.status, ctx))
            return _clear() + offer_person("delivery", f"wants to reschedule {order.order_id} ({order.status})")
        if code_required(order, tracker):
            return await ask_change_code(self.client, dispatcher, tracker, order, self.name())
        return await open_reschedule_form(self.client, dispatcher, tracker, mode, ref)
class ValidateRescheduleForm(PatientForm):
    """Turns 'kal shaam' into a date and a slot; the service judges the range."""

    def name(self) -> Text:
        return "validate_reschedule_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: Dict[Text, Any]) -> List[Text]:
        if tracker.get_slot("reschedule_mode") == "ndr":
            return ["delivery_date"]
        return ["delivery_date", "delivery_slot"]

    def validate_delivery_date(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        text = value[-1] if isinstance(value, list) and value else value
        day = customer_date(value, tracker)
        if day is None:
            dispatcher.utter_message(response="utter_date_not_understood",
                                     **allowed_range(Ctx.from_tracker(tracker)))
            return {"delivery_date": None}
        events: Dict[Text, Any] = {"delivery_date": day.isoformat()}
        slot = normalise_slot(text)
        if slot and not tracker.get_slot("delivery_slot"):
            events["delivery_slot"] = slot
        return events

    def validate_delivery_slot(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        slot = normalise_slot(value[-1] if isinstance(value, list) and value else value)
        if not slot:
            dispatcher.utter_message(response="utter_slot_not_understood")
        return {"delivery_slot": slot}


class ActionAskDeliverySlot(Action):
    """Asks morning or evening, with quick replies on WhatsApp."""

    def name(self) -> Text:
        return "action_ask_delivery_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        ask_slot(dispatcher, Ctx.from_tracker(tracker))
        return []


async def submit_reschedule(client: OrderServiceClient, dispatcher: CollectingDispatcher,
                            tracker: Tracker) -> List[EventType]:
    """Sends the new date; reports only what the order service answered."""
    ctx = Ctx.from_tracker(tracker)
    order_id = tracker.get_slot("active_order_id")
    raw = tracker.get_slot("delivery_date")
    if not order_id or not raw:
        dispatcher.utter_message(response="utter_something_went_wrong")
        return _clear()
    day = date.fromisoformat(raw)
    ref = order_ref(order_id, ctx)
    ndr = tracker.get_slot("reschedule_mode") == "ndr"
    if ndr:
        result = await client.ndr_action(
            order_id, "reattempt", on=day, channel=tracker.get_slot("channel"), **request_proof(tracker))
    else:
        result = await client.reschedule(order_id, day, tracker.get_slot("delivery_slot"))

    if result.outcome is Outcome.UNAVAILABLE:
        return _clear() + await service_down(client, dispatcher, tracker, f"reschedule of {order_id}")
    if result.ok:
        ship = result.order.shipment
        booked = (ship.rescheduled_for if ship else None) or raw
        slot = (ship.rescheduled_slot if ship else None) or tracker.get_slot("delivery_slot")
        dispatcher.utter_message(
            response="utter_reattempt_booked" if ndr else "utter_rescheduled",
            order_ref=ref, date=when(booked, ctx), slot=slot or "-", courier=courier_name(result.order, ctx))
        return _clear()
    if result.outcome is Outcome.INVALID:
        dispatcher.utter_message(response="utter_reschedule_invalid_date", **allowed_range(ctx))
        return [SlotSet("delivery_date", None), ActiveLoop("reschedule_form")]
    if result.reason and ctx.style == "en":
        reason = result.reason
    else:
        reason = ("abhi delivery ki date badli nahi ja sakti" if ctx.style == "hinglish"
                  else "the delivery can't be moved right now")
    dispatcher.utter_message(response="utter_reschedule_refused", order_ref=ref, reason=reason)
    return _clear() + offer_person("delivery", f"reschedule refused for {order_id}: {result.reason}")


class ActionSubmitReschedule(OrderAction):
    """Runs when `reschedule_form` completes."""

    def name(self) -> Text:
        return "action_submit_reschedule"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if stopped(tracker):
            return _clear()
        return await submit_reschedule(self.client, dispatcher, tracker)
