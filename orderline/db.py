"""Engine, sessions and schema management (Alembic)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from orderline.settings import ROOT, absolute_sqlite_url

MIGRATIONS = ROOT / "migrations"
# A pooled PostgreSQL connection that sat unused this long is pinged before it is handed out; one
# in steady use is not (a ping per checkout was a round trip per request: docs/benchmarks.md).
# Idle connections are the ones a server restart, a failover or a firewall's idle timeout kills.
IDLE_PING_SECONDS = 10.0
# Connections are replaced after this long whatever happens, so none outlives a server-side limit.
RECYCLE_SECONDS = 1800


def make_engine(url: str, idle_ping_seconds: float = IDLE_PING_SECONDS, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets immediate transactions so writers queue instead of racing.

    A PostgreSQL pool pings a connection only after `idle_ping_seconds` unused (`ping_after_idle`),
    unless the caller asks for SQLAlchemy's ping on every checkout (`pool_pre_ping=True`).
    """
    url = absolute_sqlite_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_recycle", RECYCLE_SECONDS)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_after_idle(engine, idle_ping_seconds)
    return engine


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only if it sat in the pool `idle_seconds` or more.

    A dead one is then replaced before anyone uses it (DisconnectionError makes the pool discard it
    and check out another). One that dies while in steady use fails its statement, and SQLAlchemy
    invalidates the pool, so every older connection is replaced on its next checkout.
    """
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["orderline.idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("orderline.idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or in steady use
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # whatever the driver raises for a dead socket
            raise DisconnectionError(f"pooled connection failed its ping after {idle_seconds:g} s idle") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", absolute_sqlite_url(url).replace("%", "%%"))
    return cfg


def upgrade_schema(url: str) -> None:
    """Create or migrate the schema to the newest revision."""
    from alembic import command

    parsed = make_url(absolute_sqlite_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
