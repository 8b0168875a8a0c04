"""A worker killed in the middle of a send: after a restart the customer has exactly one message."""
import os
import signal
import subprocess
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from messaging.jobs import dispatch_due, process_notification
from orderline.models import Notification
from orderline.settings import ROOT
from orderline.tracking import apply_tracking, parse_shiprocket
from tests.conftest import demo_id
from tests.support.fake_twilio import FakeTwilio
from web.services import Services

SID, TOKEN = "AC" + "3" * 32, "crash-token"


def worker_env(settings, fake):
    return {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "API_TOKEN": settings.api_token, "SECRET_KEY": "x", "SHIPROCKET_WEBHOOK_TOKEN": "x",
            "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_API_BASE_URL": fake.base_url,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886", "TWILIO_TEMPLATE_OUT_FOR_DELIVERY": "HXofd",
            "NOTIFICATION_LEASE_SECONDS": "2", "PYTHONDONTWRITEBYTECODE": "1"}


def start_worker(env, burst):
    cmd = [str(ROOT / ".venv/bin/rq"), "worker", "orderline", "--url", env["REDIS_URL"]] + (["--burst"] if burst else [])
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


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
        result = apply_tracking(svc.sessions, parse_shiprocket(
            {"awb": demo[oid]["shipment"]["awb"], "current_status": "OUT FOR DELIVERY",
             "current_timestamp": "28 11 2026 10:00:00", "scans": []}))
        [note_id] = result.notification_ids
        fake.delay = 30  # Twilio takes the message, then the worker dies waiting for the answer
        env = worker_env(settings, fake)
        svc.queue.enqueue(process_notification, note_id)
        worker = start_worker(env, burst=False)
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
            # What `rq cron` does every 30 s in production: re-dispatch whatever is due.
            svc.queue.enqueue(dispatch_due)
            start_worker(env, burst=True).wait(120)
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
