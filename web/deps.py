"""The collaborators of the web adapter's blueprints: the order API, health and courier webhooks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Engine

import redis
from orderline.clock import Clock
from orderline.escalations import EscalationService
from orderline.inbox import TrackingInbox
from orderline.orders import OrderService
from orderline.ownership import OneTimeCodes, OwnershipGuard
from web.present import OrderReads


@dataclass(frozen=True)
class ApiDeps:
    api_token: str
    orders: OrderService
    reads: OrderReads
    escalations: EscalationService
    clock: Clock
    ownership: OwnershipGuard
    codes: OneTimeCodes


@dataclass(frozen=True)
class HealthDeps:
    engine: Engine
    redis: redis.Redis
    assistant_ready: Callable[[], bool]
    api_token: str  # shows the readiness details to callers outside the internal network


@dataclass(frozen=True)
class StoreWebhookDeps:
    """Each store's signing secret ("" when that store is not connected), the inbox, and Redis
    for remembering delivery ids."""

    shopify_secret: str
    woocommerce_secret: str
    inbox: TrackingInbox
    redis: redis.Redis


@dataclass(frozen=True)
class CourierWebhookDeps:
    shiprocket_token: str
    inbox: TrackingInbox
