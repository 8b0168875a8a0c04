"""Attack: open console live streams until the web server has no thread left for Twilio.

Each stream holds one of gunicorn's threads (the Procfile runs 2 workers x 16 threads). The
server keeps an agent's newest few streams and each process's streams under a ceiling, so a
signed Twilio webhook is still answered at once, here against the Procfile's own server.
"""
from __future__ import annotations

import dataclasses
import os
import time
import uuid

import pytest
import requests

from console.agents import create_agent
from edge.twilio_auth import sign
from tests.support.agent_console import PASSWORD, csrf_from
from tests.security import processes
from tests.support.live_stack import free_port
from tests.support.procfile import settings_env

TOKEN = "streams-twilio-token"
PUBLIC = "https://orderline.example"


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, twilio_auth_token=TOKEN, public_base_url=PUBLIC)


@pytest.fixture
def server(settings, services):
    port = free_port()
    proc = processes.start("web", {**os.environ, **settings_env(settings), "PYTHONDONTWRITEBYTECODE": "1"}, port)
    base = f"http://127.0.0.1:{port}"
    try:
        processes.wait_until_serving(proc, base)
        yield base
    finally:
        processes.stop(proc)


def signed_in(base: str, name: str) -> requests.Session:
    http = requests.Session()
    token = csrf_from(http.get(base + "/agent/login", timeout=10).text)
    resp = http.post(base + "/agent/login", data={"name": name, "password": PASSWORD, "csrf_token": token},
                     allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.status_code
    return http


def open_stream(base: str, agent: requests.Session) -> requests.Response:
    # Its own connection, as each browser tab has; without the caps, the 33rd would wait forever for a thread.
    return requests.get(base + "/agent/api/events", cookies=agent.cookies, stream=True, timeout=(5, 10))


def twilio_is_answered(base: str) -> float:
    """A signed message-status callback, as Twilio sends it; returns how long the answer took."""
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "MessageStatus": "delivered",
            "To": "whatsapp:+919000000001", "From": "whatsapp:+14155238886"}
    started = time.monotonic()
    resp = requests.post(base + "/twilio/message-status", data=form, timeout=5,
                         headers={"X-Twilio-Signature": sign(TOKEN, PUBLIC + "/twilio/message-status", form)})
    assert resp.status_code < 400, resp.status_code
    return time.monotonic() - started


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_one_agents_tabs_cannot_take_the_threads(server, services):
    create_agent(services.sessions, "asha", PASSWORD)
    agent = signed_in(server, "asha")
    tabs = [open_stream(server, agent) for _ in range(40)]
    try:
        assert twilio_is_answered(server) < 2
        live = [t for t in tabs if t.status_code == 200]
        refused = [t for t in tabs if t.status_code == 503]  # while the replaced ones were still winding down
        assert len(live) + len(refused) == len(tabs) and all(t.headers["Retry-After"] for t in refused)
        # Every stream but the agent's newest three has ended by itself, told that it was replaced.
        for tab in live[:-3]:
            assert "event: evicted" in tab.text
    finally:
        for tab in tabs:
            tab.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_many_agents_together_cannot_take_the_threads(server, services):
    agents = []
    for i in range(12):
        create_agent(services.sessions, f"agent{i}", PASSWORD)
        agents.append(signed_in(server, f"agent{i}"))
    tabs = [open_stream(server, agent) for agent in agents for _ in range(3)]  # 36 streams > 32 threads
    try:
        assert twilio_is_answered(server) < 2
        live = [t for t in tabs if t.status_code == 200]
        refused = [t for t in tabs if t.status_code == 503]
        assert len(live) + len(refused) == len(tabs)
        assert len(live) <= 2 * 8 and all(t.headers["Retry-After"] for t in refused)
    finally:
        for tab in tabs:
            tab.close()
