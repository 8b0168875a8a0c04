"""The test runs' Redis database claims (tests/support/redis_db.py), on the real Redis server."""
from __future__ import annotations

import time

import pytest
import redis

from tests.support.redis_db import CLAIM_KEY, candidate_dbs, claim_db, rasa_stores, server_url


def holder(claimed) -> bytes | None:
    with redis.Redis.from_url(claimed.server + "/0") as claims:
        return claims.get(CLAIM_KEY.format(claimed.db))


def test_a_second_claim_gets_another_database(redis_db):
    with claim_db(redis_db.server, label="second run") as other:
        assert other.db != redis_db.db and other.url.endswith(f"/{other.db}")
        assert holder(other) == other.owner.encode() and holder(redis_db) == redis_db.owner.encode()
    assert holder(other) is None


def test_a_claimed_database_is_not_handed_out_again(redis_db):
    with pytest.raises(RuntimeError, match="claimed"):
        claim_db(redis_db.server, dbs=str(redis_db.db))


def test_a_new_claim_starts_from_an_empty_database(redis_db):
    first = claim_db(redis_db.server)
    redis.Redis.from_url(first.url).set("left-behind", "1")
    first.release()
    with claim_db(redis_db.server, dbs=str(first.db)) as second:
        assert redis.Redis.from_url(second.url).dbsize() == 0


def test_a_claim_outlives_its_ttl_while_its_run_lives(redis_db):
    with claim_db(redis_db.server, ttl=2) as claimed:
        time.sleep(3)
        assert holder(claimed) == claimed.owner.encode()


def test_release_leaves_a_claim_that_another_run_made_since(redis_db):
    claimed = claim_db(redis_db.server)
    claims = redis.Redis.from_url(redis_db.server + "/0")
    claims.set(CLAIM_KEY.format(claimed.db), "someone else")  # ours lapsed; another run took the number
    claimed.release()
    try:
        assert claims.get(CLAIM_KEY.format(claimed.db)) == b"someone else"
    finally:
        claims.delete(CLAIM_KEY.format(claimed.db))


def test_configuration(monkeypatch):
    monkeypatch.setenv("TEST_REDIS_URL", "redis://:pw@redis.test:6400/14")
    assert server_url() == "redis://:pw@redis.test:6400"
    assert candidate_dbs("3,5,9-11") == [3, 5, 9, 10, 11]
    with pytest.raises(ValueError):
        candidate_dbs("0-7")
    stores = rasa_stores("redis://:pw@redis.test:6400/9", "live1")
    assert stores.count("url: redis.test\n  port: 6400\n  db: 9\n  key_prefix: live1\n  password: \"pw\"") == 2
