"""Send proactive notifications from the outbox, exactly once, in the right hours.

`process(id)` is the RQ job body. A row is claimed (`pending` → `sending`) before anything
else; a claim older than LEASE is considered abandoned by a dead worker and may be taken
again. The message row is linked before the Twilio call, so a retry after a crash resumes
that same message (and `WhatsAppSender.recover` asks Twilio whether it already went out)
instead of creating a second one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from messaging.sender import Template, WhatsAppSender
from orderline import notifications as rules
from orderline.clock import Clock
from orderline.models import AuditLog, Message, Notification, Order
from orderline.orders import in_transaction

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
RATE_LIMIT_RETRY = timedelta(minutes=15)


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
        now = self.clock.now()
        with self.factory() as session:
            claimed = session.execute(update(Notification).where(
                Notification.id == notification_id,
                or_((Notification.status == "pending") & or_(Notification.not_before.is_(None), Notification.not_before <= now),
                    (Notification.status == "sending") & (Notification.claimed_at < now - self.lease)),
            ).values(status="sending", claimed_at=now, attempts=Notification.attempts + 1)).rowcount
            session.commit()
        return bool(claimed)

    def process(self, notification_id: int) -> Outcome:
        if not self.claim(notification_id):
            return Outcome("not_claimed")
        with self.factory() as session:
            note = session.scalars(select(Notification).where(Notification.id == notification_id).options(
                joinedload(Notification.order).joinedload(Order.customer), joinedload(Notification.order).joinedload(Order.shipment),
                joinedload(Notification.order).joinedload(Order.payment), joinedload(Notification.message))).one()
            order, event, message = note.order, note.event, note.message
            if message is not None:
                message_status = message.status
        if message is not None:
            return self._resume(notification_id, message.id, message_status)
        if not rules.is_current(event, order.status):
            return self._finish(notification_id, "skipped", f"stale: the order is now {order.status}")
        local = self.clock.now()
        if rules.in_quiet_hours(local) and event not in rules.QUIET_EXEMPT:
            return self._hold(notification_id, rules.quiet_hours_end(local), "quiet hours")
        with self.factory() as session:
            recent = rules.sent_last_hour(session, order.customer_id, self.clock.now())
        if recent >= rules.RATE_LIMIT_PER_HOUR:
            return self._hold(notification_id, self.clock.now() + RATE_LIMIT_RETRY, "rate limit")
        rendered = rules.render(event, order, self.clock)
        content_sid = self.templates.get(event)
        template = Template(content_sid, rendered.variables) if content_sid else None
        prepared = self.sender.prepare(order.customer.phone, rendered.text, author=f"notifier:{event}", template=template)
        if prepared.status == "refused":
            return self._finish(notification_id, "refused", prepared.reason, message_id=prepared.message_id)
        self._update(notification_id, message_id=prepared.message_id)
        return self._after_send(notification_id, self.sender.deliver(prepared.message_id))  # type: ignore[arg-type]

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
            session.flush()
            return [n.id for n in session.info.get("new_notifications", [])]

        return in_transaction(self.factory, work)
