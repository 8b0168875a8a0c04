"""Caps on the live event stream, so agents' tabs never take the threads the webhooks need.

Each open stream holds a server thread until it ends (CONSOLE_SSE_MAX_SECONDS at most; the
browser then reconnects). Two caps keep that bounded:

* per agent, across every process (CONSOLE_SSE_PER_AGENT): a sorted set in Redis of the agent's
  streams by start time. The newest ones win: an older stream finds itself gone from the set
  within a second, tells its tab (`event: evicted`) and ends, freeing its thread.
* per process (CONSOLE_SSE_PER_PROCESS): past it a new stream is refused (503 with Retry-After)
  so that many agents together still leave the rest of gunicorn's threads to Twilio and the API.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Callable, Optional

import redis
from flask import Flask

PREFIX = "console:streams:"
_lock = threading.Lock()


def process_slot(app: Flask) -> Optional[Callable[[], None]]:
    """Take one of this process's stream slots: a function that gives it back, or None when all are taken."""
    with _lock:
        slots = app.extensions.setdefault("console.streams", threading.BoundedSemaphore(
            int(app.config["CONSOLE_SSE_PER_PROCESS"])))
    if not slots.acquire(blocking=False):
        return None
    given_back = threading.Event()

    def give_back() -> None:
        if not given_back.is_set():
            given_back.set()
            slots.release()
    return give_back


class AgentStreams:
    """One agent's streams in Redis; `open` returns this stream's id."""

    def __init__(self, cache: redis.Redis, agent_id: int, per_agent: int, max_seconds: float) -> None:
        self.cache, self.key = cache, f"{PREFIX}{agent_id}"
        self.per_agent, self.max_seconds = per_agent, max_seconds

    def open(self) -> str:
        stream = uuid.uuid4().hex
        now = time.time()
        pipe = self.cache.pipeline()
        # Streams older than any stream may live were left by a process that died mid-stream.
        pipe.zremrangebyscore(self.key, "-inf", now - self.max_seconds - 60)
        pipe.zadd(self.key, {stream: now})
        pipe.zrange(self.key, 0, -self.per_agent - 1)  # all but the newest `per_agent`
        pipe.expire(self.key, int(self.max_seconds) + 120)
        _, _, evicted, _ = pipe.execute()
        if evicted:
            self.cache.zrem(self.key, *evicted)
        return stream

    def is_open(self, stream: str) -> bool:
        return self.cache.zscore(self.key, stream) is not None

    def close(self, stream: str) -> None:
        try:
            self.cache.zrem(self.key, stream)
        except redis.RedisError:
            pass  # it ages out of the set (see `open`)
