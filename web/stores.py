"""Store order webhooks (Shopify, WooCommerce): signed, deduplicated, durable, quick.

A delivery is checked (the store's HMAC of the raw body, then the payload's shape, read by the
store adapter's parser through the inbox) and appended to the same inbox the courier webhook
uses; the answer is 200 once it is committed, and the worker applies it moments later
(`orderline/store_orders.py`). Both stores sign the same way: base64 of HMAC-SHA256 of the raw
body under the shared secret. A store whose secret is not set has no endpoint (404): nothing
unsigned is ever accepted. A delivery id seen before is answered 200 and not stored again; should
that memory be lost (Redis), applying an order twice still changes nothing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from typing import Optional

import redis
from flask import Blueprint, request

from edge import deps as adapter_deps
from edge.jsonapi import error, json_bytes
from orderline.errors import InvalidInput
from web.deps import StoreWebhookDeps

log = logging.getLogger(__name__)
bp = Blueprint("stores", __name__, url_prefix="/webhooks")
SEEN_KEY = "orderline:store-webhook:{source}:{delivery}"
SEEN_TTL = 7 * 24 * 3600  # longer than either store keeps retrying (Shopify: 48 hours)
CLAIM_TTL = 60  # a delivery being stored; a concurrent retry of it waits for Shopify's next try
WOO_PING = re.compile(rb"webhook_id=\d{1,20}")


@dataclass(frozen=True)
class Store:
    """How one store signs and labels its webhook deliveries."""

    source: str  # the inbox source its parser is registered under
    env: str  # the setting that holds its secret, named in the 404
    signature: str
    topic: str
    delivery: str
    topics: tuple[str, ...]  # the topics applied; others are acknowledged and dropped


SHOPIFY = Store("shopify", "SHOPIFY_WEBHOOK_SECRET", "X-Shopify-Hmac-Sha256", "X-Shopify-Topic",
                "X-Shopify-Webhook-Id", ("orders/create", "orders/updated", "orders/cancelled"))
WOOCOMMERCE = Store("woocommerce", "WOOCOMMERCE_WEBHOOK_SECRET", "X-WC-Webhook-Signature", "X-WC-Webhook-Topic",
                    "X-WC-Webhook-Delivery-ID", ("order.created", "order.updated"))


def signed(secret: str, body: bytes, given: str) -> bool:
    """Whether `given` is base64(HMAC-SHA256(secret, body)), compared in constant time."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return bool(given) and hmac.compare_digest(given.strip().encode(), expected)


@bp.post("/shopify")
def shopify():
    svc: StoreWebhookDeps = adapter_deps.of(bp)
    return receive(svc, SHOPIFY, svc.shopify_secret)


@bp.post("/woocommerce")
def woocommerce():
    svc: StoreWebhookDeps = adapter_deps.of(bp)
    if svc.woocommerce_secret and WOO_PING.fullmatch(request.get_data()) and not request.headers.get(WOOCOMMERCE.topic):
        # WooCommerce checks a new webhook's URL with this unsigned ping; nothing is stored.
        return json_bytes(b'{"status":"pong"}')
    return receive(svc, WOOCOMMERCE, svc.woocommerce_secret)


def receive(svc: StoreWebhookDeps, store: Store, secret: str):
    if not secret:
        return error(404, "not_configured", f"{store.source} webhooks are not set up here ({store.env} is empty)")
    body = request.get_data()  # raw bytes: the signature covers exactly these
    if not signed(secret, body, request.headers.get(store.signature, "")):
        return error(401, "unauthorized", f"missing or wrong {store.signature}")
    topic = request.headers.get(store.topic, "")
    if topic not in store.topics:
        return json_bytes(b'{"status":"ignored"}')  # signed, but not a topic we read: no retries
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except ValueError:
        return error(400, "bad_json", "the body is not UTF-8 JSON")
    try:
        svc.inbox.parse(store.source, payload)
    except InvalidInput as exc:
        return error(400, exc.code, exc.message, fields=exc.fields)
    key = _seen_key(store, request.headers.get(store.delivery, ""))
    if key is not None and not _claim(svc.redis, key):
        return json_bytes(b'{"status":"duplicate"}')
    try:
        inbox_id = svc.inbox.accept(text, store.source)
    except Exception:
        _forget(svc.redis, key)  # not stored: the store's retry must be taken
        raise
    _remember(svc.redis, key)
    return json_bytes(b'{"status":"accepted","id":%d}' % inbox_id)


def _seen_key(store: Store, delivery: str) -> Optional[str]:
    delivery = delivery.strip()[:100]
    return SEEN_KEY.format(source=store.source, delivery=delivery) if delivery else None


def _claim(cache: redis.Redis, key: str) -> bool:
    """False when this delivery id was stored before (or is being stored now)."""
    try:
        return bool(cache.set(key, b"claimed", nx=True, ex=CLAIM_TTL))
    except redis.RedisError:
        log.warning("cannot check store delivery %s; storing it (applying it twice changes nothing)", key)
        return True


def _remember(cache: redis.Redis, key: Optional[str]) -> None:
    if key is not None:
        try:
            cache.set(key, b"stored", ex=SEEN_TTL)
        except redis.RedisError:
            log.warning("cannot remember store delivery %s", key)


def _forget(cache: redis.Redis, key: Optional[str]) -> None:
    if key is not None:
        try:
            cache.delete(key)
        except redis.RedisError:
            pass
