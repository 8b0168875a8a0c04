"""Parcels the courier reports lost or damaged: a person is told at once, in the courier's words.

The customer's apology is a notification like any other (`orderline.notifications`). What a
person must do (claim from the courier, refund or send a replacement) starts with an urgent
escalation. `escalate_losses` opens one for every lost or damaged order not escalated since it
became so; the drain that applied the courier's event queues it (`ParcelLost`), and the cron's
periodic run catches any a crash left behind. Each is marked done with an audit row, so a loss
is escalated once however often the sweep runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, sessionmaker

from orderline.clock import Clock
from orderline.escalations import EscalationService, OpenEscalation
from orderline.models import AuditLog, Customer, Order, OrderStatus as S, Shipment, ShipmentEvent
from orderline.orders import in_transaction

LOSS_STATUSES = (S.LOST.value, S.DAMAGED.value)
ESCALATED = "loss_escalated"  # the audit action that marks a loss as escalated
URGENT = 1  # the escalation queue's most urgent priority
ACTOR = "system:courier"


@dataclass(frozen=True)
class Loss:
    """A lost or damaged parcel no person has been told about yet."""

    order_id: str
    phone: str
    status: str
    at: datetime  # when the courier reported it
    words: str  # the courier's own words for it


def unescalated(session: Session, limit: int = 100) -> list[Loss]:
    """Orders lost or damaged with no escalation since they became so, oldest first."""
    done = exists().where(and_(AuditLog.entity == "order", AuditLog.entity_id == Order.order_id,
                               AuditLog.action == ESCALATED, AuditLog.at >= Shipment.status_at))
    rows = session.execute(
        select(Order.order_id, Customer.phone, Order.status, Shipment.id, Shipment.status_at)
        .join(Customer, Customer.id == Order.customer_id).join(Shipment, Shipment.order_pk == Order.id)
        .where(Order.status.in_(LOSS_STATUSES), Shipment.status_at.is_not(None), ~done)
        .order_by(Shipment.status_at).limit(limit)).all()
    return [Loss(r.order_id, r.phone, r.status, r.status_at, _words(session, r.id, r.status)) for r in rows]


def _words(session: Session, shipment_id: int, status: str) -> str:
    """What the courier said: its label, its scan's activity and place, of the latest such event."""
    event: Optional[ShipmentEvent] = session.scalars(
        select(ShipmentEvent).where(ShipmentEvent.shipment_id == shipment_id, ShipmentEvent.order_status == status)
        .order_by(ShipmentEvent.at.desc(), ShipmentEvent.id.desc()).limit(1)).first()
    if event is None:
        return status
    said = ": ".join(part for part in (event.status, event.note) if part)
    return said + (f" ({event.location})" if event.location else "")


def escalate_losses(factory: sessionmaker[Session], escalations: EscalationService, clock: Clock) -> list[int]:
    """Open an urgent escalation for each loss not yet escalated; returns the escalations' ids."""
    with factory() as session:
        losses = unescalated(session)
    opened = []
    for loss in losses:
        when = loss.at.astimezone(clock.tz).strftime("%d %b %H:%M")
        esc, _ = escalations.open(OpenEscalation(
            loss.phone, reason="delivery", intent=f"parcel_{loss.status}", priority=URGENT, order_id=loss.order_id,
            note=f"Courier reports the parcel {loss.status} ({when}): {loss.words}"))
        _mark(factory, loss, esc.id, clock)
        opened.append(esc.id)
    return opened


def _mark(factory: sessionmaker[Session], loss: Loss, escalation_id: int, clock: Clock) -> None:
    def work(session: Session) -> None:
        # Never earlier than the loss itself, whatever the clocks say: that is what `unescalated` compares.
        session.add(AuditLog(actor=ACTOR, entity="order", entity_id=loss.order_id, action=ESCALATED,
                             at=max(clock.now(), loss.at),
                             changes={"status": loss.status, "escalation_id": escalation_id}))

    in_transaction(factory, work)
