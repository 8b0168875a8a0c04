"""Shared fixtures: a fresh app per test on SQLite and on the machine's PostgreSQL, real Redis."""
from __future__ import annotations

import os
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from orderline.clock import Clock
from orderline.db import make_engine, session_factory, upgrade_schema
from orderline.demo import demo_orders
from orderline.importer import import_orders
from orderline.models import Base
from orderline.orders import OrderService
from orderline.settings import Settings
from wiring import create_app
from wiring import Services

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 11, 28, 11, 0, tzinfo=IST)  # a Saturday morning in India
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
API_TOKEN = "test-token-" + uuid.uuid4().hex[:8]
SHIPROCKET_TOKEN = "sr-token-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def pg_url():
    """A throwaway PostgreSQL database for this test session, migrated to head."""
    name = "orderline_t_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade_schema(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/orderline.db"
        upgrade_schema(url)
        yield url
        return
    url = request.getfixturevalue("pg_url")
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def clock():
    return Clock.fixed(NOW)


@pytest.fixture
def settings(db_url):
    return Settings(database_url=db_url, redis_url=TEST_REDIS_URL, api_token=API_TOKEN,
                    shiprocket_webhook_token=SHIPROCKET_TOKEN, secret_key="test-secret",
                    rasa_url="http://127.0.0.1:9", orderline_env="development")


@pytest.fixture
def services(settings, clock):
    svc = Services.build(settings, clock)
    yield svc
    svc.engine.dispose()


@pytest.fixture
def app(settings, services):
    return create_app(settings, services)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def demo(services):
    """The demo dataset, dated relative to the fixed test clock."""
    rows = demo_orders(NOW)
    report = import_orders(services.sessions, rows)
    assert report.errors == [] and report.ok == len(rows)
    return {r["order_id"]: r for r in rows}


@pytest.fixture
def orders(services) -> OrderService:
    return services.orders


def demo_id(rows: dict, order_status: str, **match) -> str:
    """The first demo order with this status (and matching payment fields)."""
    for oid, row in rows.items():
        if row["status"] == order_status and all(row["payment"].get(k) == v for k, v in match.items()):
            return oid
    raise LookupError(order_status)


@pytest.fixture
def fake_rasa():
    """A local fake Rasa server (tests/support/fake_rasa.py), for tests that don't need the real assistant."""
    from tests.support.fake_rasa import FakeRasa

    fake = FakeRasa()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def live_stack():
    """The app, Rasa, the action server and a fake Twilio, all running (see tests/support/live_stack.py)."""
    from tests.support.live_stack import start_live_stack

    stack = start_live_stack()
    yield stack
    stack.stop()
