"""A read-through Redis cache of presented orders (by id, and a customer's list by phone),
invalidated by every committed change.

Each order has a generation counter in Redis. Any commit that touched an order (or its
payment, address, shipment, events, returns or NDR actions, or its customer, whose name,
phone, email and language are part of the presented order) bumps the counter after the
commit: the unit of work records `OrderChanged`, and the wiring runs `OrderReads.forget` on them.
Readers note the counter before they read the database and fill the cache only if it has
not moved since (checked and stored atomically in Redis), so a slow reader can never store
an order that a writer has already replaced. An entry is the order's JSON body behind its
generation, so a hit is one MGET and no JSON work. Entries also expire (TTL) and are keyed
by the business day, because some fields (`is_delayed`, `allowed.return`) depend on
today's date. A customer's list (`GET /orders?phone=`) is cached the same way behind a generation
per phone, which the wiring bumps with the orders' own (`OrderReads.forget` finds the phones of
the changed orders). Without Redis, reads go to the DB.
"""
from __future__ import annotations

import logging
from typing import Callable, Iterable, Optional

import redis

log = logging.getLogger(__name__)
TTL = 120  # seconds


# Store the entry only if the order's generation is still the one read before loading it.
_FILL = """
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  return redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
end
return false
"""


class OrderCache:
    def __init__(self, cache: Optional[redis.Redis]) -> None:
        self.cache = cache
        self._fill = cache.register_script(_FILL) if cache else None

    @property
    def enabled(self) -> bool:
        return self.cache is not None

    def invalidate(self, numbers: Iterable[str], phones: Iterable[str] = ()) -> None:
        """Bump the generations of these orders and of these phones' lists."""
        if not self.cache:
            return
        gen_keys = [f"order:gen:{n}" for n in sorted(numbers)] + [f"orders:phone-gen:{p}" for p in sorted(phones)]
        try:
            with self.cache.pipeline(transaction=False) as pipe:
                for gen_key in gen_keys:
                    pipe.incr(gen_key)
                    pipe.expire(gen_key, 86400)
                pipe.execute()
        except redis.RedisError:
            log.warning("could not invalidate cached orders %s and lists %s", sorted(numbers), sorted(phones))

    def get_or_load(self, number: str, day: str, load: Callable[[], bytes]) -> bytes:
        """The order's JSON from the cache (one round trip), or from `load()`, filling the cache."""
        # Not "order:json:...": that held {"gen", "order"} JSON, which a process still running the
        # old code during a deploy would choke on if it found this format under the same key.
        return self._read_through(f"order:gen:{number}", f"order:body:{number}:{day}", load)

    def phone_list(self, phone: str, day: str, limit: int, load: Callable[[], bytes]) -> bytes:
        """The JSON list of `phone`'s orders (E.164) from the cache, or from `load()`, filling it."""
        return self._read_through(f"orders:phone-gen:{phone}", f"orders:phone-body:{phone}:{limit}:{day}", load)

    def _read_through(self, gen_key: str, key: str, load: Callable[[], bytes]) -> bytes:
        """The entry at `key` if stored under the current generation (one round trip), else `load()`.

        The generation read before `load()` is the one the entry is stored under, and the
        store happens only if it is still current (`_FILL`, atomic in Redis). A writer that
        committed after that read has bumped it by then or will bump it after, so a stale
        read is either not stored or stored under a generation no reader accepts.
        """
        if not self.cache:
            return load()
        try:
            gen, blob = self.cache.mget(gen_key, key)
        except redis.RedisError:
            return load()
        gen = gen or b"0"
        if blob is not None:
            stored_gen, _, body = blob.partition(b"\n")
            if stored_gen == gen:
                return body
        value = load()
        try:
            self._fill(keys=[gen_key, key], args=[gen, gen + b"\n" + value, TTL])
        except redis.RedisError:
            log.warning("could not cache %s", key)
        return value
