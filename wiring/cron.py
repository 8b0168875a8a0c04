"""The periodic jobs: `python -m wiring.cron` (the Procfile's `cron:` process) queues each on its interval.

This replaces `rq cron`, whose jobs RQ 3.0 always pickles; these go through `RQJobQueue`, as
JSON, like every other job. Only queueing happens here: the worker runs them. Several cron
processes would queue each job several times (harmless, the jobs are idempotent; run one).
"""
from __future__ import annotations

import logging
import signal
import time
from typing import Callable

import redis

from orderline.jobs import JobQueue
from wiring.jobs import RQJobQueue
from wiring.startup import settings_or_exit

log = logging.getLogger("orderline.cron")

# (job, every so many seconds)
PERIODIC: tuple[tuple[str, int], ...] = (
    ("dispatch_due", 30),
    # The webhook queues a drain for every burst of events; this one catches any it could not
    # (Redis briefly down, a worker killed mid-drain).
    ("drain_inbox", 30),
    ("check_waiting_escalations", 60),
    # Courier requests whose job was lost or whose worker died mid-send (after the lease).
    ("sweep_courier_requests", 60),
    # The drain queues this when a parcel is reported lost or damaged; this catches any it could not.
    ("escalate_losses", 120),
    # Late shipments and long silences (SILENT_SHIPMENT_HOURS) become delay notices.
    ("scan_delays", 600),
    ("purge_inbox", 3600),
)


def tick(jobs: JobQueue, due: dict[str, float], now: float) -> list[str]:
    """Queue every job whose time has come (all of them on the first tick); returns their names."""
    queued = []
    for job, every in PERIODIC:
        if now >= due.get(job, now):
            try:
                jobs.enqueue(job)
            except redis.RedisError as exc:
                log.warning("cannot queue %s (%s); trying again in a few seconds", job, exc)
                due[job] = now + 5
                continue
            due[job] = now + every
            queued.append(job)
    return queued


def run(jobs: JobQueue, stopped: Callable[[], bool]) -> None:
    """Tick about once a second until `stopped()`."""
    due: dict[str, float] = {}
    while not stopped():
        for job in tick(jobs, due, time.monotonic()):
            log.info("queued %s", job)
        time.sleep(1.0)


def main() -> None:
    settings = settings_or_exit()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(True))
    connection = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    log.info("queueing %s", ", ".join(f"{job} every {every} s" for job, every in PERIODIC))
    run(RQJobQueue(connection), lambda: bool(stop))


if __name__ == "__main__":
    main()
