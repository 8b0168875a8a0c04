"""Send proactive notifications from the outbox, exactly once, in the right hours.

`process_many(ids)` is the RQ job body (`process(id)` for one). A row is claimed (`pending` → `sending`) before anything
else; a claim older than LEASE is considered abandoned by a dead worker and may be taken
again. The message row is linked before the Twilio call, so a retry after a crash resumes
that same message (and `WhatsAppSender.recover` asks Twilio whether it already went out)
instead of creating a second one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional, Sequence

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from messaging.sender import Outgoing, Template, WhatsAppSender
from orderline import notifications as rules
from orderline.clock import Clock
from orderline.models import AuditLog, Message, Notification, Order
from orderline.orders import in_transaction
from orderline.uow import NotificationQueued, events

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
RATE_LIMIT_RETRY = timedelta(minutes=15)
NOTES = Notification.__table__


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: Optional[int] = None  # seconds, when the job should run again


class Notifier:
    def __init__(self, factory: sessionmaker[Session], sender: WhatsAppSender, clock: Clock,
                 templates: dict[str, str], lease: timedelta = LEASE) -> None:
        self.lease = lease
        self.factory = factory
        self.sender = sender
        self.clock = clock
        self.templates = templates

    def due(self, limit: int = 200) -> list[int]:
        now = self.clock.now()
        with self.factory() as session:
            return list(session.scalars(select(Notification.id).where(or_(
                (Notification.status == "pending") & or_(Notification.not_before.is_(None), Notification.not_before <= now),
                (Notification.status == "sending") & (Notification.claimed_at < now - self.lease),
            )).order_by(Notification.id).limit(limit)))

    def claim(self, notification_id: int) -> bool:
        return bool(self.claim_many([notification_id]))

    def claim_many(self, ids: Sequence[int], session: Optional[Session] = None) -> list[int]:
        """Claim the rows that are due (or abandoned by a dead worker); returns the ids claimed."""
        if session is None:
            with self.factory() as own:
                claimed = self.claim_many(ids, own)
                own.commit()
            return claimed
        now = self.clock.now()
        return list(session.execute(update(NOTES).where(
            NOTES.c.id.in_(ids),
            or_((NOTES.c.status == "pending") & or_(NOTES.c.not_before.is_(None), NOTES.c.not_before <= now),
                (NOTES.c.status == "sending") & (NOTES.c.claimed_at < now - self.lease)),
        ).values(status="sending", claimed_at=now, attempts=NOTES.c.attempts + 1).returning(NOTES.c.id)).scalars())

    def process(self, notification_id: int) -> Outcome:
        return self.process_many([notification_id])[notification_id]

    def process_many(self, ids: Sequence[int]) -> dict[int, Outcome]:
        """Check and send a batch of notifications. Each row gets the same checks, in the same
        order, as alone; the batch costs four transactions and overlapping calls to Twilio."""
        outcomes = {i: Outcome("not_claimed") for i in ids}
        now = self.clock.now()
        with self.factory() as session:  # 1: claim, and read what the checks need
            claimed = self.claim_many(ids, session)
            notes = session.scalars(select(Notification).where(Notification.id.in_(claimed)).options(
                joinedload(Notification.order).joinedload(Order.customer), joinedload(Notification.order).joinedload(Order.shipment),
                joinedload(Notification.order).joinedload(Order.payment), joinedload(Notification.message))
                .order_by(Notification.id)).unique().all() if claimed else []
            recent = rules.sent_last_hour_by_customer(session, {n.order.customer_id for n in notes}, now)
            session.commit()
        settle: list[dict] = []
        to_send: list[Notification] = []
        for note in notes:
            customer = note.order.customer_id
            if note.message is not None:
                outcomes[note.id] = self._resume(note.id, note.message.id, note.message.status)
            elif not rules.is_current(note.event, note.order.status):
                outcomes[note.id] = self._settled(settle, note.id, "skipped", f"stale: the order is now {note.order.status}")
            elif rules.in_quiet_hours(now) and note.event not in rules.QUIET_EXEMPT:
                outcomes[note.id] = self._held(settle, note.id, rules.quiet_hours_end(now), "quiet hours")
            elif recent.get(customer, 0) >= rules.RATE_LIMIT_PER_HOUR:
                outcomes[note.id] = self._held(settle, note.id, now + RATE_LIMIT_RETRY, "rate limit")
            else:
                recent[customer] = recent.get(customer, 0) + 1
                to_send.append(note)

        def link(session: Session, written: list) -> None:  # type: ignore[type-arg]
            # 2: in the transaction that writes the messages, before any call to Twilio, so a
            # retry after a crash resumes these very messages.
            rows = [{"b_id": note.id, "message_id": result.message_id} for note, result in zip(to_send, written)]
            session.execute(update(NOTES).where(NOTES.c.id == bindparam("b_id")), rows)

        results = self.sender.send_many([self._outgoing(note) for note in to_send], link=link)  # 3: the answers
        for note, result in zip(to_send, results):
            if result.status in ("sent", "outbox"):
                outcomes[note.id] = self._settled(settle, note.id, "sent", None, sent_at=self.clock.now())
            elif result.status == "refused":
                outcomes[note.id] = self._settled(settle, note.id, "refused", result.reason)
            else:
                outcomes[note.id] = self._after_send(note.id, result)
        self._update_many(settle)  # 4
        return outcomes

    def _outgoing(self, note: Notification) -> Outgoing:
        return self._message(note.event, note.order, f"notifier:{note.event}")

    def _message(self, event: str, order: Order, author: str) -> Outgoing:
        """`event`'s text about `order`, with its approved template for outside the 24-hour window."""
        rendered = rules.render(event, order, self.clock)
        content_sid = self.templates.get(event)
        template = Template(content_sid, rendered.variables) if content_sid else None
        return Outgoing(order.customer.phone, rendered.text, author=author, template=template)

    def tracking_message(self, order_id: str) -> Optional[Outgoing]:
        """The shipped message (courier, AWB, link) for `order_id`, with its template, for an agent to
        send again now; None when the order has no AWB yet. The caller sends it (and owns its retries)."""
        with self.factory() as session:
            order = session.scalars(select(Order).where(Order.order_id == order_id).options(
                joinedload(Order.customer), joinedload(Order.shipment), joinedload(Order.payment))).unique().one_or_none()
            if order is None or order.shipment is None or not order.shipment.awb:
                return None
            return self._message("shipped", order, "notifier:shipped")

    def _settled(self, settle: list[dict], notification_id: int, status: str, reason: Optional[str],
                 **values) -> Outcome:  # type: ignore[no-untyped-def]
        settle.append({"b_id": notification_id, "status": status, "reason": reason, **values})
        return Outcome(status)

    def _held(self, settle: list[dict], notification_id: int, until, reason: str) -> Outcome:  # type: ignore[no-untyped-def]
        self._settled(settle, notification_id, "pending", reason, not_before=until)
        return Outcome("held", retry_in=max(1, int((until - self.clock.now()).total_seconds())))

    def _update_many(self, rows: list[dict]) -> None:
        """Apply row changes in one transaction: one executemany per set of columns changed."""
        if not rows:
            return
        shapes: dict[tuple, list[dict]] = {}
        for row in rows:
            shapes.setdefault(tuple(sorted(row)), []).append(row)

        def work(session: Session) -> None:
            for group in shapes.values():
                session.execute(update(NOTES).where(NOTES.c.id == bindparam("b_id")), group)

        in_transaction(self.factory, work)

    def _resume(self, notification_id: int, message_id: int, message_status: str) -> Outcome:
        """A previous attempt already wrote the message: settle it, never create another."""
        if message_status in ("sent", "delivered", "read", "outbox"):
            return self._finish(notification_id, "sent")
        if message_status == "sending":
            result = self.sender.recover(message_id, stuck_after=self.lease)
            if result.status == "sending":  # not yet stale, or Twilio unreachable: look again later
                return self._hold(notification_id, self.clock.now() + self.lease, "send in progress")
        else:
            result = self.sender.deliver(message_id)
        return self._after_send(notification_id, result)

    def _after_send(self, notification_id: int, result) -> Outcome:  # type: ignore[no-untyped-def]
        if result.status in ("sent", "outbox"):
            return self._finish(notification_id, "sent")
        if result.status == "retrying":
            with self.factory() as session:
                msg = session.get(Message, result.message_id)
                when = msg.next_attempt_at if msg and msg.next_attempt_at else self.clock.now() + timedelta(seconds=30)
            return self._hold(notification_id, when, result.reason or "retrying")
        return self._finish(notification_id, "failed", result.reason)

    def _hold(self, notification_id: int, until, reason: str) -> Outcome:  # type: ignore[no-untyped-def]
        self._update(notification_id, status="pending", not_before=until, reason=reason)
        return Outcome("held", retry_in=max(1, int((until - self.clock.now()).total_seconds())))

    def _finish(self, notification_id: int, status: str, reason: Optional[str] = None, **values) -> Outcome:  # type: ignore[no-untyped-def]
        if status == "sent":
            values["sent_at"] = self.clock.now()
        self._update(notification_id, status=status, reason=reason, **values)
        return Outcome(status)

    def _update(self, notification_id: int, **values) -> None:  # type: ignore[no-untyped-def]
        def work(session: Session) -> None:
            session.execute(update(Notification).where(Notification.id == notification_id).values(**values))

        in_transaction(self.factory, work)

    def for_order(self, order_id: str) -> list[dict]:
        """The order's notifications with their delivery status, for the console."""
        with self.factory() as session:
            rows = session.scalars(select(Notification).join(Order).where(Order.order_id == order_id)
                                   .options(joinedload(Notification.message)).order_by(Notification.id)).all()
            return [{"id": n.id, "event": n.event, "status": n.status, "reason": n.reason, "attempts": n.attempts,
                     "message_status": n.message.status if n.message else None,
                     "created_at": n.created_at.astimezone(self.clock.tz).isoformat(),
                     "sent_at": n.sent_at.astimezone(self.clock.tz).isoformat() if n.sent_at else None} for n in rows]

    def resend(self, notification_id: int, actor: str) -> Outcome:
        """An agent's explicit resend: a new message for the same notification, sent now."""
        def work(session: Session) -> bool:
            note = session.get(Notification, notification_id)
            if note is None or note.status in ("pending", "sending"):
                return False
            note.status, note.message_id, note.not_before, note.reason = "pending", None, None, None
            session.add(AuditLog(actor=actor, entity="notification", entity_id=str(note.id), action="resend",
                                 changes={"event": note.event}))
            return True

        if not in_transaction(self.factory, work):
            return Outcome("not_resendable")
        return self.process(notification_id)

    def scan_delays(self) -> list[int]:
        """Queue 'delayed' notices for shipments late against the promise or silent for 48 h."""
        now = self.clock.now()

        def work(session: Session) -> list[int]:
            for order in rules.delayed_candidates(session, now):
                rules.queue_notification(session, order, "delayed", now)
            return [e.notification_id for e in events(session, NotificationQueued)]

        return in_transaction(self.factory, work)
