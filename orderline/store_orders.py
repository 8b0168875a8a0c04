"""Orders a store sends us (Shopify, WooCommerce), applied to our orders, whatever the store is.

A store adapter reads its webhook payload into a `StoreOrder`: the order as an import-format row
(docs/import-format.md, checked by `importer.clean_row` leniently), the number the customer knows
("#2041") and the store's own update time. The inbox (`orderline/inbox.py`) applies them with
`apply_store_orders` in the same transaction that marks the events processed, so each takes
effect once. The rules:

- A new order is created, and stage 1 starts at once: the order-confirmed message (with the
  COD confirmation request for COD orders) is queued, and the notifier sends it under the usual
  window, template and quiet-hour rules. An order we cannot message (no usable phone) is kept
  without it and flagged for agents.
- A later event for the same order updates what the store owns (items, amount, payment status,
  the buyer's name and e-mail) but never our fulfilment status or an address the customer may
  have changed with us since. A store cancellation cancels the order while the rules allow it.
- An event older than the last one applied (a replay) changes nothing.
- A store number whose digits belong to another order (an imported `OL-2041` and a Shopify
  `#2041`) is refused, never merged.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from orderline import notifications
from orderline.importer import write_order
from orderline.models import Order, OrderStatus as S
from orderline.orders import audit
from orderline.tracking import TrackingResult, may_move


@dataclass(frozen=True)
class StoreOrder:
    """A store's news about one of its orders, in our terms.

    Attributes:
        source: The store adapter's name ("shopify"); the audit actor.
        row: The order as a cleaned import-format row (`importer.clean_row(..., lenient=True)`).
        store_ref: The store's number as its customer knows it ("#2041").
        updated_at: The store's time for this version of the order (aware).
        cancelled: The store has cancelled the order.
    """

    source: str
    row: dict[str, Any]
    store_ref: str
    updated_at: datetime
    cancelled: bool = False

    @property
    def order_id(self) -> str:
        return str(self.row["order_id"])


def apply_store_orders(session: Session, orders: Sequence[StoreOrder], now: datetime) -> list[TrackingResult]:
    """Apply `orders` in order inside the caller's transaction; a result per order, whose
    `outcome` is "created", "updated", "cancelled", "duplicate" (nothing newer) or "conflict"."""
    return [apply_store_order(session, order, now) for order in orders]


def apply_store_order(session: Session, news: StoreOrder, now: datetime) -> TrackingResult:
    row = dict(news.row)
    existing = session.scalars(select(Order).where(Order.number == row["number"])).one_or_none()
    if existing is not None and existing.order_id != news.order_id:
        return TrackingResult(existing.order_id, "conflict")
    if existing is not None and existing.store_updated_at and news.updated_at <= existing.store_updated_at:
        return TrackingResult(existing.order_id, "duplicate", existing.status, existing.status)
    old_status = existing.status if existing is not None else None
    if existing is not None:
        row = _keeping_ours(row, existing, news.cancelled)
    elif news.cancelled:
        row["status"] = S.CANCELLED.value
    order, created = write_order(session, row, news.source, existing)
    order.store_ref = news.store_ref
    order.store_updated_at = news.updated_at
    order.needs_agent = row["needs_agent"]
    if created and order.status != S.CANCELLED.value and order.customer.phone:
        notifications.queue_notification(session, order, "confirmed", now)  # stage 1
    if existing is not None and news.cancelled and order.status != S.CANCELLED.value:
        audit(session, news.source, order, "store_cancel_refused",
              {"status": order.status, "reason": "the order has left the warehouse"})
    session.flush()
    outcome = "created" if created else "cancelled" if old_status != order.status else "updated"
    return TrackingResult(order.order_id, outcome, old_status, order.status)


def _keeping_ours(row: dict[str, Any], order: Order, cancelled: bool) -> dict[str, Any]:
    """The row, with what we own kept: the status (unless the store cancels while that is
    allowed), the address once we have one, and any refund we recorded."""
    cancel = cancelled and may_move(S(order.status), S.CANCELLED)
    row["status"] = S.CANCELLED.value if cancel else order.status
    if order.address is not None:
        row["address"] = None  # ours stays: the customer may have changed it with us
    pay = order.payment
    if pay is not None and pay.refund_status and not row["payment"].get("refund"):
        row["payment"] = {**row["payment"], "refund": {"amount": pay.refund_amount, "status": pay.refund_status,
                                                       "reference": pay.refund_reference,
                                                       "expected_by": pay.refund_expected_by}}
    if not row["customer"]["phone"] and order.customer.phone:
        row["customer"] = {**row["customer"], "phone": order.customer.phone}  # a number we had stays
    problems = [what for what, missing in (("no usable phone", not row["customer"]["phone"]),
                                           ("no usable shipping address", order.address is None and row["address"] is None))
                if missing]
    row["needs_agent"] = "; ".join(problems) or None
    return row

