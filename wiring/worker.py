"""The worker's entry point: the jobs `rq worker orderline` runs, each with its collaborators.

Jobs are queued by name (`JobQueue.enqueue("drain_inbox")`), which `wiring.jobs` turns into a
path in this module. The container is this process's one global: built once from the
environment when the worker starts, or bound for a while by tests that run jobs in-process.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional

from rq import SimpleWorker
from rq.serializers import resolve_serializer

from bot import jobs as whatsapp_jobs
from couriers import jobs as courier_jobs
from messaging import jobs as notify_jobs
from orderline import losses
from wiring.jobs import SERIALIZER
from wiring.services import Services
from wiring.startup import settings_or_exit

_services: Optional[Services] = None


def services() -> Services:
    """This worker process's container, built once from the environment."""
    global _services
    if _services is None:
        _services = Services.build(settings_or_exit())
    return _services


class Worker(SimpleWorker):
    """`rq worker --worker-class wiring.worker.Worker --serializer json`, as the Procfile runs it.

    The container is built before the first job, so a production worker with a missing secret
    stops at start-up (one line) instead of failing every job. A worker not reading JSON would
    unpickle whatever lands on the queue, so it refuses to start at all.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if resolve_serializer(kwargs.get("serializer")) is not SERIALIZER:
            raise SystemExit("orderline: the worker reads jobs as JSON only: start it with --serializer json")
        services()
        super().__init__(*args, **kwargs)


@contextlib.contextmanager
def bound(container: Services) -> Iterator[Services]:
    """Run jobs in this process against `container` (an in-process worker in tests), then restore."""
    global _services
    previous, _services = _services, container
    try:
        yield container
    finally:
        _services = previous


def deliver_message(message_id: int) -> str:
    """Retry one outbound message (scheduled by the sender after a transient failure)."""
    return services().sender.retry(message_id).status


def process_notification(notification_id: int) -> str:
    return notify_jobs.process_notification(services().notify_jobs, notification_id)


def send_notifications(notification_ids: list[int]) -> dict[str, int]:
    return notify_jobs.send_notifications(services().notify_jobs, notification_ids)


def drain_inbox() -> int:
    return notify_jobs.drain_inbox(services().notify_jobs)


def purge_inbox() -> int:
    return notify_jobs.purge_inbox(services().notify_jobs)


def dispatch_due() -> int:
    return notify_jobs.dispatch_due(services().notify_jobs)


def scan_delays() -> int:
    return notify_jobs.scan_delays(services().notify_jobs)


def escalate_losses() -> int:
    """Open an urgent escalation for each parcel the courier reported lost or damaged (orderline/losses.py)."""
    svc = services()
    return len(losses.escalate_losses(svc.sessions, svc.escalations, svc.clock))


def finish_turn(phone: str, text: str, metadata: dict[str, Any], message_id: Optional[int] = None) -> str:
    return whatsapp_jobs.finish_turn(services().whatsapp, phone, text, metadata, message_id)


def resume_assistant(phone: str, token: str, attempt: int) -> str:
    """Retry un-pausing the assistant for `phone` after a hand-back it did not accept (orderline/handback.py)."""
    return services().handback.retry(phone, token, attempt)


def check_waiting_escalations() -> int:
    return whatsapp_jobs.check_waiting_escalations(services().whatsapp)


def send_courier_request(request_id: int) -> str:
    return courier_jobs.send_courier_request(services().courier_jobs, request_id)


def sweep_courier_requests() -> int:
    return courier_jobs.sweep_courier_requests(services().courier_jobs)


JOBS = frozenset({"send_courier_request", "sweep_courier_requests", "deliver_message", "process_notification", "send_notifications", "drain_inbox", "purge_inbox",
                  "dispatch_due", "scan_delays", "finish_turn", "resume_assistant",
                  "check_waiting_escalations", "escalate_losses"})
