"""What may change about an order and when, and when a customer may be written to. Pure functions."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from orderline.models import OrderStatus as S

ADDRESS_CHANGE_STATUSES = frozenset({S.PLACED, S.CONFIRMED, S.PACKED})
RESCHEDULE_STATUSES = frozenset({S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED, S.IN_TRANSIT})
CANCEL_STATUSES = frozenset({S.PLACED, S.CONFIRMED, S.PACKED})
OPEN_STATUSES = frozenset(set(S) - {S.DELIVERED, S.CANCELLED, S.RTO_DELIVERED})
TERMINAL_STATUSES = frozenset({S.DELIVERED, S.CANCELLED, S.RTO_DELIVERED})
RESCHEDULE_MAX_DAYS = 7
RETURN_WINDOW_DAYS = 7
SLOTS = ("morning", "evening")
PINCODE_RE = re.compile(r"^[1-9][0-9]{5}$")
# WhatsApp's customer-service window: free-form messages only this long after the customer's last one.
WINDOW = timedelta(hours=24)
LOST_REFUSAL = "the courier reported the parcel lost or damaged; our team is arranging what happens next"


def status_of(value: str) -> S:
    return S(value)


def is_valid_pincode(pincode: str) -> bool:
    return bool(PINCODE_RE.match(pincode or ""))


def address_change_refusal(status: str) -> str | None:
    """None when allowed, otherwise the reason in plain words."""
    st = status_of(status)
    if st in ADDRESS_CHANGE_STATUSES:
        return None
    if st == S.DELIVERY_FAILED:
        return ("the courier already attempted delivery; the address can only be corrected "
                "through a delivery update request to the courier")
    if st in (S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY):
        return "the order has already shipped, so the courier cannot change its address"
    if st == S.DELIVERED:
        return "the order has already been delivered"
    if st == S.CANCELLED:
        return "the order is cancelled"
    if st in (S.LOST, S.DAMAGED):
        return LOST_REFUSAL
    return "the order is being returned to the seller"


def reschedule_window(today: date) -> tuple[date, date]:
    return today + timedelta(days=1), today + timedelta(days=RESCHEDULE_MAX_DAYS)


def reschedule_refusal(status: str) -> str | None:
    st = status_of(status)
    if st in RESCHEDULE_STATUSES:
        return None
    if st == S.DELIVERED:
        return "the order has already been delivered"
    if st == S.CANCELLED:
        return "the order is cancelled"
    if st in (S.RTO_INITIATED, S.RTO_DELIVERED):
        return "the order is being returned to the seller"
    if st in (S.LOST, S.DAMAGED):
        return LOST_REFUSAL
    return "the order has not shipped yet, so there is no delivery to move"


def cancel_refusal(status: str) -> str | None:
    st = status_of(status)
    if st in CANCEL_STATUSES:
        return None
    if st == S.CANCELLED:
        return "the order is already cancelled"
    if st == S.DELIVERED:
        return "the order has already been delivered; you can ask for a return instead"
    if st in (S.RTO_INITIATED, S.RTO_DELIVERED):
        return "the order is already being returned to the seller"
    if st in (S.LOST, S.DAMAGED):
        return LOST_REFUSAL
    return "the order has already shipped; you can refuse it at the door"


def return_window_end(delivered_on: date | None) -> date | None:
    return delivered_on + timedelta(days=RETURN_WINDOW_DAYS) if delivered_on else None


def return_refusal(status: str, delivered_on: date | None, today: date) -> str | None:
    if status_of(status) != S.DELIVERED:
        return "returns open once the order is delivered"
    end = return_window_end(delivered_on)
    if end is None or today > end:
        return f"the {RETURN_WINDOW_DAYS}-day return window after delivery has closed"
    return None


def window_until(last_inbound_at: datetime | None, now: datetime) -> datetime | None:
    """When the messaging window closes, or None when it is closed (or the customer never wrote)."""
    if last_inbound_at is None:
        return None
    until = last_inbound_at + WINDOW
    return until if until > now else None


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Free-form messages may go out: the customer wrote within the last 24 hours."""
    return window_until(last_inbound_at, now) is not None
