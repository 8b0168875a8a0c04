"""The object graph: every collaborator, built once from settings for the app, the worker and the CLI."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Optional
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import WhatsAppDeps
from bot.rasa_client import RasaClient
from bot.routing import ChannelSettings
from couriers import shiprocket
from couriers.jobs import CourierJobs
from couriers.shiprocket_api import ShiprocketApi
from messaging.jobs import DrainRequests, NotifyJobs, request_drain
from messaging.notifier import Notifier
from messaging.sender import WhatsAppSender
from messaging.twilio_client import make_client
from orderline.clock import Clock
from orderline.conversations import ConversationStore
from orderline.courier_outbox import CourierOutbox
from orderline.db import make_engine, session_factory
from orderline.escalations import EscalationService
from orderline.handback import HandBack
from orderline.inbox import Parser, TrackingInbox
from orderline.orders import OrderService
from orderline.ownership import OneTimeCodes, OwnershipGuard
from orderline.ports import SendResult, Template
from orderline.replies import NotificationReplies
from orderline.settings import Settings
from orderline.uow import AfterCommit, ConversationStateChanged, CourierRequestQueued, OrderChanged, ParcelLost
from stores import shopify, woocommerce
from web.order_cache import OrderCache
from web.present import OrderReads
from wiring.jobs import RQJobQueue

if TYPE_CHECKING:
    import rq


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
        services.after_commit.install(services.sessions)
        return services

    @cached_property
    def after_commit(self) -> AfterCommit:
        """What runs once a transaction has committed, given the events it recorded."""
        hooks = AfterCommit()
        hooks.on(OrderChanged, self.order_reads.forget)
        hooks.on(ConversationStateChanged, self.conversations.cache_states)
        # Best effort: the cron's periodic escalate_losses finds any loss this could not queue.
        hooks.on(ParcelLost, lambda _losses: self.jobs.enqueue("escalate_losses"))
        hooks.on(CourierRequestQueued, lambda queued: self.courier_jobs.enqueue([e.request_id for e in queued]))
        return hooks

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
    def ownership(self) -> OwnershipGuard:
        """Proof of ownership, one candidate at a time, failures counted and locked in Redis."""
        return OwnershipGuard(self.redis, self.orders, self.clock)

    @cached_property
    def codes(self) -> OneTimeCodes:
        """One-time codes for changes, sent through the outbox and delivered by a job (never inline)."""
        def send(phone: str, text: str, template: Optional[Template]) -> SendResult:
            written = self.sender.prepare(phone, text, author="system", template=template)
            if written.status == "queued" and written.message_id is not None:
                self.jobs.enqueue("deliver_message", written.message_id, at_front=True)
            return written

        return OneTimeCodes(self.redis, self.orders, self.clock, send, f"otp:{self.settings.secret_key}".encode(),
                            template_sid=self.settings.template_map.get("ownership_code", "").strip())

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
            self.jobs.enqueue_in(timedelta(seconds=delay), "resume_assistant", phone, token, attempt)

        return HandBack(self.escalations, self.rasa, self.redis, retry_later)

    @cached_property
    def jobs(self) -> RQJobQueue:
        return RQJobQueue(self.redis)

    @property
    def queue(self) -> "rq.Queue":
        """The RQ queue behind `jobs`, for the worker and for tests that inspect it."""
        return self.jobs.rq

    @cached_property
    def sender(self) -> WhatsAppSender:
        def schedule_retry(message_id: int, delay: int) -> None:
            self.jobs.enqueue_in(timedelta(seconds=delay), "deliver_message", message_id)

        return WhatsAppSender(self.settings, self.sessions, self.conversations, self.clock,
                              make_client(self.settings), schedule_retry=schedule_retry)

    @cached_property
    def notifier(self) -> Notifier:
        # Its own sender: the notifier reschedules itself, so the sender must not also retry.
        sender = WhatsAppSender(self.settings, self.sessions, self.conversations, self.clock, make_client(self.settings))
        return Notifier(self.sessions, sender, self.clock, self.settings.template_map,
                        timedelta(seconds=self.settings.notification_lease_seconds),
                        remedy=self.settings.lost_parcel_remedy,
                        silent_after=timedelta(hours=self.settings.silent_shipment_hours))

    @cached_property
    def notify_jobs(self) -> NotifyJobs:
        return NotifyJobs(self.notifier, self.inbox, self.redis, self.jobs)

    @cached_property
    def drain_requests(self) -> DrainRequests:
        """Makes sure a drain job follows every committed group of courier events."""
        return DrainRequests(lambda: request_drain(self.redis, self.jobs))

    @cached_property
    def tracking_parsers(self) -> dict[str, Parser]:
        """Each courier and store adapter's payload parser, by the `source` its webhook stores events under."""
        return {shiprocket.SOURCE: shiprocket.parse, shopify.SOURCE: shopify.parse, woocommerce.SOURCE: woocommerce.parse}

    @cached_property
    def inbox(self) -> TrackingInbox:
        return TrackingInbox(self.engine, self.sessions, self.clock, self.tracking_parsers,
                             on_accepted=self.drain_requests)

    @cached_property
    def shiprocket_api(self) -> Optional[ShiprocketApi]:
        """The Shiprocket API user, or None without credentials (requests are then recorded as not sent)."""
        s = self.settings
        if not (s.shiprocket_api_email and s.shiprocket_api_password):
            return None
        return ShiprocketApi(s.shiprocket_api_base_url, s.shiprocket_api_email, s.shiprocket_api_password, self.redis)

    @cached_property
    def courier_outbox(self) -> CourierOutbox:
        return CourierOutbox(self.sessions, self.clock, self.shiprocket_api, self.sender, self.escalations)

    @cached_property
    def courier_jobs(self) -> CourierJobs:
        return CourierJobs(self.courier_outbox, self.jobs)

    @cached_property
    def replies(self) -> NotificationReplies:
        return NotificationReplies(self.sessions, self.orders, self.clock)

    @cached_property
    def rasa(self) -> RasaClient:
        return RasaClient(self.settings.rasa_url, channel_secret=self.settings.rasa_channel_secret,
                          auth_token=self.settings.rasa_auth_token)

    @cached_property
    def whatsapp(self) -> WhatsAppDeps:
        return WhatsAppDeps(ChannelSettings.from_settings(self.settings), self.sessions, self.clock, self.conversations,
                            self.escalations, self.replies, self.rasa, self.handback, self.sender, self.redis,
                            self.jobs)

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis
