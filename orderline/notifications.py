"""Proactive order notifications: which events deserve a message, when, and what it says.

Rows are written in the same transaction as the order change that caused them (a durable
outbox): by `queue_notification` on the ORM paths (importer, delay scan) and set-based by
`orderline.tracking.apply_updates` for courier events. Each row is keyed by the news itself
(the courier's scan, the new expected date, the silence), so every failed attempt and every
reattempt's out-for-delivery is told once, and a repeated scan never twice. `messaging.notifier` sends them. Texts come in English or Hinglish, by the
customer's language.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Optional

from sqlalchemy import String, and_, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from orderline.clock import Clock
from orderline.models import Customer, Notification, Order, OrderStatus as S, Shipment
from orderline.settings import REMEDIES  # what the seller does about a lost or damaged parcel
from orderline.uow import NotificationQueued, record

EVENTS = ("confirmed", "shipped", "delayed", "out_for_delivery", "delivery_failed", "rto_initiated", "delivered",
          "lost", "damaged")
STATUS_EVENT = {S.CONFIRMED.value: "confirmed", S.SHIPPED.value: "shipped", S.OUT_FOR_DELIVERY.value: "out_for_delivery",
                S.DELIVERY_FAILED.value: "delivery_failed", S.RTO_INITIATED.value: "rto_initiated",
                S.DELIVERED.value: "delivered", S.LOST.value: "lost", S.DAMAGED.value: "damaged"}
# The order states in which each message is still news; anything else makes it stale.
CURRENT_IN = {
    "confirmed": {S.PLACED.value, S.CONFIRMED.value, S.PACKED.value},
    "shipped": {S.SHIPPED.value, S.IN_TRANSIT.value},
    "delayed": {S.SHIPPED.value, S.IN_TRANSIT.value, S.OUT_FOR_DELIVERY.value, S.DELIVERY_FAILED.value},
    "out_for_delivery": {S.OUT_FOR_DELIVERY.value},
    "delivery_failed": {S.DELIVERY_FAILED.value},
    "rto_initiated": {S.RTO_INITIATED.value, S.RTO_DELIVERED.value},
    "delivered": {S.DELIVERED.value},
    "lost": {S.LOST.value},
    "damaged": {S.DAMAGED.value},
}

QUIET_FROM, QUIET_UNTIL = time(21, 0), time(9, 0)
QUIET_EXEMPT = {"out_for_delivery", "delivery_failed"}
RATE_LIMIT_PER_HOUR = 4
REPLY_CONTEXT_HOURS = 72
SILENT_AFTER = timedelta(hours=72)  # SILENT_SHIPMENT_HOURS' default


def queue_notification(session: Session, order: Order, event: str, now: datetime,
                       variables: Optional[dict[str, Any]] = None, key: str = "") -> Optional[Notification]:
    """Add the (order, event, key) notification unless one exists: each piece of news once.

    `key` names the news (`scan_key`, `eta_key`, `silence_key`); "" means once per event type.
    """
    if event not in EVENTS:
        raise ValueError(event)
    if order.id is not None:
        told = session.scalar(select(Notification.id).where(Notification.order_pk == order.id,
                                                            Notification.event == event, Notification.key == key))
        if told:
            return None
    note = Notification(order=order, event=event, key=key, status="pending", created_at=now,
                        variables=variables or {})
    session.add(note)
    session.flush()  # the event carries the row's id: the sender's job takes ids
    record(session, NotificationQueued(note.id))
    return note


def event_for_status(new_status: str) -> Optional[str]:
    """The notification an order moving to `new_status` deserves, if any."""
    return STATUS_EVENT.get(new_status)


def event_for_move(old_status: str, new_status: str) -> Optional[str]:
    """The notification a courier's move from `old_status` to `new_status` deserves, if any.

    A parcel lost on its way back to the seller is the seller's loss, not news for a customer
    who will not receive it anyway: no apology promising a refund or a replacement.
    """
    if old_status == S.RTO_INITIATED.value and new_status in (S.LOST.value, S.DAMAGED.value):
        return None
    return event_for_status(new_status)


def scan_key(awb: str, label: str, at: datetime) -> str:
    """The key of news a courier's scan brings: its shipment, its words and its time."""
    return f"scan:{awb}:{label}:{at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"[:120]


def eta_key(expected: date) -> str:
    """The key of a delay announced with a new expected date."""
    return f"eta:{expected.isoformat()}"


def silence_key(last_scan_at: datetime) -> str:
    """The key of a delay announced because nothing was scanned since `last_scan_at`: one per silence."""
    return f"silent:{last_scan_at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def told_etas(keys: Iterable[str]) -> list[date]:
    """The expected dates already announced as delays, from the order's delay keys."""
    return [date.fromisoformat(k[4:]) for k in keys if k.startswith("eta:")]


def delay_is_news(promised: Any, expected: Any, status: str, told: Iterable[date] = ()) -> bool:
    """Whether a new expected date is a delay worth telling the customer about: later than the
    promise, and later than any delay already announced (a date moving back is not news)."""
    return bool(promised and expected and expected > promised and status in CURRENT_IN["delayed"]
                and all(expected > day for day in told))


def on_status_change(session: Session, order: Order, new_status: str, now: datetime) -> None:
    event = event_for_status(new_status)
    if event:
        queue_notification(session, order, event, now)


def on_expected_date_change(session: Session, order: Order, promised: Any, expected: Any, now: datetime) -> None:
    told = told_etas(session.scalars(select(Notification.key).where(
        Notification.order_pk == order.id, Notification.event == "delayed"))) if order.id is not None else []
    if delay_is_news(promised, expected, order.status, told):
        queue_notification(session, order, "delayed", now, {"expected_date": expected.isoformat()}, eta_key(expected))


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


