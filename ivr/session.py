"""Per-call state in Redis, keyed by Twilio's CallSid, expiring on its own."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Optional

import redis

SESSION_TTL = 2 * 3600  # seconds; longer than any sane call, short enough to hold no stale PII
LOG_LINES = 40


@dataclass
class CallSession:
    call_sid: str
    phone: Optional[str] = None  # caller ID in E.164; None when withheld or unparseable
    language: str = "en"
    customer_name: Optional[str] = None  # set only when the caller ID matches a customer
    order_id: Optional[str] = None  # the order under discussion, verified as the caller's
    pending_order: Optional[str] = None  # keyed in, not yet verified: never spoken about
    intent: Optional[str] = None  # status, address, reschedule, payments
    menu: str = "menu"  # where a silent turn returns to
    attempts: int = 0  # silent or unmatched turns at this menu position
    order_tries: int = 0
    verify_tries: int = 0
    reschedule_days: list[str] = field(default_factory=list)
    reschedule_day: Optional[str] = None
    escalation_id: Optional[int] = None
    outcome: str = "in_progress"  # self_served, queued, callback, verification_failed
    log: list[str] = field(default_factory=list)  # short turn log for the agent's note

    def move(self, menu: str) -> None:
        """Go to a new menu position; silence there is counted afresh."""
        if menu != self.menu:
            self.attempts = 0
        self.menu = menu

    def note(self, line: str) -> None:
        self.log = (self.log + [line[:300]])[-LOG_LINES:]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "CallSession":
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class SessionStore:
    """Load and save call sessions. Redis errors propagate: the views turn them into a person."""

    def __init__(self, cache: redis.Redis, ttl: int = SESSION_TTL) -> None:
        self.cache = cache
        self.ttl = ttl

    @staticmethod
    def key(call_sid: str) -> str:
        return f"ivr:call:{call_sid}"

    def load(self, call_sid: str) -> Optional[CallSession]:
        raw = self.cache.get(self.key(call_sid))
        return CallSession.from_json(raw) if raw else None

    def save(self, session: CallSession) -> None:
        self.cache.set(self.key(session.call_sid), session.to_json(), ex=self.ttl)

    def close(self, call_sid: str) -> Optional[CallSession]:
        """Remove the session and return its last state (None if it had expired)."""
        pipe = self.cache.pipeline()
        pipe.get(self.key(call_sid))
        pipe.delete(self.key(call_sid))
        raw, _ = pipe.execute()
        return CallSession.from_json(raw) if raw else None
