"""Benchmark: order lookups over HTTP (gunicorn) against the same lookups straight in SQL.

Seeds 1,000,000 orders into a throwaway PostgreSQL database with set-based INSERT ... SELECT
(generate_series), starts the Procfile's `web:` command on it (loopback only), then drives 16
concurrent keep-alive clients at `GET /api/v1/orders/<id>` (random ids: cache misses; and a
warmed set of 1,000 ids: cache hits), `GET /api/v1/orders?phone=` (random phones: misses; a
warmed set of 1,000 phones: hits) and a bare `GET /healthz` (the ceiling: a trivial Flask
endpoint under the same server and load), and the equivalent SQL from 16 concurrent
connections, in the same run. Loops are bounded in count and time. Issue #13's targets are
throughput ratios to `/healthz` in the same run: a miss by id >= 0.6, a hit >= 0.9.

Usage: .venv/bin/python bench/orders_lookup.py [--orders 1000000] [--requests 20000] [--keep]
A quick run while iterating: --orders 50000 --requests 2000; --db URL reuses a seeded database.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

import aiohttp
import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (ROOT, claim_redis, cpu_seconds, create_db, drop_db, free_port, procfile_command, stop,  # noqa: E402
                    summary)

CONCURRENCY = 16
TOKEN = "bench-" + uuid.uuid4().hex[:8]
CUSTOMERS_PER_ORDER = 4  # each customer owns ~4 orders
CACHED_IDS = 1000

# The baseline: one id lookup as plain SQL, the order with its one-to-one parts in one query,
# then its timeline and return requests (what the ORM issued before issue #2's Core read path;
# kept unchanged so ratios compare across runs).
SQL_BY_ID = [
    """SELECT o.*, c.*, p.*, a.*, s.* FROM orders o JOIN customers c ON c.id = o.customer_id
       LEFT JOIN payments p ON p.order_pk = o.id LEFT JOIN addresses a ON a.order_pk = o.id
       LEFT JOIN shipments s ON s.order_pk = o.id WHERE o.number = %s""",
    "SELECT * FROM shipment_events WHERE shipment_id = (SELECT s.id FROM shipments s JOIN orders o ON o.id = s.order_pk WHERE o.number = %s)",
    "SELECT * FROM return_requests WHERE order_pk = (SELECT id FROM orders WHERE number = %s)",
]
SQL_BY_PHONE = [
    """SELECT o.*, c.*, p.*, a.*, s.* FROM orders o JOIN customers c ON c.id = o.customer_id
       LEFT JOIN payments p ON p.order_pk = o.id LEFT JOIN addresses a ON a.order_pk = o.id
       LEFT JOIN shipments s ON s.order_pk = o.id WHERE c.phone = %s ORDER BY o.placed_at DESC, o.id DESC LIMIT 50""",
    """SELECT e.* FROM shipment_events e JOIN shipments s ON s.id = e.shipment_id JOIN orders o ON o.id = s.order_pk
       JOIN customers c ON c.id = o.customer_id WHERE c.phone = %s""",
    """SELECT r.* FROM return_requests r JOIN orders o ON o.id = r.order_pk
       JOIN customers c ON c.id = o.customer_id WHERE c.phone = %s""",
]


def web_command(port: int, workers: int | None, threads: int | None) -> str:
    """The Procfile's `web:` command, bound to loopback (and resized only when asked to)."""
    cmd = procfile_command("web").replace("gunicorn ", f"gunicorn --bind 127.0.0.1:{port} ", 1)
    if workers:
        cmd = re.sub(r"--workers\s+\d+", f"--workers {workers}", cmd)
    if threads:
        cmd = re.sub(r"--threads\s+\d+", f"--threads {threads}", cmd)
    return cmd


