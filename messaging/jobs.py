"""Background jobs run by the RQ worker (`rq worker orderline`), and the periodic ones (`rq cron`)."""
from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any, Iterator, Optional

log = logging.getLogger(__name__)
_services: Optional[Any] = None


def worker_services() -> Any:
    """The worker process's services, built once from the environment."""
    global _services
    if _services is None:
        from orderline.settings import Settings
        from web.services import Services

        _services = Services.build(Settings.from_env())
    return _services


@contextlib.contextmanager
def bound_services(services: Any) -> Iterator[Any]:
    """Run jobs in this process against `services` (an in-process worker in tests), then restore."""
    global _services
    previous, _services = _services, services
    try:
        yield services
    finally:
        _services = previous


def deliver_message(message_id: int) -> str:
    """Send (or retry) one queued outbound message."""
    return worker_services().sender.deliver(message_id).status


def process_notification(notification_id: int) -> str:
    """Send one proactive notification, or hold it (quiet hours, rate limit, retry) and come back."""
    svc = worker_services()
    outcome = svc.notifier.process(notification_id)
    if outcome.retry_in is not None:
        svc.queue.enqueue_in(timedelta(seconds=outcome.retry_in), process_notification, notification_id)
    return outcome.status


def dispatch_due() -> int:
    """Periodic: enqueue every notification that is due (held ones, and any a crash left behind)."""
    svc = worker_services()
    ids = svc.notifier.due()
    for notification_id in ids:
        svc.queue.enqueue(process_notification, notification_id)
    return len(ids)


def scan_delays() -> int:
    """Periodic: find late or silent shipments and queue their 'delayed' notices."""
    svc = worker_services()
    ids = svc.notifier.scan_delays()
    svc.enqueue_notifications(ids)
    return len(ids)
