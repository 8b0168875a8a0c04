"""Attack: write a pickle into the shared Redis and wait for a worker to unpickle it.

Every job Orderline queues is JSON, and the Procfile's worker reads JSON only, so a planted
pickle is never loaded: its job fails, the worker carries on with real work.
"""
from __future__ import annotations

import base64
import json
import pickle
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
import rq
from rq.registry import FailedJobRegistry

from tests.support.values import SHIPROCKET_TOKEN, demo_id
from tests.support import procfile
from tests.support.jobs import run_jobs
from tests.web.test_shiprocket import event
from wiring import cron


class Planted:
    """A payload that writes `marker` when unpickled: what an attacker would put in a job."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",)


def job_hashes(cache) -> dict[str, dict[bytes, bytes]]:
    return {key.decode(): cache.hgetall(key) for key in cache.scan_iter("rq:job:*") if cache.type(key) == b"hash"}


def test_every_job_in_redis_is_json(client, services, demo):
    services.redis.flushdb()
    awb = demo[demo_id(demo, "in_transit")]["shipment"]["awb"]
    resp = client.post("/webhooks/shiprocket", json=event(awb), headers={"x-api-key": SHIPROCKET_TOKEN})
    assert resp.status_code == 200
    run_jobs(services)  # the drain, then the notification sends it queues
    cron.tick(services.jobs, {}, time.monotonic())  # every periodic job
    services.jobs.enqueue_in(timedelta(minutes=5), "deliver_message", 1)  # a scheduled retry

    funcs = set()
    jobs = job_hashes(services.redis)
    for key, fields in jobs.items():
        func, instance, args, kwargs = json.loads(zlib.decompress(fields[b"data"]))
        assert instance is None and isinstance(args, list) and isinstance(kwargs, dict), key
        if b"meta" in fields:
            json.loads(fields[b"meta"])
        funcs.add(func)
    expected = {"wiring.worker." + job for job, _ in cron.PERIODIC} | {"wiring.worker.deliver_message"}
    assert expected <= funcs and any(f.get(b"status") == b"finished" for f in jobs.values())
    results = [entry for key in services.redis.scan_iter("rq:results:*") for _id, entry in services.redis.xrange(key)]
    assert results
    for entry in results:
        if b"return_value" in entry:
            json.loads(base64.b64decode(entry[b"return_value"]))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_planted_pickle_is_never_unpickled(settings, services, tmp_path):
    services.redis.flushdb()
    marker = tmp_path / "pwned"
    armed = tmp_path / "armed"
    pickle.loads(pickle.dumps(Planted(armed)))
    assert armed.exists(), "the payload must really run code when unpickled"

    # The attacker writes RQ's default (pickle) job format straight into the queue.
    planted = rq.Queue("orderline", connection=services.redis).enqueue_call(
        "wiring.worker.drain_inbox", args=(Planted(marker),))
    real = services.queue.enqueue_call("wiring.worker.drain_inbox")
    worker = procfile.start("worker", settings)
    try:
        deadline = time.monotonic() + 60
        while services.queue.fetch_job(real.id).get_status() != "finished":
            assert worker.poll() is None, "the worker died"
            assert time.monotonic() < deadline, "the worker did not run the real job"
            time.sleep(0.2)
        assert worker.poll() is None  # the planted job did not take the worker down either
    finally:
        worker.terminate()
        worker.wait(15)
    assert not marker.exists()
    assert planted.id in FailedJobRegistry(queue=services.queue).get_job_ids()
