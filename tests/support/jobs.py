"""Running the worker's jobs in the test process, as `rq worker orderline` would."""
from __future__ import annotations

from typing import Any

from wiring.jobs import SERIALIZER
from wiring.worker import Worker, bound as bound_services


def settle(services: Any) -> None:
    """Wait for the web side's background drain requests (see `messaging.jobs.DrainRequests`),
    so the queue holds every job the requests so far asked for."""
    assert services.drain_requests.flush(5.0), "a drain request did not finish within 5 s"


def run_jobs(services: Any) -> None:
    """Every queued job, once (a burst), in this process, bound to `services`, with the Procfile's worker class."""
    settle(services)
    with bound_services(services):
        Worker([services.queue], connection=services.redis, serializer=SERIALIZER).work(burst=True)
