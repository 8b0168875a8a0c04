"""Per-call state: an immutable value, kept in Redis between turns, keyed by Twilio's CallSid.

The JSON in Redis is unchanged from when `menu` was a plain string: `Menu`'s values are those
strings, and the lists are stored as JSON lists, so calls in progress survive a deploy.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Optional

import redis

SESSION_TTL = 2 * 3600  # seconds; longer than any sane call, short enough to hold no stale PII
LOG_LINES = 40


class Menu(StrEnum):
    """Where the caller is: what their next keys answer, and where a silent turn returns to."""

    MAIN = "menu"
    ORDER = "order"  # key in an order number
    CONFIRM = "confirm"  # confirm the number read back
    VERIFY = "verify"  # prove the order: its phone's last 4 digits or its pincode
    CODE = "code"  # key in the one-time code sent to the order's WhatsApp number, before a change
    RESCHEDULE = "reschedule"  # pick one of the offered days
    RESCHEDULE_CONFIRM = "reschedule_confirm"
    AFTER_HOURS = "after_hours"  # 1 for a call back, anything else waits for a person
    QUEUE = "queue"  # waiting for a person
    DONE = "done"  # a call back is booked; the call is over


@dataclass(frozen=True)
class CallSession:
    call_sid: str
    phone: Optional[str] = None  # caller ID in E.164; None when withheld or unparseable
    attested: bool = False  # the carrier vouched for the caller ID (STIR/SHAKEN A): it may make changes
    language: str = "en"
    customer_name: Optional[str] = None  # set only when the caller ID matches a customer
    order_id: Optional[str] = None  # the order under discussion, verified as the caller's
    pending_order: Optional[str] = None  # keyed in, not yet verified: never spoken about
    intent: Optional[str] = None  # status, address, reschedule, payments
    menu: Menu = Menu.MAIN
    attempts: int = 0  # silent or unmatched turns at this menu position
    order_tries: int = 0
    verify_tries: int = 0
    code_orders: tuple[str, ...] = ()  # orders whose one-time code the caller keyed in on this call
    reschedule_days: tuple[str, ...] = ()  # ISO dates offered, in the order of their keys
    reschedule_day: Optional[str] = None
    escalation_id: Optional[int] = None
    outcome: str = "in_progress"  # self_served, queued, callback, verification_failed, ...
    log: tuple[str, ...] = ()  # short turn log for the agent's note

    def moved(self, menu: Menu) -> "CallSession":
        """At a new menu position; silence there is counted afresh."""
        return replace(self, menu=menu, attempts=0 if menu != self.menu else self.attempts)

    def noted(self, line: str) -> "CallSession":
        return replace(self, log=(*self.log, line[:300])[-LOG_LINES:])

    def to_json(self) -> str:
        data = asdict(self)
        data["menu"] = self.menu.value
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "CallSession":
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        # A position this code no longer knows falls back to the main menu, as it always did.
        data["menu"] = Menu(data["menu"]) if data.get("menu") in {m.value for m in Menu} else Menu.MAIN
        for name in ("reschedule_days", "log", "code_orders"):
            data[name] = tuple(data.get(name) or ())
        return cls(**data)


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
