"""Shiprocket-style tracking events for a demo order, sent through the real webhook.

The webhook may apply an event at once or only store it for the worker to apply; either way
the note for people says what will happen, using the same forward-only rule as the ingest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional
from zoneinfo import ZoneInfo


from orderline.models import Order, OrderStatus as S
from orderline.tracking import may_move
from sim.app_client import AppClient, AppUnreachable

IST = ZoneInfo("Asia/Kolkata")  # Shiprocket's timestamps are naive IST


@dataclass(frozen=True)
class CourierEvent:
    label: str  # Shiprocket's current_status
    status_id: int  # Shiprocket's shipment_status_id
    activity: str  # the scan's text (a failed attempt's reason)
    name: str  # for people
    status: S  # where it takes the order


EVENTS: dict[str, CourierEvent] = {
    "out_for_delivery": CourierEvent("OUT FOR DELIVERY", 17, "Out for delivery", "out for delivery",
                                     S.OUT_FOR_DELIVERY),
    "delivery_failed": CourierEvent("UNDELIVERED", 21, "Customer not available at the address",
                                    "failed delivery attempt", S.DELIVERY_FAILED),
    "delivered": CourierEvent("DELIVERED", 7, "Delivered to customer", "delivered", S.DELIVERED),
}


def payload(order: Order, event: str, now: datetime) -> dict[str, Any]:
    """Shiprocket's webhook body for `event` on `order` at `now`. Unshipped orders get an AWB on the fly."""
    e = EVENTS[event]
    ship = order.shipment
    local = now.astimezone(IST)
    city = order.address.city if order.address else ""
    return {"awb": ship.awb if ship and ship.awb else f"SIM{order.number}",
            "courier_name": ship.courier if ship and ship.courier else "Delhivery",
            "current_status": e.label, "current_status_id": e.status_id, "shipment_status": e.label,
            "shipment_status_id": e.status_id, "current_timestamp": local.strftime("%d %m %Y %H:%M:%S"),
            "order_id": order.order_id, "etd": "",
            "scans": [{"date": local.strftime("%Y-%m-%d %H:%M:%S"), "activity": e.activity, "location": city,
                       "sr-status": str(e.status_id), "sr-status-label": e.label}]}


def fire(client: AppClient, order: Order, event: str, now: datetime) -> dict[str, Any]:
    """Post the event to /webhooks/shiprocket; returns the webhook's answer and a note for people.

    Raises:
        AppUnreachable: the webhook did not answer 200.
    """
    reply = client.shiprocket(payload(order, event, now))
    answer = reply.json() if reply.status == 200 else None
    if not isinstance(answer, dict):
        raise AppUnreachable(f"/webhooks/shiprocket answered HTTP {reply.status}: {reply.body[:200]}")
    return {"order_id": order.order_id, "event": event, "webhook": answer,
            "note": explain(order, event, answer)}


def explain(order: Order, event: str, answer: dict[str, Any]) -> str:
    """One honest sentence about what the event did."""
    e = EVENTS[event]
    oid, outcome, status = order.order_id, answer.get("status"), answer.get("order_status")
    said = f"Shiprocket sent {e.label} for {oid}"
    if outcome == "applied":
        return f"{said}: the order is now {_words(status)}; its WhatsApp message follows."
    if outcome == "unknown_shipment":
        return f"{said}, but Orderline does not know this shipment."
    if outcome in ("recorded", "duplicate") or not may_move(S(order.status), e.status):
        return (f"{said}, but the order stays {_words(status or order.status)}: courier events never move an "
                "order backwards or repeat a step the same day, so no message.")
    return (f"{said}; the webhook stored it ({outcome or 'OK'}) and the worker now moves the order to "
            f"{_words(e.status.value)} and sends its WhatsApp message.")


def _words(status: Optional[str]) -> str:
    return (status or "unchanged").replace("_", " ")
