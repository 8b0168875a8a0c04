"""The whole product running for real, for tests whose behaviour depends on the assistant.

One per test session: the app (in a threaded HTTP server, on a seeded SQLite DB), the Rasa
server with the trained model, the Rasa action server reaching the app's API over HTTP, and
a fake Twilio. Nothing is patched; the processes talk over loopback exactly as in production,
started through the same gates as the Procfile (rasa_gate: the signed channel only, API and
action tokens, loopback addresses) with their own random secrets.
Redis: the database `redis_url` names (the test run's own, see tests/support/redis_db.py).
"""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import requests
from flask import Flask
from werkzeug.serving import make_server

from orderline.clock import Clock
from orderline.db import upgrade_schema
from orderline.demo import demo_orders
from orderline.importer import import_orders
from bot.rasa_client import CHANNEL_PATH, signed_turn
from orderline.settings import ROOT, Settings
from tests.support.fake_shiprocket import EMAIL as SHIPROCKET_EMAIL, PASSWORD as SHIPROCKET_PASSWORD, FakeShiprocket
from tests.support.fake_twilio import FakeTwilio
from tests.support.redis_db import redis_parts_yml
from tests.support.stores import SHOPIFY_SECRET, WOO_SECRET
from tools.rasa_env import rasa_side_env
from tools.tracker_env import prepare_tracker_store, tracker_parts
from wiring import create_app
from wiring import Services

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
MODEL = ROOT / "models" / "orderline.tar.gz"
TWILIO_SID, TWILIO_TOKEN = "AC" + "7" * 32, "live-stack-twilio-token"
PUBLIC_BASE_URL = "https://orderline.test"
# Seconds Rasa may take to load the model; a shared, overloaded machine may need LIVE_STACK_RASA_WAIT.
RASA_START_WAIT = float(os.environ.get("LIVE_STACK_RASA_WAIT", "240"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: Optional[subprocess.Popen] = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


@dataclass
class LiveStack:
    settings: Settings
    services: Services
    app: Flask
    app_url: str
    rasa_url: str
    actions_url: str
    fake: FakeTwilio
    workdir: Path
    tracker_url: str  # Rasa's SQL tracker store, as tools/tracker_env.py places it beside the app's DB
    procs: list[subprocess.Popen] = field(default_factory=list)
    shiprocket: Optional[FakeShiprocket] = None  # the Shiprocket API the courier requests go to
    rasa_command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    _server: Any = None

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.api_token}"}

    @property
    def rasa_params(self) -> dict[str, str]:
        """The query parameters that authenticate a call to Rasa's HTTP API."""
        return {"token": self.settings.rasa_auth_token}

    def rasa_turn(self, sender: str, text: str, channel: str = "whatsapp", language: str = "en") -> list[dict[str, Any]]:
        """One signed turn straight to Rasa's channel (what the front doors do)."""
        body, headers = signed_turn(self.settings.rasa_channel_secret, sender, text,
                                    {"channel": channel, "phone": sender, "language": language})
        resp = requests.post(self.rasa_url + CHANNEL_PATH, data=body, headers=headers, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def stop_rasa(self) -> None:
        """Stop the Rasa server (procs[1]); the action server and the app keep running."""
        rasa = self.procs[1]
        rasa.terminate()
        try:
            rasa.wait(30)
        except subprocess.TimeoutExpired:
            rasa.kill()
            rasa.wait(10)

    def start_rasa(self, timeout: float = 300) -> None:
        """Start the Rasa server again on the same port, with the same model and tracker store."""
        with open(self.workdir / "rasa-restarted.log", "a") as log:
            self.procs[1] = subprocess.Popen(self.rasa_command, cwd=ROOT, env=self.env, stdout=log,
                                             stderr=subprocess.STDOUT)
        wait_http(f"{self.rasa_url}/status?token={self.settings.rasa_auth_token}", timeout, self.procs[1])

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self._server is not None:
            self._server.shutdown()
        self.fake.stop()
        if self.shiprocket is not None:
            self.shiprocket.stop()
        self.services.engine.dispose()


def start_live_stack(redis_url: str, log_dir: Optional[Path] = None, outbox: bool = False) -> LiveStack:
    """Start the stack on `redis_url` (the run's own database, which this flushes).

    `outbox`: no Twilio account, so sends go to the local outbox.
    """
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}; run `make train` first")
    workdir = Path(tempfile.mkdtemp(prefix="orderline-live-"))
    log_dir = log_dir or workdir
    db_url = f"sqlite:///{workdir}/live.db"
    upgrade_schema(db_url)
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN)
    fake.start()
    shiprocket = FakeShiprocket()
    shiprocket.start()
    app_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    settings = Settings(
        database_url=db_url, redis_url=redis_url,
        rasa_url=f"http://127.0.0.1:{rasa_port}", action_endpoint_url=f"http://127.0.0.1:{actions_port}/webhook",
        rasa_channel_secret=secrets.token_urlsafe(24), rasa_auth_token=secrets.token_urlsafe(24),
        action_server_token=secrets.token_urlsafe(24),
        order_service_url=f"http://127.0.0.1:{app_port}", api_token="live-" + uuid.uuid4().hex,
        twilio_account_sid="" if outbox else TWILIO_SID, twilio_auth_token=TWILIO_TOKEN,
        twilio_whatsapp_from="whatsapp:+14155238886",
        twilio_api_base_url=fake.base_url, public_base_url=PUBLIC_BASE_URL,
        shiprocket_webhook_token="live-sr-" + uuid.uuid4().hex[:8], secret_key="live-secret",
        shopify_webhook_secret=SHOPIFY_SECRET, woocommerce_webhook_secret=WOO_SECRET,
        shiprocket_api_base_url=shiprocket.base_url, shiprocket_api_email=SHIPROCKET_EMAIL,
        shiprocket_api_password=SHIPROCKET_PASSWORD,
        rasa_timeout=30.0, orderline_env="development")  # a cold Rasa on a busy machine; the holding path has its own tests
    services = Services.build(settings, Clock())
    services.redis.flushdb()
    report = import_orders(services.sessions, demo_orders(services.clock.now()), actor="seed")
    assert not report.errors, report.errors
    app = create_app(settings, services)
    server = make_server("127.0.0.1", app_port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    # endpoints.yml: the SQL tracker store where production puts it for this DATABASE_URL
    # (tools/tracker_env.py), the Redis lock store with this stack's own key prefix; the secrets
    # stay in the environment.
    tracker_url = tracker_parts(db_url)["RASA_TRACKER_URL"]
    prepare_tracker_store(db_url)
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n  url: ${ACTION_ENDPOINT_URL}\n  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n"
        f"tracker_store:\n  type: SQL\n  url: {tracker_url}\n"
        + redis_parts_yml("lock_store", redis_url, f"live{workdir.name[-6:]}"))
    base_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    stack = LiveStack(settings, services, app, f"http://127.0.0.1:{app_port}", settings.rasa_url,
                      f"http://127.0.0.1:{actions_port}", fake, workdir, tracker_url, _server=server, shiprocket=shiprocket,
                      env={**base_env, **rasa_side_env(settings, "rasa")},
                      rasa_command=[str(RASA_PYTHON), "-m", "rasa_gate.serve", "--enable-api", "--port", str(rasa_port),
                                    "--model", str(MODEL), "--endpoints", str(endpoints)])
    try:
        actions_log = open(log_dir / "actions.log", "w")
        stack.procs.append(subprocess.Popen(
            [str(RASA_PYTHON), "-m", "rasa_gate.actions_server", "--port", str(actions_port), "--actions", "actions"],
            cwd=ROOT, env={**base_env, **rasa_side_env(settings, "actions")}, stdout=actions_log,
            stderr=subprocess.STDOUT))
        rasa_log = open(log_dir / "rasa.log", "w")
        stack.procs.append(subprocess.Popen(stack.rasa_command, cwd=ROOT, env=stack.env, stdout=rasa_log,
                                            stderr=subprocess.STDOUT))
        wait_http(f"{stack.actions_url}/health", 120, stack.procs[0])
        wait_http(f"{stack.rasa_url}/status?token={settings.rasa_auth_token}", RASA_START_WAIT, stack.procs[1])
    except Exception:
        stack.stop()
        raise
    return stack
