"""A read-through Redis cache of presented orders, invalidated by every committed change.

Each order has a generation counter in Redis. Any commit that touched an order (or its
payment, address, shipment, events, returns or NDR actions) bumps the counter after the
commit. Readers WATCH the counter while they read the database and fill the cache only if
it did not move, so a slow reader can never store an order that a writer has already
replaced. Entries also expire (TTL) and are keyed by the business day, because some fields
(`is_delayed`, `allowed.return`) depend on today's date. Without Redis, reads go to the DB.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from orderline.models import Address, NdrAction, Order, Payment, ReturnRequest, Shipment, ShipmentEvent

log = logging.getLogger(__name__)
TTL = 120  # seconds


def _number_of(obj: Any) -> Optional[str]:
    if isinstance(obj, Order):
        return obj.number
    order = getattr(obj, "order", None)
    if order is None and isinstance(obj, ShipmentEvent) and obj.shipment is not None:
        order = obj.shipment.order
    return order.number if isinstance(order, Order) else None


class OrderCache:
    def __init__(self, cache: Optional[redis.Redis]) -> None:
        self.cache = cache

    def watch(self, factory: sessionmaker[Session]) -> None:
        """Bump generations after every commit of `factory`'s sessions that touched orders."""

        @event.listens_for(factory, "before_flush")
        def _collect(session: Session, _ctx: Any, _instances: Any) -> None:
            touched = session.info.setdefault("touched_orders", set())
            for obj in list(session.new) + list(session.dirty) + list(session.deleted):
                if isinstance(obj, (Order, Payment, Address, Shipment, ShipmentEvent, ReturnRequest, NdrAction)):
                    number = _number_of(obj)
                    if number:
                        touched.add(number)

        @event.listens_for(factory, "after_commit")
        def _bump(session: Session) -> None:
            touched = session.info.pop("touched_orders", set())
            if touched:
                self.invalidate(touched)

        @event.listens_for(factory, "after_rollback")
        def _forget(session: Session) -> None:
            session.info.pop("touched_orders", None)

    def invalidate(self, numbers: set[str]) -> None:
        if not self.cache:
            return
        try:
            with self.cache.pipeline(transaction=False) as pipe:
                for number in numbers:
                    pipe.incr(f"order:gen:{number}")
                    pipe.expire(f"order:gen:{number}", 86400)
                pipe.execute()
        except redis.RedisError:
            log.warning("could not invalidate cached orders %s", sorted(numbers))

    def get_or_load(self, number: str, day: str, load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The presented order from the cache (one round trip), or from `load()`, filling the cache."""
        if not self.cache:
            return load()
        gen_key, key = f"order:gen:{number}", f"order:json:{number}:{day}"
        try:
            gen, blob = self.cache.mget(gen_key, key)
            if blob is not None:
                entry = json.loads(blob)
                if entry.get("gen") == (gen or b"0").decode():
                    return entry["order"]
            with self.cache.pipeline(transaction=True) as pipe:
                pipe.watch(gen_key)
                current = (pipe.get(gen_key) or b"0").decode()
                value = load()
                pipe.multi()
                pipe.set(key, json.dumps({"gen": current, "order": value}), ex=TTL)
                try:
                    pipe.execute()
                except redis.WatchError:
                    pass  # a writer moved on while we read; serve what we read, cache nothing
                return value
        except redis.RedisError:
            return load()
