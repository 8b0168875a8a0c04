"""Print shell exports that point Rasa's SQL tracker store (endpoints.yml) at Orderline's database.

The tracker store is SQL because a save then inserts only the turn's new events and a load reads
only the current session, so a turn does not cost more as a customer's history grows
(docs/benchmarks.md, "A customer's history"). Where it lives follows `DATABASE_URL`:

- PostgreSQL: the app's database, in a schema of its own (`rasa`, created here if missing, named to
  Rasa by `POSTGRESQL_SCHEMA`), so Rasa's `events` table is never the app's business and Alembic,
  which looks at the default schema only, never sees it.
- SQLite: a file of its own beside the app's (`instance/orderline.db` ->
  `instance/orderline-rasa-tracker.db`), so Rasa's SQLAlchemy 1.4 and the app's migrations never
  share a file.

Usage: eval "$(.venv/bin/python tools/tracker_env.py)"  (DATABASE_URL: environment, then `.env`)
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orderline.settings import Settings, absolute_sqlite_url  # noqa: E402

TRACKER_SCHEMA = "rasa"
# Rasa's SQLAlchemy 1.4 drives PostgreSQL through psycopg2, which is what `postgresql://` means to it.
PG_SCHEMES = ("postgresql+psycopg2://", "postgresql+psycopg://", "postgresql://", "postgres://")


def tracker_parts(database_url: str) -> dict[str, str]:
    """RASA_TRACKER_URL (and, on PostgreSQL, POSTGRESQL_SCHEMA) for the app's DATABASE_URL."""
    for scheme in PG_SCHEMES:
        if database_url.startswith(scheme):
            return {"RASA_TRACKER_URL": "postgresql://" + database_url[len(scheme):],
                    "POSTGRESQL_SCHEMA": TRACKER_SCHEMA}
    url = absolute_sqlite_url(database_url)
    path = url[len("sqlite:///"):].split("?", 1)[0] if url.startswith("sqlite:///") else ""
    if not path or ":memory:" in path:  # an in-memory app database: the tracker still needs a file
        tracker = ROOT / "instance" / "rasa-tracker.db"
    else:
        app_db = Path(path)
        tracker = app_db.with_name(f"{app_db.stem}-rasa-tracker.db")
    return {"RASA_TRACKER_URL": f"sqlite:///{tracker}"}


def prepare_tracker_store(database_url: str) -> None:
    """Create what Rasa will not: the SQLite file's directory, or the PostgreSQL schema."""
    parts = tracker_parts(database_url)
    url = parts["RASA_TRACKER_URL"]
    if "POSTGRESQL_SCHEMA" not in parts:
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{parts["POSTGRESQL_SCHEMA"]}"')


if __name__ == "__main__":
    database_url = Settings.from_env().database_url
    prepare_tracker_store(database_url)
    for key, value in tracker_parts(database_url).items():
        print(f"export {key}={shlex.quote(value)}")
