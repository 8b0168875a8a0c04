"""Fixtures for the WhatsApp channel: a fake Twilio and a fake Rasa as local servers, signed posts,
and an in-process RQ worker on the real Redis. The helpers tests import are in tests/support/whatsapp.py."""
from __future__ import annotations

from typing import Any

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from tests.support.fake_twilio import running_fake_twilio
from tests.support.jobs import run_jobs, settle
from tests.support.whatsapp import PUBLIC, SID, TOKEN, signed_post, tuned, twilio_form


@pytest.fixture
def fake_twilio():
    with running_fake_twilio(SID, TOKEN) as fake:
        yield fake


@pytest.fixture
def rasa_url(fake_rasa):
    return fake_rasa.base_url


@pytest.fixture
def settings(settings, fake_twilio, rasa_url):
    return tuned(settings, rasa_url=rasa_url, twilio_account_sid=SID,
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


@pytest.fixture
def whatsapp(client):
    """Send a signed inbound WhatsApp message: whatsapp("hi") or whatsapp("hi", phone=..., sid=...)."""

    def send(body: str = "hi", **kwargs: Any):
        return signed_post(client, "/twilio/whatsapp", twilio_form(body, **kwargs))

    return send
