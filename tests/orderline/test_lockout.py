"""Failure counters in Redis: counted before judging, given back on success, locks that expire."""
from __future__ import annotations

import redis

from orderline.lockout import Limit, Lockout

LIMIT = Limit(failures=2, window=60, lock=120)


def test_the_attempt_over_the_limit_locks_the_scope_for_its_lock_time(redis_url):
    cache = redis.Redis.from_url(redis_url)
    lockout = Lockout(cache, "t")
    scope = [("caller:a", LIMIT)]
    assert [lockout.attempt(scope) for _ in range(3)] == [0, 0, 120]
    assert 110 < lockout.locked_for(scope) <= 120
    assert lockout.attempt(scope) > 0 and lockout.failures("caller:a") == 3  # refused while locked, not counted
    assert lockout.locked_for([("caller:b", LIMIT)]) == 0


def test_a_success_gives_its_attempt_back_but_never_below_nothing(redis_url):
    cache = redis.Redis.from_url(redis_url)
    lockout = Lockout(cache, "t")
    scope = [("caller:a", LIMIT)]
    assert lockout.attempt(scope) == 0
    lockout.forgive(scope)
    assert lockout.failures("caller:a") == 0
    cache.delete("t:count:caller:a")  # the window expired between the attempt and its success
    lockout.forgive(scope)
    assert cache.get("t:count:caller:a") is None  # no count of -1 with no expiry (extra tries for ever)
    assert [lockout.attempt(scope) for _ in range(3)] == [0, 0, 120]
