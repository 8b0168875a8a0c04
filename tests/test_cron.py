"""The periodic jobs: `python -m wiring.cron` queues each on its interval, as JSON, for the worker."""
from __future__ import annotations

import time

import pytest

from tests.support import procfile
from wiring import cron


def queued(services) -> list[str]:
    return [job.func_name for job in services.queue.get_jobs()]


def test_each_job_is_queued_on_its_interval(services):
    services.redis.flushdb()
    due: dict[str, float] = {}
    assert cron.tick(services.jobs, due, 1000.0) == [job for job, _ in cron.PERIODIC]  # all at start
    assert cron.tick(services.jobs, due, 1029.0) == []
    assert cron.tick(services.jobs, due, 1030.0) == ["dispatch_due", "drain_inbox"]
    assert cron.tick(services.jobs, due, 1060.0) == ["dispatch_due", "drain_inbox", "check_waiting_escalations",
                                                     "sweep_courier_requests"]
    assert len(queued(services)) == len(cron.PERIODIC) + 6


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_procfile_cron_queues_the_jobs(settings, services):
    services.redis.flushdb()
    proc = procfile.start("cron", settings)
    try:
        deadline = time.monotonic() + 30
        while len(queued(services)) < len(cron.PERIODIC):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        proc.terminate()
        assert proc.wait(10) == 0  # SIGTERM ends it cleanly
    assert sorted(queued(services)) == sorted("wiring.worker." + job for job, _ in cron.PERIODIC)
