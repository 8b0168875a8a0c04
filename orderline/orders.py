"""The order-lookup service: reads and rule-checked changes, each in one unit of work."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable, Iterable, Optional, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from orderline import rules
from orderline.clock import Clock
from orderline.courier_requests import request_change
from orderline.errors import (
    AddressChangeNotAllowed,
    CancelNotAllowed,
    InvalidInput,
    NdrNotAllowed,
    OrderNotFound,
    RescheduleNotAllowed,
    ReturnNotAllowed,
)
from orderline.models import (
    Address,
    AuditLog,
    Customer,
    NdrAction,
    Order,
    OrderStatus,
    ReturnRequest,
    Shipment,
)
from orderline.phones import normalise_phone

T = TypeVar("T")
MAX_RETRIES = 8
# Everything in one round trip: the lists are short (a timeline, a return request or two).
ORDER_LOAD = (
    joinedload(Order.customer),
    joinedload(Order.payment),
    joinedload(Order.address),
    joinedload(Order.shipment).joinedload(Shipment.events),
    joinedload(Order.return_requests),
)


def order_digits(ref: str) -> str:
    """The digits that identify an order: 'OL-100234', 'ol100234' and '100234' agree."""
    digits = re.sub(r"\D", "", ref or "")
    if not digits or len(digits) > 20:
        raise OrderNotFound(f"no order matches {ref!r}")
    return digits.lstrip("0") or "0"


def in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run `work` in its own transaction, retrying when a concurrent writer got there first."""
    for attempt in range(MAX_RETRIES):
        session = factory()
        try:
            result = work(session)
            session.commit()
            return result
        except (StaleDataError, OperationalError) as exc:
            session.rollback()
            if isinstance(exc, OperationalError) and not _is_retryable(exc):
                raise
            if attempt == MAX_RETRIES - 1:
                raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    raise AssertionError("unreachable")


def _is_retryable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(k in text for k in ("locked", "deadlock", "could not serialize", "busy"))


def audit(session: Session, actor: str, order: Order, action: str, changes: dict[str, Any]) -> None:
    session.add(AuditLog(actor=actor or "unknown", entity="order", entity_id=order.order_id,
                         action=action, changes=changes))


