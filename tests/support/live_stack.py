"""The whole product running for real, for tests whose behaviour depends on the assistant.

One per test session: the app (in a threaded HTTP server, on a seeded SQLite DB), the Rasa
server with the trained model, the Rasa action server reaching the app's API over HTTP, and
a fake Twilio. Nothing is patched; the processes talk over loopback exactly as in production.
"""
from __future__ import annotations

import os
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
from orderline.settings import ROOT, Settings
from tests.support.fake_twilio import FakeTwilio
from tools.tracker_env import tracker_parts
from wiring import create_app
from wiring import Services

RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
MODEL = ROOT / "models" / "orderline.tar.gz"
REDIS_DB = os.environ.get("LIVE_STACK_REDIS_DB", "13")
TWILIO_SID, TWILIO_TOKEN = "AC" + "7" * 32, "live-stack-twilio-token"
PUBLIC_BASE_URL = "https://orderline.test"


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
    _server: Any = None

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.api_token}"}

    def rasa_turn(self, sender: str, text: str, channel: str = "whatsapp", language: str = "en") -> list[dict[str, Any]]:
        """One turn straight to Rasa's REST channel (what the front doors do)."""
        resp = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", timeout=30,
                             json={"sender": sender, "message": text,
                                   "metadata": {"channel": channel, "phone": sender, "language": language}})
        resp.raise_for_status()
        return resp.json()

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
        self.services.engine.dispose()


def start_live_stack(log_dir: Optional[Path] = None, redis_db: str = REDIS_DB, outbox: bool = False) -> LiveStack:
    """Start the stack on Redis DB `redis_db`. `outbox`: no Twilio account, so sends go to the local outbox."""
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}; run `make train` first")
    workdir = Path(tempfile.mkdtemp(prefix="orderline-live-"))
    log_dir = log_dir or workdir
    db_url = f"sqlite:///{workdir}/live.db"
    upgrade_schema(db_url)
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN)
    fake.start()
    app_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    settings = Settings(
        database_url=db_url, redis_url=f"redis://127.0.0.1:6379/{redis_db}", rasa_url=f"http://127.0.0.1:{rasa_port}",
        order_service_url=f"http://127.0.0.1:{app_port}", api_token="live-" + uuid.uuid4().hex,
        twilio_account_sid="" if outbox else TWILIO_SID, twilio_auth_token=TWILIO_TOKEN,
        twilio_whatsapp_from="whatsapp:+14155238886",
        twilio_api_base_url=fake.base_url, public_base_url=PUBLIC_BASE_URL,
        shiprocket_webhook_token="live-sr-" + uuid.uuid4().hex[:8], secret_key="live-secret",
        rasa_timeout=30.0)  # a cold Rasa on a busy machine; the holding path has its own tests
    services = Services.build(settings, Clock())
    services.redis.flushdb()
    report = import_orders(services.sessions, demo_orders(services.clock.now()), actor="seed")
    assert not report.errors, report.errors
    app = create_app(settings, services)
    server = make_server("127.0.0.1", app_port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    # endpoints.yml's stores: the SQL tracker store where production puts it for this DATABASE_URL,
    # the Redis lock store.
    tracker_url = tracker_parts(db_url)["RASA_TRACKER_URL"]
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
        f"tracker_store:\n  type: SQL\n  url: {tracker_url}\n"
        f"lock_store:\n  type: redis\n  url: 127.0.0.1\n  port: 6379\n  db: {redis_db}\n  key_prefix: live{workdir.name[-6:]}\n")
    env = {**os.environ, "ORDER_SERVICE_URL": settings.order_service_url, "API_TOKEN": settings.api_token,
           "REDIS_URL": settings.redis_url, "PYTHONDONTWRITEBYTECODE": "1"}
    stack = LiveStack(settings, services, app, f"http://127.0.0.1:{app_port}", settings.rasa_url,
                      f"http://127.0.0.1:{actions_port}", fake, workdir, tracker_url, _server=server)
    try:
        actions_log = open(log_dir / "actions.log", "w")
        stack.procs.append(subprocess.Popen(
            [str(RASA_BIN), "run", "actions", "--port", str(actions_port), "--actions", "actions"],
            cwd=ROOT, env=env, stdout=actions_log, stderr=subprocess.STDOUT))
        rasa_log = open(log_dir / "rasa.log", "w")
        stack.procs.append(subprocess.Popen(
            [str(RASA_PY), "-m", "rasa_boot", "run", "--enable-api", "--port", str(rasa_port), "--model", str(MODEL),
             "--endpoints", str(endpoints), "--interface", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=rasa_log, stderr=subprocess.STDOUT))
        wait_http(f"{stack.actions_url}/health", 120, stack.procs[0])
        wait_http(f"{stack.rasa_url}/status", 240, stack.procs[1])
    except Exception:
        stack.stop()
        raise
    return stack
