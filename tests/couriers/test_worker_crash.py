"""A real worker process (the Procfile's `rq worker`) is killed after its reattempt reached Shiprocket
and before it recorded the answer: the reattempt still reaches Shiprocket exactly once.

The API call goes through the app; the after-commit hook queues the job in Redis; the worker is a
separate process reading the same database and Redis; Shiprocket is the local fake.
"""
from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from orderline.clock import Clock
from orderline.courier_outbox import CourierOutbox, marker
from orderline.settings import ROOT, replace_settings
from tests.support.fake_shiprocket import EMAIL, PASSWORD, FakeShiprocket
from tests.support.values import NOW, demo_id
from wiring import Services, create_app

RQ = ROOT / ".venv" / "bin" / "rq"


@pytest.fixture
def fake():
    server = FakeShiprocket()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sr(settings, clock, fake):
    svc = Services.build(replace_settings(settings, shiprocket_api_base_url=fake.base_url,
                                          shiprocket_api_email=EMAIL, shiprocket_api_password=PASSWORD), clock)
    yield svc
    svc.engine.dispose()


def rq_worker(svc: Services) -> subprocess.Popen:
    s = svc.settings
    env = {**os.environ, "ORDERLINE_ENV": "development", "DATABASE_URL": s.database_url, "REDIS_URL": s.redis_url,
           "SHIPROCKET_API_BASE_URL": s.shiprocket_api_base_url, "SHIPROCKET_API_EMAIL": s.shiprocket_api_email,
           "SHIPROCKET_API_PASSWORD": s.shiprocket_api_password, "TWILIO_ACCOUNT_SID": "", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen([str(RQ), "worker", "orderline", "--worker-class", "wiring.worker.Worker",
                             "--serializer", "json", "--burst", "--url", s.redis_url],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_worker_killed_after_sending_never_sends_the_reattempt_twice(sr, demo, fake, auth):
    oid = demo_id(demo, "delivery_failed")
    awb = demo[oid]["shipment"]["awb"]
    fake.add_order(oid, awb)
    client = create_app(sr.settings, sr).test_client()
    day = (NOW + timedelta(days=2)).date().isoformat()
    resp = client.post(f"/api/v1/orders/{oid}/ndr", headers=auth,
                       json={"action": "reattempt", "date": day, "channel": "whatsapp", "message_sid": "SM" + "c" * 32,
                             "customer_words": "parso aana"})
    assert resp.status_code == 201, resp.data
    (req,) = sr.courier_outbox.for_order(oid)
    assert req["status"] == "requested"
    assert len(sr.queue) >= 1  # the after-commit hook queued the send

    fake.hold_next("ndr_action")  # Shiprocket receives it and has not answered when the worker dies
    worker = rq_worker(sr)
    try:
        sent = fake.wait_for("ndr_action", 1, timeout=120)
        assert len(sent) == 1 and marker(req["id"]) in sent[0]["body"]["comments"]
    finally:
        worker.kill()
        worker.wait(10)
    fake.release()
    assert sr.courier_outbox.for_order(oid)[0]["status"] == "sending"

    # The sweep after the lease (the worker claimed it on the real clock) finds it; it asks
    # Shiprocket rather than sending it again.
    out = sr.courier_outbox
    lease_over = Clock(out.clock.tz, lambda: datetime.now(timezone.utc) + out.lease + timedelta(seconds=1))
    later = CourierOutbox(out.factory, lease_over, out.courier, out.messenger, out.escalations, out.lease)
    assert later.due() == [req["id"]]
    assert later.process(req["id"]).status == "accepted"
    assert later.process(req["id"]).status == "not_claimed"
    assert len(fake.calls_to("ndr_action")) == 1
    assert len(fake.calls_to("ndr")) == 1
    assert sr.courier_outbox.for_order(oid)[0]["status"] == "accepted"
