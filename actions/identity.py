"""Which order is this about, and may this sender hear about it?

The sender's phone number is their identity. Orders placed from that number
are theirs. An order they name that belongs to another number stays a secret
until they prove ownership with the last 4 digits of the phone on the order or
its delivery pincode: one number per message, never several. Until then a made-up
order number gets exactly the replies a real one gets. Three wrong answers in a
conversation hand it to a person; the order service also counts failures per order
and per sender, and once it refuses, so do we (docs/security.md).

A change (cancel, address, reschedule) to an order that is not the sender's own
number's, or asked on a call whose caller ID is not attested, needs the one-time
code the order service sends to the order's own WhatsApp number (`code_required`).

Slots: `active_order_id` is the one order the customer may hear about now;
`verified_order_ids` lists other-number orders proven in this conversation;
`awaiting` names the question we asked (order_id, order_choice, ownership,
change_code) and `pending_action` the action to resume once it is answered;
`code_order_ids` lists the orders whose code was confirmed in this conversation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Order, OrderServiceClient, Outcome
from actions.context import latest_user_metadata
from actions.formatting import Ctx, buttons, normalise_order_id, order_choice_label, order_ref
from actions.routes import hand_off, offer_person, service_down

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
        if result.ok and may_see(result.order, tracker):
            return Resolution(result.order, _settled(result.order))
        # Someone else's order and no order at all look the same until a proof succeeds.
        dispatcher.utter_message(response="utter_ask_ownership_proof")
        return Resolution(None, _ask("ownership", requester, [SlotSet("pending_order_id", mentioned)]))

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


REDACTED = "redacted]"  # the end of the front door's markers: "[card redacted]", "[redacted]"


def numbers_in(text: str) -> List[str]:
    """The numbers of 4 digits or more in `text`; digits split by single spaces or hyphens are one
    number ("56 00 34"), so "0001 0002 0003" is one 12-digit number, never three answers."""
    return [n for n in re.findall(r"\d+", re.sub(r"(?<=\d)[\s-](?=\d)", "", text)) if len(n) >= 4]


def one_proof(tracker: Tracker) -> Optional[str]:
    """The one candidate answer in the latest message: exactly one 4- or 6-digit number. None when
    the message holds none, several, or a longer run of digits that could hide several guesses.

    The text decides (entities the NLU picked out of a list of guesses must not choose one); a
    button payload ("/inform{...}") has only its entities. Text the front door redacted hid digits
    ("0001 0002 0003 0004 0005" reads as a card number and its tail), so it holds no one answer.
    """
    text = (tracker.latest_message or {}).get("text") or ""
    if REDACTED in text:
        return None
    if text.startswith("/"):
        found = [re.sub(r"\D", "", str(tracker.get_slot(s) or "")) for s in ("phone_last4", "pincode")]
        numbers = [n for n in dict.fromkeys(found) if n]
    else:
        numbers = numbers_in(text)
    return numbers[0] if len(numbers) == 1 and len(numbers[0]) in (4, 6) else None


def asker(tracker: Tracker) -> str:
    """Who the order service counts failures against: the sender's number, else the conversation."""
    return (tracker.get_slot("phone") or f"conversation:{tracker.sender_id}")[:64]


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
    """Checks the one answer to the ownership question; 3 misses in a conversation hand off.

    A message with no number or several asks again for one (nothing is checked). Returns the
    order when proven; otherwise the events of a retry or a handoff.
    """
    pending = tracker.get_slot("pending_order_id")
    clear = [SlotSet("phone_last4", None), SlotSet("pincode", None), SlotSet("order_id", None)]
    if not pending:
        return Resolution(None, clear + [SlotSet("awaiting", None)])
    proof = one_proof(tracker)
    if proof is None:
        dispatcher.utter_message(response="utter_ask_one_proof")
        return Resolution(None, clear)
    # The order service decides (the same rule as on the phone line); only a proven order is fetched.
    result = await client.verify_ownership(pending, proof, asker(tracker))
    if result.ok:
        result = await client.get_order(pending)
    if result.outcome in (Outcome.UNAVAILABLE, Outcome.INVALID, Outcome.NOT_FOUND):
        return Resolution(None, clear + await service_down(
            client, dispatcher, tracker, f"order {pending} (ownership check)"))
    if result.ok:
        verified = list(tracker.get_slot("verified_order_ids") or []) + [pending]
        dispatcher.utter_message(response="utter_ownership_verified")
        return Resolution(result.order, clear + [
            SlotSet("verified_order_ids", verified),
            SlotSet("verification_attempts", 0.0),
        ] + _settled(result.order))
    if result.outcome is Outcome.REFUSED:
        dispatcher.utter_message(response="utter_ownership_refused")
        return Resolution(None, clear + await hand_off(
            client, dispatcher, tracker, "general",
            f"ownership checks for {pending} refused: too many wrong answers (order or sender locked)",
            order_id=pending))
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


