"""The collaborators of the customer simulator, given by the wiring."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import redis
from sqlalchemy.orm import Session, sessionmaker

from orderline.clock import Clock
from orderline.conversations import ConversationStore
from orderline.orders import OrderService
from orderline.settings import Settings


@dataclass(frozen=True)
class SimDeps:
    settings: Settings  # the simulator signs like Twilio and posts to the app's own front doors
    sessions: sessionmaker[Session]
    clock: Clock
    orders: OrderService
    conversations: ConversationStore
    redis: redis.Redis
    offered_buttons: Callable[[str], list[dict[str, str]]]  # the WhatsApp channel's last buttons for a phone


def deps() -> SimDeps:
    from edge import deps as adapter_deps
    from sim import bp

    return adapter_deps.of(bp)
