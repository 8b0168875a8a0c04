"""The collaborators of the agent console, given by the wiring."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional, Protocol

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from orderline.assignment import Assignments
from orderline.clock import Clock
from orderline.conversations import ConversationStore
from orderline.courier_outbox import CourierOutbox
from orderline.escalations import EscalationService
from orderline.handback import HandBack
from orderline.orders import OrderService
from orderline.ports import Messenger


class NotificationDesk(Protocol):
    """What agents do with an order's proactive notifications (the messaging adapter's notifier)."""

    def for_order(self, order_id: str) -> list[dict]: ...

    def resend(self, notification_id: int, actor: str) -> Any: ...

    def tracking_message(self, order_id: str) -> Any:
        """The shipped message for the order (`.phone`, `.text`, `.template`), or None without an AWB."""


@dataclass(frozen=True)
class ConsoleDeps:
    sessions: sessionmaker[Session]
    clock: Clock
    escalations: EscalationService
    conversations: ConversationStore
    orders: OrderService
    sender: Messenger
    notifier: NotificationDesk
    handback: HandBack
    redis: redis.Redis
    engine: Engine  # the dashboard's read-only reports
    assignments: Assignments
    canned_replies: Callable[[], list[Any]]  # the seller's file, read again each time (console.canned)
    courier_requests: CourierOutbox  # what the courier was asked, and its answers
    reply_template: Optional[str] = None  # Content SID of TWILIO_TEMPLATE_AGENT_REPLY
    # When strangers may try to prove an order again (None: not locked); `OwnershipGuard.locked_until`.
    ownership_locked_until: Callable[[str], Optional[datetime]] = lambda _ref: None


def deps() -> ConsoleDeps:
    from console import bp
    from edge import deps as adapter_deps

    return adapter_deps.of(bp)