def start_web(url: str, redis_url: str, port: int, workers: int | None, threads: int | None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "DATABASE_URL": url, "REDIS_URL": redis_url,
           "API_TOKEN": TOKEN, "SECRET_KEY": "bench", "SHIPROCKET_WEBHOOK_TOKEN": "bench",
           "ORDERLINE_ENV": "development"}
    # Access-log lines (if the Procfile asks for them) are written, as in production, then dropped.
    proc = subprocess.Popen(["bash", "-c", "exec " + web_command(port, workers, threads)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError("gunicorn did not start")


async def http_load(urls: list[str], duration_cap: float) -> tuple[list[float], float, int]:
    """16 keep-alive clients share a bounded list of URLs; returns latencies, elapsed, errors."""
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(urls))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    t_end = time.perf_counter() + duration_cap

    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        async def client() -> None:
            nonlocal errors
            while queue and time.perf_counter() < t_end:
                url = queue.pop()
                t0 = time.perf_counter()
                async with session.get(url) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
        return latencies, time.perf_counter() - t0, errors


def sql_load(url: str, statements: list[str], args: list[str], duration_cap: float) -> tuple[list[float], float, int]:
    """The same lookups straight in SQL, from 16 concurrent connections."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(reversed(args))
    t_end = time.perf_counter() + duration_cap

    def worker() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while time.perf_counter() < t_end:
                with lock:
                    if not queue:
                        return
                    arg = queue.pop()
                t0 = time.perf_counter()
                for stmt in statements:
                    conn.execute(stmt, (arg,)).fetchall()
                latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    t0 = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    return latencies, time.perf_counter() - t0, 0


def measured(run: Callable[[], tuple[list[float], float, int]], server_pid: int) -> dict:
    """Run one phase; its latencies plus the CPU the server and this load generator used."""
    server0, client0 = cpu_seconds(server_pid), time.process_time()
    latencies, elapsed, errors = run()
    return {"latencies": latencies, "elapsed": elapsed, "errors": errors,
            "server_cpu": cpu_seconds(server_pid) - server0, "client_cpu": time.process_time() - client0}


def merge(halves: list[dict], with_server: bool) -> dict:
    latencies = [x for h in halves for x in h["latencies"]]
    out = summary(latencies, sum(h["elapsed"] for h in halves))
    out["errors"] = sum(h["errors"] for h in halves)
    n = len(latencies)
    out["client_cpu_ms_per_req"] = round(sum(h["client_cpu"] for h in halves) / n * 1000, 3)
    if with_server:
        out["server_cpu_ms_per_req"] = round(sum(h["server_cpu"] for h in halves) / n * 1000, 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--workers", type=int, help="override the Procfile's gunicorn --workers (experiments only)")
    parser.add_argument("--threads", type=int, help="override the Procfile's gunicorn --threads (experiments only)")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds per phase, at most")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/out/orders_lookup.json")
    parser.add_argument("--db", help="an already seeded benchmark database URL to reuse (it is kept)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    redis_url = claim_redis("orders_lookup")  # flushed: no entries from an earlier run (same order numbers)
    url = args.db or create_db(args.orders, max(1, args.orders // CUSTOMERS_PER_ORDER))
    port = free_port()
    proc = start_web(url, redis_url, port, args.workers, args.threads)
    rng = random.Random(7)
    customers = max(1, args.orders // CUSTOMERS_PER_ORDER)
    ids = [str(1_000_000 + rng.randint(1, args.orders)) for _ in range(args.requests)]
    phones = ["+9180" + str(rng.randint(1, customers)).zfill(8) for _ in range(args.requests)]
    hot = [str(1_000_000 + rng.randint(1, args.orders)) for _ in range(CACHED_IDS)]
    base = f"http://127.0.0.1:{port}"
    by_id = [f"{base}/api/v1/orders/OL-{i}" for i in ids]
    cached = [f"{base}/api/v1/orders/OL-{rng.choice(hot)}" for _ in range(args.requests)]
    healthz = [f"{base}/healthz"] * args.requests
    by_phone = [f"{base}/api/v1/orders?phone=%2B{p[1:]}" for p in phones]
    hot_phones = ["+9180" + str(rng.randint(1, customers)).zfill(8) for _ in range(CACHED_IDS)]
    phone_cached = [f"{base}/api/v1/orders?phone=%2B{rng.choice(hot_phones)[1:]}" for _ in range(args.requests)]
    half_cap = args.cap / 2

    def http(urls: list[str]) -> Callable[[], tuple[list[float], float, int]]:
        return lambda: asyncio.run(http_load(urls, half_cap))

    def sql(statements: list[str], sql_args: list[str]) -> Callable[[], tuple[list[float], float, int]]:
        return lambda: sql_load(url, statements, sql_args, half_cap)

    def warm_hot() -> None:  # entries live 120 s: fill them again right before each cached half
        asyncio.run(http_load([f"{base}/api/v1/orders/OL-{i}" for i in hot], 30))

    def warm_hot_phones() -> None:
        asyncio.run(http_load([f"{base}/api/v1/orders?phone=%2B{p[1:]}" for p in hot_phones], 30))

    # (name, path, workload split in halves, run it, before each half)
    phases = [("by_id", "http", by_id, http, None), ("by_id", "sql", ids, lambda a: sql(SQL_BY_ID, a), None),
              ("by_id_cached", "http", cached, http, warm_hot), ("healthz", "http", healthz, http, None),
              ("by_phone", "http", by_phone, http, None), ("by_phone", "sql", phones, lambda a: sql(SQL_BY_PHONE, a), None),
              ("by_phone_cached", "http", phone_cached, http, warm_hot_phones)]
    halves: dict[tuple[str, str], list[dict]] = {}
    try:
        # Warm both paths so neither pays for cold caches or connection set-up in the figures.
        asyncio.run(http_load(by_id[:500] + healthz[:500], 20))
        sql_load(url, SQL_BY_ID, ids[:500], 20)
        # Every phase runs in two halves, round-robin, so machine noise hits all of them alike.
        for part in (0, 1):
            for name, path, work, runner, before in phases:
                half = len(work) // 2
                if before:
                    before()
                chunk = work[:half] if part == 0 else work[half:]
                halves.setdefault((name, path), []).append(measured(runner(chunk), proc.pid))
    finally:
        stop(proc)
        if not args.keep and not args.db:
            drop_db(url)

    results: dict[str, dict] = {}
    for (name, path), parts in halves.items():
        results.setdefault(name, {})[path] = merge(parts, with_server=path == "http")
    for name, r in results.items():
        base_sql = (results["by_phone"] if name.startswith("by_phone") else results["by_id"])["sql"]
        r["vs_sql"] = {"p50": round(r["http"]["p50_ms"] / base_sql["p50_ms"], 2),
                       "p99": round(r["http"]["p99_ms"] / base_sql["p99_ms"], 2),
                       "throughput": round(r["http"]["per_s"] / base_sql["per_s"], 3)}
        r["throughput_vs_healthz"] = round(r["http"]["per_s"] / results["healthz"]["http"]["per_s"], 3)
    report = {"orders": args.orders, "concurrency": CONCURRENCY, "web": web_command(0, args.workers, args.threads),
              "cpus": os.cpu_count(), "loadavg_after": os.getloadavg(), "results": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))

    print(f"web: {report['web']}")
    print(f"{'lookup':13} {'path':5} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'server CPU':>11} {'client CPU':>11}"
          "   (CPU: ms per request)")
    for name, r in results.items():
        for path in ("http", "sql"):
            if path in r:
                m = r[path]
                server = f"{m['server_cpu_ms_per_req']:11.2f}" if "server_cpu_ms_per_req" in m else " " * 11
                print(f"{name:13} {path:5} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} {m['per_s']:7.0f} {server} "
                      f"{m['client_cpu_ms_per_req']:11.2f}" + (f"   errors {m['errors']}" if m["errors"] else ""))
    for name, r in results.items():
        v = r["vs_sql"]
        print(f"{name:13} http/sql: p50 x{v['p50']}, p99 x{v['p99']}, throughput x{v['throughput']}")
    for name, r in results.items():
        print(f"{name:13} req/s / healthz req/s: {r['throughput_vs_healthz']}")
    for name, target in (("by_id", 0.6), ("by_id_cached", 0.9)):
        ratio = results[name]["throughput_vs_healthz"]
        print(f"target {name} throughput >= {target} x /healthz: {'met' if ratio >= target else 'NOT met'} ({ratio})")
    p99 = results["by_id"]["http"]["p99_ms"]
    print(f"target p99 < 5 ms for GET by id over HTTP: {'met' if p99 < 5.0 else 'NOT met'} ({p99} ms); "
          f"ceiling (/healthz) p99 {results['healthz']['http']['p99_ms']} ms at {results['healthz']['http']['per_s']:.0f} req/s "
          f"(Little's law: {CONCURRENCY} clients need > {CONCURRENCY / 0.005:.0f} req/s for a mean under 5 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
