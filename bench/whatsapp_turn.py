"""Benchmark: one greeting turn through the WhatsApp front door against the same turn straight to Rasa.

Starts, on free loopback ports: the Rasa server (.venv-rasa, models/orderline.tar.gz, started
through rasa_gate with the SQL tracker store and the Redis lock store like production), the
action server, and the app under gunicorn on a
throwaway SQLite DB. Then 8 concurrent senders, each with a new sender phone per turn, send
"hi" alternately as a signed Twilio webhook to `POST /twilio/whatsapp` (signature check, dedup,
transcript, Rasa, TwiML) and as signed JSON straight to Rasa's `orderline` channel (what the app
sends), interleaved in one run.
Afterwards each path runs alone for a fixed time to measure sustained turns per second.
All loops are bounded in count and time.

Usage: .venv/bin/python bench/whatsapp_turn.py [--turns 400] [--solo-seconds 20] [--concurrency 8]
Writes bench/out/whatsapp_turn-<timestamp>.json and prints a table.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import ACTION_ENDPOINT_YML, ACTIONS_SERVE, RASA_SERVE, with_rasa_secrets  # noqa: E402
from bot.rasa_client import CHANNEL_PATH, signed_turn  # noqa: E402
from orderline.db import upgrade_schema  # noqa: E402
from tests.support.redis_db import redis_parts_yml  # noqa: E402
from edge.twilio_auth import sign  # noqa: E402
from common import claim_redis  # noqa: E402  (bench/ is on sys.path: this script's directory)
from tools.tracker_env import prepare_tracker_store, tracker_parts  # noqa: E402

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
MODEL = ROOT / "models" / "orderline.tar.gz"
TOKEN = "bench-twilio-" + uuid.uuid4().hex[:8]
API_TOKEN = "bench-api-" + uuid.uuid4().hex[:8]
OUT = ROOT / "bench" / "out"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


class Stack:
    """Rasa, the action server and the app, as child processes we own and stop."""

    def __init__(self, workdir: Path, workers: int, threads: int) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        self.app_port, self.rasa_port, self.actions_port = free_port(), free_port(), free_port()
        self.app_url = f"http://127.0.0.1:{self.app_port}"
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.public = f"http://127.0.0.1:{self.app_port}"
        self.db_url = f"sqlite:///{workdir}/bench.db"
        self.workers, self.threads = workers, threads

    def start(self) -> None:
        upgrade_schema(self.db_url)
        redis_url = claim_redis("whatsapp_turn")
        endpoints = self.workdir / "endpoints.yml"
        prepare_tracker_store(self.db_url)
        endpoints.write_text(ACTION_ENDPOINT_YML
                             + f"tracker_store:\n  type: SQL\n  url: {tracker_parts(self.db_url)['RASA_TRACKER_URL']}\n"
                             + redis_parts_yml("lock_store", redis_url, "bench" + uuid.uuid4().hex[:6]))
        env = {**os.environ, "DATABASE_URL": self.db_url, "REDIS_URL": redis_url,
               "RASA_URL": self.rasa_url, "ORDER_SERVICE_URL": self.app_url, "API_TOKEN": API_TOKEN,
               "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "", "PUBLIC_BASE_URL": self.public,
               "SECRET_KEY": "bench-secret", "SHIPROCKET_WEBHOOK_TOKEN": "bench-sr", "PYTHONDONTWRITEBYTECODE": "1",
               "ORDERLINE_ENV": "development",
               # Measure the whole turn: a slow turn must not turn into a fast holding reply.
               "RASA_TIMEOUT": "60"}
        env, rasa_env, actions_env = with_rasa_secrets(env, self.actions_port)
        self.channel_secret, self.rasa_params = env["RASA_CHANNEL_SECRET"], {"token": env["RASA_AUTH_TOKEN"]}
        self._spawn("actions", [*ACTIONS_SERVE, "--port", str(self.actions_port), "--actions", "actions"], actions_env)
        self._spawn("rasa", [*RASA_SERVE, "--enable-api", "--port", str(self.rasa_port), "--model", str(MODEL),
                             "--endpoints", str(endpoints)], rasa_env)
        self._spawn("app", [str(GUNICORN), "--bind", f"127.0.0.1:{self.app_port}", "--workers", str(self.workers),
                            "--threads", str(self.threads), "app:create_app()"], env)
        wait_http(f"http://127.0.0.1:{self.actions_port}/health", 180, self.procs[0])
        wait_http(f"{self.rasa_url}/status?token={env['RASA_AUTH_TOKEN']}", 300, self.procs[1])
        wait_http(f"{self.app_url}/healthz", 60, self.procs[2])

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        log = open(self.workdir / f"{name}.log", "w")
        self.procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # the group we created: gunicorn's workers too
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


class Phones:
    """A new sender phone for every turn (no tracker or conversation is ever reused)."""

    def __init__(self) -> None:
        self._n = itertools.count(int(time.time()) % 1_000_000 * 100)
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            return f"+9197{next(self._n) % 100_000_000:08d}"


def front_door_turn(stack: Stack, http: requests.Session, phone: str) -> Callable[[], None]:
    sid = "SM" + uuid.uuid4().hex
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Bench", "MessageType": "text", "SmsSid": sid,
            "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": "hi", "To": "whatsapp:+14155238886",
            "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid, "AccountSid": "AC" + "0" * 32,
            "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}
    headers = {"X-Twilio-Signature": sign(TOKEN, stack.public + "/twilio/whatsapp", form)}

    def go() -> None:
        resp = http.post(stack.app_url + "/twilio/whatsapp", data=form, headers=headers, timeout=60)
        messages = [m.text for m in ET.fromstring(resp.content)] if resp.status_code == 200 else []
        if not messages or any("one moment" in (m or "") or "went wrong" in (m or "") for m in messages):
            raise RuntimeError(f"front door: HTTP {resp.status_code} {resp.text[:200]}")

    return go


def rasa_turn(stack: Stack, http: requests.Session, phone: str) -> Callable[[], None]:
    meta = {"channel": "whatsapp", "phone": phone, "language": "en"}

    def go() -> None:
        body, headers = signed_turn(stack.channel_secret, phone, "hi", meta)  # a fresh nonce per turn, like the app
        resp = http.post(stack.rasa_url + CHANNEL_PATH, data=body, headers=headers, timeout=60)
        if resp.status_code != 200 or not resp.json():
            raise RuntimeError(f"rasa: HTTP {resp.status_code} {resp.text[:200]}")

    return go


PATHS = {"front_door": front_door_turn, "rasa_direct": rasa_turn}


def run(stack: Stack, kinds: list[str], concurrency: int, max_turns: int, max_seconds: float) -> dict[str, Any]:
    """Drive `concurrency` senders; each alternates between `kinds`. Bounded by count and time."""
    phones = Phones()
    counter = itertools.count()
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {k: [] for k in kinds}
    errors: dict[str, list[str]] = {k: [] for k in kinds}
    deadline = time.perf_counter() + max_seconds

    def sender(idx: int) -> None:
        http = requests.Session()
        for i in itertools.count(idx):  # each sender alternates paths, starting on a different one
            if time.perf_counter() >= deadline or next(counter) >= max_turns:
                return
            kind = kinds[i % len(kinds)]
            go = PATHS[kind](stack, http, phones.next())
            started = time.perf_counter()
            try:
                go()
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors[kind].append(str(exc)[:200])
                continue
            with lock:
                latencies[kind].append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(sender, range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"elapsed_s": elapsed, "latencies": latencies, "errors": errors}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summarise(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50_ms": round(pct(values, 0.50) * 1000, 1), "p95_ms": round(pct(values, 0.95) * 1000, 1),
            "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else None}


def parse_reads(stack: Stack, n: int) -> list[float]:
    """Time the parse the app asks for after each turn (POST /model/parse), on an idle Rasa, n times."""
    http, phones, latencies = requests.Session(), Phones(), []
    for _ in range(n):
        rasa_turn(stack, http, phones.next())()
        started = time.perf_counter()
        resp = http.post(f"{stack.rasa_url}/model/parse", json={"text": "hi"}, params=stack.rasa_params, timeout=10)
        latencies.append(time.perf_counter() - started)
        if resp.json().get("intent", {}).get("name") != "greet":
            raise RuntimeError(f"parse: unexpected answer {resp.text[:200]}")
    return latencies


def intent_coverage(db_url: str) -> dict[str, int]:
    """How many of the customers' front-door messages got the assistant's intent stored."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        inbound, with_intent = conn.execute(text(
            "SELECT COUNT(*), COUNT(intent) FROM messages WHERE direction = 'in' AND channel = 'whatsapp'")).one()
    engine.dispose()
    return {"inbound": inbound, "with_intent": with_intent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=400, help="interleaved turns in total (both paths)")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--solo-seconds", type=float, default=20.0, help="each path alone, for turns/s")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="bound on the interleaved phase")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (Procfile: 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (Procfile: 4)")
    parser.add_argument("--parse-reads", type=int, default=50, help="timed parses (intent recording) on an idle Rasa")
    args = parser.parse_args()
    if not MODEL.exists():
        sys.exit(f"no trained model at {MODEL}; run `make train` first")

    workdir = Path(tempfile.mkdtemp(prefix="orderline-bench-wa-"))
    stack = Stack(workdir, args.workers, args.threads)
    kinds = list(PATHS)
    try:
        print(f"starting Rasa, actions and gunicorn (logs in {workdir}) ...", flush=True)
        stack.start()
        run(stack, kinds, args.concurrency, args.warmup, 120)
        mixed = run(stack, kinds, args.concurrency, args.turns, args.max_seconds)
        solo = {k: run(stack, [k], args.concurrency, 100_000, args.solo_seconds) for k in kinds}
        parses = parse_reads(stack, args.parse_reads)
    finally:
        stack.stop()

    result: dict[str, Any] = {
        "benchmark": "whatsapp_turn", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "concurrency": args.concurrency, "gunicorn": {"workers": args.workers, "threads": args.threads},
        "db": "sqlite (throwaway)", "cpus": os.cpu_count(), "interleaved_elapsed_s": round(mixed["elapsed_s"], 2),
        "paths": {}}
    for k in kinds:
        s = summarise(mixed["latencies"][k])
        s["errors"] = len(mixed["errors"][k]) + len(solo[k]["errors"][k])
        s["error_samples"] = (mixed["errors"][k] + solo[k]["errors"][k])[:3]
        s["turns_per_s_solo"] = round(len(solo[k]["latencies"][k]) / solo[k]["elapsed_s"], 1)
        s["solo"] = summarise(solo[k]["latencies"][k])
        result["paths"][k] = s
    fd, rd = result["paths"]["front_door"], result["paths"]["rasa_direct"]
    result["p50_ratio"] = round(fd["p50_ms"] / rd["p50_ms"], 3)
    result["p95_ratio"] = round(fd["p95_ms"] / rd["p95_ms"], 3)
    result["target_p50_ratio"] = 1.10
    result["meets_target"] = result["p50_ratio"] <= 1.10
    # Recording the intent: one parse per turn, asked for after the reply has been sent.
    result["parse_idle"] = summarise(parses)
    result["intents_recorded"] = intent_coverage(stack.db_url)

    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"whatsapp_turn-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"\n{'path':<12} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'turns/s':>8} {'errors':>7}")
    for k in kinds:
        s = result["paths"][k]
        print(f"{k:<12} {s['n']:>5} {s['p50_ms']:>8} {s['p95_ms']:>8} {s['turns_per_s_solo']:>8} {s['errors']:>7}")
    print(f"\np50 ratio {result['p50_ratio']} (target <= 1.10: {'met' if result['meets_target'] else 'NOT met'}), "
          f"p95 ratio {result['p95_ratio']}; {args.concurrency} concurrent senders, new phone every turn")
    t, cov = result["parse_idle"], result["intents_recorded"]
    print(f"parse (after the reply, idle Rasa): p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms; "
          f"intent stored on {cov['with_intent']} of {cov['inbound']} front-door messages")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
