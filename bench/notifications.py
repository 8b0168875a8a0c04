"""Benchmark: Shiprocket events in, WhatsApp notifications out (issue #6).

1. Accepted events/s: 16 concurrent senders post OUT FOR DELIVERY events (distinct AWBs) to
   `/webhooks/shiprocket` on gunicorn with the workers stopped, so only acceptance is timed.
   Baselines, interleaved with it in halves: the same burst of bare `GET /healthz` (the floor
   any request through this gunicorn pays), and the inbox's INSERT + COMMIT issued straight
   from 16 psycopg connections (the floor the database sets), into a copy of the inbox table.
   200 requests of each kind warm gunicorn up first and are not timed. Also reported: events
   per INSERT (the inbox's group commit) and Redis SETs per event (the drain requests).
2. Backlog: the Procfile's worker command (N processes) applies the accepted burst and sends
   its notifications to a local fake Twilio; reported as events/s and worker CPU per event.
3. Event-to-send latency at a steady 100 events/s with the workers running: from posting the
   event to the fake Twilio receiving the message. Baseline in the same run: a direct send (the
   same Twilio API call made by the benchmark itself, 10/s, timed the same way), plus the
   webhook's own answer time against `GET /healthz` at the same rate.

gunicorn runs with the Procfile's workers and threads, the RQ workers with the Procfile's
`worker:` command, so the figures are for the configuration `make run` starts.

Usage: .venv/bin/python bench/notifications.py [--events 4000] [--rate 100] [--seconds 20] [--workers 2]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (ROOT, claim_redis, cpu_seconds, create_db, drop_db, free_port, pct, procfile_command,  # noqa: E402
                    start_gunicorn, start_process, stop, summary)

SID, TOKEN = "AC" + "9" * 32, "bench-twilio-" + uuid.uuid4().hex[:6]
SR_TOKEN = "bench-sr-" + uuid.uuid4().hex[:6]
CONCURRENCY = 16
WARMUP = 200  # requests of each kind before timing: gunicorn's threads, pools and lazy imports warm up
# A Redis database of its own: the workers take every job on the `orderline` queue, so sharing
# one with a test run (or another benchmark) would have them run each other's jobs.


def event(awb: int, ts: str) -> dict:
    return {"awb": str(7700000000 + awb), "courier_name": "Delhivery", "current_status": "OUT FOR DELIVERY",
            "current_status_id": 17, "shipment_status": "OUT FOR DELIVERY", "shipment_status_id": 17,
            "current_timestamp": ts, "order_id": f"OL-{1000000 + awb}", "etd": "",
            "scans": [{"date": ts, "activity": "Out for delivery", "location": "Indore", "sr-status": "17",
                       "sr-status-label": "OUT FOR DELIVERY"}]}


async def burst(url: str, awbs: list[int], method: str = "POST") -> tuple[list[float], float, int]:
    """CONCURRENCY keep-alive senders, each posting its next event as soon as the last is answered."""
    queue = list(reversed(awbs))
    latencies: list[float] = []
    errors = 0
    ts = time.strftime("%d %m %Y %H:%M:%S")
    async with aiohttp.ClientSession(headers={"x-api-key": SR_TOKEN}) as session:
        async def sender() -> None:
            nonlocal errors
            while queue:
                awb = queue.pop()
                t0 = time.perf_counter()
                request = session.post(url, json=event(awb, ts)) if method == "POST" else session.get(url)
                async with request as resp:
                    await resp.read()
                    errors += resp.status != 200
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
        return latencies, time.perf_counter() - t0, errors


async def raw_inserts(url: str, n: int) -> tuple[list[float], float]:
    """What `TrackingInbox.accept` asks of the database, straight from CONCURRENCY connections."""
    body = json.dumps(event(0, time.strftime("%d %m %Y %H:%M:%S")))
    latencies: list[float] = []
    left = [n]

    async def conn_loop() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            while left[0] > 0:
                left[0] -= 1
                t0 = time.perf_counter()
                await conn.execute("INSERT INTO bench_inbox (source, payload, received_at) VALUES (%s, %s, now()) "
                                   "RETURNING id", ("shiprocket", body))
                latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(conn_loop() for _ in range(CONCURRENCY)))
    return latencies, time.perf_counter() - t0


async def steady(url: str, awbs: list[int], rate: float, healthz: str, fake: str) -> dict:
    """One event every 1/rate s (open loop), a /healthz probe at the same rate, and a direct
    send to the fake Twilio every 10th tick."""
    posted: dict[str, float] = {}
    direct: dict[str, float] = {}
    webhook_s: list[float] = []
    healthz_s: list[float] = []
    ts = time.strftime("%d %m %Y %H:%M:%S")
    auth = aiohttp.BasicAuth(SID, TOKEN)
    async with aiohttp.ClientSession(headers={"x-api-key": SR_TOKEN}) as session:
        async def one(awb: int) -> None:
            body = event(awb, ts)
            t0 = time.perf_counter()
            posted[body["awb"]] = time.time()
            async with session.post(url, json=body) as resp:
                await resp.read()
            webhook_s.append(time.perf_counter() - t0)

        async def probe() -> None:
            t0 = time.perf_counter()
            async with session.get(healthz) as resp:
                await resp.read()
            healthz_s.append(time.perf_counter() - t0)

        async def direct_send(i: int) -> None:
            to = f"whatsapp:+1555{i:07d}"
            direct[to] = time.time()
            async with session.post(f"{fake}/2010-04-01/Accounts/{SID}/Messages.json", auth=auth,
                                    data={"To": to, "From": "whatsapp:+14155238886", "Body": "direct"}) as resp:
                await resp.read()

        tasks = []
        start = time.perf_counter()
        for i, awb in enumerate(awbs):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(awb)))
            tasks.append(asyncio.create_task(probe()))
            if i % 10 == 0:
                tasks.append(asyncio.create_task(direct_send(i)))
        await asyncio.gather(*tasks)
    return {"posted": posted, "direct": direct, "webhook": webhook_s, "healthz": healthz_s}


def fake_messages(fake: str) -> dict[str, float]:
    msgs = requests.get(f"{fake}/_fake/messages", timeout=30).json()["messages"]
    return {m["to"]: m["received_at"] for m in msgs}


def inbox_pending(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM tracking_inbox WHERE processed_at IS NULL").fetchone()[0]


def insert_statements(url: str) -> int:
    """How many INSERTs stored the inbox: rows written by one statement share its `now()`."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(DISTINCT received_at) FROM tracking_inbox").fetchone()[0]


