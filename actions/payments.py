"""Money questions: what to pay on delivery, what was paid, where the refund is.

"Money deducted but order not confirmed" and disputes go to the payments
queue with the facts we have, because only a person can trace a bank debit.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Order, Outcome
from actions.base import OrderTaskAction
from actions.formatting import Ctx, expected, money, order_ref, refund_words
from actions.routes import hand_off, offer_person, service_down

DEDUCTED = re.compile(
    r"deduct|debit|\bcut\b|kat (gay|gai|liy)|kata|kaat|charged|paise? (chale|gay|kat)|money (gone|taken)"
    r"|payment (hua|ho gaya|done).*(order|confirm).*(nahi|nhi|not)|not confirmed|confirm nahi",
    re.I,
)
DISPUTE = re.compile(
    r"dispute|chargeback|fraud|scam|over ?charg|extra (charg|paise|paisa|money)|double (charg|payment|deduct)"
    r"|charged twice|twice|zyada paise|galat amount|wrong amount",
    re.I,
)


def _text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def tell_refund(order: Order, ctx: Ctx, dispatcher: CollectingDispatcher) -> List[EventType]:
    """Amount, status and when to expect the refund; past its date, offers someone to check."""
    refund = order.payment.refund
    when_due = expected("refund", refund.status, refund.expected_by, ctx)
    dispatcher.utter_message(
        response="utter_refund_status",
        order_ref=order_ref(order.shown_id, ctx),
        amount=money(refund.amount, ctx),
        refund_status=refund_words(refund.status, ctx),
        expected=when_due.sentence,
        reference=refund.reference or "-",
    )
    if when_due.overdue:
        return offer_person("payments", f"refund on {order.order_id} past its expected date {refund.expected_by} "
                                        f"(ref {refund.reference})")
    return []


class ActionPaymentStatus(OrderTaskAction):
    """COD amount due, what was paid, or a deducted-but-not-confirmed case for a person."""

    answers_aside = True

    def name(self) -> Text:
        return "action_payment_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        text = _text(tracker)
        phone = tracker.get_slot("phone")
        if DEDUCTED.search(text) and phone and not tracker.get_slot("order_id") \
                and not tracker.get_slot("active_order_id"):
            found = await self.client.orders_for_phone(phone)
            if found.outcome is Outcome.UNAVAILABLE:
                return await service_down(self.client, dispatcher, tracker, "GET orders by phone (payment query)")
            if found.ok and not found.orders:
                dispatcher.utter_message(response="utter_payment_deducted_no_order")
                return await hand_off(self.client, dispatcher, tracker, "payments",
                                      f"money deducted, no order on {phone}: {text[:200]}")
        return await super().run(dispatcher, tracker, domain)

    async def handle(self, order: Order, ctx: Ctx, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        pay = order.payment
        ref = order_ref(order.shown_id, ctx)
        amount = money(order.amount, ctx)
        text = _text(tracker)

        if DISPUTE.search(text):
            dispatcher.utter_message(response="utter_payment_dispute", order_ref=ref, amount=amount)
            return await hand_off(self.client, dispatcher, tracker, "payments",
                                  f"payment dispute on {order.order_id}: {text[:200]}", order_id=order.order_id)
        if DEDUCTED.search(text) and pay.method == "prepaid" and pay.status in ("pending", "failed"):
            dispatcher.utter_message(response="utter_payment_deducted_unconfirmed", order_ref=ref,
                                     amount=amount, payment_status=pay.status)
            return await hand_off(self.client, dispatcher, tracker, "payments",
                                  f"customer says money deducted; payment {pay.status} "
                                  f"(ref {pay.reference}) on {order.order_id}", order_id=order.order_id)
        if pay.refund:
            return tell_refund(order, ctx, dispatcher)
        if pay.method == "cod" and pay.status == "pending":
            dispatcher.utter_message(response="utter_cod_due", order_ref=ref, amount=amount)
        elif pay.status == "paid":
            dispatcher.utter_message(response="utter_payment_received", order_ref=ref, amount=amount,
                                     reference=pay.reference or "-")
        elif pay.status == "failed":
            dispatcher.utter_message(response="utter_payment_failed", order_ref=ref, amount=amount)
        else:
            dispatcher.utter_message(response="utter_payment_pending", order_ref=ref, amount=amount)
        return []


class ActionRefundStatus(OrderTaskAction):
    """Refund amount, status and expected date from the refund record."""

    answers_aside = True

    def name(self) -> Text:
        return "action_refund_status"

    @staticmethod
    def wants(order: Order) -> bool:
        return order.payment.refund is not None or order.status in ("cancelled", "rto_delivered") \
            or order.return_request is not None

    async def handle(self, order: Order, ctx: Ctx, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        pay = order.payment
        ref = order_ref(order.shown_id, ctx)
        if DISPUTE.search(_text(tracker)):
            dispatcher.utter_message(response="utter_payment_dispute", order_ref=ref, amount=money(order.amount, ctx))
            return await hand_off(self.client, dispatcher, tracker, "payments",
                                  f"refund dispute on {order.order_id}", order_id=order.order_id)
        if pay.refund:
            return tell_refund(order, ctx, dispatcher)
        if pay.method == "cod" and pay.status != "paid":
            dispatcher.utter_message(response="utter_no_refund_cod", order_ref=ref)
        elif order.return_request:
            dispatcher.utter_message(response="utter_refund_after_return", order_ref=ref)
        elif order.status in ("cancelled", "rto_delivered"):
            dispatcher.utter_message(response="utter_refund_not_started", order_ref=ref,
                                     amount=money(order.amount, ctx))
        else:
            dispatcher.utter_message(response="utter_no_refund", order_ref=ref)
        return []
