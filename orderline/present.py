"""Plain-dict views of orders: the one shape the API, chat and voice all read.

`order_dict` presents an order graph. Writers hand it the ORM objects they already hold;
the API's reads go through `OrderRows`, which fetches the same parts with one Core SELECT
and hands `order_dict` light row objects instead, skipping the ORM's session, identity map
and loaders (what that saves: docs/benchmarks.md, issue #2). Turning these into HTTP bodies,
and caching those, is the web adapter's business.
"""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any, Collection, Optional

from sqlalchemy import Engine, bindparam, func, select

from orderline import rules
from orderline.clock import Clock
from orderline.errors import OrderNotFound
from orderline.models import Address, Customer, Order, Payment, ReturnRequest, Shipment, ShipmentEvent
from orderline.orders import address_dict
from orderline.phones import normalise_phone


def order_dict(order: Order, clock: Clock) -> dict[str, Any]:
    """`order` is an Order, or any object with the same attributes (see `OrderRows`)."""
    today = clock.today()
    ship = order.shipment
    delivered_on = ship.delivered_at.astimezone(clock.tz).date() if ship and ship.delivered_at else None
    open_return = next((r for r in order.return_requests if r.status == "requested"), None)
    return {
        "order_id": order.order_id,
        # The store's own number ("#2041") for an order a store sent us: what to show the customer.
        "store_ref": order.store_ref,
        # Why a person must look at this order ("no usable phone"), or None.
        "needs_agent": order.needs_agent,
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


# What `order_dict` reads, part by part. Each part's first column is never NULL in a stored
# row, so a NULL there means the part's LEFT JOIN found nothing.
_PARTS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "order": (Order.__table__, ("id", "order_id", "placed_at", "status", "items", "amount", "currency",
                                "store_ref", "needs_agent")),
    "customer": (Customer.__table__, ("name", "phone", "email", "language")),
    "payment": (Payment.__table__, ("id", "method", "status", "reference", "refund_amount", "refund_status",
                                    "refund_reference", "refund_expected_by")),
    "address": (Address.__table__, ("id", "line1", "line2", "landmark", "city", "state", "pincode")),
    "shipment": (Shipment.__table__, ("id", "courier", "awb", "tracking_url", "promised_date", "expected_date",
                                      "attempts", "ndr_reason", "delivered_at", "rescheduled_for", "rescheduled_slot")),
    "open_return": (ReturnRequest.__table__, ("id", "kind", "reason", "status", "created_at")),
    "event": (ShipmentEvent.__table__, ("id", "at", "status", "location", "note")),
}


def _order_select(where: Any) -> Any:
    """One row per tracking event (at least one per order), in timeline order."""
    o, c, p, a, s, r, e = (table for table, _ in _PARTS.values())
    open_ones = r.alias("open_returns")
    first_open_return = (select(func.min(open_ones.c.id))
                         .where(open_ones.c.order_pk == o.c.id, open_ones.c.status == "requested")
                         .correlate(o).scalar_subquery())
    parts = (o.join(c, c.c.id == o.c.customer_id)
             .outerjoin(p, p.c.order_pk == o.c.id)
             .outerjoin(a, a.c.order_pk == o.c.id)
             .outerjoin(s, s.c.order_pk == o.c.id)
             .outerjoin(r, r.c.id == first_open_return)
             .outerjoin(e, e.c.shipment_id == s.c.id))
    columns = [table.c[name] for table, names in _PARTS.values() for name in names]
    return select(*columns).select_from(parts).where(where).order_by(e.c.at, e.c.id)


def _by_number() -> Any:
    return _order_select(Order.__table__.c.number == bindparam("number"))


def _for_phone() -> Any:
    recent, owner = Order.__table__.alias("recent"), Customer.__table__.alias("owner")
    newest = (select(recent.c.id).join(owner, owner.c.id == recent.c.customer_id)
              .where(owner.c.phone == bindparam("phone"))
              .order_by(recent.c.placed_at.desc(), recent.c.id.desc()).limit(bindparam("limit")))
    o = Order.__table__
    return _order_select(o.c.id.in_(newest)).order_by(None).order_by(
        o.c.placed_at.desc(), o.c.id.desc(), ShipmentEvent.__table__.c.at, ShipmentEvent.__table__.c.id)


class _Part:
    """Reads one part (the order, its payment, one event...) out of a result row."""

    def __init__(self, names: tuple[str, ...], start: int) -> None:
        self.names, self.start, self.stop = names, start, start + len(names)

    def __call__(self, row: Any) -> Optional[SimpleNamespace]:
        """The part as an object with the ORM's attribute names; None if its LEFT JOIN found nothing."""
        values = row[self.start:self.stop]
        return None if values[0] is None else SimpleNamespace(**dict(zip(self.names, values)))


def _parts() -> dict[str, _Part]:
    parts, start = {}, 0
    for name, (_, columns) in _PARTS.items():
        parts[name] = _Part(columns, start)
        start = parts[name].stop
    return parts


class OrderRows:
    """Presented orders read with Core SELECTs: one statement, one snapshot, no ORM objects."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        # One statement is its own consistent snapshot on PostgreSQL, so it needs no BEGIN and
        # ROLLBACK round trips. SQLite keeps the engine's own transaction handling (db.py).
        sqlite = engine.dialect.name == "sqlite"
        self.engine = engine if sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        self.clock = clock
        self._by_number, self._for_phone, self._part = _by_number(), _for_phone(), _parts()

    def by_number(self, number: str) -> dict[str, Any]:
        """The order with these digits, presented; raises OrderNotFound."""
        with self.engine.connect() as conn:
            rows = conn.execute(self._by_number, {"number": number}).all()
        if not rows:
            raise OrderNotFound(f"no order matches {number!r}")
        return self._present(rows)

    def for_phone(self, phone: str, limit: int = 50) -> list[dict[str, Any]]:
        """The customer's orders, newest first; raises InvalidPhone."""
        with self.engine.connect() as conn:
            rows = conn.execute(self._for_phone, {"phone": normalise_phone(phone), "limit": limit}).all()
        groups: list[list[Any]] = []
        for row in rows:
            if not groups or groups[-1][0][0] != row[0]:
                groups.append([])
            groups[-1].append(row)
        return [self._present(group) for group in groups]

    def phones_of(self, numbers: Collection[str]) -> set[str]:
        """The phones of the customers of the orders with these digits (those that exist)."""
        if not numbers:
            return set()
        stmt = (select(Customer.phone).join_from(Order, Customer, Order.customer_id == Customer.id)
                .where(Order.number.in_(sorted(numbers))).distinct())
        with self.engine.connect() as conn:
            return set(conn.scalars(stmt))

    def _present(self, rows: list[Any]) -> dict[str, Any]:
        part, first = self._part, rows[0]
        order = part["order"](first)
        ship = part["shipment"](first)
        if ship is not None:
            ship.events = [event for event in map(part["event"], rows) if event is not None]
        open_return = part["open_return"](first)
        order.customer, order.payment, order.address, order.shipment = (
            part["customer"](first), part["payment"](first), part["address"](first), ship)
        order.return_requests = [open_return] if open_return else []
        return order_dict(order, self.clock)  # type: ignore[arg-type]