@dataclass(frozen=True)
class Delay:
    """A delay to tell: the order, the news's key, and what the message says about it."""

    order: Order
    key: str
    variables: dict[str, Any]


def delayed_candidates(session: Session, now: datetime, silent_after: timedelta = SILENT_AFTER,
                       limit: int = 500) -> list[Delay]:
    """In-transit orders with no scan for `silent_after`, not told during this silence; or expected
    after the promise, and later than any delay already told. Silences first."""
    delays = [Delay(o, silence_key(o.shipment.last_scan_at), {"silent_since": o.shipment.last_scan_at.isoformat()})
              for o in session.scalars(_in_transit().where(Shipment.last_scan_at < now - silent_after, ~_told(
                  Notification.key.like("silent:%"), Notification.created_at >= Shipment.last_scan_at)).limit(limit))]
    eta = literal("eta:") + cast(Shipment.expected_date, String)
    late = _in_transit().where(Shipment.expected_date > Shipment.promised_date,
                               ~_told(Notification.key.like("eta:%"), Notification.key >= eta))
    delays += [Delay(o, eta_key(o.shipment.expected_date), {"expected_date": o.shipment.expected_date.isoformat()})
               for o in session.scalars(late.limit(max(0, limit - len(delays))))]
    return delays


def _in_transit() -> Any:
    return select(Order).join(Shipment).where(Order.status.in_([S.SHIPPED.value, S.IN_TRANSIT.value])).order_by(Order.id)


def _told(*conditions: Any) -> Any:
    """Whether the order (of the enclosing query) has a delay notification matching `conditions`."""
    return exists().where(and_(Notification.order_pk == Order.id, Notification.event == "delayed", *conditions))


# -- texts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Rendered:
    text: str
    variables: dict[str, str]  # for the WhatsApp template used outside the 24-hour window


def render(event: str, order: Order, clock: Clock, facts: Optional[dict[str, Any]] = None,
           remedy: str = "refund") -> Rendered:
    """The message for `event` about `order`, in the customer's language.

    `facts` are the notification's variables (a silence's start, say); `remedy` is what the
    seller does for a lost or damaged parcel (one of REMEDIES).
    """
    facts = facts or {}
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
    elif event == "delayed" and facts.get("silent_since"):
        since = _day(datetime.fromisoformat(facts["silent_since"]).astimezone(clock.tz).date(), clock, hinglish)
        text = (f"Maaf kijiye {first}, order {oid} mein deri ho rahi hai: {courier} ne {since} ke baad koi update nahi diya. Hum unke saath follow up kar rahe hain aur aapko batayenge."
                if hinglish else
                f"Sorry, {first}: order {oid} is running late. {courier} hasn't updated it since {since}. We're following up with them and will let you know.")
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
    elif event in ("lost", "damaged"):
        text = _apology(event, oid, first, courier, amount, cod, remedy, hinglish)
        v["8"] = remedy
    elif event == "delivered":
        text = (f"Order {oid} deliver ho gaya. Umeed hai aapko pasand aayega! Aapka anubhav kaisa raha? 1 (kharab) se 5 (bahut accha) tak number bhejein."
                if hinglish else
                f"Order {oid} was delivered. We hope you love it! How was your experience? Reply with a number from 1 (poor) to 5 (great).")
    else:
        raise ValueError(event)
    return Rendered(text, v)


def _apology(event: str, oid: str, first: str, courier: str, amount: str, cod: bool, remedy: str,
             hinglish: bool) -> str:
    """Sorry, what happened, and what the seller does next (REMEDIES)."""
    if remedy not in REMEDIES:
        raise ValueError(remedy)
    what = {("lost", False): f"{courier} has lost your order {oid} in transit",
            ("damaged", False): f"your order {oid} was damaged in transit with {courier}, so it can't be delivered",
            ("lost", True): f"{courier} se aapka order {oid} raste mein kho gaya hai",
            ("damaged", True): f"aapka order {oid} {courier} ke paas raste mein kharab ho gaya, isliye deliver nahi ho sakta"}
    text = (f"Hum maafi chahte hain, {first}: " if hinglish else f"We're so sorry, {first}: ") + what[event, hinglish] + "."
    if remedy == "replacement":
        text += (" Hum aapko naya order bina kisi extra charge ke bhej rahe hain; ship hote hi batayenge." if hinglish
                 else " We're sending you a replacement at no extra cost, and will tell you as soon as it ships.")
    elif cod:
        text += (" Yeh Cash on Delivery order tha, isliye aapko kuch nahi dena hai." if hinglish
                 else " It was a Cash on Delivery order, so you owe nothing.")
    else:
        text += (f" Aapka {amount} ka poora refund shuru kiya ja raha hai (aam taur par 5-7 din)." if hinglish
                 else f" We're refunding the full {amount} to you (usually 5-7 days).")
    text += (" Hamari team aapse sampark karegi; koi sawaal ho to yahin reply karein." if hinglish
             else " Someone from our team will be in touch; reply here with any questions.")
    return text


def _day(value: Any, clock: Clock, hinglish: bool) -> str:
    if not value:
        return "soon" if not hinglish else "jald"
    today = clock.today()
    if value == today:
        return ("aaj, " if hinglish else "today, ") + value.strftime("%a %d %b")
    if value == today + timedelta(days=1):
        return ("kal, " if hinglish else "tomorrow, ") + value.strftime("%a %d %b")
    return value.strftime("%a %d %b")
