"""Fixtures for the WhatsApp channel: a fake Twilio and a fake Rasa as local servers, signed posts,
and an in-process RQ worker on the real Redis."""
from __future__ import annotations

import dataclasses
import os
import socket
from typing import Any, Optional

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from tests.support.fake_twilio import running_fake_twilio
from edge.twilio_auth import sign
from tests.support.jobs import run_jobs, settle

SID, TOKEN = "AC" + "7" * 32, "wa-test-auth-token"
PUBLIC = "https://example.test"
BOT_REDIS_URL = os.environ.get("BOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
PHONE = "+919000000002"


def tuned(settings: Any, **values: Any) -> Any:
    """`dataclasses.replace` that also accepts channel settings Settings may not have yet."""
    missing = {k: v for k, v in values.items() if k not in {f.name for f in dataclasses.fields(settings)}}
    if missing:
        cls = dataclasses.make_dataclass(
            "ChannelTestSettings", [(k, type(v), dataclasses.field(default=v)) for k, v in missing.items()],
            bases=(type(settings),), frozen=True)
        settings = cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if f.init})
    return dataclasses.replace(settings, **values)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fake_twilio():
    with running_fake_twilio(SID, TOKEN) as fake:
        yield fake


@pytest.fixture
def rasa_url(fake_rasa):
    return fake_rasa.base_url


@pytest.fixture
def settings(settings, fake_twilio, rasa_url):
    import redis

    redis.Redis.from_url(BOT_REDIS_URL).flushdb()
    return tuned(settings, redis_url=BOT_REDIS_URL, rasa_url=rasa_url, twilio_account_sid=SID,
                 twilio_auth_token=TOKEN, twilio_api_base_url=fake_twilio.base_url,
                 twilio_whatsapp_from="whatsapp:+14155238886", public_base_url=PUBLIC,
                 rasa_timeout=1.0, rasa_retry_timeout=5.0, agent_wait_minutes=10)


@pytest.fixture
def worker():
    """Run queued jobs in this process on the real Redis, with the jobs bound to given services."""

    class Runner:
        def run(self, services: Any) -> list[Job]:
            """Run every queued job once (burst); returns the jobs that ran."""
            settle(services)
            ids = services.queue.get_job_ids()
            run_jobs(services)
            return [services.queue.fetch_job(i) for i in ids]

        def release_scheduled(self, services: Any) -> list[str]:
            """Enqueue scheduled jobs (sender retries) now instead of after their backoff."""
            registry = ScheduledJobRegistry(queue=services.queue)
            ids = registry.get_job_ids()
            for job_id in ids:
                registry.remove(job_id)
                services.queue.enqueue_job(services.queue.fetch_job(job_id))
            return ids

    return Runner()


def twilio_form(body: str = "hi", phone: str = PHONE, sid: Optional[str] = None, **extra: str) -> dict[str, str]:
    """The fields Twilio really posts for an inbound WhatsApp message."""
    import uuid

    sid = sid or "SM" + uuid.uuid4().hex
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Priya", "MessageType": "text",
            "SmsSid": sid, "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": body,
            "To": "whatsapp:+14155238886", "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid,
            "AccountSid": SID, "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}
    form.update(extra)
    return form


def signed_post(client: Any, path: str, form: dict[str, str], query: str = "", token: str = TOKEN,
                public: str = PUBLIC, headers: Optional[dict[str, str]] = None):
    target = path + (f"?{query}" if query else "")
    all_headers = {"X-Twilio-Signature": sign(token, public + target, form)}
    all_headers.update(headers or {})
    return client.post(target, data=form, headers=all_headers)


@pytest.fixture
def whatsapp(client):
    """Send a signed inbound WhatsApp message: whatsapp("hi") or whatsapp("hi", phone=..., sid=...)."""

    def send(body: str = "hi", **kwargs: Any):
        return signed_post(client, "/twilio/whatsapp", twilio_form(body, **kwargs))

    return send
