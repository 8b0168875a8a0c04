"""The collaborators one app instance uses, built once from settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Optional
from zoneinfo import ZoneInfo

import redis
from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.rasa_client import RasaClient
from messaging.notifier import Notifier
from messaging.sender import WhatsAppSender
from messaging.twilio_client import make_client
from orderline.clock import Clock
from orderline.conversations import ConversationStore
from orderline.db import make_engine, session_factory
from orderline.escalations import EscalationService
from orderline.handback import HandBack
from orderline.inbox import TrackingInbox
from orderline.order_cache import OrderCache
from orderline.orders import OrderService
from orderline.present import OrderReads
from orderline.replies import NotificationReplies
from orderline.settings import Settings

if TYPE_CHECKING:
    import rq

    from messaging.jobs import DrainRequests


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=Clock)
    _redis: Optional[redis.Redis] = None

    @classmethod
    def build(cls, settings: Settings, clock: Optional[Clock] = None) -> "Services":
        engine = make_engine(settings.database_url)
        services = cls(settings=settings, engine=engine, sessions=session_factory(engine),
                       clock=clock or Clock(ZoneInfo(settings.timezone)))
        services.order_cache.watch(services.sessions)
        return services

    @cached_property
    def order_cache(self) -> OrderCache:
        return OrderCache(self.redis)

    @cached_property
    def order_reads(self) -> OrderReads:
        return OrderReads(self.orders, self.order_cache, self.clock)

    @cached_property
    def orders(self) -> OrderService:
        return OrderService(self.sessions, self.clock)

    @cached_property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.sessions, self.redis, self.clock)

    @cached_property
    def escalations(self) -> EscalationService:
        return EscalationService(self.sessions, self.conversations, self.clock)

    @cached_property
    def handback(self) -> HandBack:
        """Hand-back to the assistant, un-pausing Rasa; a refused un-pause is retried by a job."""
        def retry_later(phone: str, token: str, attempt: int, delay: float) -> None:
            from bot.jobs import resume_assistant

            self.queue.enqueue_in(timedelta(seconds=delay), resume_assistant, phone, token, attempt)

        return HandBack(self.escalations, self.rasa, self.redis, retry_later)

    @cached_property
    def queue(self) -> "rq.Queue":
        import rq

        return rq.Queue("orderline", connection=self.redis)

    @cached_property
    def sender(self) -> WhatsAppSender:
        def schedule_retry(message_id: int, delay: int) -> None:
            from messaging.jobs import deliver_message

            self.queue.enqueue_in(timedelta(seconds=delay), deliver_message, message_id)

        return WhatsAppSender(self.settings, self.sessions, self.conversations, self.clock,
                              make_client(self.settings), schedule_retry=schedule_retry)

    @cached_property
    def notifier(self) -> Notifier:
        # Its own sender: the notifier reschedules itself, so the sender must not also retry.
        sender = WhatsAppSender(self.settings, self.sessions, self.conversations, self.clock, make_client(self.settings))
        return Notifier(self.sessions, sender, self.clock, self.settings.template_map,
                        timedelta(seconds=self.settings.notification_lease_seconds))

    def enqueue_notifications(self, ids: list[int]) -> None:
        """Best effort: the periodic dispatcher finds anything not enqueued here."""
        from messaging.jobs import SEND_CHUNK, send_notifications

        for start in range(0, len(ids), SEND_CHUNK):
            try:
                self.queue.enqueue(send_notifications, ids[start:start + SEND_CHUNK])
            except redis.RedisError:
                return

    @cached_property
    def drain_requests(self) -> "DrainRequests":
        """Makes sure a drain job follows every committed group of courier events."""
        from messaging.jobs import DrainRequests, request_drain

        return DrainRequests(lambda: request_drain(self))

    @cached_property
    def inbox(self) -> TrackingInbox:
        return TrackingInbox(self.engine, self.sessions, self.clock, on_accepted=self.drain_requests)

    @cached_property
    def replies(self) -> NotificationReplies:
        return NotificationReplies(self.sessions, self.orders, self.clock)

    @cached_property
    def rasa(self) -> RasaClient:
        return RasaClient(self.settings.rasa_url)

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["orderline"]
