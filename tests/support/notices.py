"""Proactive messages as already sent, so a customer's reply has something to answer."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from orderline.models import Order
from orderline.notifications import queue_notification
from orderline.orders import in_transaction
from tests.support.values import NOW


def sent(services: Any, order_id: str, event: str) -> None:
    """Record the `event` notification of `order_id` as sent this morning (the test clock's day)."""
    def work(session):
        order = session.scalars(select(Order).where(Order.order_id == order_id)).one()
        note = queue_notification(session, order, event, NOW)
        note.status, note.sent_at = "sent", NOW.replace(hour=10)
    in_transaction(services.sessions, work)
