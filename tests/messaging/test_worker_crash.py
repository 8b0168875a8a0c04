"""Workers killed mid-work: after a restart every accepted event took effect once, and each
customer has exactly one message."""
import json
import os
import signal
import subprocess
import time
from dataclasses import replace

import pytest
from sqlalchemy import insert, select, text

from couriers import shiprocket
from wiring.worker import dispatch_due, drain_inbox, process_notification
from orderline.models import Notification
from orderline.notifications import scan_key
from orderline.settings import ROOT
from orderline.tracking import apply_tracking
from tests.support.values import SHIPROCKET_TOKEN, demo_id
from tests.support.fake_twilio import FakeTwilio
from wiring import create_app
from wiring import Services

SID, TOKEN = "AC" + "3" * 32, "crash-token"


def worker_env(settings, fake):
    return {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "API_TOKEN": settings.api_token, "SECRET_KEY": "x", "SHIPROCKET_WEBHOOK_TOKEN": "x",
            "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_API_BASE_URL": fake.base_url,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886", "TWILIO_TEMPLATE_OUT_FOR_DELIVERY": "HXofd",
            "NOTIFICATION_LEASE_SECONDS": "2", "ORDERLINE_ENV": "development", "PYTHONDONTWRITEBYTECODE": "1"}


def procfile_worker(env, burst=False):
    """The Procfile's `worker:` command, exactly as `make run` and the simulator start it."""
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("worker:"))
    cmd = line.split(":", 1)[1].strip() + (" --burst" if burst else "")
    return subprocess.Popen(["bash", "-c", "exec " + cmd], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_killed_mid_send_then_restarted_sends_exactly_once(settings, demo):
    fake = FakeTwilio(SID, TOKEN)
    fake.start()
    svc = Services.build(replace(settings, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                                 twilio_api_base_url=fake.base_url))
    try:
        svc.redis.flushdb()
        oid = demo_id(demo, "in_transit")
        phone = demo[oid]["customer"]["phone"]
        result = apply_tracking(svc.sessions, shiprocket.parse(
            {"awb": demo[oid]["shipment"]["awb"], "current_status": "OUT FOR DELIVERY",
             "current_timestamp": "28 11 2026 10:00:00", "scans": []}))
        [note_id] = result.notification_ids
        fake.delay = 30  # Twilio takes the message, then the worker dies waiting for the answer
        env = worker_env(settings, fake)
        svc.queue.enqueue(process_notification, note_id)
        worker = procfile_worker(env)  # SimpleWorker: the job runs in this very process
        assert len(fake.wait_for(phone, 1, timeout=60)) == 1
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        with svc.sessions() as s:
            assert s.get(Notification, note_id).status == "sending"
        fake.delay = 0
        time.sleep(2.5)  # past the lease
        svc.queue.empty()
        deadline = time.time() + 90
        status = "sending"
        while status != "sent" and time.time() < deadline:
            # What wiring/cron.py does every 30 s in production: re-dispatch whatever is due.
            svc.queue.enqueue(dispatch_due)
            procfile_worker(env, burst=True).wait(120)
            with svc.sessions() as s:
                status = s.get(Notification, note_id).status
            time.sleep(0.5)
        assert status == "sent"
        assert len(fake.sent_to(phone)) == 1  # adopted from Twilio, not sent again
        with svc.sessions() as s:
            note = s.scalars(select(Notification).where(Notification.id == note_id)).one()
            assert note.message.twilio_sid == fake.sent_to(phone)[0]["sid"]
    finally:
        fake.stop()
        svc.engine.dispose()


def waiting_on_lock(svc, sql_start):
    with svc.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND query LIKE :q"), {"q": sql_start + "%"}).scalar_one()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_killed_mid_batch_then_restarted_applies_every_event_once(settings, demo):
    """Events accepted by the webhook survive a worker killed in the middle of applying them."""
    fake = FakeTwilio(SID, TOKEN)
    fake.start()
    svc = Services.build(replace(settings, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                                 twilio_api_base_url=fake.base_url, templates=(("out_for_delivery", "HXofd"),)))
    client = create_app(svc.settings, svc).test_client()
    blocker = svc.engine.connect()
    worker = None
    try:
        svc.redis.flushdb()
        targets = [(oid, r) for oid, r in demo.items() if r["status"] == "in_transit"]
        for oid, r in targets:
            resp = client.post("/webhooks/shiprocket", headers={"x-api-key": SHIPROCKET_TOKEN}, json={
                "awb": r["shipment"]["awb"], "current_status": "OUT FOR DELIVERY",
                "current_timestamp": "28 11 2026 10:00:00", "scans": []})
            assert resp.status_code == 200
        # Hold the last order's outbox slot (its key: this very scan), so the worker's batch stops at
        # its last statement, after it has written the timeline, the shipments, the orders and the audit log.
        last = svc.orders.get(targets[-1][0])
        key = scan_key(targets[-1][1]["shipment"]["awb"], "OUT FOR DELIVERY",
                       shiprocket.parse_time("28 11 2026 10:00:00"))
        blocker.execute(insert(Notification).values(order_pk=last.id, event="out_for_delivery", key=key,
                                                    status="pending", variables={}, attempts=0,
                                                    created_at=svc.clock.now()))
        env = worker_env(settings, fake)
        worker = procfile_worker(env)
        deadline = time.time() + 60
        while not waiting_on_lock(svc, "INSERT INTO notifications") and time.time() < deadline:
            time.sleep(0.1)
        with svc.engine.connect() as conn:
            activity = conn.execute(text("SELECT state, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity "
                                         "WHERE datname = current_database()")).all()
        assert waiting_on_lock(svc, "INSERT INTO notifications"), f"the worker never reached the end of its batch: {activity}"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        blocker.rollback()
        assert svc.inbox.pending() == len(targets)  # nothing of the batch was committed
        assert {svc.orders.get(oid).status for oid, _ in targets} == {"in_transit"} and fake.messages == []

        svc.queue.enqueue(drain_inbox)  # what wiring/cron.py does every 30 s
        deadline = time.time() + 120
        while (svc.inbox.pending() or len(fake.messages) < len(targets)) and time.time() < deadline:
            procfile_worker(env, burst=True).wait(120)
            if svc.inbox.pending():
                svc.queue.enqueue(drain_inbox)
        assert svc.inbox.pending() == 0
        told = sorted(json.loads(m["content_variables"])["2"] for m in fake.messages)
        assert told == sorted(oid for oid, _ in targets)  # one message per order, none twice
        for oid, r in targets:
            order = svc.orders.get(oid)
            assert order.status == "out_for_delivery"
            assert [e.status for e in order.shipment.events].count("OUT FOR DELIVERY") == 1
        with svc.sessions() as s:
            notes = s.scalars(select(Notification)).all()
        assert sorted(n.status for n in notes) == ["sent"] * len(targets)
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        blocker.close()
        fake.stop()
        svc.engine.dispose()
