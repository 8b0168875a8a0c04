"""The courier-request jobs. `wiring.worker` runs them with their collaborators."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import redis

from orderline.courier_outbox import CourierOutbox
from orderline.jobs import JobQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CourierJobs:
    outbox: CourierOutbox
    jobs: JobQueue

    def enqueue(self, request_ids: list[int]) -> None:
        """Best effort, after the order change committed: the periodic sweep finds anything missed."""
        for request_id in request_ids:
            try:
                self.jobs.enqueue("send_courier_request", request_id)
            except redis.RedisError:
                log.warning("cannot queue courier request %s; the sweep will send it", request_id)
                return


def send_courier_request(deps: CourierJobs, request_id: int) -> str:
    """One attempt; a retry comes back on its own after the backoff."""
    outcome = deps.outbox.process(request_id)
    if outcome.retry_in is not None:
        deps.jobs.enqueue_in(timedelta(seconds=outcome.retry_in), "send_courier_request", request_id)
    return outcome.status


def sweep_courier_requests(deps: CourierJobs) -> int:
    """Queue what is due or abandoned (a lost job, a dead worker), and finish any follow-up left half-done."""
    due = deps.outbox.due()
    deps.enqueue(due)
    for request_id in deps.outbox.follow_ups_due():
        deps.outbox.follow_up(request_id)
    return len(due)
