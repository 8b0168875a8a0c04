"""The worker's inbox jobs: one drain per burst, none missed, and Redis trouble loses nothing."""
import time
from dataclasses import replace

import pytest

from messaging.jobs import DRAIN_FLAG, DrainRequests
from wiring.worker import bound as bound_services, drain_inbox
from tests.support.values import SHIPROCKET_TOKEN
from wiring import create_app
from wiring import Services
from tests.support.jobs import run_jobs, settle


def post(client, awb, label="OUT FOR DELIVERY", ts="28 11 2026 09:00:00"):
    resp = client.post("/webhooks/shiprocket", headers={"x-api-key": SHIPROCKET_TOKEN},
                       json={"awb": awb, "current_status": label, "current_timestamp": ts, "scans": []})
    assert resp.status_code == 200 and resp.json["status"] == "accepted"
    return resp.json["id"]


def queued(services):
    settle(services)
    return [job.func_name.rsplit(".", 1)[1] for job in services.queue.get_jobs()]


@pytest.fixture
def awbs(demo):
    return [r["shipment"]["awb"] for r in demo.values() if r["status"] == "in_transit"]


def test_an_event_after_a_drain_started_queues_the_next_one(services, client, awbs):
    services.redis.flushdb()
    post(client, awbs[0])
    post(client, awbs[1])
    assert queued(services) == ["drain_inbox"]
    services.queue.empty()
    with bound_services(services):
        assert drain_inbox() == 2  # clears the flag first, so the next event asks again
    assert not services.redis.exists(DRAIN_FLAG)
    late = post(client, awbs[2])
    assert queued(services) == ["drain_inbox"]
    run_jobs(services)
    assert services.inbox.outcome(late)["outcome"] == "applied"


def test_redis_down_the_event_is_still_accepted_and_applied_later(settings, services, awbs):
    services.redis.flushdb()
    cut_off = Services.build(replace(settings, redis_url="redis://127.0.0.1:1/0"), services.clock)
    try:
        inbox_id = post(create_app(cut_off.settings, cut_off).test_client(), awbs[0])
    finally:
        cut_off.engine.dispose()
    assert services.inbox.outcome(inbox_id) is None and services.queue.get_jobs() == []
    services.queue.enqueue(drain_inbox)  # what wiring/cron.py does every 30 s once Redis is back
    run_jobs(services)
    assert services.inbox.outcome(inbox_id)["outcome"] == "applied"


def test_drain_requests_coalesce_and_always_follow_the_last_call():
    calls, starts = [], []

    def request():
        starts.append(time.monotonic())
        time.sleep(0.05)  # a slow Redis: calls meanwhile share the next request

    requests = DrainRequests(request, interval=0.01)
    for _ in range(50):
        calls.append(time.monotonic())
        requests()
        time.sleep(0.002)
    assert requests.flush(5.0)
    assert 2 <= len(starts) <= 10  # ~150 ms of calls: a handful of requests, not fifty
    assert starts[-1] > calls[-1]  # the last call is covered by a request that began after it


def test_a_failing_drain_request_does_not_stop_later_ones():
    outcomes = iter([RuntimeError("redis down"), None])
    served = []

    def request():
        outcome = next(outcomes)
        served.append(outcome)
        if outcome:
            raise outcome

    requests = DrainRequests(request, interval=0)
    requests()
    assert requests.flush(5.0)
    requests()
    assert requests.flush(5.0) and len(served) == 2 and served[1] is None
