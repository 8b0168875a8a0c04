"""Courier tracking updates: Shiprocket's payload mapped onto our order lifecycle.

Parsing is pure; `apply_tracking` changes the order in one unit of work and is idempotent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from orderline import notifications, rules
from orderline.errors import InvalidInput
from orderline.models import AuditLog, Order, OrderStatus as S, Shipment, ShipmentEvent
from orderline.orders import in_transaction, order_digits

IST = ZoneInfo("Asia/Kolkata")

# Shiprocket status labels (upper-case) onto our statuses. Labels not listed are recorded
# on the timeline but do not move the order.
LABELS: dict[str, S] = {
    "NEW": S.CONFIRMED,
    "INVOICED": S.CONFIRMED,
    "READY TO SHIP": S.PACKED,
    "AWB ASSIGNED": S.PACKED,
    "LABEL GENERATED": S.PACKED,
    "MANIFEST GENERATED": S.PACKED,
    "PICKUP SCHEDULED": S.PACKED,
    "PICKUP GENERATED": S.PACKED,
    "PICKUP QUEUED": S.PACKED,
    "OUT FOR PICKUP": S.PACKED,
    "PICKUP RESCHEDULED": S.PACKED,
    "PICKUP EXCEPTION": S.PACKED,
    "PACKED": S.PACKED,
    "PICKED UP": S.SHIPPED,
    "SHIPPED": S.SHIPPED,
    "HANDOVER TO COURIER": S.SHIPPED,
    "IN TRANSIT": S.IN_TRANSIT,
    "IN-TRANSIT": S.IN_TRANSIT,
    "REACHED AT DESTINATION HUB": S.IN_TRANSIT,
    "REACHED DESTINATION HUB": S.IN_TRANSIT,
    "MISROUTED": S.IN_TRANSIT,
    "DELAYED": S.IN_TRANSIT,
    "OUT FOR DELIVERY": S.OUT_FOR_DELIVERY,
    "UNDELIVERED": S.DELIVERY_FAILED,
    "DELIVERY FAILED": S.DELIVERY_FAILED,
    "FAILED DELIVERY": S.DELIVERY_FAILED,
    "DELIVERED": S.DELIVERED,
    "RTO INITIATED": S.RTO_INITIATED,
    "RTO IN TRANSIT": S.RTO_INITIATED,
    "RTO IN INTRANSIT": S.RTO_INITIATED,
    "RTO OFD": S.RTO_INITIATED,
    "RTO NDR": S.RTO_INITIATED,
    "RTO ACKNOWLEDGED": S.RTO_INITIATED,
    "RTO DELIVERED": S.RTO_DELIVERED,
    "CANCELED": S.CANCELLED,
    "CANCELLED": S.CANCELLED,
    "CANCELLED BEFORE DISPATCHED": S.CANCELLED,
}
# Shiprocket's numeric shipment status ids, used when a label is missing or unknown.
STATUS_IDS: dict[int, S] = {
    6: S.SHIPPED, 7: S.DELIVERED, 8: S.CANCELLED, 9: S.RTO_INITIATED, 10: S.RTO_DELIVERED,
    14: S.RTO_INITIATED, 17: S.OUT_FOR_DELIVERY, 18: S.IN_TRANSIT, 19: S.PACKED, 21: S.DELIVERY_FAILED,
    38: S.IN_TRANSIT, 42: S.SHIPPED, 45: S.CANCELLED, 46: S.RTO_INITIATED,
}
# Where an order may go next. Terminal states stay put; a late "shipped" never undoes "delivered".
FORWARD: dict[S, frozenset[S]] = {
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
    S.RTO_DELIVERED: frozenset(),
    S.RTO_INITIATED: frozenset({S.RTO_DELIVERED}),
}
RANK = {S.PLACED: 0, S.CONFIRMED: 1, S.PACKED: 2, S.SHIPPED: 3, S.IN_TRANSIT: 4,
        S.OUT_FOR_DELIVERY: 5, S.DELIVERY_FAILED: 5}


@dataclass(frozen=True)
class Scan:
    at: datetime
    label: str
    activity: str
    location: str


@dataclass(frozen=True)
class TrackingUpdate:
    awb: str
    courier: Optional[str]
    label: str
    status: Optional[S]
    at: datetime
    order_ref: Optional[str]
    etd: Optional[date]
    scans: tuple[Scan, ...] = field(default=())


@dataclass
class TrackingResult:
    order_id: Optional[str]
    outcome: str  # "applied", "recorded", "duplicate", "unknown_shipment"
    old_status: Optional[str] = None
    new_status: Optional[str] = None
    notification_ids: list[int] = field(default_factory=list)


def parse_shiprocket(payload: Any) -> TrackingUpdate:
    """Validate a Shiprocket tracking payload, or raise InvalidInput."""
    if not isinstance(payload, dict):
        raise InvalidInput({"body": "expected a JSON object"})
    errors: dict[str, str] = {}
    awb = str(payload.get("awb") or "").strip()
    if not awb or len(awb) > 50:
        errors["awb"] = "required"
    label = str(payload.get("current_status") or payload.get("shipment_status") or "").strip().upper()
    status_id = _int(payload.get("shipment_status_id")) or _int(payload.get("current_status_id"))
    if not label and status_id is None:
        errors["current_status"] = "required"
    at = parse_time(payload.get("current_timestamp"))
    if at is None:
        errors["current_timestamp"] = "required, e.g. '23 05 2023 11:43:52'"
    scans_raw = payload.get("scans") or []
    if not isinstance(scans_raw, list):
        errors["scans"] = "expected a list"
        scans_raw = []
    scans = []
    for raw in scans_raw[:500]:
        if not isinstance(raw, dict):
            continue
        when = parse_time(raw.get("date"))
        if when is None:
            continue
        scans.append(Scan(when, str(raw.get("sr-status-label") or raw.get("status") or "").upper()[:40],
                          str(raw.get("activity") or "")[:500], str(raw.get("location") or "")[:200]))
    if errors:
        raise InvalidInput(errors)
    status = LABELS.get(label) or STATUS_IDS.get(status_id or -1)
    etd_at = parse_time(payload.get("etd"))
    order_ref = payload.get("order_id")
    return TrackingUpdate(awb=awb, courier=(str(payload["courier_name"])[:100] if payload.get("courier_name") else None),
                          label=label or str(status_id), status=status, at=at,  # type: ignore[arg-type]
                          order_ref=str(order_ref) if order_ref not in (None, "") else None,
                          etd=etd_at.date() if etd_at else None, scans=tuple(scans))


def parse_time(value: Any) -> Optional[datetime]:
    """Shiprocket sends '23 05 2023 11:43:52', '2023-05-19 11:59:16' or ISO; naive means IST."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for fmt in ("%d %m %Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=IST)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=IST)


