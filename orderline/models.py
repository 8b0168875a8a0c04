"""Typed SQLAlchemy 2.0 models for orders and everything hanging off them."""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class OrderStatus(str, enum.Enum):
    """Lifecycle of an order, as customers and couriers see it."""

    PLACED = "placed"
    CONFIRMED = "confirmed"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    RTO_INITIATED = "rto_initiated"
    RTO_DELIVERED = "rto_delivered"
    CANCELLED = "cancelled"
    # The courier reports the parcel lost, or damaged (or destroyed) on the way: it will not
    # arrive as sent. Not terminal: a parcel found again may still be delivered or returned.
    LOST = "lost"
    DAMAGED = "damaged"


PAYMENT_METHODS = ("prepaid", "cod")
PAYMENT_STATUSES = ("pending", "paid", "failed", "refunded", "partially_refunded")
LANGUAGES = ("en", "hi")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # E.164; None for a store order's buyer who gave no number we can message (the order is flagged).
    phone: Mapped[Optional[str]] = mapped_column(String(20), unique=True)
    email: Mapped[Optional[str]] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    orders: Mapped[list["Order"]] = relationship(back_populates="customer")


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), unique=True)
    # Digits of order_id: customers and keypads give "100234" for "OL-100234".
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    placed_at: Mapped[datetime]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PLACED.value)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # A store's order (Shopify, WooCommerce): its own number as the customer knows it ("#2041"),
    # and the store's time of the last update applied, so an older replay changes nothing.
    store_ref: Mapped[Optional[str]] = mapped_column(String(40))
    store_updated_at: Mapped[Optional[datetime]]
    # Why a person must look at this order ("no usable phone"); None when nothing is wrong.
    needs_agent: Mapped[Optional[str]] = mapped_column(String(100))

    customer: Mapped[Customer] = relationship(back_populates="orders")
    payment: Mapped[Optional["Payment"]] = relationship(
        back_populates="order", uselist=False, cascade="all, delete-orphan"
    )
    address: Mapped[Optional["Address"]] = relationship(
        back_populates="order", uselist=False, cascade="all, delete-orphan"
    )
    shipment: Mapped[Optional["Shipment"]] = relationship(
        back_populates="order", uselist=False, cascade="all, delete-orphan"
    )
    return_requests: Mapped[list["ReturnRequest"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="ReturnRequest.id"
    )
    ndr_actions: Mapped[list["NdrAction"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="NdrAction.id"
    )

    # Optimistic locking: a concurrent writer that read an older row fails instead of
    # silently overwriting (no lost update), on SQLite and PostgreSQL alike.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_orders_customer_placed", "customer_id", "placed_at"),)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    method: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    reference: Mapped[Optional[str]] = mapped_column(String(100))
    refund_amount: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 2))
    refund_status: Mapped[Optional[str]] = mapped_column(String(30))
    refund_reference: Mapped[Optional[str]] = mapped_column(String(100))
    refund_expected_by: Mapped[Optional[date]] = mapped_column(Date)

    order: Mapped[Order] = relationship(back_populates="payment")


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200), default="")
    landmark: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(100), default="")
    pincode: Mapped[str] = mapped_column(String(6))

    order: Mapped[Order] = relationship(back_populates="address")


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    courier: Mapped[Optional[str]] = mapped_column(String(100))
    awb: Mapped[Optional[str]] = mapped_column(String(50), unique=True)
    tracking_url: Mapped[Optional[str]] = mapped_column(String(500))
    promised_date: Mapped[Optional[date]] = mapped_column(Date)
    expected_date: Mapped[Optional[date]] = mapped_column(Date)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ndr_reason: Mapped[Optional[str]] = mapped_column(String(300))
    delivered_at: Mapped[Optional[datetime]]
    rescheduled_for: Mapped[Optional[date]] = mapped_column(Date)
    rescheduled_slot: Mapped[Optional[str]] = mapped_column(String(10))
    # Time of the event that set the order's current status; older events never win.
    status_at: Mapped[Optional[datetime]]
    last_scan_at: Mapped[Optional[datetime]]

    order: Mapped[Order] = relationship(back_populates="shipment")
    events: Mapped[list["ShipmentEvent"]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="ShipmentEvent.at"
    )


