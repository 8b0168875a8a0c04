"""Import orders from JSON (the format in docs/import-format.md), upserting by order_id."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from orderline import notifications
from orderline.errors import InvalidInput
from orderline.models import (
    LANGUAGES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    Address,
    AuditLog,
    Customer,
    Order,
    OrderStatus,
    Payment,
    Shipment,
    ShipmentEvent,
    utcnow,
)
from orderline.orders import in_transaction, order_digits, validate_address
from orderline.phones import InvalidPhone, normalise_phone

ORDER_ID_RE = re.compile(r"^[A-Za-z]{0,6}-?\d{1,20}$")
STATUSES = {s.value for s in OrderStatus}
# An event's status in any spelling of ours: "in_transit", "IN TRANSIT", "In Transit".
_EVENT_STATUSES = {s.value.upper().replace("_", " "): s.value for s in OrderStatus}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row index, order_id, message)

    @property
    def ok(self) -> int:
        return self.created + self.updated


def import_orders(factory: sessionmaker[Session], rows: Any, actor: str = "import") -> ImportReport:
    """Upsert every valid row; bad rows are reported and never stop the good ones."""
    report = ImportReport()
    if not isinstance(rows, list):
        report.errors.append((-1, "", "expected a JSON array of orders"))
        return report
    for index, row in enumerate(rows):
        oid = str(row.get("order_id", "")) if isinstance(row, dict) else ""
        try:
            clean = clean_row(row)
            created = in_transaction(factory, lambda s, c=clean: upsert_order(s, c, actor))
        except InvalidInput as exc:
            report.errors.append((index, oid, "; ".join(f"{k}: {v}" for k, v in sorted(exc.fields.items()))))
            continue
        except Exception as exc:  # one broken row must not lose the others
            report.errors.append((index, oid, f"{type(exc).__name__}: {exc}"[:300]))
            continue
        if created:
            report.created += 1
        else:
            report.updated += 1
    return report


def clean_row(row: Any, lenient: bool = False) -> dict[str, Any]:
    """Validate one order row, collecting every problem at once.

    `lenient` (a store's order, which arrives whether or not it is complete): a phone or shipping
    address we cannot use is not an error; it comes back as None and `needs_agent` says why.
    """
    if not isinstance(row, dict):
        raise InvalidInput({"row": "expected an object"})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    oid = row.get("order_id")
    if not isinstance(oid, str) or not ORDER_ID_RE.match(oid.strip()):
        errors["order_id"] = "required, like OL-100234"
    else:
        out["order_id"] = oid.strip().upper()
        out["number"] = order_digits(oid)

    out["placed_at"] = _datetime(row.get("placed_at"), "placed_at", errors)

    cust = row.get("customer")
    if not isinstance(cust, dict):
        errors["customer"] = "required object"
    else:
        name = cust.get("name")
        if not isinstance(name, str) or not (name.strip() or lenient):
            errors["customer.name"] = "required"
        phone: Optional[str]
        try:
            phone = normalise_phone(str(cust.get("phone") or ""))
        except InvalidPhone:
            if not lenient:
                errors["customer.phone"] = "not a valid phone number"
            phone = None
        lang = cust.get("language") or "en"
        if lang not in LANGUAGES:
            errors["customer.language"] = "en or hi"
        out["customer"] = {"name": str(name or "").strip()[:200], "phone": phone,
                           "email": (str(cust.get("email"))[:254] if cust.get("email") else None), "language": lang}

    items = row.get("items", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        errors["items"] = "expected a list of objects"
    out["items"] = items if isinstance(items, list) else []

    try:
        out["amount"] = Decimal(str(row.get("amount")))
        if out["amount"] < 0 or not out["amount"].is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["amount"] = "a non-negative number"
    currency = row.get("currency") or "INR"
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        errors["currency"] = "ISO code such as INR"
    out["currency"] = currency

    status = row.get("status")
    if status not in STATUSES:
        errors["status"] = "one of " + ", ".join(sorted(STATUSES))
    out["status"] = status

    out["payment"] = _payment(row.get("payment"), errors)
    try:
        out["address"] = validate_address(row.get("shipping_address"))
    except InvalidInput as exc:
        if not lenient:
            errors.update({f"shipping_address.{k}": v for k, v in exc.fields.items()})
        out["address"] = None
    problems = [what for what, missing in (("no usable phone", not out.get("customer", {}).get("phone")),
                                           ("no usable shipping address", out["address"] is None)) if missing]
    out["needs_agent"] = "; ".join(problems) or None
    out["shipment"] = _shipment(row.get("shipment"), errors)
    if errors:
        raise InvalidInput(errors)
    return out


def _payment(pay: Any, errors: dict[str, str]) -> dict[str, Any]:
    if not isinstance(pay, dict):
        errors["payment"] = "required object"
        return {}
    out: dict[str, Any] = {"method": pay.get("method"), "status": pay.get("status"),
                           "reference": (str(pay["reference"])[:100] if pay.get("reference") else None)}
    if out["method"] not in PAYMENT_METHODS:
        errors["payment.method"] = "prepaid or cod"
    if out["status"] not in PAYMENT_STATUSES:
        errors["payment.status"] = "one of " + ", ".join(PAYMENT_STATUSES)
    refund = pay.get("refund")
    if refund:
        if not isinstance(refund, dict):
            errors["payment.refund"] = "expected an object"
        else:
            try:
                amount = Decimal(str(refund.get("amount")))
            except (InvalidOperation, ValueError):
                errors["payment.refund.amount"] = "a number"
                amount = None
            out["refund"] = {"amount": amount, "status": str(refund.get("status") or "initiated")[:30],
                             "reference": (str(refund["reference"])[:100] if refund.get("reference") else None),
                             "expected_by": _date(refund.get("expected_by"), "payment.refund.expected_by", errors)}
    return out


def _shipment(ship: Any, errors: dict[str, str]) -> Optional[dict[str, Any]]:
    if ship in (None, {}):
        return None
    if not isinstance(ship, dict):
        errors["shipment"] = "expected an object"
        return None
    attempts = ship.get("attempts", 0) or 0
    if not isinstance(attempts, int) or attempts < 0:
        errors["shipment.attempts"] = "a non-negative integer"
    events = []
    for i, ev in enumerate(ship.get("events") or []):
        if not isinstance(ev, dict) or not isinstance(ev.get("status"), str):
            errors[f"shipment.events[{i}]"] = "needs at and status"
            continue
        events.append({"at": _datetime(ev.get("at"), f"shipment.events[{i}].at", errors),
                       "status": ev["status"][:40],
                       "order_status": _EVENT_STATUSES.get(ev["status"].upper().replace("_", " ")),
                       "location": str(ev.get("location") or "")[:200],
                       "note": str(ev.get("note") or "")[:500]})
    return {
        "courier": ship.get("courier"), "awb": (str(ship["awb"]) if ship.get("awb") else None),
        "tracking_url": ship.get("tracking_url"),
        "promised_date": _date(ship.get("promised_date"), "shipment.promised_date", errors),
        "expected_date": _date(ship.get("expected_date"), "shipment.expected_date", errors),
        "attempts": attempts if isinstance(attempts, int) else 0, "ndr_reason": ship.get("ndr_reason"),
        "delivered_at": _datetime(ship["delivered_at"], "shipment.delivered_at", errors) if ship.get("delivered_at") else None,
        "events": events,
    }


def _datetime(value: Any, name: str, errors: dict[str, str]) -> Optional[datetime]:
    try:
        parsed = datetime.fromisoformat(str(value))
        if parsed.tzinfo is None:
            raise ValueError
        return parsed
    except ValueError:
        errors[name] = "ISO 8601 with a UTC offset, e.g. 2026-11-20T10:15:00+05:30"
        return None


def _date(value: Any, name: str, errors: dict[str, str]) -> Optional[date]:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[name] = "YYYY-MM-DD"
        return None


def upsert_customer(session: Session, data: dict[str, Any], current: Optional[Customer] = None) -> Customer:
    """The customer with `data`'s phone, created or updated. Without a phone (a lenient row) it is
    the order's `current` customer, or a new one: nobody is matched on a missing number."""
    if data["phone"] is None:
        customer = current if current is not None and current.phone is None else Customer(**data)
        customer.name, customer.email, customer.language = data["name"], data["email"], data["language"]
        return customer
    customer = session.scalars(select(Customer).where(Customer.phone == data["phone"])).one_or_none()
    if customer is None:
        customer = Customer(**data)
        session.add(customer)
    else:
        customer.name, customer.email, customer.language = data["name"], data["email"], data["language"]
    return customer


def upsert_order(session: Session, row: dict[str, Any], actor: str) -> bool:
    """Write one cleaned row; True when the order is new."""
    return write_order(session, row, actor)[1]


def write_order(session: Session, row: dict[str, Any], actor: str, order: Optional[Order] = None) -> tuple[Order, bool]:
    """Write one cleaned row onto `order` (else the order with its number, else a new one);
    returns the order and whether it is new. A row without an address keeps the order's."""
    if order is None:
        order = session.scalars(select(Order).where(Order.number == row["number"])).one_or_none()
    created = order is None
    customer = upsert_customer(session, row["customer"], order.customer if order is not None else None)
    if order is None:
        order = Order(order_id=row["order_id"], number=row["number"], placed_at=row["placed_at"],
                      amount=row["amount"], customer=customer)
        session.add(order)
    previous_status = order.status
    order.order_id, order.customer, order.placed_at = row["order_id"], customer, row["placed_at"]
    order.items, order.amount, order.currency, order.status = row["items"], row["amount"], row["currency"], row["status"]

    pay = row["payment"]
    refund = pay.get("refund") or {}
    payment = order.payment or Payment(method=pay["method"], status=pay["status"])
    order.payment = payment
    payment.method, payment.status, payment.reference = pay["method"], pay["status"], pay["reference"]
    payment.refund_amount = refund.get("amount")
    payment.refund_status = refund.get("status")
    payment.refund_reference = refund.get("reference")
    payment.refund_expected_by = refund.get("expected_by")

    if row["address"] is not None:
        addr = order.address or Address(**row["address"])
        order.address = addr
        for key, value in row["address"].items():
            setattr(addr, key, value)

    ship_row = row["shipment"]
    if ship_row:
        ship = order.shipment or Shipment()
        order.shipment = ship
        for key in ("courier", "awb", "tracking_url", "promised_date", "expected_date", "attempts", "ndr_reason", "delivered_at"):
            setattr(ship, key, ship_row[key])
        seen = {(e.at, e.status, e.note) for e in ship.events}
        for ev in ship_row["events"]:
            if (ev["at"], ev["status"], ev["note"]) not in seen:
                ship.events.append(ShipmentEvent(source="import", **ev))
                seen.add((ev["at"], ev["status"], ev["note"]))
        if ship_row["events"]:
            latest = max(ev["at"] for ev in ship_row["events"])
            ship.last_scan_at = latest
            ship.status_at = latest
    session.flush()
    if not created and previous_status != order.status:
        # A re-import that moves an order is news for the customer, like a webhook would be.
        notifications.on_status_change(session, order, order.status, utcnow())
    session.add(AuditLog(actor=actor, entity="order", entity_id=order.order_id,
                         action="imported" if created else "reimported", changes={"status": order.status}))
    return order, created
