"""The unit of work's domain events, and the hooks that run on them once it has committed.

Code inside a transaction says what happened with `record(session, event)`; code that needs to
know what its own transaction did reads `events(session, kind)`. The wiring builds one
`AfterCommit` with a hook per event type (the order cache's invalidation, the conversation
owner's cache) and installs it on the session factory. The hooks run after the outermost
commit, each with its type's events in the order they were recorded. A transaction that rolls
back, or a savepoint that does, takes its events with it: a retried transaction fires only
the attempt that committed.

Orders also change through the ORM (an address, a payment, a customer's name), so the
installed factory records `OrderChanged` for whatever each flush touched.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, TypeVar, Union

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from orderline.models import Address, Customer, NdrAction, Order, Payment, ReturnRequest, Shipment, ShipmentEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderChanged:
    """Something shown with the order changed (its number, the digits of its id)."""

    number: str


@dataclass(frozen=True)
class NotificationQueued:
    """A notification row was written to the outbox, to be sent."""

    notification_id: int


@dataclass(frozen=True)
class ParcelLost:
    """The courier reported the parcel of order `order_id` lost or damaged: a person must act."""

    order_id: str


@dataclass(frozen=True)
class ConversationStateChanged:
    """The conversation with `phone` changed owner (a `ConversationState` value)."""

    phone: str
    state: str


@dataclass(frozen=True)
class CourierRequestQueued:
    """A courier request row was written to the outbox, to be sent to the courier."""

    request_id: int


Event = Union[OrderChanged, NotificationQueued, ConversationStateChanged, ParcelLost,
              CourierRequestQueued]
E = TypeVar("E", OrderChanged, NotificationQueued, ConversationStateChanged, ParcelLost,
              CourierRequestQueued)
Hook = Callable[[list[Any]], None]

_EVENTS = "orderline.uow.events"  # the session's recorded events, oldest first
_SAVEPOINTS = "orderline.uow.savepoints"  # open savepoint -> how many events preceded it


def record(session: Session, event_: Event) -> None:
    """Note that `event_` happened in the session's current transaction."""
    session.info.setdefault(_EVENTS, []).append(event_)


def events(session: Session, kind: type[E]) -> list[E]:
    """The events of type `kind` recorded in the session's current transaction, oldest first."""
    return [e for e in session.info.get(_EVENTS, ()) if isinstance(e, kind)]


class AfterCommit:
    """Hooks to run with a committed transaction's events, by event type; built once, in the wiring."""

    def __init__(self) -> None:
        self._hooks: list[tuple[type, Hook]] = []

    def on(self, kind: type[E], hook: Callable[[list[E]], None]) -> None:
        """Call `hook` after each commit that recorded events of type `kind`, with those events."""
        self._hooks.append((kind, hook))

    def install(self, factory: sessionmaker[Session]) -> None:
        """Run the hooks for every session `factory` makes (once per factory)."""
        event.listen(factory, "before_flush", _record_order_changes)
        event.listen(factory, "after_transaction_create", _open_savepoint)
        event.listen(factory, "after_commit", self._committed)
        event.listen(factory, "after_rollback", _rolled_back)
        event.listen(factory, "after_transaction_end", _ended)

    def run(self, recorded: Sequence[Event]) -> None:
        """Give each hook its events; one failing hook neither stops the others nor undoes the commit."""
        for kind, hook in self._hooks:
            mine = [e for e in recorded if isinstance(e, kind)]
            if not mine:
                continue
            try:
                hook(mine)
            except Exception:  # the transaction is committed; the caller must not see it as failed
                log.exception("after-commit hook %r failed for %d %s event(s)", hook, len(mine), kind.__name__)

    def _committed(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: its events wait for the outer commit
        self.run(session.info.pop(_EVENTS, []))


def _open_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(_SAVEPOINTS, {})[transaction] = len(session.info.get(_EVENTS, ()))


def _rolled_back(session: Session) -> None:
    savepoint: Optional[SessionTransaction] = session.get_nested_transaction()
    if savepoint is not None:  # only it rolled back: keep what the transaction recorded before it
        mark = session.info.get(_SAVEPOINTS, {}).get(savepoint, 0)
        del session.info.get(_EVENTS, [])[mark:]


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.get(_SAVEPOINTS, {}).pop(transaction, None)
    elif transaction.parent is None:
        # Rolled back or closed without a commit (a commit has emptied the list by now).
        session.info.pop(_EVENTS, None)
        session.info.pop(_SAVEPOINTS, None)


_ORDER_PARTS = (Order, Payment, Address, Shipment, ShipmentEvent, ReturnRequest, NdrAction)


def _record_order_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    """Record `OrderChanged` for every order this flush writes, or whose customer it edits."""
    numbers: set[str] = set()
    customers: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, _ORDER_PARTS):
            number = _number_of(obj)
            if number:
                numbers.add(number)
        elif isinstance(obj, Customer) and obj.id is not None:
            # Every order shows its customer. A new customer has no stored orders yet (its
            # pending ones are caught above); a customer that is only "dirty" because an
            # order moved in or out of its collection changed no field that orders show.
            if obj in session.deleted or session.is_modified(obj, include_collections=False):
                customers.add(obj.id)
    if customers:
        # No autoflush here: the session is already flushing.
        numbers.update(session.scalars(select(Order.number).where(Order.customer_id.in_(customers))))
    for number in sorted(numbers):
        record(session, OrderChanged(number))


def _number_of(obj: Any) -> Optional[str]:
    if isinstance(obj, Order):
        return obj.number
    order = getattr(obj, "order", None)
    if order is None and isinstance(obj, ShipmentEvent) and obj.shipment is not None:
        order = obj.shipment.order
    return order.number if isinstance(order, Order) else None
