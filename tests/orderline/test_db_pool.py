"""PostgreSQL pool: no ping per checkout, a ping after idle, and recovery from a killed connection."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from orderline.db import make_engine


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def kill(pg_url: str, pid: int) -> None:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg_url):
    """Without a ping per checkout, a connection killed while the pool held it fails its next
    statement once; the pool is then invalidated and the statement after that reconnects."""
    engine = make_engine(pg_url, pool_size=1, max_overflow=0, idle_ping_seconds=3600)
    try:
        kill(pg_url, backend_pid(engine))
        with pytest.raises(OperationalError) as failed:
            backend_pid(engine)
        assert failed.value.connection_invalidated
        assert backend_pid(engine)
    finally:
        engine.dispose()


def test_an_idle_connection_is_pinged_and_replaced_before_use(pg_url):
    engine = make_engine(pg_url, pool_size=1, max_overflow=0, idle_ping_seconds=0)
    try:
        dead = backend_pid(engine)
        kill(pg_url, dead)
        assert backend_pid(engine) != dead  # no error: the ping found it dead, the pool reconnected
    finally:
        engine.dispose()


def test_pre_ping_on_request_keeps_sqlalchemys_own(pg_url):
    engine = make_engine(pg_url, pool_size=1, max_overflow=0, pool_pre_ping=True, idle_ping_seconds=3600)
    try:
        dead = backend_pid(engine)
        kill(pg_url, dead)
        assert backend_pid(engine) != dead
    finally:
        engine.dispose()
