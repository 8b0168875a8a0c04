"""Benchmark: order lookups over HTTP (gunicorn) against the same lookups straight in SQL.

Seeds 1,000,000 orders into a throwaway PostgreSQL database with set-based INSERT ... SELECT
(generate_series), starts gunicorn on it, then drives 16 concurrent keep-alive clients at
`GET /api/v1/orders/<id>` and `GET /api/v1/orders?phone=`, and the equivalent SQL from 16
concurrent connections, in the same run. Loops are bounded in count and time; loopback only.

Usage: .venv/bin/python bench/orders_lookup.py [--orders 1000000] [--requests 20000] [--keep]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path

import aiohttp
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, create_db, drop_db, free_port, start_gunicorn, stop, summary  # noqa: E402

CONCURRENCY = 16
TOKEN = "bench-" + uuid.uuid4().hex[:8]
CUSTOMERS_PER_ORDER = 4  # each customer owns ~4 orders

# What the API does for one id lookup, written as plain SQL: the order with its one-to-one
# parts in one query, then its timeline and return requests.
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


def create(orders: int) -> str:
    return create_db(orders, max(1, orders // CUSTOMERS_PER_ORDER))


def start(url: str, port: int, workers: int, threads: int):
    env = {"DATABASE_URL": url, "API_TOKEN": TOKEN, "SECRET_KEY": "bench", "SHIPROCKET_WEBHOOK_TOKEN": "bench"}
    return start_gunicorn(env, port, workers, threads)


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


def sql_load(url: str, statements: list[str], args: list[str], duration_cap: float) -> tuple[list[float], float]:
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
    return latencies, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--cap", type=float, default=60.0, help="seconds per phase, at most")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/out/orders_lookup.json")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    url = create(args.orders)
    port = free_port()
    proc = start(url, port, args.workers, args.threads)
    rng = random.Random(7)
    customers = max(1, args.orders // CUSTOMERS_PER_ORDER)
    ids = [str(1_000_000 + rng.randint(1, args.orders)) for _ in range(args.requests)]
    phones = ["+9180" + str(rng.randint(1, customers)).zfill(8) for _ in range(args.requests)]
    base = f"http://127.0.0.1:{port}/api/v1/orders"
    results: dict[str, dict[str, float]] = {}
    try:
        # Warm both paths so neither pays for cold caches or connection set-up in the figures.
        asyncio.run(http_load([f"{base}/OL-{i}" for i in ids[:500]], 20))
        sql_load(url, SQL_BY_ID, ids[:500], 20)
        for name, http_urls, stmts, sql_args in (
            ("by_id", [f"{base}/OL-{i}" for i in ids], SQL_BY_ID, ids),
            ("by_phone", [f"{base}?phone=%2B{p[1:]}" for p in phones], SQL_BY_PHONE, phones),
        ):
            # Interleave halves (HTTP, SQL, HTTP, SQL) so machine noise hits both alike.
            half = len(http_urls) // 2
            h1, e1, err1 = asyncio.run(http_load(http_urls[:half], args.cap / 2))
            s1, t1 = sql_load(url, stmts, sql_args[:half], args.cap / 2)
            h2, e2, err2 = asyncio.run(http_load(http_urls[half:], args.cap / 2))
            s2, t2 = sql_load(url, stmts, sql_args[half:], args.cap / 2)
            http = summary(h1 + h2, e1 + e2)
            http["errors"] = err1 + err2
            sql = summary(s1 + s2, t1 + t2)
            results[name] = {"http": http, "sql": sql,
                             "p50_ratio": round(http["p50_ms"] / sql["p50_ms"], 2),
                             "p99_ratio": round(http["p99_ms"] / sql["p99_ms"], 2),
                             "rps_ratio": round(http["per_s"] / sql["per_s"], 3)}
    finally:
        stop(proc)
        if not args.keep:
            drop_db(url)
    report = {"orders": args.orders, "concurrency": CONCURRENCY, "gunicorn": {"workers": args.workers, "threads": args.threads},
              "cpus": os.cpu_count(), "results": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    print(f"{'lookup':9} {'path':5} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for name, r in results.items():
        for path in ("http", "sql"):
            m = r[path]
            print(f"{name:9} {path:5} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} {m['per_s']:8.0f}")
        print(f"{name:9} ratio http/sql: p50 x{r['p50_ratio']}, p99 x{r['p99_ratio']}, throughput x{r['rps_ratio']}")
    target = results["by_id"]["http"]["p99_ms"] < 5.0
    print(f"target p99 < 5 ms for GET by id over HTTP: {'met' if target else 'NOT met'} "
          f"({results['by_id']['http']['p99_ms']} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
