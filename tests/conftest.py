"""Shared fixtures: a fresh app per test on SQLite and on the machine's PostgreSQL, and the run's own
Redis database, flushed per test. Helpers that tests import live in tests/support/, not here."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from orderline.clock import Clock
from orderline.db import upgrade_schema
from orderline.demo import demo_orders
from orderline.importer import import_orders
from orderline.models import Base
from orderline.orders import OrderService
from orderline.settings import Settings
from tests.support.redis_db import ClaimedDb, claim_db
from tests.support.values import API_TOKEN, NOW, PG_ADMIN_URL, SHIPROCKET_TOKEN
from wiring import create_app
from wiring import Services

CLAIMED = pytest.StashKey[ClaimedDb]()


@pytest.fixture(scope="session")
def redis_db(request):
    """This run's own Redis database, claimed so that no other test run or benchmark uses it
    (tests/support/redis_db.py); released when the run ends."""
    with claim_db(label="pytest") as claimed:
        request.config.stash[CLAIMED] = claimed
        yield claimed


@pytest.fixture
def redis_url(redis_db) -> str:
    """The run's Redis database, flushed: every test that uses Redis starts from an empty one."""
    redis_db.flush()
    return redis_db.url


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    claimed = config.stash.get(CLAIMED, None)
    if claimed is not None:
        terminalreporter.write_line(f"Redis: this run had database {claimed.db} ({claimed.url})")


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
def settings(db_url, redis_url):
    from tests.support import fake_rasa

    # The fake Rasa (fake_rasa fixture) checks the same channel signature and API token as the real one.
    return Settings(database_url=db_url, redis_url=redis_url, api_token=API_TOKEN,
                    shiprocket_webhook_token=SHIPROCKET_TOKEN, secret_key="test-secret",
                    rasa_url="http://127.0.0.1:9", rasa_channel_secret=fake_rasa.SECRET,
                    rasa_auth_token=fake_rasa.TOKEN, orderline_env="development")


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


@pytest.fixture
def fake_rasa():
    """A local fake Rasa server (tests/support/fake_rasa.py), for tests that don't need the real assistant."""
    from tests.support.fake_rasa import FakeRasa

    fake = FakeRasa()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def running_stack(redis_db):
    """The app, Rasa, the action server and a fake Twilio, all running (see tests/support/live_stack.py)."""
    from tests.support.live_stack import start_live_stack

    stack = start_live_stack(redis_db.url)
    yield stack
    stack.stop()


@pytest.fixture
def live_stack(running_stack, redis_url):
    """The running stack, its Redis flushed like every test's: the state cache of the tests run since
    (keyed by the same demo phones, but from their own databases) must not reach it."""
    return running_stack
