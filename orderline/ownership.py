"""Proof that someone owns an order placed from another phone, for every channel.

A customer who names an order that is not theirs by phone may hear about it once they give
the last 4 digits of the order's phone number or its delivery pincode: one candidate per
attempt. The chat assistant asks through the API (`POST /api/v1/orders/<id>/verify`), the
phone line calls `OwnershipGuard.verify` directly.

Guessing is bounded in Redis, with expiry (docs/security.md, "Ownership"):
- failures per order reference: after `ORDER_FAILURES` within `FAILURE_WINDOW` every stranger
  is refused for that order, whatever they send; the order's own number never asks, so it is
  unaffected;
- failures per asker (a WhatsApp number or a caller ID): after `ASKER_FAILURES` within the
  window the asker is refused for every order, so guessing spread over orders is bounded too.
A reference that names no order counts and locks exactly like one that does, and both get the
same answer: a stranger can't tell them apart until a proof succeeds.

A change (cancel, address, reschedule) by someone who is not the order's own, attested number
needs a one-time code as well (`OneTimeCodes`): 6 digits, sent on WhatsApp to the order's own
phone, valid `CODE_TTL`, `CODE_TRIES` tries, stored only as a keyed hash.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Optional

import redis

from orderline.clock import Clock
from orderline.errors import InvalidInput, OrderNotFound, SeveralProofs
from orderline.lockout import count, give_back
from orderline.models import Order
from orderline.orders import OrderService, order_digits
from orderline.ports import SendResult, Template

ORDER_FAILURES = 5  # wrong proofs for one order, from anyone but its own number, before it locks
ASKER_FAILURES = 3  # wrong proofs from one sender or caller, across orders, before they are refused
FAILURE_WINDOW = timedelta(hours=24)
MAX_PROOF_LENGTH = 20
CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 3
CODES_PER_WINDOW = 5  # codes sent for one order per FAILURE_WINDOW: bounds both guessing and spam
# Words that redaction (orderline/redact.py) leaves alone: the message is redacted before it is sent.
CODE_TEXT = ("Orderline: {code} is the number that confirms a change to order {order_id} asked for on "
             "{channel}. It expires in {minutes} minutes. If you did not ask, ignore this message and "
             "share the number with no one.")
_DUMMY = "\x00" * 6  # compared against when there is no order, so both paths do the same work


def proves_ownership(order: Optional[Order], proof: str) -> bool:
    """True when `proof` (one digit string) is the order phone's last 4 digits or its pincode."""
    if order is None:
        return proves(None, proof)
    return proves((order.customer.phone or "", (order.address.pincode or "") if order.address else ""), proof)


def proves(facts: Optional[tuple[str, str]], proof: str) -> bool:
    """`proves_ownership` on an order's (phone, pincode); None (no order) does the same work and fails."""
    phone, pincode = facts or ("", "")
    expected = re.sub(r"\D", "", phone or "")[-4:] if len(proof) == 4 else pincode if len(proof) == 6 else ""
    # Bytes: compare_digest refuses non-ASCII text, and a customer may type Devanagari digits.
    matched = hmac.compare_digest(proof.encode(), (expected or _DUMMY).encode())
    return matched and facts is not None and bool(expected)


def proof_from(data: Any) -> tuple[str, str]:
    """The `proof` and `sender` of an API body.

    Raises:
        SeveralProofs: a list of candidates (in `proof` or the old `proofs`): nothing is compared.
        InvalidInput: anything else that is not one short string and a sender.
    """
    body = data if isinstance(data, dict) else {}
    proof, sender = body.get("proof"), body.get("sender")
    if "proofs" in body or isinstance(proof, (list, tuple, dict)):
        raise SeveralProofs("send exactly one candidate answer in `proof`; lists of guesses are refused")
    fields: dict[str, str] = {}
    if not isinstance(proof, str) or len(proof) > MAX_PROOF_LENGTH:
        fields["proof"] = "exactly one candidate answer (text)"
    if not isinstance(sender, str) or not 0 < len(sender) <= 64:
        fields["sender"] = "who is asking: the WhatsApp number or caller ID (text)"
    if fields:
        raise InvalidInput(fields)
    return proof, sender  # type: ignore[return-value]


def order_key(ref: str) -> str:
    """One counter per order number, whether or not an order has it: every spelling the API accepts
    for one order ('OL-100234', 'ol100234', '100234') shares it, so respelling buys no tries."""
    try:
        return order_digits(ref)
    except OrderNotFound:
        return "-"


@dataclass(frozen=True)
class Verdict:
    matched: bool
    refused: bool = False  # the order or the asker is locked: nothing was compared


class OwnershipGuard:
    """Checks one proof at a time, and counts and locks failures in Redis."""

    def __init__(self, cache: redis.Redis, orders: OrderService, clock: Clock,
                 order_failures: int = ORDER_FAILURES, asker_failures: int = ASKER_FAILURES,
                 window: timedelta = FAILURE_WINDOW) -> None:
        self.cache = cache
        self.orders = orders
        self.clock = clock
        self.order_failures = order_failures
        self.asker_failures = asker_failures
        self.window = window

    @staticmethod
    def _order(ref: str) -> str:
        return f"ownership:fail:order:{order_key(ref)}"

    @staticmethod
    def _asker(who: str) -> str:
        return f"ownership:fail:asker:{re.sub(r'[^0-9A-Za-z+:-]', '', who)[:64] or 'unknown'}"

    def verify(self, ref: str, proof: str, asker: str) -> Verdict:
        """Does `proof` prove `asker` owns order `ref`? Refused without comparing once locked.

        Args:
            ref: The order reference as the asker gave it (it may name no order).
            proof: One candidate: the last 4 digits of the order's phone, or its pincode.
            asker: Who asks: their WhatsApp number or caller ID ("withheld" when there is none).
        """
        # Counted before judging, and given back on success: counting afterwards would let a burst of
        # parallel guesses all be compared before the first of them had failed.
        order_key_, asker_key = self._order(ref), self._asker(asker)
        seconds = int(self.window.total_seconds())
        order_n, _ = count(self.cache, order_key_, seconds)
        asker_n, _ = count(self.cache, asker_key, seconds)
        if order_n > self.order_failures or asker_n > self.asker_failures:
            return Verdict(matched=False, refused=True)
        if proves(self.orders.proof_facts(ref), proof):
            give_back(self.cache, order_key_, asker_key)
            return Verdict(matched=True)
        return Verdict(matched=False)

    def locked_until(self, ref: str) -> Optional[datetime]:
        """When strangers may try order `ref` again; None when it is not locked (for the console)."""
        key = self._order(ref)
        pipe = self.cache.pipeline()
        pipe.get(key)
        pipe.ttl(key)
        count, ttl = pipe.execute()
        if int(count or 0) < self.order_failures or ttl is None or ttl < 0:
            return None
        return self.clock.now() + timedelta(seconds=ttl)


@dataclass(frozen=True)
class CodeCheck:
    matched: bool
    tries_left: int  # 0: no live code (never sent, used, expired, or out of tries): send a new one


class OneTimeCodes:
    """Codes that confirm a change, sent to the order's own WhatsApp number.

    Args:
        cache: Redis; a code lives at `otp:<order>` as a keyed hash, a try counter and its expiry.
        orders: Finds the order's own phone number.
        clock: Decides expiry (Redis also drops the key then, and refuses a key it lost).
        send: Writes the message to the outbox and queues its delivery (the wiring's messenger).
        pepper: Secret key of the hash, so a Redis dump doesn't give the code away cheaply.
        template_sid: The approved template ({{1}} the code, {{2}} the order) for outside the 24-hour window.
    """

    def __init__(self, cache: redis.Redis, orders: OrderService, clock: Clock,
                 send: Callable[[str, str, Optional[Template]], SendResult], pepper: bytes, template_sid: str = "",
                 ttl: timedelta = CODE_TTL, tries: int = CODE_TRIES,
                 per_window: int = CODES_PER_WINDOW, window: timedelta = FAILURE_WINDOW) -> None:
        self.cache = cache
        self.orders = orders
        self.clock = clock
        self.send_message = send
        self.pepper = pepper
        self.template_sid = template_sid
        self.ttl = ttl
        self.tries = tries
        self.per_window = per_window
        self.window = window

    @staticmethod
    def _key(order_id: str) -> str:
        return f"otp:{order_id}"

    def _digest(self, order_id: str, code: str) -> str:
        return hmac.new(self.pepper, f"{order_id}:{code}".encode(), hashlib.sha256).hexdigest()

    def send(self, ref: str, channel: str = "chat") -> SendResult:
        """Make a new code for order `ref` (replacing any live one) and send it to the order's phone.

        Raises OrderNotFound. Past `per_window` codes for the order the result is `refused`.
        """
        order = self.orders.get(ref)
        sent_key = f"otp:sent:{order.order_id}"
        sent, _ = count(self.cache, sent_key, int(self.window.total_seconds()))
        if sent > self.per_window:
            return SendResult(None, "refused", reason="too many codes for this order today")
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        pipe = self.cache.pipeline()
        pipe.delete(self._key(order.order_id))
        expires = (self.clock.now() + self.ttl).timestamp()
        pipe.hset(self._key(order.order_id), mapping={"digest": self._digest(order.order_id, code), "tries": 0,
                                                      "expires": expires})
        pipe.expire(self._key(order.order_id), self.ttl)
        pipe.execute()
        text = CODE_TEXT.format(code=code, order_id=order.order_id, channel=channel,
                                minutes=int(self.ttl.total_seconds() // 60))
        template = Template(self.template_sid, {"1": code, "2": order.order_id}) if self.template_sid else None
        return self.send_message(order.customer.phone, text, template)

    def check(self, ref: str, code: str) -> CodeCheck:
        """Is `code` the live code of order `ref`? A match uses it up; the last wrong try kills it."""
        try:
            order_id = self.orders.get(ref).order_id
        except OrderNotFound:
            return CodeCheck(False, 0)
        key = self._key(order_id)
        # The try is taken before comparing, atomically, so parallel guesses can't exceed the limit.
        pipe = self.cache.pipeline()
        pipe.hincrby(key, "tries", 1)
        pipe.hget(key, "digest")
        pipe.hget(key, "expires")
        tries, digest, expires = pipe.execute()
        if digest is None or tries > self.tries or float(expires or 0) <= self.clock.now().timestamp():
            self.cache.delete(key)
            return CodeCheck(False, 0)
        candidate = self._digest(order_id, code if re.fullmatch(r"\d{6}", code or "") else "")
        if hmac.compare_digest(candidate.encode(), digest if isinstance(digest, bytes) else digest.encode()):
            self.cache.delete(key)
            return CodeCheck(True, 0)
        left = self.tries - tries
        if left <= 0:
            self.cache.delete(key)
        return CodeCheck(False, left)


def code_from(data: Any) -> str:
    """The `code` of an API body: one string of up to 20 characters; InvalidInput otherwise."""
    code = data.get("code") if isinstance(data, dict) else None
    if not isinstance(code, str) or len(code) > MAX_PROOF_LENGTH:
        raise InvalidInput({"code": f"the {CODE_DIGITS}-digit code (text)"})
    return code
