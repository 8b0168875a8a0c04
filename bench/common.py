"""Shared benchmark plumbing: throwaway PostgreSQL databases, a Redis database of its own, gunicorn, percentiles."""
from __future__ import annotations

import atexit
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Optional

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orderline.db import upgrade_schema  # noqa: E402
from tests.support.redis_db import claim_db, server_url  # noqa: E402

ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")

SEED_SQL = """
INSERT INTO customers (id, name, phone, email, language, created_at)
SELECT g, 'Customer ' || g, '+9180' || lpad(g::text, 8, '0'), 'c' || g || '@example.com',
       CASE WHEN g % 3 = 0 THEN 'hi' ELSE 'en' END, now()
FROM generate_series(1, {customers}) g;

INSERT INTO orders (id, order_id, number, customer_id, placed_at, items, amount, currency, status, updated_at, version)
SELECT g, 'OL-' || (1000000 + g), (1000000 + g)::text, 1 + (g % {customers}),
       now() - (g % 90) * interval '1 day' - (g % 1440) * interval '1 minute',
       '[{{"sku": "TSHIRT-M", "name": "Cotton T-shirt (M)", "qty": 1, "unit_price": 499.0}}]',
       499.00, 'INR', {status_expr}, now(), 1
FROM generate_series(1, {orders}) g;

INSERT INTO payments (id, order_pk, method, status, reference)
SELECT g, g, CASE WHEN g % 3 = 0 THEN 'cod' ELSE 'prepaid' END,
       CASE WHEN g % 3 = 0 THEN 'pending' ELSE 'paid' END, 'pay_' || g
FROM generate_series(1, {orders}) g;

INSERT INTO addresses (id, order_pk, line1, line2, landmark, city, state, pincode)
SELECT g, g, g || ' MG Road', '', 'Near temple', 'Indore', 'Madhya Pradesh', (452001 + g % 90)::text
FROM generate_series(1, {orders}) g;

INSERT INTO shipments (id, order_pk, courier, awb, tracking_url, promised_date, expected_date, attempts)
SELECT g, g, 'Delhivery', (7700000000 + g)::text, 'https://track.example/' || g,
       current_date + (g % 5), current_date + (g % 7), 0
FROM generate_series(1, {orders}) g WHERE {shipment_filter};

INSERT INTO shipment_events (shipment_id, at, status, order_status, location, note, source)
SELECT s.id, now() - interval '2 days', 'shipped', 'shipped', 'Bhiwandi hub', 'Picked up', 'bench'
FROM shipments s;

SELECT setval('customers_id_seq', {customers}); SELECT setval('orders_id_seq', {orders});
SELECT setval('payments_id_seq', {orders}); SELECT setval('addresses_id_seq', {orders});
SELECT setval('shipments_id_seq', {orders});
ANALYZE;
"""
MIXED_STATUSES = ("(ARRAY['placed','confirmed','packed','shipped','in_transit','out_for_delivery','delivery_failed',"
                  "'delivered','delivered','delivered','rto_initiated','cancelled'])[1 + g % 12]")


def create_db(orders: int, customers: int, status_expr: str = MIXED_STATUSES,
              shipment_filter: str = "g % 12 NOT IN (0, 1, 2)") -> str:
    """A throwaway, migrated database seeded set-based (INSERT ... SELECT generate_series)."""
    name = "orderline_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    upgrade_schema(url)
    sql = SEED_SQL.format(customers=customers, orders=orders, status_expr=status_expr, shipment_filter=shipment_filter)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in sql.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    print(f"seeded {orders:,} orders for {customers:,} customers in {time.perf_counter() - t0:.1f} s", flush=True)
    return url


def claim_redis(name: str) -> str:
    """The URL of a flushed Redis database this benchmark holds until it exits.

    Claimed like a test run's (tests/support/redis_db.py) on the server `BENCH_REDIS_URL` names
    (default redis://127.0.0.1:6379; a database number in it is ignored), so a benchmark never
    shares a database with a test run or another benchmark.
    """
    claimed = claim_db(server_url("BENCH_REDIS_URL"), label=f"bench/{name}")
    atexit.register(claimed.release)
    return claimed.url


def drop_db(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_process(cmd: list[str], env: dict[str, str], ready_url: Optional[str] = None, timeout: float = 60) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env},
                            start_new_session=True)
    if ready_url:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if requests.get(ready_url, timeout=1).ok:
                    return proc
            except requests.RequestException:
                time.sleep(0.2)
        stop(proc)
        raise RuntimeError(f"{cmd[0]} not ready at {ready_url}")
    return proc


def start_gunicorn(env: dict[str, str], port: int, workers: int = 2, threads: int = 4) -> subprocess.Popen:
    return start_process([str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                          "--threads", str(threads), "--log-level", "warning", "app:create_app()"],
                         env, ready_url=f"http://127.0.0.1:{port}/healthz")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    return {"n": len(latencies), "p50_ms": round(pct(latencies, 50) * 1000, 3), "p95_ms": round(pct(latencies, 95) * 1000, 3),
            "p99_ms": round(pct(latencies, 99) * 1000, 3), "mean_ms": round(statistics.mean(latencies) * 1000, 3),
            "per_s": round(len(latencies) / elapsed, 1)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0.0)
        todo += children.get(p, [])
    return total


def procfile_command(name: str) -> str:
    """The command the Procfile runs for process type `name` (benchmarks run exactly that)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise KeyError(name)


# The Rasa side, started through the same gates as the Procfile (docs/security.md).
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
RASA_SERVE = [str(RASA_PYTHON), "-m", "rasa_gate.serve"]
ACTIONS_SERVE = [str(RASA_PYTHON), "-m", "rasa_gate.actions_server"]


def with_rasa_secrets(env: dict[str, str], actions_port: int) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """`env` plus fresh Rasa-side secrets (for the app), and the Rasa and action server environments."""
    from orderline.settings import Settings
    from tools.rasa_env import rasa_side_env

    env = {**env, "RASA_CHANNEL_SECRET": "bench-" + uuid.uuid4().hex, "RASA_AUTH_TOKEN": "bench-" + uuid.uuid4().hex,
           "ACTION_SERVER_TOKEN": "bench-" + uuid.uuid4().hex,
           "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions_port}/webhook"}
    settings = Settings.from_env(env)
    return env, {**env, **rasa_side_env(settings, "rasa")}, {**env, **rasa_side_env(settings, "actions")}


# endpoints.yml's action endpoint: the URL and the token come from the environment.
ACTION_ENDPOINT_YML = "action_endpoint:\n  url: ${ACTION_ENDPOINT_URL}\n  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n"
