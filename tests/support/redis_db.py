"""One Redis database per test run (or benchmark run), claimed so that no two runs ever share one.

A run claims a database number on the Redis server with `SET orderline:test-db-claim:<n> <owner>
NX EX <ttl>` in database 0, keeps the claim alive from a daemon thread while it runs, flushes the
database, and deletes the claim when it ends. A run that dies (kill -9) loses its claim when the
TTL runs out. Two concurrent `pytest` runs, the action tests' own pytest and `make bench` therefore
each get a database of their own, and the app's tests share one per run, flushed per test
(the `redis_url` fixture in tests/conftest.py).

Configuration:
- `TEST_REDIS_URL` picks the server (default redis://127.0.0.1:6379). A database number in it is
  ignored: the run always claims one, so an old `.../14` in a shell profile cannot make two runs
  share a database. The benchmarks read `BENCH_REDIS_URL` the same way.
- `TEST_REDIS_DBS` is the range claimed from, "8-15" by default: the numbers the suites always
  used, leaving 0-7 to `make run` and to other deployments on a developer's Redis, which a test run
  must never flush.
- The per-suite variables of old (BOT_TEST_REDIS_URL, SIM_TEST_REDIS_URL, TEST_IVR_REDIS_URL,
  CONSOLE_TEST_REDIS_URL, LIVE_STACK_REDIS_DB, BENCH_NOTIFY_REDIS_URL, BENCH_REDIS_DB) are not read.

Used from the app's Python 3.11 (redis 8) and from .venv-rasa's Python 3.10 (redis 4), so it
imports nothing of the app.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

import redis

DEFAULT_SERVER = "redis://127.0.0.1:6379"
DEFAULT_DBS = "8-15"
CLAIM_KEY = "orderline:test-db-claim:{}"
TTL = 90  # seconds a claim outlives a run that died without releasing it

# Only the owner may extend or delete its claim: a run paused past the TTL must not take back
# (or delete) a claim that another run has made since.
_EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def server_url(env_var: str = "TEST_REDIS_URL") -> str:
    """The Redis server named by `env_var` (default redis://127.0.0.1:6379), without a database number."""
    return without_db(os.environ.get(env_var) or DEFAULT_SERVER)


def without_db(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", parts.query, ""))


def db_url(server: str, db: int) -> str:
    """`server` (a redis:// URL) with database `db`."""
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


def candidate_dbs(spec: Optional[str] = None) -> list[int]:
    """The database numbers to claim from: "8-15", or a list such as "3,5,9-11"."""
    numbers: list[int] = []
    for part in (spec or os.environ.get("TEST_REDIS_DBS") or DEFAULT_DBS).split(","):
        low, _, high = part.strip().partition("-")
        numbers += range(int(low), int(high or low) + 1)
    if 0 in numbers:
        raise ValueError("database 0 holds the claims (and usually someone's data); it is never claimed")
    return numbers


class ClaimedDb:
    """A Redis database this process holds until `release()`; `url` points at it."""

    def __init__(self, server: str, db: int, owner: str, ttl: int) -> None:
        self.server, self.db, self.owner, self.ttl = server, db, owner, ttl
        self.url = db_url(server, db)
        self._key = CLAIM_KEY.format(db)
        self._claims = redis.Redis.from_url(db_url(server, 0))
        self._stop = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name=f"redis-db-{db}-claim", daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if not self._claims.eval(_EXTEND, 1, self._key, self.owner, self.ttl) and not self._stop.is_set():
                    # Paused past the TTL (or Redis lost the key): take it back if nobody else has.
                    self._claims.set(self._key, self.owner, nx=True, ex=self.ttl)
            except redis.RedisError:
                pass  # Redis restarting: try again on the next round, well within the TTL

    def flush(self) -> None:
        """Empty the claimed database."""
        client = redis.Redis.from_url(self.url)
        try:
            client.flushdb()
        finally:
            client.close()

    def release(self) -> None:
        """Stop keeping the claim alive and give the database back."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._keeper.join(timeout=5)
        try:
            self._claims.eval(_RELEASE, 1, self._key, self.owner)
        finally:
            self._claims.close()

    def __enter__(self) -> "ClaimedDb":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def claim_db(server: Optional[str] = None, label: str = "", ttl: int = TTL, dbs: Optional[str] = None) -> ClaimedDb:
    """Claim a free database on `server` (default: `TEST_REDIS_URL`'s) and flush it.

    Args:
        server: a redis:// URL; its database number, if any, is ignored.
        label: what is claiming it (shown in the claim's value, for whoever wonders who holds a DB).
        ttl: seconds before the claim of a run that died without releasing it lapses.
        dbs: the numbers to claim from (default `TEST_REDIS_DBS`, else 8-15).

    Raises:
        RuntimeError: every database in the range is claimed.
    """
    server = without_db(server) if server else server_url()
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]} {label}".strip()
    claims = redis.Redis.from_url(db_url(server, 0))
    try:
        numbers = candidate_dbs(dbs)
        for db in numbers:
            if claims.set(CLAIM_KEY.format(db), owner, nx=True, ex=ttl):
                break
        else:
            holders = {n: claims.get(CLAIM_KEY.format(n)) for n in numbers}
            raise RuntimeError(f"every Redis database in {numbers} on {server} is claimed: {holders}")
    finally:
        claims.close()
    claimed = ClaimedDb(server, db, owner, ttl)
    try:
        claimed.flush()  # whatever a run that died left behind
    except BaseException:
        claimed.release()
        raise
    return claimed


def redis_parts_yml(store: str, url: str, key_prefix: str) -> str:
    """An endpoints.yml Redis store (`tracker_store` or `lock_store`) on the database `url` names."""
    parts = urlsplit(url)
    body = (f"  type: redis\n  url: {parts.hostname or 'localhost'}\n  port: {parts.port or 6379}\n"
            f"  db: {parts.path.lstrip('/') or 0}\n  key_prefix: {key_prefix}\n")
    if parts.password:
        body += f"  password: {json.dumps(parts.password)}\n"
    return f"{store}:\n{body}"


def rasa_stores(url: str, key_prefix: str) -> str:
    """endpoints.yml's Redis tracker and lock stores on the database `url` names (Rasa takes the parts)."""
    return redis_parts_yml("tracker_store", url, key_prefix) + redis_parts_yml("lock_store", url, key_prefix)
