"""Fixtures for the action tests: a real order API in a subprocess, seeded with
fixtures/orders.json (dates relative to today in India), and helpers that build
rasa-sdk Trackers and run actions against it.

The app runs from the app's own environment (.venv, Python 3.11); the tests run
in .venv-rasa. Nothing is mocked: a failing order service is a port with nothing
listening.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import datetime, time as dtime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.redis_db import claim_db  # noqa: E402  (plain redis-py: no app imports)

FIXTURE = Path(__file__).parent / "fixtures" / "orders.json"
FLASK = ROOT / ".venv" / "bin" / "flask"
TOKEN = "test-token"
IST = ZoneInfo("Asia/Kolkata")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_fixture(text: str, now: datetime) -> str:
    """Replaces @day+N with an ISO date and @time-N with an ISO datetime, N days from today (IST)."""
    today = now.date()

    def day(m: re.Match) -> str:
        return (today + timedelta(days=int(m.group(1)))).isoformat()

    def moment(m: re.Match) -> str:
        at = datetime.combine(today + timedelta(days=int(m.group(1))), dtime(10, 0), IST)
        return at.isoformat()

    text = re.sub(r"@day([+-]\d+)", day, text)
    return re.sub(r"@time([+-]\d+)", moment, text)


@pytest.fixture(scope="session")
def order_api_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("order_api")


@pytest.fixture(scope="session")
def order_db(order_api_dir):
    """The order API's SQLite file, to check what it stored."""
    return order_api_dir / "t.db"


@pytest.fixture(scope="session")
def redis_db():
    """This run's own Redis database, claimed like the app tests' one (tests/support/redis_db.py)."""
    with claim_db(label="pytest tests/actions") as claimed:
        yield claimed


@pytest.fixture(scope="session")
def order_api(order_api_dir, order_db, redis_db):
    """Base URL of a running order API seeded with the fixture orders."""
    if not FLASK.exists() or not (ROOT / "app.py").exists():
        pytest.fail("the order API (.venv + app.py) is not available: run make setup")
    tmp = order_api_dir
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{order_db}",
        "API_TOKEN": TOKEN,
        "REDIS_URL": redis_db.url,
        "RASA_URL": "http://127.0.0.1:9",
        # The one-time code reaches a number outside WhatsApp's 24-hour window only as a template.
        "TWILIO_TEMPLATE_OWNERSHIP_CODE": "HX" + "c" * 32,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    orders = tmp / "orders.json"
    orders.write_text(render_fixture(FIXTURE.read_text(), datetime.now(IST)))
    flask = [str(FLASK), "--app", "app"]
    for cmd in (["db", "upgrade"], ["orders", "import", str(orders)]):
        done = subprocess.run(flask + cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{cmd}: {done.stdout}\n{done.stderr}"

    port = free_port()
    log = open(tmp / "app.log", "w")
    proc = subprocess.Popen(flask + ["run", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/healthz", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("order API did not start:\n" + (tmp / "app.log").read_text()[-3000:])
        time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def client(order_api):
    from actions.api.orders import OrderServiceClient

    return OrderServiceClient(base_url=order_api, token=TOKEN, timeout=3)


@pytest.fixture
def down_client():
    """A client whose order service is down (nothing listens on the port)."""
    from actions.api.orders import OrderServiceClient

    return OrderServiceClient(base_url=f"http://127.0.0.1:{free_port()}", token=TOKEN, timeout=1)


@pytest.fixture(scope="session")
def domain():
    """The domain as the action server receives it: domain/ merged by Rasa, as a dict."""
    from rasa.shared.core.domain import Domain

    return Domain.load(ROOT / "domain").as_dict()


@pytest.fixture(autouse=True)
def fresh_ownership_counters(redis_db):
    """Each test starts with no ownership failures or one-time codes in the order API's Redis
    (they are counted per sender and per order for 24 h, so they would carry over between tests)."""
    import redis

    cache = redis.Redis.from_url(redis_db.url)
    for pattern in ("ownership:*", "otp:*"):
        keys = list(cache.scan_iter(pattern))
        if keys:
            cache.delete(*keys)
    cache.close()
    yield
