"""What a customer's reply to a proactive message means: COD confirmation, CSAT, NDR choices.

The channel asks `handle()` first; anything it does not settle goes to the assistant with
the order as context, so the customer never retypes an order id.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from orderline.escalations import OpenEscalation
from orderline.clock import Clock
from orderline.errors import CancelNotAllowed
from orderline.models import Customer, Notification, Order, OrderFeedback
from orderline.notifications import REPLY_CONTEXT_HOURS
from orderline.orders import OrderService, in_transaction
from orderline.phones import normalise_phone

YES = {"yes", "y", "haan", "ha", "han", "haa", "confirm", "confirmed", "ok", "okay", "ji", "ji haan", "हाँ", "हां"}
NO = {"no", "n", "nahi", "nahin", "na", "cancel", "cancel it", "नहीं"}
NDR_CHOICES = {"1": "reschedule_delivery", "2": "change_address", "3": "human_handoff"}
CSAT_RE = re.compile(r"^\s*([1-5])(?:\s*(?:/\s*5)?\b|$)(.*)$", re.S)


@dataclass(frozen=True)
class ReplyContext:
    order_id: str
    event: str
    notification_id: int
    shown: str = ""  # the number the customer knows: the store's ("#2041") for a store's order

    @property
    def ref(self) -> str:
        return self.shown or self.order_id


@dataclass
class ReplyOutcome:
    """`answer` settles the reply here; otherwise forward `message` (text or payload) to the assistant."""

    answer: Optional[str] = None
    message: Optional[str] = None
    metadata: dict[str, Any] = field(default_factory=dict)
    escalation: Optional[OpenEscalation] = None


class NotificationReplies:
    def __init__(self, factory: sessionmaker[Session], orders: OrderService, clock: Clock) -> None:
        self.factory = factory
        self.orders = orders
        self.clock = clock

    def context(self, phone: str) -> Optional[ReplyContext]:
        """The most recent proactive message this customer could be answering."""
        since = self.clock.now() - timedelta(hours=REPLY_CONTEXT_HOURS)
        with self.factory() as session:
            row = session.execute(
                select(Notification.id, Notification.event, Order.order_id, Order.store_ref).join(Order).join(Customer)
                .where(Customer.phone == normalise_phone(phone), Notification.status == "sent",
                       Notification.sent_at >= since)
                .order_by(Notification.sent_at.desc(), Notification.id.desc()).limit(1)).first()
        return ReplyContext(row.order_id, row.event, row.id, row.store_ref or "") if row else None

    def handle(self, phone: str, text: str, message_sid: Optional[str] = None) -> ReplyOutcome:
        ctx = self.context(phone)
        if ctx is None:
            return ReplyOutcome(message=text)
        words = " ".join(re.sub(r"[^\w\s\u0900-\u097F]", " ", text.lower()).split())
        meta = {"order_id": ctx.order_id, "in_reply_to": ctx.event}
        if message_sid:
            meta["message_sid"] = message_sid
        if ctx.event == "confirmed" and (words in YES or words in NO) and self._cod_pending(ctx):
            return self._cod_answer(ctx, words in YES, text, message_sid)
        if ctx.event == "delivered" and CSAT_RE.match(text) and not self._has_feedback(ctx, "csat"):
            return self._csat(ctx, phone, text, message_sid)
        if ctx.event == "delivery_failed" and words in NDR_CHOICES:
            intent = NDR_CHOICES[words]
            return ReplyOutcome(message="/" + intent + json.dumps({"order_id": ctx.order_id}), metadata=meta)
        return ReplyOutcome(message=text, metadata=meta)

    # -- COD confirmation ----------------------------------------------------------
    def _cod_pending(self, ctx: ReplyContext) -> bool:
        order = self.orders.get(ctx.order_id)
        return order.payment is not None and order.payment.method == "cod" and not self._has_feedback(ctx, "cod_confirmation")

    def _cod_answer(self, ctx: ReplyContext, yes: bool, text: str, sid: Optional[str]) -> ReplyOutcome:
        self._record(ctx, "cod_confirmation", "yes" if yes else "no", text, sid)
        if yes:
            return ReplyOutcome(answer=f"Thank you! Your Cash on Delivery order {ctx.ref} is confirmed.")
        try:
            self.orders.cancel(ctx.order_id, "customer replied NO to COD confirmation", actor="customer:whatsapp")
        except CancelNotAllowed as exc:
            return ReplyOutcome(answer=f"We couldn't cancel order {ctx.ref}: {exc.reason}.")
        return ReplyOutcome(answer=f"Okay, order {ctx.ref} is cancelled. Nothing to pay.")

    # -- CSAT ----------------------------------------------------------------------
    def _csat(self, ctx: ReplyContext, phone: str, text: str, sid: Optional[str]) -> ReplyOutcome:
        match = CSAT_RE.match(text)
        assert match is not None
        score, comment = int(match.group(1)), match.group(2).strip(" -:,.")
        self._record(ctx, "csat", str(score), comment, sid)
        if score <= 2:
            return ReplyOutcome(
                answer="We're sorry it wasn't good. A person from our team will look at this and get back to you.",
                escalation=OpenEscalation(phone, reason="complaint", intent="csat_low", order_id=ctx.order_id,
                                          priority=1, note=f"CSAT {score}/5" + (f": {comment}" if comment else "")))
        return ReplyOutcome(answer="Thank you for the rating!" + (" Glad you liked it." if score >= 4 else ""))

    # -- storage -------------------------------------------------------------------
    def _has_feedback(self, ctx: ReplyContext, kind: str) -> bool:
        with self.factory() as session:
            return bool(session.scalar(select(OrderFeedback.id).join(Order, Order.id == OrderFeedback.order_pk)
                                       .where(Order.order_id == ctx.order_id, OrderFeedback.kind == kind)))

    def _record(self, ctx: ReplyContext, kind: str, value: str, comment: str, sid: Optional[str]) -> None:
        def work(session: Session) -> None:
            order_pk = session.scalar(select(Order.id).where(Order.order_id == ctx.order_id))
            session.add(OrderFeedback(order_pk=order_pk, kind=kind, value=value, comment=comment[:1000],
                                      message_sid=sid, created_at=self.clock.now()))

        in_transaction(self.factory, work)
