"""Where is my order: status in plain words, dates, courier, and failed deliveries."""
from __future__ import annotations

import re
from typing import Callable, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Order
from actions.base import OrderTaskAction
from actions.formatting import Ctx, buttons, expected, order_ref, spell_out, status_words, when

NOT_SHIPPED = ("placed", "confirmed", "packed")
LATE = re.compile(r"\blate\b|delay|overdue|not (yet )?(arrived|come|received)|still not|abhi tak nahi|nahi aaya|"
                  r"nahi pahunch|der ho|kab tak aayega", re.I)


def is_late(order: Order) -> bool:
    return order.is_open and order.shipment is not None and order.shipment.is_delayed


class ActionOrderStatus(OrderTaskAction):
    """Tells the customer where their order is."""

    answers_aside = True

    def name(self) -> Text:
        return "action_order_status"

    def eligible(self, tracker: Tracker) -> Callable[[Order], bool]:
        """"It's late" is about the delayed order; "where is my order" about the open ones."""
        return is_late if LATE.search((tracker.latest_message or {}).get("text") or "") else self.wants

    async def handle(
        self, order: Order, ctx: Ctx, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        ship = order.shipment
        ref = order_ref(order.shown_id, ctx)
        words = status_words(order.status, ctx)
        done: List[EventType] = []

        if order.status == "delivery_failed" and ship:
            dispatcher.utter_message(
                response="utter_delivery_failed",
                order_ref=ref,
                ndr_reason=ship.ndr_reason or ("the courier could not reach you" if ctx.style == "en"
                                               else "courier aap tak nahi pahunch paya"),
                attempts=ship.attempts,
                buttons=buttons(ctx, [
                    ("Deliver on another day", "/reschedule_delivery"),
                    ("Fix address/phone", "/change_address"),
                    ("Talk to us", "/human_handoff"),
                ]),
            )
            return done
        if order.status == "delivered":
            delivered = ship.delivered_at if ship else None
            dispatcher.utter_message(
                response="utter_order_delivered", order_ref=ref, delivered_on=when(delivered, ctx) or "-"
            )
            return done
        if order.status in NOT_SHIPPED or ship is None:
            dispatcher.utter_message(response="utter_order_not_shipped", order_ref=ref, status_words=words)
            return done
        if order.status in ("cancelled", "rto_initiated", "rto_delivered"):
            dispatcher.utter_message(response="utter_order_closed", order_ref=ref, status_words=words)
            return done

        arrival = expected("delivery", order.status, ship.rescheduled_for or ship.expected_date or ship.promised_date,
                           ctx, promised=ship.promised_date)
        details = dict(
            order_ref=ref,
            status_words=words,
            arrival=arrival.sentence,
            courier=ship.courier or "our courier partner",
            awb=(spell_out(ship.awb) if ctx.voice else ship.awb) if ship.awb else "-",
            tracking_url=ship.tracking_url or "-",
        )
        if ship.is_delayed or arrival.overdue:
            dispatcher.utter_message(response="utter_order_delayed", **details)
        else:
            dispatcher.utter_message(response="utter_order_in_transit", **details)
        return done
