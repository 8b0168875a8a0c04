"""Courier tracking updates applied to our order lifecycle, whoever the courier is.

A courier adapter reads its payload into a `TrackingUpdate` in our terms: our status, an aware
time, and the courier's own words kept as opaque text for the timeline. Here is the rule for
which status may follow which (`may_move`), and the code that applies updates: `apply_updates`
applies a batch inside the caller's transaction with a handful of Core statements (the worker
drains the inbox this way, see `orderline/inbox.py`); `apply_tracking` applies one in its own
transaction. Both are idempotent: an event already on the timeline changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Optional, Sequence

from sqlalchemy import bindparam, insert, select, update as update_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from orderline import notifications, rules
from orderline.models import AuditLog, Notification, Order, OrderStatus as S, Shipment, ShipmentEvent, utcnow
from orderline.orders import in_transaction, order_digits
from orderline.uow import NotificationQueued, OrderChanged, ParcelLost, events, record

LOSSES = frozenset({S.LOST, S.DAMAGED})
# Where an order may go next. Terminal states stay put; a late "shipped" never undoes "delivered".
# A lost or damaged parcel may yet be found and delivered, or returned, but a stale transit
# scan never makes it "on its way" again; one lost on its way back is lost all the same.
FORWARD: dict[S, frozenset[S]] = {
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
    S.RTO_DELIVERED: frozenset(),
    S.RTO_INITIATED: frozenset({S.RTO_DELIVERED}) | LOSSES,
    S.LOST: frozenset({S.DELIVERED, S.RTO_INITIATED, S.RTO_DELIVERED}),
    S.DAMAGED: frozenset({S.DELIVERED, S.RTO_INITIATED, S.RTO_DELIVERED}),
}
# Statuses a courier reports once per delivery attempt: a second one on a later day is a new attempt.
PER_ATTEMPT = frozenset({S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED})
RANK = {S.PLACED: 0, S.CONFIRMED: 1, S.PACKED: 2, S.SHIPPED: 3, S.IN_TRANSIT: 4,
        S.OUT_FOR_DELIVERY: 5, S.DELIVERY_FAILED: 5}


@dataclass(frozen=True)
class Scan:
    """One scan the courier reports with an update (the parcel's history, oldest first)."""

    at: datetime  # aware
    label: str  # the courier's own words for it, kept as they came (at most 40 characters)
    activity: str
    location: str
    status: Optional[S] = None  # what the scan means for the order, if anything


@dataclass(frozen=True)
class TrackingUpdate:
    """A courier's news about one shipment, in our terms.

    Attributes:
        source: Who sent it (a courier adapter's name); the timeline's `source` and the audit actor.
        awb: The shipment's airway bill number.
        courier: The courier's name, when the payload names one.
        label: The courier's own words for the current status, opaque (at most 40 characters).
        status: The order status `label` means; None when it means none (a weighing scan, say).
        at: When it happened (aware).
        order_ref: Our order id as the sender knows it, to attach an AWB we have not seen.
        etd: The courier's expected delivery date.
        scans: Scans reported with it.
    """

    source: str
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


def may_move(current: S, new: S) -> bool:
    """Whether a (newer) courier event may move an order from `current` to `new`."""
    if current == new:
        return False
    if current in FORWARD:
        return new in FORWARD[current]
    if new == S.CANCELLED:
        return current in rules.CANCEL_STATUSES
    if new in (S.DELIVERED, S.RTO_INITIATED, S.RTO_DELIVERED) or new in LOSSES:
        return True
    # Among in-flight states the newer event wins, but never back to before pickup.
    return not (RANK[current] >= RANK[S.SHIPPED] > RANK[new])


def apply_tracking(factory: sessionmaker[Session], update: TrackingUpdate, actor: Optional[str] = None) -> TrackingResult:
    """Apply one update in its own transaction (see `apply_updates`). Idempotent."""

    def work(session: Session) -> TrackingResult:
        [result] = apply_updates(session, [update], actor)
        result.notification_ids = [e.notification_id for e in events(session, NotificationQueued)]
        return result

    return in_transaction(factory, work)


@dataclass
class _Ship:
    """One shipment and its order as the batch sees them, read under a row lock."""

    id: int
    order_pk: int
    order_id: str
    number: str
    status: str
    order_updated_at: datetime
    courier: Optional[str]
    promised_date: Optional[date]
    expected_date: Optional[date]
    status_at: Optional[datetime]
    last_scan_at: Optional[datetime]
    attempts: int
    delivered_at: Optional[datetime]
    ndr_reason: Optional[str]
    seen: set[tuple[datetime, str, str]] = field(default_factory=set)
    lost: bool = False  # moved to LOST or DAMAGED by this batch: a person must be told
    ship_changed: bool = False
    order_changed: bool = False
    touched: bool = False


_SHIP = Shipment.__table__
_ORDER = Order.__table__
_EVENT = ShipmentEvent.__table__
_NOTE = Notification.__table__
_AUDIT = AuditLog.__table__
_SHIP_COLS = (_SHIP.c.awb, _SHIP.c.id, _SHIP.c.order_pk, _ORDER.c.order_id, _ORDER.c.number, _ORDER.c.status,
              _ORDER.c.updated_at.label("order_updated_at"), _SHIP.c.courier, _SHIP.c.promised_date,
              _SHIP.c.expected_date, _SHIP.c.status_at, _SHIP.c.last_scan_at, _SHIP.c.attempts,
              _SHIP.c.delivered_at, _SHIP.c.ndr_reason)


def apply_updates(session: Session, updates: Sequence[TrackingUpdate],
                  actor: Optional[str] = None) -> list[TrackingResult]:
    """Apply `updates` in order inside the caller's transaction; returns a result per update.
    The audit rows name `actor`, or else each update's source. Records `OrderChanged` for each
    order changed and `NotificationQueued` for each notification written (the outbox rows,
    committed with the order changes).

    Set-based: one locked read of the shipments and orders, one of their timelines and
    notifications, then one statement per table, however many updates. The shipments and orders
    are locked (FOR NO KEY UPDATE, in id order, so concurrent writers queue, not deadlock);
    every order change bumps `orders.version`, so an ORM writer holding an older copy retries.
    """
    ships: dict[str, _Ship] = {}
    _load(session, ships, _SHIP.c.awb.in_({u.awb for u in updates}))
    told = _told(session, {s.order_pk for s in ships.values()})
    events: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    results = []
    for update in updates:
        ship = ships.get(update.awb) or _attach(session, ships, told, update)
        if ship is None:
            results.append(TrackingResult(None, "unknown_shipment"))
            continue
        results.append(_apply(ship, update, actor, events, audits, notes, told))
    _write(session, ships.values(), events, audits, notes)
    if notes:
        insert_ = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(_NOTE)
        stmt = insert_.on_conflict_do_nothing(index_elements=["order_pk", "event", "key"]).returning(_NOTE.c.id)
        for note_id in session.execute(stmt, notes).scalars():
            record(session, NotificationQueued(note_id))
    for ship in ships.values():
        if ship.lost:
            record(session, ParcelLost(ship.order_id))
    # Orders changed behind the ORM's back, so its flushes did not see them.
    for number in sorted(s.number for s in ships.values() if s.touched):
        record(session, OrderChanged(number))
    return results


def _locked(where: Any) -> Any:
    # FOR NO KEY UPDATE: keys never change here, so rows that merely reference these (a new
    # notification or message) need not wait.
    return (select(*_SHIP_COLS).join_from(_SHIP, _ORDER, _SHIP.c.order_pk == _ORDER.c.id).where(where)
            .order_by(_SHIP.c.id).with_for_update(key_share=True))


def _load(session: Session, ships: dict[str, _Ship], where: Any) -> list[_Ship]:
    """Lock and read the shipments (with their orders and timelines) matching `where`, by AWB."""
    loaded = []
    for row in session.execute(_locked(where)):
        values = row._asdict()
        awb = values.pop("awb")
        ship = _Ship(**values)
        ships[awb] = ship
        loaded.append(ship)
    if loaded:
        by_id = {s.id: s for s in loaded}
        for sid, at, status, note in session.execute(select(_EVENT.c.shipment_id, _EVENT.c.at, _EVENT.c.status,
                                                            _EVENT.c.note).where(_EVENT.c.shipment_id.in_(by_id))):
            by_id[sid].seen.add((at, status, note))
    return loaded


Told = set[tuple[int, str, str]]  # (order, event, key) of the notifications written so far


def _told(session: Session, order_pks: set[int]) -> Told:
    if not order_pks:
        return set()
    return {(pk, event, key) for pk, event, key in session.execute(
        select(_NOTE.c.order_pk, _NOTE.c.event, _NOTE.c.key).where(_NOTE.c.order_pk.in_(order_pks)))}


def _attach(session: Session, ships: dict[str, _Ship], told: Told,
            update: TrackingUpdate) -> Optional[_Ship]:
    """An AWB we don't know: on its first event, find the order by the update's `order_ref`."""
    if not update.order_ref:
        return None
    try:
        number = order_digits(update.order_ref)
    except Exception:
        return None
    order = session.execute(select(_ORDER.c.id).where(_ORDER.c.number == number)
                            .with_for_update(key_share=True)).first()
    if order is None:
        return None
    current = session.execute(select(_SHIP.c.id, _SHIP.c.awb).where(_SHIP.c.order_pk == order.id)).first()
    if current is None:
        session.execute(insert(_SHIP).values(order_pk=order.id, awb=update.awb, courier=update.courier, attempts=0))
    elif current.awb in (None, ""):
        session.execute(update_(_SHIP).where(_SHIP.c.id == current.id).values(awb=update.awb))
    else:
        return None  # the order ships under another AWB; don't cross the wires
    [ship] = _load(session, ships, _ORDER.c.id == order.id)
    ship.touched = True
    told.update(_told(session, {ship.order_pk}))
    return ship


def _apply(ship: _Ship, update: TrackingUpdate, actor: Optional[str], events: list[dict[str, Any]],
           audits: list[dict[str, Any]], notes: list[dict[str, Any]], told: Told) -> TrackingResult:
    """The rules for one update against the batch's view of its shipment (no I/O)."""
    added = 0
    for scan in update.scans:
        key = (scan.at, scan.label or "SCAN", scan.activity)
        if key not in ship.seen:
            events.append({"shipment_id": ship.id, "at": scan.at, "status": key[1], "order_status": _value(scan.status),
                           "location": scan.location, "note": scan.activity, "source": update.source})
            ship.seen.add(key)
            added += 1
    current_key = (update.at, update.label, "")
    if current_key not in ship.seen and not any(s.at == update.at and s.label == update.label for s in update.scans):
        events.append({"shipment_id": ship.id, "at": update.at, "status": update.label,
                       "order_status": _value(update.status), "location": "", "note": "", "source": update.source})
        ship.seen.add(current_key)
        added += 1
    if update.courier and not ship.courier:
        ship.courier, ship.ship_changed = update.courier, True
    if ship.last_scan_at is None or update.at > ship.last_scan_at:
        ship.last_scan_at, ship.ship_changed = update.at, True
    old = ship.status
    result = TrackingResult(ship.order_id, "recorded" if added else "duplicate", old, old)

    def notify(event: str, key: str, variables: dict[str, Any]) -> None:
        if (ship.order_pk, event, key) not in told:  # each piece of news once
            told.add((ship.order_pk, event, key))
            notes.append({"order_pk": ship.order_pk, "event": event, "key": key, "status": "pending",
                          "created_at": update.at, "variables": variables, "attempts": 0})

    changes: dict[str, Any] = {}
    if update.etd and update.etd != ship.expected_date and ship.status not in _terminal():
        changes["expected_date"] = [_iso(ship.expected_date), update.etd.isoformat()]
        ship.expected_date, ship.ship_changed = update.etd, True
        etas = notifications.told_etas(k for pk, e, k in told if pk == ship.order_pk and e == "delayed")
        if notifications.delay_is_news(ship.promised_date, ship.expected_date, ship.status, etas):
            notify("delayed", notifications.eta_key(ship.expected_date), {"expected_date": ship.expected_date.isoformat()})
    newer = ship.status_at is None or update.at >= ship.status_at
    if update.status and added and newer and (may_move(S(ship.status), update.status) or _next_attempt(ship, update)):
        ship.status, ship.status_at, ship.ship_changed = update.status.value, update.at, True
        changes["status"] = [old, ship.status]
        if update.status == S.DELIVERED:
            ship.delivered_at = update.at
        if update.status == S.DELIVERY_FAILED:
            ship.attempts += 1
            ship.ndr_reason = _ndr_reason(update)
            changes["attempt"] = ship.attempts
        ship.lost = ship.lost or update.status in LOSSES
        result.outcome, result.new_status = "applied", ship.status
        event = notifications.event_for_move(old, ship.status)
        if event:
            notify(event, notifications.scan_key(update.awb, update.label, update.at), {})
    if changes:
        ship.order_changed = True
        ship.order_updated_at = update.at if update.at > ship.order_updated_at else utcnow()
        audits.append({"actor": actor or update.source, "entity": "order", "entity_id": ship.order_id, "action": "tracking_update",
                       "changes": {**changes, "awb": update.awb, "label": update.label}, "at": utcnow()})
        if result.outcome == "duplicate":
            result.outcome = "recorded"
    ship.touched = ship.touched or bool(added) or ship.ship_changed
    return result


def _write(session: Session, ships: Iterable[_Ship], events: list[dict[str, Any]], audits: list[dict[str, Any]],
           notes: list[dict[str, Any]]) -> None:
    """One executemany per table for everything the batch changed."""
    if events:
        session.execute(insert(_EVENT), events)
    ship_rows = [{"b_id": s.id, "courier": s.courier, "expected_date": s.expected_date, "status_at": s.status_at,
                  "last_scan_at": s.last_scan_at, "attempts": s.attempts, "delivered_at": s.delivered_at,
                  "ndr_reason": s.ndr_reason} for s in ships if s.ship_changed]
    if ship_rows:
        session.execute(update_(_SHIP).where(_SHIP.c.id == bindparam("b_id")), ship_rows)
    order_rows = [{"b_id": s.order_pk, "status": s.status, "updated_at": s.order_updated_at}
                  for s in ships if s.order_changed]
    if order_rows:
        session.execute(update_(_ORDER).where(_ORDER.c.id == bindparam("b_id"))
                        .values(version=_ORDER.c.version + 1), order_rows)
    if audits:
        session.execute(insert(_AUDIT), audits)


def _next_attempt(ship: _Ship, update: TrackingUpdate) -> bool:
    """A per-attempt status (out for delivery, failed) repeated on a later day than the one it
    repeats: the courier's next attempt, though no other status came between."""
    assert update.status is not None
    return (update.status in PER_ATTEMPT and ship.status == update.status.value and ship.status_at is not None
            and update.at.date() > ship.status_at.astimezone(update.at.tzinfo).date())


def _ndr_reason(update: TrackingUpdate) -> str:
    failed = [s for s in update.scans if s.at <= update.at and s.activity]
    return (failed[-1].activity if failed else update.label.title())[:300]


def _terminal() -> set[str]:
    return {s.value for s in rules.TERMINAL_STATUSES}


def _iso(value: Optional[date]) -> Optional[str]:
    return value.isoformat() if value else None


def _value(status: Optional[S]) -> Optional[str]:
    return status.value if status else None
