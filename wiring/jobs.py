"""The RQ implementation of the job queue port: a job's name is a function of `wiring.worker`.

Jobs are stored as JSON, never pickled: the README allows a Redis shared with other software,
and anyone who can write a pickle there could run code in the worker. The worker and the
periodic scheduler (`wiring.cron`) read and write the same JSON (`SERIALIZER`).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis
import rq
from rq.serializers import JSONSerializer

QUEUE_NAME = "orderline"
WORKER_MODULE = "wiring.worker"
SERIALIZER = JSONSerializer


class RQJobQueue:
    """Enqueue `wiring.worker.<job>` by dotted path, so callers never import the jobs."""

    def __init__(self, connection: redis.Redis, name: str = QUEUE_NAME) -> None:
        self.rq = rq.Queue(name, connection=connection, serializer=SERIALIZER)

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
