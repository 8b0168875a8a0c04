"""Plain-words pieces that go into responses: ids, money, statuses, addresses.

Sentence structure lives in the domain's responses (domain/, with voice and Hinglish variations);
these helpers only produce the values that fill it, shaped for the channel.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions.api.orders import Order
from actions.dates import ExpectedDate, expected_date, friendly_date, today_ist

ORDER_ID_RE = re.compile(r"(?i)\b(?:ol[\s-]*)?(\d{5,10})\b")
# Any other reference a customer may give: a store's number ("#2041"), an id with its own prefix
# ("OLB-7001", "WC-1187"), an AWB, or bare digits. The order service resolves it (GET /orders/resolve).
ORDER_REF_RE = re.compile(r"(?i)(?<![\w#-])(#\s?[a-z]{0,6}-?\d{3,20}|[a-z]{1,6}-?\d{3,20}|\d{3,20})\b")

STATUS_WORDS = {
    "en": {
        "placed": "placed and waiting to be confirmed",
        "confirmed": "confirmed and being prepared",
        "packed": "packed and waiting for the courier",
        "shipped": "shipped",
        "in_transit": "on its way",
        "out_for_delivery": "out for delivery today",
        "delivery_failed": "not delivered: the courier's attempt failed",
        "delivered": "delivered",
        "rto_initiated": "being returned to us",
        "rto_delivered": "returned to us",
        "cancelled": "cancelled",
        "lost": "lost by the courier: our team is arranging a refund or a replacement",
        "damaged": "damaged in transit: our team is arranging a refund or a replacement",
    },
    "hinglish": {
        "placed": "place ho gaya hai, confirm hona baaki hai",
        "confirmed": "confirm ho gaya hai aur pack ho raha hai",
        "packed": "pack ho gaya hai, courier ka intezaar hai",
        "shipped": "ship ho gaya hai",
        "in_transit": "raste mein hai",
        "out_for_delivery": "aaj delivery ke liye nikla hai",
        "delivery_failed": "deliver nahi ho paya, courier ka attempt fail hua",
        "delivered": "deliver ho chuka hai",
        "rto_initiated": "wapas hamare paas aa raha hai",
        "rto_delivered": "wapas hamare paas aa gaya hai",
        "cancelled": "cancel ho chuka hai",
        "lost": "courier se kho gaya hai: hamari team refund ya naya order arrange kar rahi hai",
        "damaged": "raste mein kharab ho gaya: hamari team refund ya naya order arrange kar rahi hai",
    },
}

REFUND_WORDS = {
    "en": {"initiated": "started", "processing": "being processed", "processed": "sent to your bank",
           "completed": "completed", "failed": "failed"},
    "hinglish": {"initiated": "shuru ho gaya hai", "processing": "process ho raha hai",
                 "processed": "bank ko bhej diya gaya hai", "completed": "poora ho gaya hai",
                 "failed": "fail ho gaya"},
}


@dataclass(frozen=True)
class Ctx:
    """Who we are talking to, as far as wording goes."""

    channel: str = "whatsapp"
    style: str = "en"
    today: Optional[date] = None

    @property
    def voice(self) -> bool:
        return self.channel == "voice"

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> "Ctx":
        return cls(
            channel=tracker.get_slot("channel") or "whatsapp",
            style=tracker.get_slot("reply_style") or "en",
            today=today_ist(),
        )


def normalise_order_id(value: Any) -> Optional[str]:
    """'ol100234', 'order no 100234', '100234' -> 'OL-100234'; '#2041', 'olb-7001' -> '#2041', 'OLB-7001'
    (a store's number or another id, as written); None if no reference."""
    if value is None:
        return None
    if isinstance(value, list):
        value = value[-1] if value else None
        if value is None:
            return None
    m = ORDER_ID_RE.search(str(value))
    if m:
        return f"OL-{m.group(1)}"
    ref = ORDER_REF_RE.search(str(value))
    return re.sub(r"\s", "", ref.group(1)).upper() if ref else None


def spell_out(text: str) -> str:
    """'OL-100234' -> 'O L 1 0 0 2 3 4', so text-to-speech reads it digit by digit."""
    return " ".join(ch for ch in text.upper() if ch.isalnum())


def order_ref(order_id: str, ctx: Ctx) -> str:
    return spell_out(order_id) if ctx.voice else order_id


def money(amount: float, ctx: Ctx) -> str:
    whole = int(round(amount)) if abs(amount - round(amount)) < 0.005 else None
    if ctx.voice:
        return f"{whole if whole is not None else f'{amount:.2f}'} rupees"
    return f"₹{whole:,}" if whole is not None else f"₹{amount:,.2f}"


def status_words(status: str, ctx: Ctx) -> str:
    words = STATUS_WORDS.get(ctx.style, STATUS_WORDS["en"])
    return words.get(status, status.replace("_", " "))


def refund_words(status: str, ctx: Ctx) -> str:
    words = REFUND_WORDS.get(ctx.style, REFUND_WORDS["en"])
    return words.get(status, status.replace("_", " "))


def when(value: Any, ctx: Ctx) -> str:
    return friendly_date(value, ctx.style, ctx.today)


def expected(kind: str, status: str, due: Any, ctx: Ctx, promised: Any = None) -> ExpectedDate:
    """`actions.dates.expected_date` in the customer's style: every reply that states an expected date uses it."""
    return expected_date(kind, status, due, ctx.style, ctx.today, promised)


def courier_name(order: Optional[Order], ctx: Ctx) -> str:
    """Who the request went to, as the customer knows them: the order's courier, else our shipping partner."""
    ship = order.shipment if order else None
    if ship and ship.courier:
        return ship.courier
    return "hamare shipping partner" if ctx.style == "hinglish" else "our shipping partner"


def items_summary(order: Order, limit: int = 2) -> str:
    names = [f"{i.get('name') or i.get('sku')}" + (f" x{i['qty']}" if (i.get("qty") or 1) > 1 else "")
             for i in order.items]
    if not names:
        return "your items"
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def address_text(address: Dict[str, Any]) -> str:
    parts = [address.get(k) for k in ("line1", "line2", "landmark", "city", "state")]
    text = ", ".join(p for p in parts if p and p != "-")
    pin = address.get("pincode")
    return f"{text} - {pin}" if pin else text


def order_choice_label(order: Order, ctx: Ctx) -> str:
    """Short label to tell two of the customer's own orders apart."""
    placed = friendly_date(order.placed_at, ctx.style, ctx.today)
    return f"{order_ref(order.shown_id, ctx)}: {items_summary(order, 1)} ({placed})"


def buttons(ctx: Ctx, options: List[tuple]) -> List[Dict[str, str]]:
    """WhatsApp quick replies; voice gets none (the response says the options)."""
    if ctx.voice:
        return []
    return [{"title": title, "payload": payload} for title, payload in options]


_REFUSALS = {
    "en": {
        "shipped": "it has already left our warehouse, so the courier can't change it now",
        "delivered": "it has already been delivered",
        "cancelled": "the order is cancelled",
        "returning": "the order is on its way back to us",
        "not_shipped": "it hasn't shipped yet, so there's no delivery to move",
        "lost": "the courier reported the parcel lost or damaged; our team is arranging a refund or a replacement",
    },
    "hinglish": {
        "shipped": "order warehouse se nikal chuka hai, ab courier isse badal nahi sakta",
        "delivered": "order deliver ho chuka hai",
        "cancelled": "order cancel ho chuka hai",
        "returning": "order wapas hamare paas aa raha hai",
        "not_shipped": "order abhi ship nahi hua, isliye delivery date badalne ko kuch nahi hai",
        "lost": "courier ne parcel kho gaya ya kharab bataya hai; hamari team refund ya naya order arrange kar rahi hai",
    },
}


def refusal(status: str, ctx: Ctx) -> str:
    """Why an order in `status` can't be changed, in the customer's style."""
    if status in ("shipped", "in_transit", "out_for_delivery", "delivery_failed"):
        key = "shipped"
    elif status == "delivered":
        key = "delivered"
    elif status == "cancelled":
        key = "cancelled"
    elif status.startswith("rto"):
        key = "returning"
    elif status in ("lost", "damaged"):
        key = "lost"
    else:
        key = "not_shipped"
    return _REFUSALS.get(ctx.style, _REFUSALS["en"])[key]
