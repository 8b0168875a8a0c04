"""The RQ implementation of the job queue port: a job's name is a function of `wiring.worker`."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis
import rq

QUEUE_NAME = "orderline"
WORKER_MODULE = "wiring.worker"


class RQJobQueue:
    """Enqueue `wiring.worker.<job>` by dotted path, so callers never import the jobs."""

    def __init__(self, connection: redis.Redis, name: str = QUEUE_NAME) -> None:
        self.rq = rq.Queue(name, connection=connection)

    def enqueue(self, job: str, *args: Any, at_front: bool = False, timeout: int | None = None,
                **kwargs: Any) -> None:
        self.rq.enqueue_call(path(job), args=args, kwargs=kwargs, at_front=at_front, timeout=timeout)

    def enqueue_in(self, delay: timedelta, job: str, *args: Any, **kwargs: Any) -> None:
        self.rq.enqueue_in(delay, path(job), *args, **kwargs)


def path(job: str) -> str:
    from wiring import worker

    if job not in worker.JOBS:
        raise ValueError(f"no job named {job!r} in {WORKER_MODULE}")
    return f"{WORKER_MODULE}.{job}"
