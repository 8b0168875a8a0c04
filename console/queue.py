"""Read models for the console pages: the queue and one conversation with its order."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Optional

import redis

from console.actions import latest_escalation
from orderline.errors import OrderNotFound
from orderline.escalations import EscalationRecord
from orderline.models import Order
from orderline.present import order_dict
from console.deps import ConsoleDeps
from orderline.rules import window_until

log = logging.getLogger(__name__)


def queue_items(svc: ConsoleDeps, reason: Optional[str] = None) -> list[EscalationRecord]:
    """Open and claimed escalations: most urgent first, then the longest waiting."""
    items = [e for e in svc.escalations.list("active") if reason is None or e.reason == reason]
    return sorted(items, key=lambda e: (e.priority, e.created_at, e.id))


def reason_counts(items: list[EscalationRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in items:
        counts[e.reason] = counts.get(e.reason, 0) + 1
    return counts


def conversation_context(svc: ConsoleDeps, phone: str, order_ref: Optional[str] = None) -> dict[str, Any]:
    esc = latest_escalation(svc, phone)
    conv = svc.conversations.conversation(phone)
    orders = svc.orders.for_phone(phone, limit=10)
    wanted = order_ref or (esc.order_id if esc else None)
    order: Optional[Order] = None
    if wanted:
        order = next((o for o in orders if o.order_id == wanted), None)
        if order is None and esc and wanted == esc.order_id:
            try:
                order = svc.orders.get(wanted)
            except OrderNotFound:
                order = None
    order = order or (orders[0] if orders else None)
    until = window_until(conv.last_inbound_at, svc.clock.now()) if conv else None
    return {
        "phone": phone,
        "escalation": esc,
        "state": svc.conversations.state(phone),
        "profile_name": conv.profile_name if conv else None,
        "opted_out": bool(conv and conv.opted_out),
        "window_until": until.astimezone(svc.clock.tz) if until else None,
        "transcript": svc.conversations.transcript(phone),
        "order": order_dict(order, svc.clock) if order else None,
        "order_ids": [o.order_id for o in orders],
        "ownership_locks": ownership_locks(svc, [esc.order_id if esc else None, order.order_id if order else None]),
    }


def ownership_locks(svc: ConsoleDeps, refs: list[Optional[str]]) -> dict[str, datetime]:
    """The orders among `refs` that strangers may not try to prove now, and until when."""
    locks: dict[str, datetime] = {}
    for ref in dict.fromkeys(r for r in refs if r):
        try:
            until = svc.ownership_locked_until(ref)
        except redis.RedisError:
            log.warning("ownership lock of %s unknown: Redis unavailable", ref, exc_info=True)
            continue
        if until is not None:
            locks[ref] = until.astimezone(svc.clock.tz)
    return locks