class OrderService:
    """Reads and changes orders. Every public method is one unit of work."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock | None = None) -> None:
        self.factory = factory
        self.clock = clock or Clock()

    # -- reads -----------------------------------------------------------------
    def get(self, ref: str) -> Order:
        with self.factory() as session:
            return self._load(session, ref)

    def flagged(self, limit: int = 50) -> list[Order]:
        """Orders a person must look at (`needs_agent`: e.g. a store order with no usable phone), newest first."""
        with self.factory() as session:
            stmt = (select(Order).where(Order.needs_agent.is_not(None))
                    .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit).options(*ORDER_LOAD))
            return list(session.scalars(stmt).unique())

    def number_for(self, ref: str) -> str:
        """The number (digits) of the order `ref` names, however the customer wrote it: our order
        id ("OL-100234", "OLB-7001"), the store's number ("#2041", "2041", our "SH-2041"), or the
        shipment's AWB. An order whose number matches wins over an AWB; raises OrderNotFound."""
        ref = " ".join(str(ref or "").split())[:60]
        try:
            number: Optional[str] = order_digits(ref)
        except OrderNotFound:
            number = None
        with self.factory() as session:
            if number is not None and session.scalar(select(Order.id).where(Order.number == number)) is not None:
                return number
            by_awb = session.scalar(select(Order.number).join(Shipment)
                                    .where(Shipment.awb.in_({ref, ref.upper(), ref.replace(" ", ""), number or ref})).limit(1))
        if by_awb is None:
            raise OrderNotFound(f"no order matches {ref!r}")
        return by_awb

    def proof_facts(self, ref: str) -> Optional[tuple[str, str]]:
        """The phone and delivery pincode of order `ref` (None: no such order), for ownership checks.

        One small query, run the same way whether or not the order exists, so a stranger can't
        time the difference (orderline/ownership.py).
        """
        try:
            digits = order_digits(ref)
        except OrderNotFound:
            digits = ""
        with self.factory() as session:
            row = session.execute(
                select(Customer.phone, Address.pincode).select_from(Order).join(Customer)
                .outerjoin(Address, Address.order_pk == Order.id).where(Order.number == digits)).first()
        return (row.phone, row.pincode or "") if row else None

    def for_phone(self, phone: str, limit: int = 50) -> list[Order]:
        e164 = normalise_phone(phone)
        with self.factory() as session:
            stmt = (
                select(Order)
                .join(Customer)
                .where(Customer.phone == e164)
                .order_by(Order.placed_at.desc(), Order.id.desc())
                .limit(limit)
                .options(*ORDER_LOAD)
            )
            return list(session.scalars(stmt).unique())

    def _load(self, session: Session, ref: str, for_update: bool = False) -> Order:
        stmt = select(Order).where(Order.number == order_digits(ref)).options(*ORDER_LOAD)
        if for_update and session.get_bind().dialect.name != "sqlite":
            stmt = stmt.with_for_update(of=Order)
        order = session.scalars(stmt).unique().one_or_none()
        if order is None:
            raise OrderNotFound(f"no order matches {ref!r}")
        return order

    # -- changes ---------------------------------------------------------------
    def change_address(self, ref: str, data: dict[str, Any], actor: str = "api") -> Order:
        fields = validate_address(data)

        def work(session: Session) -> Order:
            order = self._load(session, ref, for_update=True)
            reason = rules.address_change_refusal(order.status)
            if reason:
                raise AddressChangeNotAllowed(reason, order_status=order.status)
            old = address_dict(order.address)
            if order.address is None:
                order.address = Address(**fields)
            else:
                for key, value in fields.items():
                    setattr(order.address, key, value)
            order.updated_at = self.clock.now()
            audit(session, actor, order, "address_changed", {"from": old, "to": fields})
            request_change(session, order, "address", {"address": fields}, actor, self.clock.now())
            return order

        return in_transaction(self.factory, work)

    def reschedule(self, ref: str, when: Any, slot: Any = None, actor: str = "api") -> Order:
        day = parse_day(when, "date")
        if slot not in (None, "", *rules.SLOTS):
            raise InvalidInput({"slot": "must be 'morning' or 'evening'"})

        def work(session: Session) -> Order:
            order = self._load(session, ref, for_update=True)
            reason = rules.reschedule_refusal(order.status)
            if reason:
                raise RescheduleNotAllowed(reason, order_status=order.status)
            check_reschedule_day(day, self.clock.today())
            ship = order.shipment
            if ship is None:
                raise RescheduleNotAllowed("the order has no shipment yet")
            old = {"date": _iso(ship.rescheduled_for), "slot": ship.rescheduled_slot}
            ship.rescheduled_for, ship.rescheduled_slot = day, slot or None
            order.updated_at = self.clock.now()
            audit(session, actor, order, "rescheduled", {"from": old, "to": {"date": day.isoformat(), "slot": slot or None}})
            if order.status == OrderStatus.DELIVERY_FAILED.value:  # a new day after a failed attempt is a reattempt
                request_change(session, order, "reattempt", {"date": day.isoformat(), "slot": slot or None},
                               actor, self.clock.now())
            return order

        return in_transaction(self.factory, work)

    def cancel(self, ref: str, reason_text: str = "", actor: str = "api") -> Order:
        def work(session: Session) -> Order:
            order = self._load(session, ref, for_update=True)
            reason = rules.cancel_refusal(order.status)
            if reason:
                raise CancelNotAllowed(reason, order_status=order.status)
            old = order.status
            order.status = OrderStatus.CANCELLED.value
            pay = order.payment
            if pay is not None and pay.method == "prepaid" and pay.status == "paid" and not pay.refund_status:
                pay.refund_amount, pay.refund_status = order.amount, "initiated"
                pay.refund_expected_by = self.clock.today() + _days(7)
            order.updated_at = self.clock.now()
            audit(session, actor, order, "cancelled", {"from": old, "reason": reason_text[:500]})
            request_change(session, order, "cancel", {"reason": reason_text[:500]}, actor, self.clock.now())
            return order

        return in_transaction(self.factory, work)

    def request_return(self, ref: str, kind: Any, reason_text: Any, actor: str = "api") -> Order:
        if kind not in ("return", "exchange", "replacement"):
            raise InvalidInput({"kind": "must be return, exchange or replacement"})
        if not isinstance(reason_text, str) or not reason_text.strip():
            raise InvalidInput({"reason": "required"})

        def work(session: Session) -> Order:
            order = self._load(session, ref, for_update=True)
            delivered_on = _local_date(order.shipment.delivered_at, self.clock) if order.shipment else None
            refusal = rules.return_refusal(order.status, delivered_on, self.clock.today())
            if refusal:
                raise ReturnNotAllowed(refusal, order_status=order.status)
            if any(r.status == "requested" for r in order.return_requests):
                raise ReturnNotAllowed("a return request is already open for this order")
            order.return_requests.append(ReturnRequest(kind=kind, reason=reason_text.strip()[:1000]))
            order.updated_at = self.clock.now()
            audit(session, actor, order, "return_requested", {"kind": kind})
            return order

        return in_transaction(self.factory, work)

    def record_ndr(self, ref: str, data: dict[str, Any], actor: str = "api") -> Order:
        """Record the customer's answer to a failed delivery, and ask the courier to act on it.

        `reattempt` (on a date) and `update_details` ask for another attempt; `return` is the
        customer who no longer wants the parcel (it goes back to the seller).
        """
        action = data.get("action")
        if action not in NDR_ACTIONS:
            raise InvalidInput({"action": "must be reattempt, update_details or return"})
        day: Optional[date] = None
        if action == "reattempt":
            day = parse_day(data.get("date"), "date")
        details = data.get("details") or ""
        if action == "update_details" and not (isinstance(details, str) and details.strip()):
            raise InvalidInput({"details": "say what to correct: address, landmark or phone"})

        def work(session: Session) -> Order:
            order = self._load(session, ref, for_update=True)
            if order.status != OrderStatus.DELIVERY_FAILED.value:
                raise NdrNotAllowed("only a failed delivery can be answered this way", order_status=order.status)
            if day is not None:
                check_reschedule_day(day, self.clock.today())
                assert order.shipment is not None
                order.shipment.rescheduled_for = day
            ndr = NdrAction(
                action=action, requested_date=day, details=str(details)[:1000],
                channel=str(data.get("channel") or "api")[:20],
                message_sid=(str(data["message_sid"])[:64] if data.get("message_sid") else None),
                customer_words=str(data.get("customer_words") or "")[:2000],
            )
            order.ndr_actions.append(ndr)
            order.updated_at = self.clock.now()
            audit(session, actor, order, "ndr_" + action, {"date": _iso(day), "details": str(details)[:200]})
            request_change(session, order, "return" if action == "return" else "reattempt", {
                "date": _iso(day), "details": ndr.details, "channel": ndr.channel, "message_sid": ndr.message_sid,
                "customer_words": ndr.customer_words[:500]}, actor, self.clock.now())
            return order

        return in_transaction(self.factory, work)


