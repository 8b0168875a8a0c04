"""The notification and courier-event jobs. `wiring.worker` runs them with their collaborators."""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Optional

import redis

from messaging.notifier import Notifier
from orderline.inbox import TrackingInbox
from orderline.jobs import JobQueue

log = logging.getLogger(__name__)
# Set while a drain job is queued, so the webhook enqueues one per burst, not one per event.
# It expires in case the queued job is lost; the cron process (wiring/cron.py) also drains every 30 s.
DRAIN_FLAG = "orderline:inbox:drain-queued"
DRAIN_FLAG_TTL = 15
SEND_CHUNK = 50  # notifications checked and sent together (and per `send_notifications` job)


@dataclass(frozen=True)
class NotifyJobs:
    """What the notification and courier-event jobs work with."""

    notifier: Notifier
    inbox: TrackingInbox
    redis: redis.Redis
    jobs: JobQueue

    def enqueue_notifications(self, ids: list[int]) -> None:
        """Best effort: the periodic dispatcher finds anything not enqueued here."""
        for start in range(0, len(ids), SEND_CHUNK):
            try:
                self.jobs.enqueue("send_notifications", ids[start:start + SEND_CHUNK])
            except redis.RedisError:
                return


def process_notification(deps: NotifyJobs, notification_id: int) -> str:
    """Send one proactive notification, or hold it (quiet hours, rate limit, retry) and come back."""
    outcome = deps.notifier.process(notification_id)
    if outcome.retry_in is not None:
        deps.jobs.enqueue_in(timedelta(seconds=outcome.retry_in), "process_notification", notification_id)
    return outcome.status


def send_notifications(deps: NotifyJobs, notification_ids: list[int]) -> dict[str, int]:
    """Send a batch of notifications; held ones come back on their own (like `process_notification`)."""
    if not notification_ids:
        return {}
    outcomes = deps.notifier.process_many(notification_ids)
    for notification_id, outcome in outcomes.items():
        if outcome.retry_in is not None:
            deps.jobs.enqueue_in(timedelta(seconds=outcome.retry_in), "process_notification", notification_id)
    return dict(Counter(o.status for o in outcomes.values()))


def request_drain(cache: redis.Redis, jobs: JobQueue) -> bool:
    """Make sure a `drain_inbox` job is queued: one Redis round trip when one already is.

    Called after an event is committed to the inbox. The job clears the flag before it reads
    the inbox, so an event committed before the clear is seen by that read, and one committed
    after it sets the flag again and queues the next drain. False if Redis is unreachable
    (the event waits for the periodic drain).
    """
    try:
        if cache.set(DRAIN_FLAG, 1, nx=True, ex=DRAIN_FLAG_TTL):
            # At the front: applying is quick and decides what to send; behind other jobs it
            # would only wait and make the next batch bigger.
            jobs.enqueue("drain_inbox", at_front=True)
        return True
    except redis.RedisError:
        log.warning("cannot queue an inbox drain; the periodic drain will apply the event")
        return False


class DrainRequests:
    """Queues inbox drains for one web process, off the request threads, coalesced.

    The inbox calls it after each committed group of events; that only raises a flag. A
    background thread then runs `request` (`request_drain`: one Redis round trip) and sleeps
    `interval` before looking at the flag again, so a busy process makes at most one round trip
    per interval instead of one per group. Every call is followed by a `request` that starts
    after it, so no committed event is left for the periodic drain unless Redis is down.
    The thread starts on first use in each process (gunicorn forks its workers), and at exit
    the process waits briefly for a pending request (`flush`).
    """

    def __init__(self, request: Callable[[], object], interval: float = 0.02) -> None:
        self.request = request
        self.interval = interval
        self._cond = threading.Condition()
        self._wanted = False
        self._busy = False
        self._pid: Optional[int] = None

    def __call__(self) -> None:
        with self._cond:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="drain-requests", daemon=True).start()
                atexit.register(self.flush, 1.0)
            self._wanted = True
            self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every call so far has been followed by a finished `request`."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._wanted and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._wanted)
                self._wanted, self._busy = False, True
            try:
                self.request()
            except Exception:  # noqa: BLE001 - never let the thread die; the periodic drain is the safety net
                log.exception("cannot queue an inbox drain")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            time.sleep(self.interval)  # groups committed meanwhile share the next request


def drain_inbox(deps: NotifyJobs) -> int:
    """Apply one batch of accepted courier events, then send the notifications it wrote.

    A full batch queues the next drain before sending, so another worker applies the next
    batch meanwhile: with several workers, a backlog is applied and sent in parallel.
    """
    deps.redis.delete(DRAIN_FLAG)
    done = deps.inbox.drain_batch()
    if done.full:
        request_drain(deps.redis, deps.jobs)
    for start in range(0, len(done.notification_ids), SEND_CHUNK):
        try:
            send_notifications(deps, done.notification_ids[start:start + SEND_CHUNK])
        except Exception:  # noqa: BLE001 - the rows are committed; `dispatch_due` sends them
            log.exception("could not send notifications %s now", done.notification_ids[start:start + SEND_CHUNK])
    return done.processed


def purge_inbox(deps: NotifyJobs) -> int:
    """Periodic: forget courier events applied more than a few days ago."""
    return deps.inbox.purge()


def dispatch_due(deps: NotifyJobs) -> int:
    """Periodic: enqueue every notification that is due (held ones, and any a crash left behind)."""
    ids = deps.notifier.due()
    deps.enqueue_notifications(ids)
    return len(ids)


def scan_delays(deps: NotifyJobs) -> int:
    """Periodic: find late or silent shipments and queue their 'delayed' notices."""
    ids = deps.notifier.scan_delays()
    deps.enqueue_notifications(ids)
    return len(ids)
