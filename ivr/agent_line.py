"""The agent line's gate: who may try a PIN, and how many wrong ones before the line stops listening.

Wrong PINs are counted in Redis (`orderline.lockout`), not in the call, so a new call does not
bring new tries: per call (3, then it hangs up), per calling number (5 an hour, then that number
is locked for an hour) and for the whole line (20 an hour from any numbers, then the line is
locked for half an hour). Caller ID can be spoofed, so the line's own ceiling is what bounds
guessing from many numbers: about 500 guesses a day against a million 6-digit PINs.
With AGENT_LINE_ALLOWED_NUMBERS set, other numbers are refused before the PIN prompt and
count nowhere, so a stranger cannot use up the line's ceiling from an unlisted number.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from enum import StrEnum

import redis

from ivr.session import SESSION_TTL
from orderline.lockout import Limit, Lockout, Scope
from orderline.phones import InvalidPhone, normalise_phone

log = logging.getLogger(__name__)
PER_CALL = Limit(failures=3, window=SESSION_TTL, lock=SESSION_TTL)
PER_NUMBER = Limit(failures=5, window=3600, lock=3600)
PER_LINE = Limit(failures=20, window=3600, lock=1800)
PREFIX = "ivr:agent_pin"
WITHHELD = "withheld"  # every caller without a usable caller ID counts as one number


class Verdict(StrEnum):
    PROMPT = "prompt"  # ask for the PIN
    ACCEPTED = "accepted"
    WRONG = "wrong"  # ask again
    LAST_WRONG = "last_wrong"  # the call's last try: hang up
    LOCKED = "locked"  # too many wrong PINs from this number or on the line
    NOT_ALLOWED = "not_allowed"  # not on AGENT_LINE_ALLOWED_NUMBERS
    DISABLED = "disabled"  # no usable PIN configured


def same_pin(digits: str, pin: str) -> bool:
    """Constant time, whatever the lengths: the digests compared are always 32 bytes."""
    return bool(pin) and hmac.compare_digest(hashlib.sha256(digits.encode()).digest(),
                                             hashlib.sha256(pin.encode()).digest())


def caller_key(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        return WITHHELD


@dataclass(frozen=True)
class AgentGate:
    lockout: Lockout
    pin: str  # empty: the line is off
    allowed: frozenset[str] = frozenset()  # empty: any number may try

    @classmethod
    def of(cls, cache: redis.Redis, pin: str, allowed: frozenset[str]) -> "AgentGate":
        return cls(Lockout(cache, PREFIX), pin, allowed)

    def scopes(self, call_sid: str, caller: str) -> list[Scope]:
        return [(f"call:{call_sid}", PER_CALL), (f"number:{caller}", PER_NUMBER), ("line", PER_LINE)]

    def opening(self, call_sid: str, raw_caller: str) -> Verdict:
        """What a new call to the agent line hears first; nothing is counted."""
        caller = caller_key(raw_caller)
        if not self.pin:
            return Verdict.DISABLED
        if self.allowed and caller not in self.allowed:
            log.warning("agent line: %s is not an allowed number (call %s); refused", caller, call_sid)
            return Verdict.NOT_ALLOWED
        if self.lockout.locked_for(self.scopes(call_sid, caller)):
            log.warning("agent line: locked; call %s from %s refused before the PIN", call_sid, caller)
            return Verdict.LOCKED
        return Verdict.PROMPT

    def check(self, call_sid: str, raw_caller: str, digits: str) -> Verdict:
        """Judge one PIN, counted first in every scope (so parallel guesses cannot outrun the count)."""
        first = self.opening(call_sid, raw_caller)
        if first is not Verdict.PROMPT:
            return first
        caller = caller_key(raw_caller)
        scopes = self.scopes(call_sid, caller)
        wait = self.lockout.attempt(scopes)
        if wait:
            log.error("agent line: too many wrong PINs (call %s from %s); locked for %d s", call_sid, caller, wait)
            return Verdict.LOCKED
        if same_pin(digits, self.pin):
            self.lockout.forgive(scopes)
            log.info("agent line: PIN accepted on call %s from %s", call_sid, caller)
            return Verdict.ACCEPTED
        tries = self.lockout.failures(scopes[0][0])
        log.warning("agent line: wrong PIN on call %s from %s (%d in this call)", call_sid, caller, tries)
        return Verdict.LAST_WRONG if tries >= PER_CALL.failures else Verdict.WRONG
