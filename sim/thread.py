"""The customer's WhatsApp thread as the simulator shows it: messages, their fate, and held news.

Nothing is hidden: a message the sender refused shows why, a notification waiting for
quiet hours to end shows until when, and the local outbox (no Twilio account) counts as
delivered, because in the simulator the outbox is the customer's phone.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select

from orderline.models import Customer, Notification, Order
from sim.deps import SimDeps

TICKS = {"received": None, "queued": "pending", "sending": "pending", "retrying": "pending", "sent": "sent",
         "outbox": "delivered", "delivered": "delivered", "read": "read", "refused": "not_sent",
         "failed": "failed", "undelivered": "failed"}
EVENT_NAMES = {"confirmed": "order confirmed", "shipped": "shipped", "delayed": "delayed",
               "out_for_delivery": "out for delivery", "delivery_failed": "failed delivery",
               "rto_initiated": "returning to seller", "delivered": "delivered", "lost": "parcel lost",
               "damaged": "parcel damaged"}
NUMBERED = re.compile(r"^\s*(\d)\s*[-.)]\s+(.+)$", re.M)
SCALE = re.compile(r"\b1 \([^)]*\) (?:to|se) 5 \(")
YES_NO = re.compile(r"\bYES\b.*\bNO\b", re.S)


def thread(svc: SimDeps, phone: str, limit: int = 200) -> dict[str, Any]:
    """Everything the customer's WhatsApp would show, oldest first, with quick replies for the last message."""
    store = svc.conversations
    items = [message_item(m) for m in store.transcript(phone, limit=limit * 2)
             if m["channel"] == "whatsapp" and m["direction"] in ("in", "out")][-limit:]
    items += [notice_item(n, svc.clock.now()) for n in unsent_notifications(svc, phone)]
    items.sort(key=lambda item: datetime.fromisoformat(item["at"]))  # stable: ties keep transcript order
    return {"phone": phone, "state": store.state(phone), "window_open": store.window_open(phone), "items": items,
            "quick_replies": quick_replies(items, svc.offered_buttons(phone))}


def message_item(m: dict[str, Any]) -> dict[str, Any]:
    inbound = m["direction"] == "in"
    tick = TICKS.get(m["status"], "pending") if not inbound else None
    note = None
    if tick == "not_sent":
        note = f"not sent: {m['error_message'] or 'refused by the sender'}"
    elif tick == "failed":
        note = f"failed: {' '.join(x for x in (m['error_code'], m['error_message']) if x) or m['status']}"
    elif m["status"] == "retrying":
        note = f"retrying: {m['error_message'] or 'Twilio did not accept it yet'}"
    return {"id": f"m{m['id']}", "kind": "message", "from": "customer" if inbound else "business",
            "author": author_label(m["author"]), "text": m["text"], "at": m["at"], "status": m["status"],
            "tick": tick, "note": note}


def author_label(author: str) -> str:
    if author == "customer":
        return "You"
    if author.startswith("notifier:"):
        return "Order update · " + EVENT_NAMES.get(author.split(":", 1)[1], author.split(":", 1)[1])
    if author.startswith("agent:"):
        return "Support · " + author.split(":", 1)[1]
    return {"bot": "Assistant", "system": "Orderline", "ivr": "Orderline (from your call)"}.get(author, author)


def unsent_notifications(svc: SimDeps, phone: str) -> list[tuple[Notification, str]]:
    """The customer's notifications that have no message yet: pending, held, skipped."""
    with svc.sessions() as session:
        rows = session.execute(
            select(Notification, Order.order_id).join(Order, Notification.order_pk == Order.id)
            .join(Customer, Order.customer_id == Customer.id)
            .where(Customer.phone == phone, Notification.message_id.is_(None))
            .order_by(Notification.id)).all()
        for note, _ in rows:
            session.expunge(note)
    return [(note, order_id) for note, order_id in rows]


def notice_item(row: tuple[Notification, str], now: datetime) -> dict[str, Any]:
    note, order_id = row
    name = EVENT_NAMES.get(note.event, note.event)
    return {"id": f"n{note.id}", "kind": "notice", "from": "system", "author": "Order update",
            "text": f"{name.capitalize()} message for {order_id}: {fate(note, now)}",
            "at": note.created_at.astimezone(now.tzinfo).isoformat(), "status": note.status, "tick": None, "note": None}


def fate(note: Notification, now: datetime) -> str:
    """What happened to a notification that has no message, in words."""
    if note.status == "pending" and note.not_before and note.not_before > now:
        return f"held until {when(note.not_before.astimezone(now.tzinfo), now)} ({note.reason or 'waiting'})"
    if note.status == "pending":
        return "waiting for the background worker to send it"
    if note.status == "sending":
        return "being sent"
    if note.status == "skipped":
        return f"not sent: {note.reason or 'no longer news'}"
    if note.status in ("refused", "failed"):
        return f"{'not sent' if note.status == 'refused' else 'failed'}: {note.reason or note.status}"
    return note.status


def when(at: datetime, now: datetime) -> str:
    if at.date() == now.date():
        return at.strftime("%H:%M")
    return at.strftime("%H:%M tomorrow" if (at.date() - now.date()).days == 1 else "%H:%M on %a %d %b")


def quick_replies(items: list[dict[str, Any]], offered: list[dict[str, str]]) -> list[dict[str, str]]:
    """Tappable answers to the latest business message: the assistant's buttons, or a notification's choices."""
    last: Optional[dict[str, Any]] = None
    for item in reversed(items):
        if item["kind"] != "message":
            continue
        if item["from"] == "customer":
            return []
        if item["tick"] not in ("not_sent", "failed"):
            last = item
            break
    if last is None:
        return []
    if last["author"] == "Assistant" and offered:
        return [{"label": b["title"], "text": b["title"]} for b in offered if b.get("title")]
    text = last["text"]
    if SCALE.search(text):
        return [{"label": str(n), "text": str(n)} for n in range(1, 6)]
    options = NUMBERED.findall(text)
    if len(options) >= 2 and last["author"].startswith("Order update"):
        return [{"label": f"{n} · {label.strip()}", "text": n} for n, label in options]
    if YES_NO.search(text):
        return [{"label": "YES", "text": "YES"}, {"label": "NO", "text": "NO"}]
    return []
