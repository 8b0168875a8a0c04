"""tools/tracker_env.py: where Rasa's SQL tracker store lives for each DATABASE_URL, and that Rasa uses it."""
from __future__ import annotations

import json
import os
import subprocess

import psycopg
import pytest

from orderline.settings import ROOT
from tools.tracker_env import prepare_tracker_store, tracker_parts

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"


def test_sqlite_tracker_is_a_file_of_its_own_beside_the_apps_database(tmp_path):
    assert tracker_parts("sqlite:///instance/orderline.db") == {
        "RASA_TRACKER_URL": f"sqlite:///{ROOT}/instance/orderline-rasa-tracker.db"}
    assert tracker_parts(f"sqlite:///{tmp_path}/shop.db") == {"RASA_TRACKER_URL": f"sqlite:///{tmp_path}/shop-rasa-tracker.db"}
    assert tracker_parts("sqlite://") == {"RASA_TRACKER_URL": f"sqlite:///{ROOT}/instance/rasa-tracker.db"}
    prepare_tracker_store(f"sqlite:///{tmp_path}/new/shop.db")
    assert (tmp_path / "new").is_dir()


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg", "postgresql+psycopg2", "postgres"])
def test_postgresql_tracker_is_the_apps_database_in_schema_rasa_through_psycopg2(scheme):
    parts = tracker_parts(f"{scheme}://shop:pw@db.internal:5433/orderline?sslmode=require")
    assert parts == {"RASA_TRACKER_URL": "postgresql://shop:pw@db.internal:5433/orderline?sslmode=require",
                     "POSTGRESQL_SCHEMA": "rasa"}


RASA_SAVES = """
import asyncio, json, os
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

store = SQLTrackerStore(Domain.empty(), host=os.environ["RASA_TRACKER_URL"])
tracker = DialogueStateTracker("+919000000001", [])
tracker.update(SessionStarted())
tracker.update(UserUttered("hi", intent={"name": "greet", "confidence": 1.0}))
asyncio.run(store.save(tracker))
print(json.dumps(sorted(asyncio.run(store.keys()))))
"""


def test_rasa_keeps_its_events_in_schema_rasa_not_beside_the_apps_tables(pg_url):
    prepare_tracker_store(pg_url)
    prepare_tracker_store(pg_url)  # idempotent: every Rasa start runs it
    env = {**os.environ, **tracker_parts(pg_url), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    done = subprocess.run([str(RASA_PY), "-c", RASA_SAVES], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["+919000000001"]
    with psycopg.connect(tracker_parts(pg_url)["RASA_TRACKER_URL"]) as conn:
        tables = conn.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = 'events'").fetchall()
        assert tables == [("rasa",)]
        rows = conn.execute("SELECT type_name FROM rasa.events WHERE sender_id = '+919000000001' ORDER BY id").fetchall()
        assert rows == [("session_started",), ("user",)]