# -- one-time codes for changes ----------------------------------------------------------------
def code_required(order: Order, tracker: Tracker) -> bool:
    """A change needs a code unless the sender's own number placed the order, and on a call that
    number is attested by the carrier (STIR/SHAKEN A, passed on by the phone line as metadata)."""
    if order.order_id in (tracker.get_slot("code_order_ids") or []):
        return False
    if not same_phone(order.customer_phone, tracker.get_slot("phone")):
        return True
    return tracker.get_slot("channel") == "voice" and latest_user_metadata(tracker).get("caller_attested") is not True


async def ask_change_code(client: OrderServiceClient, dispatcher: CollectingDispatcher, tracker: Tracker,
                          order: Order, requester: Text) -> List[EventType]:
    """Sends the order's one-time code to its own WhatsApp number and asks for it."""
    ctx = Ctx.from_tracker(tracker)
    channel = "phone" if tracker.get_slot("channel") == "voice" else "chat"
    result = await client.send_code(order.order_id, channel)
    if result.outcome is Outcome.UNAVAILABLE:
        return await service_down(client, dispatcher, tracker, f"one-time code for {order.order_id}")
    if not result.ok:
        dispatcher.utter_message(response="utter_change_code_failed")
        return offer_person("general", f"change to {order.order_id} needs a one-time code, which could not be sent")
    dispatcher.utter_message(response="utter_ask_change_code", order_ref=order_ref(order.order_id, ctx))
    return [SlotSet("awaiting", "change_code"), SlotSet("pending_action", requester),
]


def one_code(tracker: Tracker) -> Optional[str]:
    """The one 6-digit number in the latest message; None when it holds none or several."""
    numbers = numbers_in((tracker.latest_message or {}).get("text") or "")
    return numbers[0] if len(numbers) == 1 and len(numbers[0]) == 6 else None


async def check_change_code(client: OrderServiceClient, dispatcher: CollectingDispatcher,
                            tracker: Tracker) -> Resolution:
    """Checks the code for `active_order_id`; the order once it matches, else a retry or a way out.

    A message with several 6-digit numbers is one wrong try: they are never tried one by one.
    """
    order_id = tracker.get_slot("active_order_id")
    code = one_code(tracker)
    # The NLU may have read the code as an order number or a pincode: it is neither.
    clear = [SlotSet("phone_last4", None), SlotSet("pincode", None), SlotSet("order_id", None)]
    if not order_id:
        return Resolution(None, clear + [SlotSet("awaiting", None)])
    result = await client.check_code(order_id, code or "")
    if result.outcome is Outcome.UNAVAILABLE:
        return Resolution(None, clear + await service_down(
            client, dispatcher, tracker, f"one-time code for {order_id}"))
    if result.ok:
        result = await client.get_order(order_id)
        if result.ok:
            confirmed = list(tracker.get_slot("code_order_ids") or []) + [order_id]
            return Resolution(result.order, clear + [SlotSet("code_order_ids", confirmed), SlotSet("awaiting", None)])
        return Resolution(None, clear + await service_down(
            client, dispatcher, tracker, f"order {order_id} after its code"))
    tries_left = int(result.fields.get("tries_left") or 0)
    if tries_left <= 0:
        dispatcher.utter_message(response="utter_change_code_failed")
        return Resolution(None, clear + [SlotSet("pending_action", None)] + offer_person(
            "general", f"one-time code for a change to {order_id} failed (3 wrong tries or expired)"))
    dispatcher.utter_message(response="utter_change_code_wrong", tries_left=tries_left)
    return Resolution(None, clear)
