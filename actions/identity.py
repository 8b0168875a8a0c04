"""Which order is this about, and may this sender hear about it?

The sender's phone number is their identity. Orders placed from that number
are theirs. An order they name that belongs to another number stays a secret
("we found an order") until they prove ownership with the last 4 digits of
the phone on the order or its delivery pincode. Three wrong answers in a
conversation hand it to a person.

Slots: `active_order_id` is the one order the customer may hear about now;
`verified_order_ids` lists other-number orders proven in this conversation;
`awaiting` names the question we asked (order_id, order_choice, ownership)
and `pending_action` the action to resume once it is answered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Order, OrderServiceClient, Outcome
from actions.formatting import Ctx, buttons, normalise_order_id, order_choice_label, order_ref
from actions.routes import hand_off, service_down

MAX_VERIFICATION_TRIES = 3
DEFAULT_TASK = "action_order_status"
_ORDINALS = {
    0: ("1", "1st", "first", "pehla", "pehle", "pahla", "pehli", "pahli", "upar", "upar wala"),
    1: ("2", "2nd", "second", "dusra", "doosra", "dusre", "dusri", "doosri", "niche", "neeche"),
}


@dataclass
class Resolution:
    """The order settled on, or None when the customer was asked something."""

    order: Optional[Order]
    events: List[EventType] = field(default_factory=list)


def same_phone(a: Optional[str], b: Optional[str]) -> bool:
    """Same number; E.164 on both sides compares whole, else the last 10 digits."""
    da, db = re.sub(r"\D", "", a or ""), re.sub(r"\D", "", b or "")
    if len(da) < 10 or len(db) < 10:
        return False
    if (a or "").startswith("+") and (b or "").startswith("+"):
        return da == db
    return da[-10:] == db[-10:]


def may_see(order: Order, tracker: Tracker) -> bool:
    return same_phone(order.customer_phone, tracker.get_slot("phone")) or order.order_id in (
        tracker.get_slot("verified_order_ids") or []
    )


def _settled(order: Order) -> List[EventType]:
    return [
        SlotSet("active_order_id", order.order_id),
        SlotSet("order_id", None),
        SlotSet("awaiting", None),
        SlotSet("order_choices", None),
        SlotSet("pending_order_id", None),
    ]


def _ask(awaiting: str, requester: str, extra: Optional[List[EventType]] = None) -> List[EventType]:
    return [SlotSet("awaiting", awaiting), SlotSet("pending_action", requester), SlotSet("order_id", None)] + (
        extra or []
    )


async def resolve_order(
    client: OrderServiceClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    requester: Text,
    wants: Callable[[Order], bool] = lambda o: o.is_open,
    near: Callable[[Order], bool] = lambda o: o.is_open,
) -> Resolution:
    """Settles the order `requester` is about, asking the customer when needed.

    Args:
        client: Order service client.
        dispatcher: Receives any question we have to ask.
        tracker: The conversation.
        requester: Name of the action to resume once the customer answers.
        wants: Picks the customer's orders this task can be about (its eligibility rule).
        near: When none is eligible, the orders worth explaining the refusal on.
    """
    ctx = Ctx.from_tracker(tracker)
    mentioned = normalise_order_id(tracker.get_slot("order_id"))
    active = tracker.get_slot("active_order_id")

    if mentioned and mentioned != active:
        result = await client.resolve(mentioned)
        if result.outcome is Outcome.UNAVAILABLE:
            return Resolution(None, await service_down(client, dispatcher, tracker, f"GET order {mentioned}"))
        if result.outcome is not Outcome.OK:
            dispatcher.utter_message(
                response="utter_order_not_found", order_ref=order_ref(mentioned, ctx)
            )
            return Resolution(None, _ask("order_id", requester))
        order = result.order
        if may_see(order, tracker):
            return Resolution(order, _settled(order))
        dispatcher.utter_message(response="utter_ask_ownership_proof")
        return Resolution(
            None, _ask("ownership", requester, [SlotSet("pending_order_id", order.order_id)])
        )

    current: Optional[Order] = None
    if active:
        result = await client.get_order(active)
        if result.outcome is Outcome.UNAVAILABLE:
            return Resolution(None, await service_down(client, dispatcher, tracker, f"GET order {active}"))
        if result.ok:
            current = result.order
            # The order we last talked about, unless this request fits another of theirs better.
            if wants(current) or not tracker.get_slot("phone"):
                return Resolution(current, _settled(current))

    phone = tracker.get_slot("phone")
    orders: List[Order] = []
    if phone:
        result = await client.orders_for_phone(phone)
        if result.outcome is Outcome.UNAVAILABLE:
            return Resolution(None, await service_down(client, dispatcher, tracker, "GET orders by phone"))
        orders = list(result.orders)
    if not orders and current is None:
        dispatcher.utter_message(
            response="utter_ask_order_id_no_orders" if phone else "utter_ask_order_id"
        )
        return Resolution(None, _ask("order_id", requester))

    likely = [o for o in orders if wants(o)]
    if len(likely) <= 1:
        # One fits: it is the one (the task's reply names it). None fits: the task explains
        # why on the closest one, rather than acting on an order the request can't be about.
        chosen = likely[0] if likely else closest(orders, current, near)
        return Resolution(chosen, _settled(chosen))

    first, second = likely[0], likely[1]
    dispatcher.utter_message(
        response="utter_ask_which_order",
        first=order_choice_label(first, ctx),
        second=order_choice_label(second, ctx),
        buttons=buttons(
            ctx,
            [
                (f"{first.order_id}", f'/inform{{"order_id":"{first.order_id}"}}'),
                (f"{second.order_id}", f'/inform{{"order_id":"{second.order_id}"}}'),
            ],
        ),
    )
    return Resolution(
        None,
        _ask("order_choice", requester, [SlotSet("order_choices", [first.order_id, second.order_id])]),
    )


def closest(orders: List[Order], current: Optional[Order], near: Callable[[Order], bool]) -> Order:
    """The order to explain a refusal on when none of the customer's orders fits the request:
    the one we were talking about, else the newest `near` one, else the newest."""
    if current is not None:
        return current
    return next((o for o in orders if near(o)), orders[0])


def proofs_in(tracker: Tracker) -> List[str]:
    """Candidate answers to the ownership question, from entities and raw text."""
    found: List[str] = []
    for slot in ("phone_last4", "pincode", "order_id"):
        value = tracker.get_slot(slot)
        values = value if isinstance(value, list) else [value]
        found.extend(re.sub(r"\D", "", str(v)) for v in values if v)
    text = (tracker.latest_message or {}).get("text") or ""
    if not text.startswith("/"):
        found.extend(re.findall(r"(?<!\d)(\d{4}|\d{6})(?!\d)", re.sub(r"(?<=\d)[\s-](?=\d)", "", text)))
    return [p for p in dict.fromkeys(found) if len(p) in (4, 6)]


def picked_choice(tracker: Tracker, choices: List[str]) -> Optional[str]:
    named = normalise_order_id(tracker.get_slot("order_id"))
    if named:
        return named
    text = ((tracker.latest_message or {}).get("text") or "").lower()
    named = normalise_order_id(text)
    if named:
        return named
    words = set(re.findall(r"[a-z0-9]+", text))
    hits = [i for i, markers in _ORDINALS.items() if i < len(choices) and words & set(markers)]
    if len(hits) == 1:  # "first" or "second", not both
        return choices[hits[0]]
    return None


async def verify_ownership(
    client: OrderServiceClient, dispatcher: CollectingDispatcher, tracker: Tracker
) -> Resolution:
    """Checks the answer to the ownership question; 3 misses in a conversation hand off.

    Returns the order when proven; otherwise the events of a retry or a handoff.
    """
    pending = tracker.get_slot("pending_order_id")
    clear = [SlotSet("phone_last4", None), SlotSet("pincode", None), SlotSet("order_id", None)]
    if not pending:
        return Resolution(None, clear + [SlotSet("awaiting", None)])
    # The order service decides (the same rule as on the phone line); only a proven order is fetched.
    result = await client.verify_ownership(pending, proofs_in(tracker))
    if result.ok:
        result = await client.get_order(pending)
    if result.outcome is Outcome.UNAVAILABLE:
        return Resolution(None, clear + await service_down(
            client, dispatcher, tracker, f"order {pending} (ownership check)"))
    if result.ok:
        verified = list(tracker.get_slot("verified_order_ids") or []) + [pending]
        dispatcher.utter_message(response="utter_ownership_verified")
        return Resolution(result.order, clear + [
            SlotSet("verified_order_ids", verified),
            SlotSet("verification_attempts", 0.0),
        ] + _settled(result.order))
    tries = int(tracker.get_slot("verification_attempts") or 0) + 1
    events = clear + [SlotSet("verification_attempts", float(tries))]
    if tries >= MAX_VERIFICATION_TRIES:
        dispatcher.utter_message(response="utter_verification_failed_final")
        return Resolution(None, events + await hand_off(
            client, dispatcher, tracker, "general",
            f"ownership check failed {tries} times for {pending}", order_id=pending))
    dispatcher.utter_message(
        response="utter_verification_failed", tries_left=MAX_VERIFICATION_TRIES - tries
    )
    return Resolution(None, events)
