"""Plain-dict views of orders: the one shape the API, chat and voice all read."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Optional

from orderline import rules
from orderline.clock import Clock
from orderline.models import Order, Payment, Shipment
from orderline.orders import address_dict, order_digits

if TYPE_CHECKING:
    from orderline.order_cache import OrderCache
    from orderline.orders import OrderService


def order_dict(order: Order, clock: Clock) -> dict[str, Any]:
    today = clock.today()
    ship = order.shipment
    delivered_on = ship.delivered_at.astimezone(clock.tz).date() if ship and ship.delivered_at else None
    open_return = next((r for r in order.return_requests if r.status == "requested"), None)
    return {
        "order_id": order.order_id,
        "placed_at": order.placed_at.astimezone(clock.tz).isoformat(),
        "status": order.status,
        "customer": {
            "name": order.customer.name,
            "phone": order.customer.phone,
            "email": order.customer.email,
            "language": order.customer.language,
        },
        "items": order.items,
        "amount": float(order.amount),
        "currency": order.currency,
        "payment": payment_dict(order.payment),
        "shipping_address": address_dict(order.address),
        "shipment": shipment_dict(ship, order.status, today, clock) if ship else None,
        "allowed": {
            "change_address": rules.address_change_refusal(order.status) is None,
            "reschedule": rules.reschedule_refusal(order.status) is None and ship is not None,
            "cancel": rules.cancel_refusal(order.status) is None,
            "return": rules.return_refusal(order.status, delivered_on, today) is None and open_return is None,
        },
        "return_window_ends": _iso(rules.return_window_end(delivered_on)),
        "return_request": (
            {"kind": open_return.kind, "reason": open_return.reason, "status": open_return.status,
             "created_at": open_return.created_at.isoformat()} if open_return else None
        ),
    }


def payment_dict(pay: Optional[Payment]) -> Optional[dict[str, Any]]:
    if pay is None:
        return None
    refund = None
    if pay.refund_status:
        refund = {
            "amount": float(pay.refund_amount) if pay.refund_amount is not None else None,
            "status": pay.refund_status,
            "reference": pay.refund_reference,
            "expected_by": _iso(pay.refund_expected_by),
        }
    return {"method": pay.method, "status": pay.status, "reference": pay.reference, "refund": refund}


def shipment_dict(ship: Shipment, status: str, today: date, clock: Clock) -> dict[str, Any]:
    return {
        "courier": ship.courier,
        "awb": ship.awb,
        "tracking_url": ship.tracking_url,
        "promised_date": _iso(ship.promised_date),
        "expected_date": _iso(ship.expected_date),
        "attempts": ship.attempts,
        "ndr_reason": ship.ndr_reason,
        "delivered_at": ship.delivered_at.astimezone(clock.tz).isoformat() if ship.delivered_at else None,
        "is_delayed": is_delayed(ship, status, today),
        "rescheduled_for": _iso(ship.rescheduled_for),
        "rescheduled_slot": ship.rescheduled_slot,
        "events": [
            {"at": e.at.astimezone(clock.tz).isoformat(), "status": e.status, "location": e.location, "note": e.note}
            for e in ship.events
        ],
    }


def is_delayed(ship: Shipment, status: str, today: date) -> bool:
    """Late against the promise, unless the customer moved the delivery themselves."""
    if status in {s.value for s in rules.TERMINAL_STATUSES} or ship.promised_date is None:
        return False
    if ship.rescheduled_for is not None:
        return False
    if ship.expected_date and ship.expected_date > ship.promised_date:
        return True
    return today > ship.promised_date


def _iso(value: Optional[date]) -> Optional[str]:
    return value.isoformat() if value else None


class OrderReads:
    """Presented orders for readers (API, channels), through the order cache."""

    def __init__(self, orders: "OrderService", cache: "OrderCache", clock: Clock) -> None:
        self.orders = orders
        self.cache = cache
        self.clock = clock

    def by_ref(self, ref: str) -> dict[str, Any]:
        """The order as a dict; raises OrderNotFound."""
        number = order_digits(ref)
        return self.cache.get_or_load(number, self.clock.today().isoformat(),
                                      lambda: order_dict(self.orders.get(number), self.clock))