def redis_sets(redis_url: str) -> int:
    """SET commands the Redis server has run (all clients): the webhook's drain flag."""
    import redis

    return int(redis.Redis.from_url(redis_url).info("commandstats").get("cmdstat_set", {}).get("calls", 0))


def notifications_sent(url: str) -> int:
    """Polled from the database, not the fake (whose full message list is costly to serve)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM notifications WHERE status = 'sent'").fetchone()[0]


def enqueue_drain(redis_url: str) -> None:
    import redis

    from wiring.jobs import RQJobQueue

    RQJobQueue(redis.Redis.from_url(redis_url)).enqueue("drain_inbox")


def stages(url: str, posted: dict[str, float]) -> dict[str, dict[str, float]]:
    """Where the steady phase's event-to-send time went, from the rows' own timestamps."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("""
            SELECT s.awb, extract(epoch FROM i.received_at), extract(epoch FROM i.processed_at),
                   extract(epoch FROM n.claimed_at), extract(epoch FROM n.sent_at)
            FROM tracking_inbox i JOIN orders o ON o.order_id = i.order_id JOIN shipments s ON s.order_pk = o.id
            JOIN notifications n ON n.order_pk = o.id WHERE n.sent_at IS NOT NULL AND s.awb = ANY(%s)""",
                            (list(posted),)).fetchall()
    spans: dict[str, list[float]] = {"post_to_stored": [], "stored_to_applied": [], "applied_to_claimed": [],
                                     "claimed_to_sent": []}
    for awb, received, processed, claimed, sent in rows:
        points = [posted[awb], float(received), float(processed), float(claimed), float(sent)]
        for name, a, b in zip(spans, points, points[1:]):
            spans[name].append(max(0.0, b - a))
    return {name: {"p50_ms": round(pct(v, 50) * 1000, 1), "p95_ms": round(pct(v, 95) * 1000, 1)}
            for name, v in spans.items() if v}


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="events in the acceptance burst")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="processes of the Procfile's worker command")
    web = procfile_command("web").split()
    parser.add_argument("--gunicorn-workers", type=int, default=int(web[web.index("--workers") + 1]),
                        help="default: the Procfile's")
    parser.add_argument("--gunicorn-threads", type=int, default=int(web[web.index("--threads") + 1]),
                        help="default: the Procfile's")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/out/notifications.json")
    args = parser.parse_args()

    steady_n = int(args.rate * args.seconds)
    orders = args.events + steady_n + WARMUP
    url_db = create_db(orders, orders, status_expr="'in_transit'", shipment_filter="true")
    with psycopg.connect(url_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_inbox (LIKE tracking_inbox INCLUDING ALL)")
    port, fake_port = free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    redis_url = claim_redis("notifications")
    env = {"DATABASE_URL": url_db, "REDIS_URL": redis_url, "API_TOKEN": "bench", "SECRET_KEY": "bench",
           "SHIPROCKET_WEBHOOK_TOKEN": SR_TOKEN, "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
           "TWILIO_API_BASE_URL": fake_url, "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
           "TWILIO_TEMPLATE_OUT_FOR_DELIVERY": "HXbenchofd", "ORDERLINE_ENV": "development"}
    requests.packages.urllib3.disable_warnings()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    fake = start_process([str(ROOT / ".venv/bin/python"), "-m", "tests.support.fake_twilio", "--port", str(fake_port),
                          "--sid", SID, "--token", TOKEN], {}, ready_url=f"{fake_url}/_fake/messages")
    app = start_gunicorn(env, port, workers=args.gunicorn_workers, threads=args.gunicorn_threads)
    hook, healthz = f"http://127.0.0.1:{port}/webhooks/shiprocket", f"http://127.0.0.1:{port}/healthz"
    worker_cmd = procfile_command("worker")
    workers: list[subprocess.Popen] = []
    report: dict = {"rq_workers": args.workers, "worker_command": worker_cmd,
                    "gunicorn": {"workers": args.gunicorn_workers, "threads": args.gunicorn_threads}}
    try:
        # 1. acceptance, interleaved in halves with its two baselines
        half = args.events // 2
        hook_lat: list[float] = []
        hz_lat: list[float] = []
        sql_lat: list[float] = []
        spent = {"webhook": 0.0, "healthz": 0.0, "sql": 0.0}
        cpu = {"webhook": 0.0, "healthz": 0.0}
        errors = 0
        warm = list(range(args.events + steady_n + 1, args.events + steady_n + WARMUP + 1))
        asyncio.run(burst(hook, warm))
        asyncio.run(burst(healthz, warm, method="GET"))
        inserts0 = insert_statements(url_db)
        sets0 = redis_sets(redis_url)
        for part in range(2):
            awbs = list(range(1 + part * half, 1 + (part + 1) * half))
            c0 = cpu_seconds(app.pid)
            lat, elapsed, errs = asyncio.run(burst(hook, awbs))
            cpu["webhook"] += cpu_seconds(app.pid) - c0
            hook_lat += lat
            spent["webhook"] += elapsed
            errors += errs
            c0 = cpu_seconds(app.pid)
            lat, elapsed, _ = asyncio.run(burst(healthz, awbs, method="GET"))
            cpu["healthz"] += cpu_seconds(app.pid) - c0
            hz_lat += lat
            spent["healthz"] += elapsed
            lat, elapsed = asyncio.run(raw_inserts(url_db, half))
            sql_lat += lat
            spent["sql"] += elapsed
        accepted = {**summary(hook_lat, spent["webhook"]), "errors": errors,
                    "gunicorn_cpu_ms_per_request": round(1000 * cpu["webhook"] / len(hook_lat), 3),
                    # group commit: events per INSERT, and drain-flag SETs per event
                    "events_per_insert": round(len(hook_lat) / max(1, insert_statements(url_db) - inserts0), 2),
                    "redis_sets_per_event": round((redis_sets(redis_url) - sets0) / len(hook_lat), 3)}
        healthz_burst = {**summary(hz_lat, spent["healthz"]),
                         "gunicorn_cpu_ms_per_request": round(1000 * cpu["healthz"] / len(hz_lat), 3)}
        sql_burst = summary(sql_lat, spent["sql"])
        report.update(accept_burst=accepted, healthz_burst=healthz_burst, inbox_insert_sql_burst=sql_burst,
                      accept_ratios={"vs_healthz": ratio(accepted["per_s"], healthz_burst["per_s"]),
                                     "vs_sql_insert": ratio(accepted["per_s"], sql_burst["per_s"])})
        print(json.dumps({k: report[k] for k in ("accept_burst", "healthz_burst", "inbox_insert_sql_burst",
                                                 "accept_ratios")}, indent=1), flush=True)

        # 2. the backlog: the Procfile's worker command applies and sends the whole burst
        redis.Redis.from_url(redis_url).flushdb()  # drains queued while no worker ran; one is enqueued below
        workers = [start_process(["bash", "-c", "exec " + worker_cmd], env) for _ in range(args.workers)]
        time.sleep(3)
        c0 = sum(cpu_seconds(w.pid) for w in workers)
        t0 = time.time()
        enqueue_drain(redis_url)
        applied_at = sent_at = None
        deadline = t0 + 300
        while time.time() < deadline and sent_at is None:
            time.sleep(0.25)
            if applied_at is None and inbox_pending(url_db) == 0:
                applied_at = time.time()
            if applied_at and notifications_sent(url_db) >= len(hook_lat) + WARMUP:
                sent_at = time.time()
        worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - c0
        n_sent = len(fake_messages(fake_url))
        backlog = len(hook_lat) + WARMUP
        report["backlog"] = {"events": backlog, "sent": n_sent,
                             "applied_per_s": round(backlog / (applied_at - t0), 1) if applied_at else None,
                             "applied_and_sent_per_s": round(n_sent / ((sent_at or time.time()) - t0), 1),
                             "worker_cpu_ms_per_event": round(1000 * worker_cpu / max(1, n_sent), 3)}
        print(json.dumps(report["backlog"], indent=1), flush=True)

        # 3. event-to-send at a steady rate
        requests.post(f"{fake_url}/_fake/reset", timeout=5)
        time.sleep(1)
        awbs = list(range(args.events + 1, args.events + steady_n + 1))
        c0 = sum(cpu_seconds(w.pid) for w in workers)
        run = asyncio.run(steady(hook, awbs, args.rate, healthz, fake_url))
        deadline = time.time() + 120
        received: dict[str, float] = {}
        while time.time() < deadline and len(received) < len(run["posted"]) + len(run["direct"]):
            received = fake_messages(fake_url)
            time.sleep(1)
        worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - c0
        phone_of = {str(7700000000 + a): "whatsapp:+9180" + str(1 + (a % orders)).zfill(8) for a in awbs}
        e2s = [received[phone_of[awb]] - t for awb, t in run["posted"].items() if phone_of[awb] in received]
        direct = [received[to] - t for to, t in run["direct"].items() if to in received]
        latency = {**summary(e2s, args.seconds), "delivered": f"{len(e2s)}/{len(run['posted'])}",
                   "worker_cpu_ms_per_event": round(1000 * worker_cpu / max(1, len(e2s)), 3)}
        direct_send = summary(direct, args.seconds)
        report.update(rate=args.rate, event_to_send_at_rate=latency, direct_send_at_rate=direct_send,
                      webhook_response_at_rate=summary(run["webhook"], args.seconds),
                      healthz_at_rate=summary(run["healthz"], args.seconds),
                      latency_ratios={"p50_vs_direct_send": ratio(latency["p50_ms"], direct_send["p50_ms"]),
                                      "p95_vs_direct_send": ratio(latency["p95_ms"], direct_send["p95_ms"])})
        report["event_to_send_stages"] = stages(url_db, run["posted"])
    finally:
        for w in workers:
            stop(w)
        stop(app)
        stop(fake)
        drop_db(url_db)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    print(f"accepted {accepted['per_s']} events/s (target >= 1000; /healthz {healthz_burst['per_s']}/s, "
          f"raw insert {sql_burst['per_s']}/s); event-to-send at {args.rate:.0f}/s p50 {latency['p50_ms']:.0f} ms, "
          f"p95 {latency['p95_ms']:.0f} ms (target < 2000 ms; direct send p95 {direct_send['p95_ms']:.0f} ms); "
          f"{args.workers} worker(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
