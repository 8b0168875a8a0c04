"""Failure counters with expiry, and the locks they set, kept in Redis so they hold across calls,
chats and processes.

An attempt is counted before it is judged (`attempt`) and given back when it succeeds (`forgive`):
counting afterwards would let a burst of parallel guesses all pass the check before the first of
them had failed. A scope that goes over its limit is locked for `Limit.lock` seconds; while
locked, attempts are refused without being judged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import redis


@dataclass(frozen=True)
class Limit:
    """At most `failures` failures within `window` seconds; one more locks the scope for `lock` seconds."""

    failures: int
    window: int
    lock: int


def count(cache: redis.Redis, key: str, window: int) -> tuple[int, int]:
    """One more in `key`'s fixed window of `window` seconds: the count so far, and the seconds left.

    One SET NX EX plus INCR in MULTI/EXEC: the window's expiry is set once, by its first count.
    """
    pipe = cache.pipeline()
    pipe.set(key, 0, ex=window, nx=True)
    pipe.incr(key)
    pipe.ttl(key)
    _, n, ttl = pipe.execute()
    return int(n), int(ttl)


# Only a count that still exists goes down: a plain DECR after the window expired would leave a
# negative count with no expiry, that is, extra tries for ever.
GIVE_BACK = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end return 0"


def give_back(cache: redis.Redis, *keys: str) -> None:
    """Take one back from each count in `keys` that still exists (an attempt that succeeded)."""
    for key in keys:
        cache.eval(GIVE_BACK, 1, key)


Scope = tuple[str, Limit]  # a key naming what is counted (a caller, a line, an order) and its limit


class Lockout:
    """Counts failures per scope under `prefix` in Redis. Redis errors propagate: the caller refuses."""

    def __init__(self, cache: redis.Redis, prefix: str) -> None:
        self.cache = cache
        self.prefix = prefix
        self._give_back = cache.register_script(GIVE_BACK)

    def locked_for(self, scopes: Sequence[Scope]) -> int:
        """Seconds until every scope's lock has ended; 0 when none is locked."""
        pipe = self.cache.pipeline(transaction=False)
        for key, _ in scopes:
            pipe.ttl(self._lock(key))
        return max([int(ttl) for ttl in pipe.execute() if int(ttl) > 0], default=0)

    def attempt(self, scopes: Sequence[Scope]) -> int:
        """Count one attempt in every scope: 0 when it may be judged now, else the seconds to wait.

        The attempt that goes over a scope's limit locks that scope and is refused.
        """
        wait = self.locked_for(scopes)
        if wait:
            return wait
        waits = [self._spend(key, limit) for key, limit in scopes]
        return max(waits, default=0)

    def forgive(self, scopes: Sequence[Scope]) -> None:
        """The attempt succeeded: give it back, so only failures stay counted."""
        for key, _ in scopes:
            self._give_back(keys=[self._count(key)])

    def failures(self, key: str) -> int:
        """Failures counted for `key` in its current window."""
        return int(self.cache.get(self._count(key)) or 0)

    def _spend(self, key: str, limit: Limit) -> int:
        n, _ = count(self.cache, self._count(key), limit.window)
        if n <= limit.failures:
            return 0
        self.cache.set(self._lock(key), 1, ex=limit.lock)
        return limit.lock

    def _count(self, key: str) -> str:
        return f"{self.prefix}:count:{key}"

    def _lock(self, key: str) -> str:
        return f"{self.prefix}:lock:{key}"
