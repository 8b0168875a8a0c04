"""The collaborators one app instance uses, built once from settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Optional

import redis
from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from orderline.clock import Clock
from orderline.conversations import ConversationStore
from orderline.db import make_engine, session_factory
from orderline.escalations import EscalationService
from orderline.orders import OrderService
from orderline.settings import Settings


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
        return cls(settings=settings, engine=engine, sessions=session_factory(engine), clock=clock or Clock())

    @cached_property
    def orders(self) -> OrderService:
        return OrderService(self.sessions, self.clock)

    @cached_property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.sessions, self.redis, self.clock)

    @cached_property
    def escalations(self) -> EscalationService:
        return EscalationService(self.sessions, self.conversations, self.clock)

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["orderline"]
