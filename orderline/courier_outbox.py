"""Sending courier requests from the outbox: at most once for what must not repeat, with retries.

`orderline.courier_requests` writes a row with the order change; the worker runs `process(id)`.

- A row is claimed (`requested` → `sending`, committed) before any call, under a lease. A claim
  older than the lease belongs to a dead worker and may be taken again, but the row is then
  marked `uncertain`: that worker may have sent it and died before recording the answer.
- A timeout after the request went out also marks the row `uncertain`.
- An uncertain reattempt or return (not repeatable: a second one would be a second instruction
  to the courier) is never resent. The courier is asked whether it holds this very request (the
  request id travels in the comments); yes settles it `accepted`, anything else `failed` with
  the reason, for a person to check. Cancels and address updates repeat harmlessly, so they retry.
- Definite failures (5xx, no connection) retry with backoff, up to MAX_ATTEMPTS, then `failed`.
- A refusal or a final failure sends the customer a follow-up and opens an escalation, once
  (`followed_up_at` is claimed before either).
- With no courier account configured, rows settle as `not_sent`; nothing else changes.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Optional

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from orderline.clock import Clock
from orderline.escalations import EscalationService, OpenEscalation
from orderline.models import CourierRequest, Order
from orderline.ports import Courier, CourierAnswer, CourierCall, Messenger

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600)
REPEATABLE = frozenset({"cancel", "address"})
NO_ACCOUNT = "not sent: no Shiprocket account"
T = CourierRequest.__table__


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: Optional[int] = None  # seconds, when the job should run again


def marker(request_id: int) -> str:
    """The tag that carries our request id in the courier's comments (how `confirm` finds it)."""
    return f"[orderline request {request_id}]"


