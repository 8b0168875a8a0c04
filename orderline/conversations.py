"""Conversations: who owns each one (bot, waiting, agent), and its single transcript.

The DB is the truth; Redis caches the owner so the hot path (every inbound message) is one
GET. Writers overwrite the cache after commit; readers only fill it when empty (SET NX), so
a slow reader can never put back an owner that a writer has just replaced.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import redis
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from orderline.clock import Clock
from orderline.models import Conversation, ConversationState, Customer, Message
from orderline.orders import in_transaction
from orderline.phones import normalise_phone
from orderline.redact import redact
from orderline.rules import window_open
from orderline.uow import ConversationStateChanged, record

log = logging.getLogger(__name__)
STATE_TTL = 60  # seconds; bounds staleness if a cache write ever fails


def events_channel(client: redis.Redis) -> str:
    """The pub/sub channel of live events (new messages, escalations) for this Redis database.

    Keys live in one database, but pub/sub channels are server-wide: naming the database keeps
    two deployments (or test runs) that share a Redis server out of each other's streams.
    """
    db = client.connection_pool.connection_kwargs.get("db") or 0
    return f"orderline:{db}:events"


@dataclass(frozen=True)
class Inbound:
    message_id: int
    conversation_id: int
    state: str
    duplicate: bool
    first_of_session: bool = False


class ConversationStore:
    """Transcript and ownership for customer conversations, across channels."""

    def __init__(self, factory: sessionmaker[Session], cache: Optional[redis.Redis], clock: Clock) -> None:
        self.factory = factory
        self.cache = cache
        self.clock = clock

    # -- ownership -------------------------------------------------------------
    def state(self, phone: str) -> str:
        """Who owns the conversation now. Falls back to the DB when Redis is unavailable."""
        phone = normalise_phone(phone)
        key = f"conv:state:{phone}"
        try:
            cached = self.cache.get(key) if self.cache else None
        except redis.RedisError:
            cached = None
        if cached:
            return cached.decode()
        with self.factory() as session:
            conv = session.scalars(select(Conversation).where(Conversation.phone == phone)).one_or_none()
            state = conv.state if conv else ConversationState.BOT.value
        self._cache_state(phone, state, overwrite=False)
        return state

    def _cache_state(self, phone: str, state: str, overwrite: bool = True) -> None:
        if not self.cache:
            return
        try:
            self.cache.set(f"conv:state:{phone}", state, ex=STATE_TTL, nx=not overwrite)
        except redis.RedisError:
            log.warning("could not cache conversation state for %s", phone)

    def set_state(self, session: Session, conv: Conversation, state: ConversationState) -> None:
        """Change ownership inside the caller's transaction; the wiring runs `cache_states` after commit."""
        conv.state = state.value
        record(session, ConversationStateChanged(conv.phone, state.value))

    def cache_states(self, changes: Sequence[ConversationStateChanged]) -> None:
        """The after-commit hook: overwrite the cached owner of each conversation with its latest."""
        for phone, state in {c.phone: c.state for c in changes}.items():
            self._cache_state(phone, state)

    def get_or_create(self, session: Session, phone: str) -> Conversation:
        conv = session.scalars(select(Conversation).where(Conversation.phone == phone)).one_or_none()
        if conv is None:
            customer = session.scalars(select(Customer).where(Customer.phone == phone)).one_or_none()
            conv = Conversation(phone=phone, language=customer.language if customer else None)
            try:
                with session.begin_nested():
                    session.add(conv)
            except IntegrityError:  # created concurrently by another request
                conv = session.scalars(select(Conversation).where(Conversation.phone == phone)).one()
        return conv

    # -- transcript ------------------------------------------------------------
    def record_inbound(self, phone: str, channel: str, text: str, sid: Optional[str] = None,
                       profile_name: Optional[str] = None, wa_id: Optional[str] = None,
                       media: Iterable[dict[str, Any]] = (), intent: Optional[str] = None,
                       confidence: Optional[float] = None) -> Inbound:
        """Store a customer's message once; a repeated Twilio SID is reported as a duplicate.

        `intent` and `confidence` are known up front only when a menu choice names them (IVR
        keypad); the assistant's parse arrives after the turn, through `set_intent`.
        """
        phone = normalise_phone(phone)
        now = self.clock.now()

        def work(session: Session) -> Inbound:
            conv = self.get_or_create(session, phone)
            if sid and session.scalar(select(Message.id).where(Message.twilio_sid == sid)):
                return Inbound(0, conv.id, conv.state, duplicate=True)
            first = not window_open(conv.last_inbound_at, now)
            if channel == "whatsapp":
                conv.last_inbound_at = now
                conv.profile_name = profile_name or conv.profile_name
                conv.wa_id = wa_id or conv.wa_id
            msg = Message(conversation=conv, direction="in", channel=channel, author="customer",
                          text=redact(text or "")[:4000], media=list(media), twilio_sid=sid, status="received",
                          intent=intent[:40] if intent else None, confidence=confidence, created_at=now)
            session.add(msg)
            session.flush()
            return Inbound(msg.id, conv.id, conv.state, duplicate=False, first_of_session=first)

        try:
            result = in_transaction(self.factory, work)
        except IntegrityError:
            # The same SID raced in on another worker; the unique index decided.
            with self.factory() as session:
                conv = session.scalars(select(Conversation).where(Conversation.phone == phone)).one()
                return Inbound(0, conv.id, conv.state, duplicate=True)
        if not result.duplicate:
            self.publish({"type": "message", "phone": phone, "direction": "in", "channel": channel})
        return result

    def set_intent(self, message_id: int, intent: str, confidence: Optional[float]) -> bool:
        """Store what the assistant understood in an inbound message; False if there is no such message."""
        with self.factory() as session:
            changed = session.execute(update(Message).where(Message.id == message_id, Message.direction == "in")
                                      .values(intent=intent[:40], confidence=confidence)).rowcount
            session.commit()
        return bool(changed)

    def record_outbound(self, phone: str, channel: str, author: str, text: str, status: str = "queued",
                        sid: Optional[str] = None, template_sid: Optional[str] = None,
                        direction: str = "out") -> int:
        phone = normalise_phone(phone)

        def work(session: Session) -> int:
            conv = self.get_or_create(session, phone)
            msg = Message(conversation=conv, direction=direction, channel=channel, author=author[:100],
                          text=redact(text or "")[:4000], twilio_sid=sid, status=status,
                          template_sid=template_sid, created_at=self.clock.now())
            session.add(msg)
            session.flush()
            return msg.id

        message_id = in_transaction(self.factory, work)
        self.publish({"type": "message", "phone": phone, "direction": direction, "channel": channel})
        return message_id

    def transcript(self, phone: str, limit: int = 200) -> list[dict[str, Any]]:
        phone = normalise_phone(phone)
        with self.factory() as session:
            conv = session.scalars(select(Conversation).where(Conversation.phone == phone)).one_or_none()
            if conv is None:
                return []
            rows = session.scalars(select(Message).where(Message.conversation_id == conv.id)
                                   .order_by(Message.id.desc()).limit(limit)).all()
        return [message_dict(m, self.clock) for m in reversed(rows)]

    # -- consent and the 24-hour window ---------------------------------------
    def set_opt_out(self, phone: str, opted_out: bool) -> None:
        phone = normalise_phone(phone)

        def work(session: Session) -> None:
            conv = self.get_or_create(session, phone)
            conv.opted_out = opted_out
            conv.consent_changed_at = self.clock.now()

        in_transaction(self.factory, work)

    def conversation(self, phone: str) -> Optional[Conversation]:
        with self.factory() as session:
            return session.scalars(select(Conversation).where(Conversation.phone == normalise_phone(phone))).one_or_none()

    def window_open(self, phone: str) -> bool:
        """WhatsApp's customer-service window: 24 h from the customer's last inbound message."""
        conv = self.conversation(phone)
        return bool(conv and window_open(conv.last_inbound_at, self.clock.now()))

    # -- live updates ----------------------------------------------------------
    def publish(self, event: dict[str, Any]) -> None:
        if not self.cache:
            return
        try:
            self.cache.publish(events_channel(self.cache), json.dumps(event))
        except redis.RedisError:
            log.warning("could not publish %s", event.get("type"))


def message_dict(m: Message, clock: Clock) -> dict[str, Any]:
    return {"id": m.id, "direction": m.direction, "channel": m.channel, "author": m.author, "text": m.text,
            "media": m.media, "status": m.status, "sid": m.twilio_sid, "error_code": m.error_code,
            "error_message": m.error_message,
            "at": m.created_at.astimezone(clock.tz).isoformat()}


