"""The attack tests start from a clean sign-in throttle."""
from __future__ import annotations

import pytest
import redis

from console import throttle
from tests.conftest import TEST_REDIS_URL


@pytest.fixture(autouse=True)
def fresh_throttle():
    """No sign-in attempts counted from earlier tests (the Redis database outlives each test's DB)."""
    cache = redis.Redis.from_url(TEST_REDIS_URL)
    keys = list(cache.scan_iter(throttle.PREFIX + "*"))
    if keys:
        cache.delete(*keys)
    cache.close()