class ShipmentEvent(Base):
    __tablename__ = "shipment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(40))  # the courier's (or importer's) words, as given
    # What the event means for the order (an OrderStatus value), as the courier adapter or the
    # importer read `status`; None when it means none in particular (a weighing scan, say).
    order_status: Mapped[Optional[str]] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(20), default="import")

    shipment: Mapped[Shipment] = relationship(back_populates="events")
    __table_args__ = (UniqueConstraint("shipment_id", "at", "status", "note", name="uq_shipment_event"),)


class ReturnRequest(Base):
    __tablename__ = "return_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="requested")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="return_requests")


class NdrAction(Base):
    """A customer's answer to a failed delivery, recorded for the courier with proof."""

    __tablename__ = "ndr_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    requested_date: Mapped[Optional[date]] = mapped_column(Date)
    details: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(20), default="api")
    message_sid: Mapped[Optional[str]] = mapped_column(String(64))
    customer_words: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="ndr_actions")


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60), index=True)
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ConversationState(str, enum.Enum):
    """Who owns a customer conversation; only `BOT` lets Rasa hear the customer."""

    BOT = "bot"
    WAITING_FOR_AGENT = "waiting_for_agent"
    AGENT = "agent"


class Conversation(Base):
    """One conversation per customer phone, shared by WhatsApp and voice."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=ConversationState.BOT.value)
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    profile_name: Mapped[Optional[str]] = mapped_column(String(200))
    wa_id: Mapped[Optional[str]] = mapped_column(String(32))
    language: Mapped[Optional[str]] = mapped_column(String(5))
    # WhatsApp consent: STOP sets opted_out; START clears it.
    opted_out: Mapped[bool] = mapped_column(default=False)
    consent_changed_at: Mapped[Optional[datetime]]
    last_inbound_at: Mapped[Optional[datetime]]
    waiting_notice_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    messages: Mapped[list["Message"]] = relationship(back_populates="conversation", order_by="Message.id")
    __mapper_args__ = {"version_id_col": version}


class Message(Base):
    """Every inbound and outbound message, voice prompt and agent note, already redacted."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in, out, note
    channel: Mapped[str] = mapped_column(String(12))  # whatsapp, voice, console
    author: Mapped[str] = mapped_column(String(100))  # customer, bot, system, agent:<name>
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    twilio_sid: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="received")
    # What the assistant understood in an inbound message (Rasa's parse, or the IVR keypad
    # choice with confidence 1.0); None when nothing parsed it. Read by orderline.insights.
    intent: Mapped[Optional[str]] = mapped_column(String(40))
    confidence: Mapped[Optional[float]]
    error_code: Mapped[Optional[str]] = mapped_column(String(20))
    error_message: Mapped[Optional[str]] = mapped_column(String(500))
    template_sid: Mapped[Optional[str]] = mapped_column(String(64))
    template_variables: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by signing in to the console (for a shift), cleared by signing out: new escalations
    # are assigned only to agents on shift (orderline.assignment).
    on_shift_until: Mapped[Optional[datetime]]


