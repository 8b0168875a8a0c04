"""Benchmark: Shiprocket events in, WhatsApp notifications out.

1. Accepted events/s: 16 concurrent senders post OUT FOR DELIVERY events (distinct AWBs) to
   `/webhooks/shiprocket` on gunicorn, workers stopped, so only the ingest path is timed.
2. Event-to-send latency at a steady 100 events/s with RQ workers running: from the moment
   an event is posted to the moment the local fake Twilio receives the message.
Baseline in the same run: the webhook's own response time, and the same rate of bare
`GET /healthz` requests (the floor any HTTP request pays on this machine).

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
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, create_db, drop_db, free_port, start_gunicorn, start_process, stop, summary  # noqa: E402

SID, TOKEN = "AC" + "9" * 32, "bench-twilio-" + uuid.uuid4().hex[:6]
SR_TOKEN = "bench-sr-" + uuid.uuid4().hex[:6]


def event(awb: int, ts: str) -> dict:
    return {"awb": str(7700000000 + awb), "courier_name": "Delhivery", "current_status": "OUT FOR DELIVERY",
            "current_status_id": 17, "shipment_status": "OUT FOR DELIVERY", "shipment_status_id": 17,
            "current_timestamp": ts, "order_id": f"OL-{1000000 + awb}", "etd": "",
            "scans": [{"date": ts, "activity": "Out for delivery", "location": "Indore", "sr-status": "17",
                       "sr-status-label": "OUT FOR DELIVERY"}]}


async def burst(url: str, awbs: list[int], concurrency: int) -> tuple[list[float], float, int]:
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
                async with session.post(url, json=event(awb, ts)) as resp:
                    await resp.read()
                    errors += resp.status != 200
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return latencies, time.perf_counter() - t0, errors


async def steady(url: str, awbs: list[int], rate: float, healthz: str) -> tuple[dict[str, float], list[float], list[float]]:
    """Post one event every 1/rate s (open loop), interleaved with a /healthz probe at the same rate."""
    posted: dict[str, float] = {}
    webhook_ms: list[float] = []
    healthz_ms: list[float] = []
    ts = time.strftime("%d %m %Y %H:%M:%S")
    async with aiohttp.ClientSession(headers={"x-api-key": SR_TOKEN}) as session:
        async def one(awb: int) -> None:
            body = event(awb, ts)
            t0 = time.perf_counter()
            posted[body["awb"]] = time.time()
            async with session.post(url, json=body) as resp:
                await resp.read()
            webhook_ms.append(time.perf_counter() - t0)

        async def probe() -> None:
            t0 = time.perf_counter()
            async with session.get(healthz) as resp:
                await resp.read()
            healthz_ms.append(time.perf_counter() - t0)

        tasks = []
        start = time.perf_counter()
        for i, awb in enumerate(awbs):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(awb)))
            tasks.append(asyncio.create_task(probe()))
        await asyncio.gather(*tasks)
    return posted, webhook_ms, healthz_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="events in the acceptance burst")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="RQ workers for the latency phase")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/out/notifications.json")
    args = parser.parse_args()

    steady_n = int(args.rate * args.seconds)
    orders = args.events + steady_n
    url_db = create_db(orders, orders, status_expr="'in_transit'", shipment_filter="true")
    port, fake_port = free_port(), free_port()
    redis_url = "redis://127.0.0.1:6379/12"
    env = {"DATABASE_URL": url_db, "REDIS_URL": redis_url, "API_TOKEN": "bench", "SECRET_KEY": "bench",
           "SHIPROCKET_WEBHOOK_TOKEN": SR_TOKEN, "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
           "TWILIO_API_BASE_URL": f"http://127.0.0.1:{fake_port}", "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
           "TWILIO_TEMPLATE_OUT_FOR_DELIVERY": "HXbenchofd"}
    requests.packages.urllib3.disable_warnings()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    fake = start_process([str(ROOT / ".venv/bin/python"), "-m", "tests.support.fake_twilio", "--port", str(fake_port),
                          "--sid", SID, "--token", TOKEN], {}, ready_url=f"http://127.0.0.1:{fake_port}/_fake/messages")
    app = start_gunicorn(env, port, workers=2, threads=4)
    hook = f"http://127.0.0.1:{port}/webhooks/shiprocket"
    workers: list[subprocess.Popen] = []
    try:
        lat, elapsed, errors = asyncio.run(burst(hook, list(range(1, args.events + 1)), 16))
        accepted = summary(lat, elapsed)
        accepted["errors"] = errors
        redis.Redis.from_url(redis_url).flushdb()  # the burst's jobs are not part of the latency phase
        requests.post(f"http://127.0.0.1:{fake_port}/_fake/reset", timeout=5)
        workers = [start_process([str(ROOT / ".venv/bin/rq"), "worker", "orderline", "--worker-class", "rq.worker.SimpleWorker", "--url", redis_url], env)
                   for _ in range(args.workers)]
        time.sleep(3)
        awbs = list(range(args.events + 1, args.events + steady_n + 1))
        posted, webhook_lat, healthz_lat = asyncio.run(
            steady(hook, awbs, args.rate, f"http://127.0.0.1:{port}/healthz"))
        deadline = time.time() + 120
        received: dict[str, float] = {}
        while time.time() < deadline and len(received) < len(posted):
            msgs = requests.get(f"http://127.0.0.1:{fake_port}/_fake/messages", timeout=10).json()["messages"]
            received = {m["to"]: m["received_at"] for m in msgs}
            time.sleep(1)
        phone_of = {str(7700000000 + a): "whatsapp:+9180" + str(1 + ((a) % orders)).zfill(8) for a in awbs}
        e2s = [received[phone_of[awb]] - t for awb, t in posted.items() if phone_of[awb] in received]
        latency = summary(e2s, args.seconds)
        latency["delivered"] = f"{len(e2s)}/{len(posted)}"
    finally:
        for w in workers:
            stop(w)
        stop(app)
        stop(fake)
        drop_db(url_db)
    report = {"accept_burst": accepted, "event_to_send_at_rate": latency, "rate": args.rate,
              "webhook_response_at_rate": summary(webhook_lat, args.seconds),
              "healthz_at_rate": summary(healthz_lat, args.seconds), "rq_workers": args.workers,
              "gunicorn": {"workers": 2, "threads": 4}}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    print(f"accepted {accepted['per_s']} events/s (target >= 1000); event-to-send p95 at {args.rate:.0f}/s: "
          f"{latency['p95_ms']:.0f} ms (target < 2000 ms); webhook p50 {report['webhook_response_at_rate']['p50_ms']} ms "
          f"vs /healthz p50 {report['healthz_at_rate']['p50_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
