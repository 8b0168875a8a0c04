"""Escalations: the queue of customers waiting for a person, and the hand-back to the bot."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from orderline.assignment import least_loaded
from orderline.clock import Clock
from orderline.conversations import ConversationStore
from orderline.errors import ClaimConflict, EscalationNotFound, InvalidInput, RuleViolation
from orderline.models import Agent, AuditLog, Conversation, ConversationState, Escalation
from orderline.orders import in_transaction
from orderline.phones import InvalidPhone, normalise_phone

REASONS = ("delivery", "payments", "complaint", "general")
CHANNELS = ("whatsapp", "voice")
# 1 is urgent, 3 routine: agents see the queue in this order.
PRIORITY = {"complaint": 1, "payments": 1, "delivery": 2, "general": 3}
# Which queue a request goes to, by what the customer asked for (the assistant's intent names,
# which the IVR's keypad choices also map to); anything else is "general".
REASON_BY_INTENT = {
    "complaint": "complaint",
    "payment_query": "payments",
    "refund_status": "payments",
    "change_address": "delivery",
    "reschedule_delivery": "delivery",
    "order_status": "delivery",
    "cancel_order": "delivery",
    "return_request": "delivery",
}
ACTIVE = ("open", "claimed")


def reason_for(intent: Optional[str]) -> str:
    """The queue for a customer who asked for `intent` (an intent name, or None)."""
    return REASON_BY_INTENT.get(intent or "", "general")


def priority_for(reason: str) -> int:
    """How urgent an escalation for `reason` is: 1 urgent .. 3 routine."""
    return PRIORITY.get(reason, 3)


class EscalationService:
    def __init__(self, factory: sessionmaker[Session], store: ConversationStore, clock: Clock) -> None:
        self.factory = factory
        self.store = store
        self.clock = clock

    def open(self, command: OpenEscalation) -> tuple[EscalationRecord, bool]:
        """Open an escalation (or return the active one) and hand the conversation to agents.

        Returns the escalation and whether it was newly created. Raises InvalidInput.
        """
        cmd = command.checked()

        def work(session: Session) -> tuple[Escalation, bool]:
            conv = self.store.get_or_create(session, cmd.phone)
            active = session.scalars(select(Escalation).where(
                Escalation.conversation_id == conv.id, Escalation.status.in_(ACTIVE))).first()
            if active is not None:
                if cmd.note:
                    active.note = (active.note + "\n" + cmd.note).strip()[:4000]
                active.priority = min(active.priority, cmd.priority)
                active.callback_requested = active.callback_requested or cmd.callback_requested
                return active, False
            esc = Escalation(conversation=conv, reason=cmd.reason, intent=cmd.intent,
                             confidence=cmd.confidence, channel=cmd.channel, order_id=cmd.order_id,
                             priority=cmd.priority, note=cmd.note, call_sid=cmd.call_sid,
                             callback_requested=cmd.callback_requested, created_at=self.clock.now(),
                             assignee_id=least_loaded(session, self.clock.now()))
            session.add(esc)
            if conv.state == ConversationState.BOT.value:
                self.store.set_state(session, conv, ConversationState.WAITING_FOR_AGENT)
            session.flush()
            return esc, True

        esc_id, created = self._run(work)
        result = self.get(esc_id)
        if created:
            self.store.publish({"type": "escalation", "id": esc_id, "reason": result.reason,
                                "priority": result.priority, "phone": result.phone})
        return result, created

    def _run(self, work: Any) -> tuple[int, bool]:
        def wrapped(session: Session) -> tuple[int, bool]:
            esc, created = work(session)
            session.flush()
            return esc.id, created

        return in_transaction(self.factory, wrapped)

    def get(self, esc_id: int) -> EscalationRecord:
        with self.factory() as session:
            esc = session.scalars(select(Escalation).where(Escalation.id == esc_id)
                                  .options(joinedload(Escalation.conversation), joinedload(Escalation.agent),
                                           joinedload(Escalation.assignee))).one_or_none()
            if esc is None:
                raise EscalationNotFound(f"no escalation {esc_id}")
            return EscalationRecord.of(esc, self.clock)

    def list(self, status: str = "open") -> list[EscalationRecord]:
        statuses = ACTIVE if status == "active" else (status,)
        if not set(statuses) <= {"open", "claimed", "resolved"}:
            raise InvalidInput({"status": "open, claimed, active or resolved"})
        with self.factory() as session:
            rows = session.scalars(
                select(Escalation).where(Escalation.status.in_(statuses))
                .options(joinedload(Escalation.conversation), joinedload(Escalation.agent),
                         joinedload(Escalation.assignee))
                .order_by(Escalation.priority, Escalation.created_at).limit(500)).all()
            return [EscalationRecord.of(e, self.clock) for e in rows]

    def claim(self, esc_id: int, agent_id: int, takeover: bool = False) -> EscalationRecord:
        def work(session: Session) -> tuple[Escalation, bool]:
            esc = self._load(session, esc_id)
            if esc.status == "resolved":
                raise RuleViolation("this escalation is already resolved")
            if esc.status == "claimed" and esc.agent_id not in (None, agent_id):
                if not takeover:
                    holder = session.get(Agent, esc.agent_id)
                    raise ClaimConflict(f"claimed by {holder.name if holder else 'another agent'}")
                session.add(AuditLog(actor=_agent_name(session, agent_id), entity="escalation",
                                     entity_id=str(esc.id), action="takeover", changes={"from_agent_id": esc.agent_id}))
            esc.status, esc.agent_id = "claimed", agent_id
            esc.claimed_at = esc.claimed_at or self.clock.now()
            esc.conversation.agent_id = agent_id
            self.store.set_state(session, esc.conversation, ConversationState.AGENT)
            return esc, False

        esc_id, _ = self._run(work)
        self.store.publish({"type": "escalation_claimed", "id": esc_id})
        return self.get(esc_id)

    def resolve(self, esc_id: int, agent_id: Optional[int], resolution: str = "resolved") -> EscalationRecord:
        """Close the escalation and give the conversation back to the bot."""
        if resolution not in ("resolved", "handed_back"):
            raise InvalidInput({"resolution": "resolved or handed_back"})

        def work(session: Session) -> tuple[Escalation, bool]:
            esc = self._load(session, esc_id)
            if esc.status == "resolved":
                return esc, False
            if esc.status == "claimed" and agent_id is not None and esc.agent_id not in (None, agent_id):
                raise ClaimConflict("another agent holds this conversation; take it over first")
            esc.status, esc.resolution, esc.resolved_at = "resolved", resolution, self.clock.now()
            esc.agent_id = esc.agent_id or agent_id
            esc.conversation.agent_id = None
            esc.conversation.waiting_notice_at = None
            self.store.set_state(session, esc.conversation, ConversationState.BOT)
            return esc, True

        esc_id, changed = self._run(work)
        if changed:
            self.store.publish({"type": "escalation_resolved", "id": esc_id})
        return self.get(esc_id)

    def mark_first_reply(self, esc_id: int) -> bool:
        """Stamp the first human reply (for time-to-first-reply); later replies change nothing."""
        with self.factory() as session:
            stamped = session.execute(update(Escalation).where(
                Escalation.id == esc_id, Escalation.first_reply_at.is_(None)).values(first_reply_at=self.clock.now())).rowcount
            session.commit()
        return bool(stamped)

    # -- notices to the waiting customer --------------------------------------
    # Conditional UPDATEs: when two workers race (two inbound messages, two cron runs), only
    # the one whose UPDATE changed the row may tell the customer.
    def mark_waiting_notice(self, phone: str, now: Optional[datetime] = None) -> bool:
        """Stamp the "a person will reply" note as sent; True only for the first caller per escalation.

        `resolve` clears the stamp, so the next escalation gets its own note. The version bump
        keeps the ORM's optimistic locking of Conversation honest.
        """
        with self.factory() as session:
            changed = session.execute(
                update(Conversation).where(Conversation.phone == phone, Conversation.waiting_notice_at.is_(None))
                .values(waiting_notice_at=now or self.clock.now(), version=Conversation.version + 1)).rowcount
            session.commit()
        return bool(changed)

    def mark_no_agent_notice(self, esc_id: int, now: Optional[datetime] = None) -> bool:
        """Stamp the "no agent yet" note for one escalation; True only once, and only while it is open."""
        with self.factory() as session:
            changed = session.execute(
                update(Escalation).where(Escalation.id == esc_id, Escalation.status == "open",
                                         Escalation.no_agent_notice_at.is_(None))
                .values(no_agent_notice_at=now or self.clock.now())).rowcount
            session.commit()
        return bool(changed)

    def overdue(self, channel: str, wait: timedelta, now: Optional[datetime] = None) -> list[tuple[int, str]]:
        """(id, phone) of open escalations on `channel` that nobody claimed within `wait`, not yet told so.

        Oldest first, at most 500 per call.
        """
        cutoff = (now or self.clock.now()) - wait
        with self.factory() as session:
            rows = session.execute(
                select(Escalation.id, Conversation.phone).join(Conversation, Escalation.conversation_id == Conversation.id)
                .where(Escalation.status == "open", Escalation.channel == channel,
                       Escalation.no_agent_notice_at.is_(None), Escalation.created_at <= cutoff)
                .order_by(Escalation.created_at).limit(500)).all()
        return [(r[0], r[1]) for r in rows]

    def _load(self, session: Session, esc_id: int) -> Escalation:
        esc = session.get(Escalation, esc_id)
        if esc is None:
            raise EscalationNotFound(f"no escalation {esc_id}")
        return esc


@dataclass(frozen=True)
class OpenEscalation:
    """The command to hand a customer to a person. Channels build it; the API reads it from JSON (web/)."""

    phone: str
    reason: Optional[str] = None  # None: the queue follows from the intent
    channel: str = "whatsapp"
    intent: Optional[str] = None
    confidence: Optional[float] = None
    priority: Optional[int] = None  # None: the reason's priority
    order_id: Optional[str] = None
    note: str = ""
    call_sid: Optional[str] = None
    callback_requested: bool = False

    def checked(self) -> "OpenEscalation":
        """The command with its phone in E.164 and reason and priority decided; InvalidInput otherwise."""
        errors: dict[str, str] = {}
        reason = self.reason or reason_for(self.intent)
        if reason not in REASONS:
            errors["reason"] = "one of " + ", ".join(REASONS)
        if self.channel not in CHANNELS:
            errors["channel"] = "whatsapp or voice"
        try:
            phone = normalise_phone(self.phone or "")
        except InvalidPhone:
            errors["phone"] = "the customer's phone number, E.164"
            phone = ""
        if self.confidence is not None and not 0 <= self.confidence <= 1:
            errors["confidence"] = "a number from 0 to 1"
        priority = self.priority
        if priority is None:
            priority = priority_for(reason) if reason in REASONS else 3
        elif not 1 <= priority <= 3:
            errors["priority"] = "1 (urgent) to 3"
        if errors:
            raise InvalidInput(errors)
        return replace(self, phone=phone, reason=reason, priority=priority, intent=self.intent or None,
                       order_id=self.order_id or None, call_sid=self.call_sid or None, note=self.note[:2000])


@dataclass(frozen=True)
class EscalationRecord:
    """An escalation as the core answers it. Times are aware, in the seller's time zone; adapters render it."""

    id: int
    reason: str
    intent: Optional[str]
    confidence: Optional[float]
    channel: str
    phone: str
    customer_name: Optional[str]
    order_id: Optional[str]
    priority: int
    status: str
    note: str
    call_sid: Optional[str]
    callback_requested: bool
    agent: Optional[str]  # the holder's name
    assignee: Optional[str]  # who the queue gave it to (auto-assignment or an override)
    conversation_state: str
    created_at: datetime
    claimed_at: Optional[datetime]
    first_reply_at: Optional[datetime]
    resolved_at: Optional[datetime]
    resolution: Optional[str]
    waiting_seconds: Optional[int]  # while open

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @classmethod
    def of(cls, e: Escalation, clock: Clock) -> EscalationRecord:
        def local(v: Optional[datetime]) -> Optional[datetime]:
            return v.astimezone(clock.tz) if v else None

        return cls(id=e.id, reason=e.reason, intent=e.intent, confidence=e.confidence, channel=e.channel,
                   phone=e.conversation.phone, customer_name=e.conversation.profile_name, order_id=e.order_id,
                   priority=e.priority, status=e.status, note=e.note, call_sid=e.call_sid,
                   callback_requested=e.callback_requested, agent=e.agent.name if e.agent else None,
                   assignee=e.assignee.name if e.assignee else None,
                   conversation_state=e.conversation.state, created_at=e.created_at.astimezone(clock.tz),
                   claimed_at=local(e.claimed_at), first_reply_at=local(e.first_reply_at),
                   resolved_at=local(e.resolved_at), resolution=e.resolution,
                   waiting_seconds=int((clock.now() - e.created_at).total_seconds()) if e.status == "open" else None)


def _agent_name(session: Session, agent_id: int) -> str:
    agent = session.get(Agent, agent_id)
    return f"agent:{agent.name}" if agent else f"agent:{agent_id}"