def _int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def may_move(current: S, new: S) -> bool:
    """Whether a (newer) courier event may move an order from `current` to `new`."""
    if current == new:
        return False
    if current in FORWARD:
        return new in FORWARD[current]
    if new == S.CANCELLED:
        return current in rules.CANCEL_STATUSES
    if new in (S.DELIVERED, S.RTO_INITIATED, S.RTO_DELIVERED):
        return True
    # Among in-flight states the newer event wins, but never back to before pickup.
    return not (RANK[current] >= RANK[S.SHIPPED] > RANK[new])


def apply_tracking(factory: sessionmaker[Session], update: TrackingUpdate, actor: str = "shiprocket") -> TrackingResult:
    """Record the update's events and move the order forward if it is news. Idempotent."""

    def work(session: Session) -> TrackingResult:
        ship = _find_shipment(session, update)
        if ship is None:
            return TrackingResult(None, "unknown_shipment")
        order = ship.order
        seen = {(e.at, e.status, e.note) for e in ship.events}
        added = 0
        for scan in update.scans:
            key = (scan.at, scan.label or "SCAN", scan.activity)
            if key not in seen:
                ship.events.append(ShipmentEvent(at=scan.at, status=key[1], location=scan.location,
                                                 note=scan.activity, source="shiprocket"))
                seen.add(key)
                added += 1
        current_key = (update.at, update.label, "")
        is_new = current_key not in seen and not any(
            s.at == update.at and s.label == update.label for s in update.scans)
        if is_new:
            ship.events.append(ShipmentEvent(at=update.at, status=update.label, location="", note="",
                                             source="shiprocket"))
            added += 1
        if update.courier and not ship.courier:
            ship.courier = update.courier
        if ship.last_scan_at is None or update.at > ship.last_scan_at:
            ship.last_scan_at = update.at
        old = order.status
        result = TrackingResult(order.order_id, "recorded" if added else "duplicate", old, old)
        changes: dict[str, Any] = {}
        if update.etd and update.etd != ship.expected_date and order.status not in _terminal():
            changes["expected_date"] = [_iso(ship.expected_date), update.etd.isoformat()]
            ship.expected_date = update.etd
            notifications.on_expected_date_change(session, order, ship.promised_date, ship.expected_date, update.at)
        newer = ship.status_at is None or update.at >= ship.status_at
        if update.status and added and newer and may_move(S(order.status), update.status):
            order.status = update.status.value
            ship.status_at = update.at
            changes["status"] = [old, order.status]
            if update.status == S.DELIVERED:
                ship.delivered_at = update.at
            if update.status == S.DELIVERY_FAILED:
                ship.attempts += 1
                ship.ndr_reason = _ndr_reason(update)
            result.outcome, result.new_status = "applied", order.status
            notifications.on_status_change(session, order, order.status, update.at)
        if changes:
            order.updated_at = update.at if update.at > order.updated_at else order.updated_at
            session.add(AuditLog(actor=actor, entity="order", entity_id=order.order_id,
                                 action="tracking_update", changes={**changes, "awb": update.awb, "label": update.label}))
            if result.outcome == "duplicate":
                result.outcome = "recorded"
        session.flush()
        result.notification_ids = [n.id for n in session.info.get("new_notifications", [])]
        return result

    return in_transaction(factory, work)


def _find_shipment(session: Session, update: TrackingUpdate) -> Optional[Shipment]:
    ship = session.scalars(select(Shipment).where(Shipment.awb == update.awb)).one_or_none()
    if ship is not None or not update.order_ref:
        return ship
    # Shiprocket's order_id is the channel's id, sometimes with a suffix ("OL-100234_1").
    ref = re.split(r"[_\s]", update.order_ref)[0]
    try:
        number = order_digits(ref)
    except Exception:
        return None
    order = session.scalars(select(Order).where(Order.number == number)).one_or_none()
    if order is None:
        return None
    if order.shipment is None:
        order.shipment = Shipment(awb=update.awb, courier=update.courier)
    elif order.shipment.awb in (None, ""):
        order.shipment.awb = update.awb
    else:
        return None  # the order ships under another AWB; don't cross the wires
    session.flush()
    return order.shipment


def _ndr_reason(update: TrackingUpdate) -> str:
    failed = [s for s in update.scans if s.at <= update.at and s.activity]
    return (failed[-1].activity if failed else update.label.title())[:300]


def _terminal() -> set[str]:
    return {s.value for s in rules.TERMINAL_STATUSES}


def _iso(value: Optional[date]) -> Optional[str]:
    return value.isoformat() if value else None
