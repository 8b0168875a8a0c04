"""Simulator fixtures: the app on a real HTTP server (the simulator calls the app over HTTP),
no Twilio account (the local outbox), and a fake Rasa."""
from __future__ import annotations

import dataclasses
import threading
from typing import Any, Iterator

import pytest
from werkzeug.serving import make_server

from tests.support.live_stack import free_port

TOKEN = "sim-test-auth-token"
PUBLIC = "https://sim.example.test"


@pytest.fixture
def extra_settings(request) -> dict[str, Any]:
    """Per-test Settings fields: @pytest.mark.parametrize("extra_settings", [{...}], indirect=True)."""
    return getattr(request, "param", {})


@pytest.fixture
def app_port() -> int:
    return free_port()


@pytest.fixture
def settings(settings, fake_rasa, app_port, extra_settings):
    """No TWILIO_ACCOUNT_SID (messages go to the outbox), and an auth token to sign with."""
    return dataclasses.replace(settings, twilio_auth_token=TOKEN, twilio_account_sid="",
                               public_base_url=PUBLIC, rasa_url=fake_rasa.base_url,
                               order_service_url=f"http://127.0.0.1:{app_port}", **extra_settings)


@pytest.fixture
def live(app, app_port) -> Iterator[str]:
    """The app listening on ORDER_SERVICE_URL, where the simulator sends its requests."""
    server = make_server("127.0.0.1", app_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{app_port}"
    server.shutdown()


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    """SQLite only: the simulator adds no SQL that differs between databases."""
    from orderline.db import upgrade_schema

    url = f"sqlite:///{tmp_path}/orderline.db"
    upgrade_schema(url)
    yield url
