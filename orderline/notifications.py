"""Proactive order notifications: which events deserve a message, when, and what it says.

Rows are written in the same transaction as the order change that caused them (a durable
outbox): by `queue_notification` on the ORM paths (importer, delay scan) and set-based by
`orderline.tracking.apply_updates` for courier events. `messaging.notifier` sends them. Texts come in English or Hinglish, by the
customer's language.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orderline.clock import Clock
from orderline.models import Customer, Notification, Order, OrderStatus as S
from orderline.uow import NotificationQueued, record

EVENTS = ("confirmed", "shipped", "delayed", "out_for_delivery", "delivery_failed", "rto_initiated", "delivered")
STATUS_EVENT = {S.CONFIRMED.value: "confirmed", S.SHIPPED.value: "shipped", S.OUT_FOR_DELIVERY.value: "out_for_delivery",
                S.DELIVERY_FAILED.value: "delivery_failed", S.RTO_INITIATED.value: "rto_initiated",
                S.DELIVERED.value: "delivered"}
# The order states in which each message is still news; anything else makes it stale.
CURRENT_IN = {
    "confirmed": {S.PLACED.value, S.CONFIRMED.value, S.PACKED.value},
    "shipped": {S.SHIPPED.value, S.IN_TRANSIT.value},
    "delayed": {S.SHIPPED.value, S.IN_TRANSIT.value, S.OUT_FOR_DELIVERY.value, S.DELIVERY_FAILED.value},
    "out_for_delivery": {S.OUT_FOR_DELIVERY.value},
    "delivery_failed": {S.DELIVERY_FAILED.value},
    "rto_initiated": {S.RTO_INITIATED.value, S.RTO_DELIVERED.value},
    "delivered": {S.DELIVERED.value},
}
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(9, 0)
QUIET_EXEMPT = {"out_for_delivery", "delivery_failed"}
RATE_LIMIT_PER_HOUR = 4
REPLY_CONTEXT_HOURS = 72
STALE_SCAN = timedelta(hours=48)


def queue_notification(session: Session, order: Order, event: str, now: datetime,
                       variables: Optional[dict[str, Any]] = None) -> Optional[Notification]:
    """Add the (order, event) notification unless one exists: at most one per event type."""
    if event not in EVENTS:
        raise ValueError(event)
    if order.id is not None:
        exists = session.scalar(select(Notification.id).where(Notification.order_pk == order.id,
                                                              Notification.event == event))
        if exists:
            return None
    note = Notification(order=order, event=event, status="pending", created_at=now, variables=variables or {})
    session.add(note)
    session.flush()  # the event carries the row's id: the sender's job takes ids
    record(session, NotificationQueued(note.id))
    return note


def event_for_status(new_status: str) -> Optional[str]:
    """The notification an order moving to `new_status` deserves, if any."""
    return STATUS_EVENT.get(new_status)


def delay_is_news(promised: Any, expected: Any, status: str) -> bool:
    """Whether a new expected date is a delay worth telling the customer about."""
    return bool(promised and expected and expected > promised and status in CURRENT_IN["delayed"])


def on_status_change(session: Session, order: Order, new_status: str, now: datetime) -> None:
    event = event_for_status(new_status)
    if event:
        queue_notification(session, order, event, now)


def on_expected_date_change(session: Session, order: Order, promised: Any, expected: Any, now: datetime) -> None:
    if delay_is_news(promised, expected, order.status):
        queue_notification(session, order, "delayed", now, {"expected_date": expected.isoformat()})


def is_current(event: str, status: str) -> bool:
    return status in CURRENT_IN[event]


def in_quiet_hours(local: datetime) -> bool:
    t = local.time()
    return t >= QUIET_FROM or t < QUIET_UNTIL


def quiet_hours_end(local: datetime) -> datetime:
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=local.tzinfo)


def sent_last_hour(session: Session, customer_id: int, now: datetime) -> int:
    return sent_last_hour_by_customer(session, {customer_id}, now).get(customer_id, 0)


def sent_last_hour_by_customer(session: Session, customer_ids: set[int], now: datetime) -> dict[int, int]:
    """`sent_last_hour` for many customers in one query."""
    if not customer_ids:
        return {}
    rows = session.execute(select(Order.customer_id, func.count()).select_from(Notification).join(Order)
                           .where(Order.customer_id.in_(customer_ids), Notification.sent_at >= now - timedelta(hours=1))
                           .group_by(Order.customer_id)).all()
    return {customer: count for customer, count in rows}


def delayed_candidates(session: Session, now: datetime, limit: int = 500) -> list[Order]:
    """In-transit orders with no scan for 48 h, or expected after the promise, not yet told."""
    from orderline.models import Shipment

    told = select(Notification.order_pk).where(Notification.event == "delayed")
    stmt = (select(Order).join(Shipment).where(
        Order.status.in_([S.SHIPPED.value, S.IN_TRANSIT.value]), Order.id.not_in(told),
        ((Shipment.last_scan_at < now - STALE_SCAN) | (Shipment.expected_date > Shipment.promised_date)))
        .limit(limit))
    return list(session.scalars(stmt))


# -- texts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Rendered:
    text: str
    variables: dict[str, str]  # for the WhatsApp template used outside the 24-hour window


def render(event: str, order: Order, clock: Clock) -> Rendered:
    """The message for `event` about `order`, in the customer's language."""
    c: Customer = order.customer
    hinglish = c.language == "hi"
    first = c.name.split()[0] if c.name else ""
    ship = order.shipment
    amount = f"₹{order.amount:,.0f}"
    cod = order.payment is not None and order.payment.method == "cod"
    courier = (ship.courier if ship and ship.courier else ("courier partner" if not hinglish else "courier"))
    awb = ship.awb if ship and ship.awb else ""
    link = ship.tracking_url if ship and ship.tracking_url else ""
    expected = _day(ship.expected_date if ship else None, clock, hinglish)
    summary = ", ".join(f"{i.get('qty', 1)} x {i.get('name', i.get('sku', 'item'))}" for i in order.items[:3])
    oid = order.store_ref or order.order_id  # the number the customer knows ("#2041" from a store)
    v = {"1": first, "2": oid, "3": expected or "", "4": courier, "5": awb, "6": link, "7": amount}
    if event == "confirmed":
        text = (f"Namaste {first}! Aapka order {oid} ({summary}) confirm ho gaya hai."
                f" Delivery ki ummeed: {expected}." if hinglish else
                f"Hi {first}! Your order {oid} ({summary}) is confirmed. Expected delivery: {expected}.")
        if link:
            text += f" Track: {link}"
        text += (" Delivery ke 7 din tak return/exchange kar sakte hain." if hinglish
                 else " You can return or exchange within 7 days of delivery.")
        if cod:
            text += (f"\n\nYeh Cash on Delivery order hai ({amount}). Confirm karne ke liye YES, cancel karne ke liye NO reply karein."
                     if hinglish else f"\n\nThis is a Cash on Delivery order ({amount}). Reply YES to confirm, NO to cancel.")
    elif event == "shipped":
        text = (f"{first}, aapka order {oid} ship ho gaya! {courier}, AWB {awb}. Track: {link}. Delivery: {expected}."
                if hinglish else
                f"Good news, {first}! Order {oid} has shipped with {courier} (AWB {awb}). Track it: {link}. Expected by {expected}.")
    elif event == "delayed":
        text = (f"Maaf kijiye {first}, order {oid} mein deri ho rahi hai. Nayi delivery date: {expected}. Hum {courier} ke saath follow up kar rahe hain."
                if hinglish else
                f"Sorry, {first}: order {oid} is running late. The new expected date is {expected}. We're following up with {courier}.")
    elif event == "out_for_delivery":
        text = (f"Aapka order {oid} aaj deliver hoga ({courier})." if hinglish else
                f"Your order {oid} is out for delivery today with {courier}.")
        if cod:
            text += (f" Kripya {amount} tayyar rakhein (cash ya UPI)." if hinglish else
                     f" Please keep {amount} ready (cash or UPI).")
        text += (" Aaj ghar par nahi hain? 'reschedule' likhein, hum doosra din chun lenge." if hinglish else
                 " Not home today? Reply 'reschedule' to pick another day.")
    elif event == "delivery_failed":
        reason = (ship.ndr_reason if ship and ship.ndr_reason else "")
        text = (f"{courier} aapka order {oid} deliver nahi kar paya: {reason}.\nReply karein:\n1 - doosre din dobara delivery\n2 - address ya phone theek karein\n3 - humse baat karein"
                if hinglish else
                f"{courier} couldn't deliver your order {oid}: {reason}.\nReply with:\n1 - deliver again on another day\n2 - fix my address or phone\n3 - talk to us")
        v["8"] = reason
    elif event == "rto_initiated":
        prepaid = not cod
        text = (f"Order {oid} deliver nahi ho saka aur seller ko wapas ja raha hai." if hinglish else
                f"Order {oid} couldn't be delivered and is on its way back to us.")
        if prepaid:
            text += (f" Aapka {amount} ka refund wapas pahunchne par process hoga (aam taur par 5-7 din)." if hinglish else
                     f" Your refund of {amount} will be processed once it reaches us (usually 5-7 days).")
        text += (" Agar aapko abhi bhi chahiye, reply karein, hum madad karenge." if hinglish else
                 " Still want it? Reply and we'll help you reorder.")
    elif event == "delivered":
        text = (f"Order {oid} deliver ho gaya. Umeed hai aapko pasand aayega! Aapka anubhav kaisa raha? 1 (kharab) se 5 (bahut accha) tak number bhejein."
                if hinglish else
                f"Order {oid} was delivered. We hope you love it! How was your experience? Reply with a number from 1 (poor) to 5 (great).")
    else:
        raise ValueError(event)
    return Rendered(text, v)


def _day(value: Any, clock: Clock, hinglish: bool) -> str:
    if not value:
        return "soon" if not hinglish else "jald"
    today = clock.today()
    if value == today:
        return ("aaj, " if hinglish else "today, ") + value.strftime("%a %d %b")
    if value == today + timedelta(days=1):
        return ("kal, " if hinglish else "tomorrow, ") + value.strftime("%a %d %b")
    return value.strftime("%a %d %b")