NDR_ACTIONS = ("reattempt", "update_details", "return")
ADDRESS_LIMITS = {"line1": 200, "line2": 200, "landmark": 200, "city": 100, "state": 100}


def validate_address(data: Any) -> dict[str, str]:
    """Clean an address payload or raise InvalidInput naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidInput({"body": "expected a JSON object"})
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for key, limit in ADDRESS_LIMITS.items():
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[key] = "must be text"
            continue
        value = " ".join(value.split())
        if len(value) > limit:
            errors[key] = f"at most {limit} characters"
        clean[key] = value
    if not errors.get("line1") and len(clean.get("line1", "")) < 3:
        errors["line1"] = "required: house number and street"
    if not errors.get("city") and len(clean.get("city", "")) < 2:
        errors["city"] = "required"
    pincode = data.get("pincode")
    pincode = str(pincode).strip() if isinstance(pincode, (str, int)) and not isinstance(pincode, bool) else ""
    if not rules.is_valid_pincode(pincode):
        errors["pincode"] = "must be 6 digits and not start with 0"
    clean["pincode"] = pincode
    if errors:
        raise InvalidInput(errors)
    return clean


def parse_day(value: Any, field: str) -> date:
    if not isinstance(value, str):
        raise InvalidInput({field: "required, as YYYY-MM-DD"})
    try:
        return date.fromisoformat(value.strip()) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) else _bad(field)
    except ValueError:
        return _bad(field)


def _bad(field: str) -> date:
    raise InvalidInput({field: "must be a real date as YYYY-MM-DD"})


def check_reschedule_day(day: date, today: date) -> None:
    first, last = rules.reschedule_window(today)
    if not first <= day <= last:
        raise InvalidInput({"date": f"must be between {first.isoformat()} and {last.isoformat()}"})


def address_dict(address: Optional[Address]) -> Optional[dict[str, str]]:
    if address is None:
        return None
    return {k: getattr(address, k) for k in ("line1", "line2", "landmark", "city", "state", "pincode")}


def _iso(value: Optional[date | datetime]) -> Optional[str]:
    return value.isoformat() if value else None


def _days(n: int) -> Any:
    from datetime import timedelta

    return timedelta(days=n)


def _local_date(value: Optional[datetime], clock: Clock) -> Optional[date]:
    return value.astimezone(clock.tz).date() if value else None


def ids(orders: Iterable[Order]) -> list[str]:
    return [o.order_id for o in orders]