class Escalation(Base):
    """A request for a person, queued for agents by priority and waiting time."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))  # delivery, payments, complaint, general
    intent: Mapped[Optional[str]] = mapped_column(String(40))
    confidence: Mapped[Optional[float]]
    channel: Mapped[str] = mapped_column(String(12))
    order_id: Mapped[Optional[str]] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer, default=2)  # 1 most urgent
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # open, claimed, resolved
    note: Mapped[str] = mapped_column(Text, default="")
    call_sid: Mapped[Optional[str]] = mapped_column(String(64))
    callback_requested: Mapped[bool] = mapped_column(default=False)
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    # Whose queue it is in until someone claims it: auto-assigned on opening, or reassigned.
    assignee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[Optional[datetime]]
    first_reply_at: Mapped[Optional[datetime]]
    resolved_at: Mapped[Optional[datetime]]
    resolution: Mapped[Optional[str]] = mapped_column(String(20))  # resolved, handed_back
    no_agent_notice_at: Mapped[Optional[datetime]]

    conversation: Mapped[Conversation] = relationship()
    agent: Mapped[Optional[Agent]] = relationship(foreign_keys=[agent_id])
    assignee: Mapped[Optional[Agent]] = relationship(foreign_keys=[assignee_id])


class Notification(Base):
    """A proactive WhatsApp message about an order: written with the change that caused it.

    At most one per (order, event type, key): the key names the news itself (a courier's scan,
    a new expected date, one silence), so each failed attempt is told once and a repeated scan
    never twice. The worker claims, checks and sends it.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    event: Mapped[str] = mapped_column(String(30))
    # What this news is about, so a repeat of it is recognised: "scan:<awb>:<label>:<UTC time>",
    # "eta:<date>", "silent:<last scan>"; "" where one per event type is meant (a store's import).
    key: Mapped[str] = mapped_column(String(120), default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    # pending, sending, sent, delivered, read, failed, refused, skipped
    not_before: Mapped[Optional[datetime]]
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id: Mapped[Optional[int]] = mapped_column(ForeignKey("messages.id"))
    reason: Mapped[Optional[str]] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]]

    order: Mapped[Order] = relationship()
    message: Mapped[Optional[Message]] = relationship()
    __table_args__ = (UniqueConstraint("order_pk", "event", "key", name="uq_notification_order_event_key"),)


class OrderFeedback(Base):
    """Customer answers to proactive messages: COD confirmation and delivery CSAT."""

    __tablename__ = "order_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # cod_confirmation, csat
    value: Mapped[str] = mapped_column(String(20))  # yes/no, 1..5
    comment: Mapped[str] = mapped_column(Text, default="")
    message_sid: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxEvent(Base):
    """A courier or store event exactly as received, kept until the worker has applied it (a durable inbox).

    The webhook only appends here; `orderline.inbox` applies rows in batches and records the
    outcome in the same transaction as the order change, so each row takes effect once.
    """

    __tablename__ = "tracking_inbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())  # the database's clock
    processed_at: Mapped[Optional[datetime]]
    # applied, recorded, duplicate, unknown_shipment, failed; a store's: created, updated, cancelled, conflict
    outcome: Mapped[Optional[str]] = mapped_column(String(20))
    order_id: Mapped[Optional[str]] = mapped_column(String(40))
    error: Mapped[Optional[str]] = mapped_column(String(300))

    # The worker only ever looks for unprocessed rows; keep that index tiny.
    __table_args__ = (Index("ix_tracking_inbox_pending", "id", postgresql_where=text("processed_at IS NULL"),
                            sqlite_where=text("processed_at IS NULL")),)


class CourierRequest(Base):
    """A change the courier must hear about (a reattempt, a cancel...), written with the order change.

    A durable outbox: the worker claims a row (`requested` → `sending`) and sends it; a claim
    older than the lease was abandoned by a dead worker. States: requested, sending, accepted,
    refused, failed, not_sent (no courier account configured). `payload` is what the courier
    needs (the date, the address, the customer's words); `reason` the courier's answer.
    """

    __tablename__ = "courier_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # reattempt, return, cancel, address
    status: Mapped[str] = mapped_column(String(20), default="requested", index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    courier: Mapped[Optional[str]] = mapped_column(String(100))  # the carrier's name, as the customer knows it
    awb: Mapped[Optional[str]] = mapped_column(String(50))
    # The courier platform's own id for the order, once looked up (Shiprocket's order id).
    external_order_id: Mapped[Optional[str]] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100), default="api")
    reason: Mapped[Optional[str]] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set when an attempt may have reached the courier without an answer (a timeout, a worker
    # that died mid-call): a non-repeatable request is then confirmed, never blindly resent.
    uncertain: Mapped[bool] = mapped_column(default=False)
    next_attempt_at: Mapped[Optional[datetime]]
    claimed_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[Optional[datetime]]
    followed_up_at: Mapped[Optional[datetime]]

    order: Mapped[Order] = relationship()
