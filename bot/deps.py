"""The collaborators of the WhatsApp front door and its background turns, given by the wiring."""
from __future__ import annotations

from dataclasses import dataclass

import redis
from sqlalchemy.orm import Session, sessionmaker

from bot.routing import ChannelSettings
from orderline.clock import Clock
from orderline.conversations import ConversationStore
from orderline.escalations import EscalationService
from orderline.handback import HandBack
from orderline.jobs import JobQueue
from orderline.ports import Assistant, Messenger
from orderline.replies import NotificationReplies


@dataclass(frozen=True)
class WhatsAppDeps:
    channel: ChannelSettings
    sessions: sessionmaker[Session]
    clock: Clock
    conversations: ConversationStore
    escalations: EscalationService
    replies: NotificationReplies
    rasa: Assistant
    handback: HandBack  # every turn asks the assistant through it (un-pauses after a hand-back)
    sender: Messenger
    redis: redis.Redis  # the buttons last offered to each customer
    jobs: JobQueue


def deps() -> WhatsAppDeps:
    from bot.whatsapp import bp
    from edge import deps as adapter_deps

    return adapter_deps.of(bp)