class CourierOutbox:
    def __init__(self, factory: sessionmaker[Session], clock: Clock, courier: Optional[Courier],
                 messenger: Optional[Messenger], escalations: Optional[EscalationService],
                 lease: timedelta = LEASE) -> None:
        self.factory = factory
        self.clock = clock
        self.courier = courier
        self.messenger = messenger
        self.escalations = escalations
        self.lease = lease

    # -- the worker's side ---------------------------------------------------------
    def due(self, limit: int = 200) -> list[int]:
        """Rows waiting to be sent, or abandoned mid-send by a dead worker."""
        with self.factory() as session:
            return list(session.scalars(select(CourierRequest.id).where(self._claimable(self.clock.now()))
                                        .order_by(CourierRequest.id).limit(limit)))

    def claim(self, request_id: int) -> bool:
        """Take the row for one attempt (committed before any call); False if it is not ours to send."""
        now = self.clock.now()
        with self.factory() as session:
            taken = session.execute(update(T).where(T.c.id == request_id, self._claimable(now)).values(
                status="sending", claimed_at=now, attempts=T.c.attempts + 1,
                # Abandoned while sending: the dead worker may have reached the courier.
                uncertain=case((T.c.status == "sending", True), else_=T.c.uncertain),
            ).returning(T.c.id)).scalar_one_or_none()
            session.commit()
        return taken is not None

    def _claimable(self, now: Any) -> Any:
        return or_((T.c.status == "requested") & or_(T.c.next_attempt_at.is_(None), T.c.next_attempt_at <= now),
                   (T.c.status == "sending") & (T.c.claimed_at < now - self.lease))

    def process(self, request_id: int) -> Outcome:
        """One attempt at sending the request (the RQ job's body)."""
        if not self.claim(request_id):
            return Outcome("not_claimed")
        call, attempts, uncertain, stored = self._call(request_id)
        if self.courier is None:
            return self._settle(request_id, "not_sent", NO_ACCOUNT)
        if uncertain and call.kind not in REPEATABLE:
            return self._confirm(call)
        answer = self.courier.send(call)
        if answer.external_order_id and answer.external_order_id != stored:
            self._set(request_id, external_order_id=answer.external_order_id)
        return self._after(call, answer, attempts)

    def _after(self, call: CourierCall, answer: CourierAnswer, attempts: int) -> Outcome:
        if answer.outcome == "accepted":
            return self._settle(call.request_id, "accepted", answer.reason)
        if answer.outcome == "refused":
            return self._settle(call.request_id, "refused", answer.reason)
        if answer.outcome == "not_found":
            return self._settle(call.request_id, "not_sent", answer.reason)
        if answer.outcome == "unknown" and call.kind not in REPEATABLE:
            # It may have reached the courier: the next attempt asks instead of sending again.
            self._set(call.request_id, uncertain=True)
        if attempts >= MAX_ATTEMPTS:
            return self._settle(call.request_id, "failed", f"gave up after {attempts} attempts: {answer.reason}")
        delay = BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)]
        self._set(call.request_id, status="requested", reason=answer.reason,
                  next_attempt_at=self.clock.now() + timedelta(seconds=delay))
        return Outcome("retrying", retry_in=delay)

    def _confirm(self, call: CourierCall) -> Outcome:
        assert self.courier is not None
        held = self.courier.confirm(call)
        if held:
            return self._settle(call.request_id, "accepted", f"confirmed at {self.courier.name}")
        why = ("not found there" if held is False else "could not be checked")
        return self._settle(call.request_id, "failed",
                            f"may have reached {self.courier.name} without an answer and is {why}; "
                            "not sent again, so it is never sent twice: check by hand")

    def _settle(self, request_id: int, status: str, reason: Optional[str]) -> Outcome:
        self._set(request_id, status=status, reason=(reason or None) and reason[:500], settled_at=self.clock.now())
        if status in ("refused", "failed"):
            self.follow_up(request_id)
        return Outcome(status)

    def _set(self, request_id: int, **values: Any) -> None:
        with self.factory() as session:
            session.execute(update(T).where(T.c.id == request_id).values(**values))
            session.commit()

    def _call(self, request_id: int) -> tuple[CourierCall, int, bool, Optional[str]]:
        with self.factory() as session:
            row = session.scalars(select(CourierRequest).where(CourierRequest.id == request_id).options(
                joinedload(CourierRequest.order).joinedload(Order.customer))).one()
            known = row.external_order_id or session.scalar(
                select(CourierRequest.external_order_id).where(CourierRequest.order_pk == row.order_pk,
                                                               CourierRequest.external_order_id.is_not(None)).limit(1))
            call = CourierCall(request_id=row.id, kind=row.kind, order_id=row.order.order_id, awb=row.awb,
                               external_order_id=known, payload=dict(row.payload or {}),
                               customer_name=row.order.customer.name or "", customer_phone=row.order.customer.phone)
            return call, row.attempts, row.uncertain, row.external_order_id

    # -- the customer's follow-up --------------------------------------------------
    def follow_ups_due(self, limit: int = 100) -> list[int]:
        """Refused or failed rows whose follow-up has not been claimed (a worker died in between)."""
        with self.factory() as session:
            return list(session.scalars(select(CourierRequest.id).where(
                CourierRequest.status.in_(("refused", "failed")), CourierRequest.followed_up_at.is_(None))
                .order_by(CourierRequest.id).limit(limit)))

    def follow_up(self, request_id: int) -> bool:
        """Tell the customer and open an escalation with the reason, at most once per request."""
        now = self.clock.now()
        with self.factory() as session:
            mine = session.execute(update(T).where(T.c.id == request_id, T.c.followed_up_at.is_(None),
                                                   T.c.status.in_(("refused", "failed")))
                                   .values(followed_up_at=now).returning(T.c.id)).scalar_one_or_none()
            session.commit()
            if mine is None:
                return False
            row = session.scalars(select(CourierRequest).where(CourierRequest.id == request_id).options(
                joinedload(CourierRequest.order).joinedload(Order.customer))).one()
            order, customer = row.order, row.order.customer
            text = follow_up_text(row.kind, order.order_id, row.courier, customer.name, customer.language == "hi")
            note = (f"{row.courier or 'The courier'} {row.status} our {LABELS[row.kind]} request for "
                    f"{order.order_id} (request {row.id}): {row.reason or 'no reason given'}")
        if self.messenger is not None:
            try:
                self.messenger.send(customer.phone, text, author="system")
            except Exception:  # the escalation below still reaches a person
                log.exception("follow-up message for courier request %s failed", request_id)
        if self.escalations is not None:
            self.escalations.open(OpenEscalation(phone=customer.phone, reason="delivery", order_id=order.order_id,
                                                 note=note))
        return True

    # -- reads for the console -----------------------------------------------------
    def for_order(self, order_id: str) -> list[dict[str, Any]]:
        """The order's courier requests, newest first, for the agent's order panel."""
        from orderline.orders import order_digits

        with self.factory() as session:
            rows = session.scalars(select(CourierRequest).join(Order).where(Order.number == order_digits(order_id))
                                   .order_by(CourierRequest.id.desc()).limit(50)).all()
            return [request_dict(r, self.clock) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many requests are in each state (the dashboard's tally)."""
        with self.factory() as session:
            rows = session.execute(select(CourierRequest.status, func.count()).group_by(CourierRequest.status)).all()
        return {status: count for status, count in rows}


LABELS = {"reattempt": "delivery reattempt", "return": "return to seller", "cancel": "cancellation",
          "address": "address change"}
STATE_LABELS = {"requested": "requested", "sending": "sending", "accepted": "accepted", "refused": "refused",
                "failed": "failed after retries", "not_sent": "not sent"}


def request_dict(row: CourierRequest, clock: Clock) -> dict[str, Any]:
    def iso(v: Any) -> Any:
        return v.astimezone(clock.tz).isoformat() if v else None

    return {"id": row.id, "kind": row.kind, "label": LABELS[row.kind], "status": row.status,
            "state": STATE_LABELS.get(row.status, row.status), "courier": row.courier, "awb": row.awb,
            "reason": row.reason, "attempts": row.attempts, "actor": row.actor,
            "created_at": iso(row.created_at), "settled_at": iso(row.settled_at)}


def follow_up_text(kind: str, order_id: str, courier: Optional[str], name: str, hinglish: bool) -> str:
    """The apology after a refused or failed request, and what happens next."""
    first = name.split()[0] if name else ""
    who = courier or ("courier" if hinglish else "the courier")
    if hinglish:
        what = {"reattempt": "dobara delivery", "return": "wapsi", "cancel": "cancel", "address": "address badalne"}[kind]
        return (f"Maaf kijiye {first}, {who} ne order {order_id} ki {what} ki request abhi tak nahi maani. "
                "Hamari team ka ek vyakti ise dekh raha hai aur yahin aapko jawab dega.")
    return (f"Sorry, {first}: {who} hasn't accepted the {LABELS[kind]} we requested for order {order_id}. "
            "A person from our team is looking into it and will reply to you here.")
