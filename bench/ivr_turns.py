"""Benchmark: IVR turns (TwiML documents) under 32 concurrent scripted calls, against raw Rasa.

Starts, on free loopback ports: a throwaway PostgreSQL database seeded with the demo orders,
the Rasa server (models/orderline.tar.gz) and its action server from .venv-rasa, and the app
under gunicorn. Then 32 threads each place scripted calls (tests/support/ivr_caller.py, signed like
Twilio) mixing keypad steps (no Rasa) and speech steps (through Rasa), and each spoken turn is
also sent straight to Rasa's `orderline` channel, signed like the app's, just before or after
(alternating), so both see the same load at the same moment.

Reports p50/p95/max per TwiML document for keypad and speech steps, raw Rasa p50/p95, and the
speech/raw p50 ratio. Targets: keypad p95 < 300 ms and none > 3 s; speech p50 ratio <= 1.10.

Usage: .venv/bin/python bench/ivr_turns.py [--calls-per-thread 3] [--threads 32] [--think 5.0] [--no-rasa]

`--think` is the pause between a call's documents (on a real call the prompt plays for
seconds before the caller answers); `--think 0` measures saturation instead.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import ACTION_ENDPOINT_YML, ACTIONS_SERVE, RASA_SERVE, with_rasa_secrets  # noqa: E402
from bot.rasa_client import CHANNEL_PATH, signed_turn  # noqa: E402
from orderline.db import upgrade_schema  # noqa: E402
from orderline.demo import demo_orders  # noqa: E402
from orderline.importer import import_orders  # noqa: E402
from orderline.db import make_engine, session_factory  # noqa: E402
from tests.support.ivr_caller import Keys, ScriptedCaller, Speech, http_transport  # noqa: E402
from common import claim_redis  # noqa: E402  (bench/ is on sys.path: this script's directory)

ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
MODEL = ROOT / "models" / "orderline.tar.gz"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
TOKEN = "bench-twilio-" + uuid.uuid4().hex[:8]
PUBLIC = "https://ivr-bench.test"
SPOKEN = ["where is my order", "what is the status of my refund"]
# Every call is from a known caller with one order; a keypad/speech mix per call.
SCRIPTS = [
    [Keys("1"), Speech(SPOKEN[0]), Keys("4")],
    [Speech(SPOKEN[1]), Keys("1"), Keys("8"), Keys("100201#"), Keys("2")],
    [Keys("4"), Speech(SPOKEN[0])],
]
KEYPAD_KINDS = {"incoming", "keypad", "redirect"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def stats(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1) if ms else None,
            "p95_ms": round(pct(ms, 95), 1) if ms else None, "max_ms": round(max(ms), 1) if ms else None}


def wait_http(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


def bench_rows(now, callers: int) -> tuple[list[dict], list[str]]:
    """The demo orders plus one customer per call, so no two concurrent calls share a Rasa sender."""
    import copy

    rows = demo_orders(now)
    phones = []
    for i in range(callers):
        row = copy.deepcopy(rows[i % 23])  # the scenario orders: every status, COD and prepaid
        phone = f"+9195{i:08d}"
        row["order_id"], row["customer"]["phone"] = f"OL-{900000 + i}", phone
        row["customer"]["name"] = f"Caller {i}"
        if row.get("shipment"):
            row["shipment"]["awb"] = str(8800000000 + i)
        rows.append(row)
        phones.append(phone)
    return rows, phones


def create_db(callers: int) -> tuple[str, list[str]]:
    name = "orderline_ivrbench_" + uuid.uuid4().hex[:8]
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    upgrade_schema(url)
    from orderline.clock import Clock

    engine = make_engine(url)
    rows, phones = bench_rows(Clock().now(), callers)
    report = import_orders(session_factory(engine), rows, actor="bench")
    engine.dispose()
    assert not report.errors, report.errors
    return url, phones


def drop_db(url: str) -> None:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def run(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    procs: list[subprocess.Popen] = []
    db_url, phones = create_db(args.threads * args.calls_per_thread)
    app_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": claim_redis("ivr_turns"), "RASA_URL": rasa_url,
           "ORDER_SERVICE_URL": f"http://127.0.0.1:{app_port}", "API_TOKEN": "bench-api-" + uuid.uuid4().hex,
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "", "PUBLIC_BASE_URL": PUBLIC,
           "SECRET_KEY": "bench", "SHIPROCKET_WEBHOOK_TOKEN": "bench", "ORDERLINE_ENV": "development",
           "PYTHONDONTWRITEBYTECODE": "1"}
    use_rasa = not args.no_rasa and MODEL.exists() and RASA.exists()
    env, rasa_env, actions_env = with_rasa_secrets(env, actions_port)
    secret = env["RASA_CHANNEL_SECRET"]
    try:
        if use_rasa:
            endpoints = workdir / "endpoints.yml"
            endpoints.write_text(ACTION_ENDPOINT_YML)
            procs.append(start([*ACTIONS_SERVE, "--port", str(actions_port), "--actions", "actions"],
                               actions_env, workdir / "actions.log"))
            procs.append(start([*RASA_SERVE, "--enable-api", "--port", str(rasa_port), "--model", str(MODEL),
                                "--endpoints", str(endpoints)], rasa_env, workdir / "rasa.log"))
        procs.append(start([str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{app_port}", "--workers",
                            str(args.workers), "--threads", str(args.gthreads), "app:create_app()"],
                           env, workdir / "gunicorn.log"))
        wait_http(f"http://127.0.0.1:{app_port}/healthz", 60, procs[-1])
        if use_rasa:
            wait_http(f"http://127.0.0.1:{actions_port}/health", 180, procs[0])
            wait_http(f"{rasa_url}/status?token={env['RASA_AUTH_TOKEN']}", 300, procs[1])
            for i in range(6):  # warm the model up; the last turns show Rasa's unloaded latency
                t0 = time.perf_counter()
                body, headers = signed_turn(secret, f"warmup-{i}", SPOKEN[i % 2],
                                            {"channel": "voice", "phone": "+919000000001", "language": "en"})
                requests.post(rasa_url + CHANNEL_PATH, data=body, headers=headers, timeout=60)
                args.rasa_idle_ms = round((time.perf_counter() - t0) * 1000, 1)
        scripts = SCRIPTS if use_rasa else [[i for i in s if isinstance(i, Keys)] for s in SCRIPTS]
        return load(args, app_port, rasa_url if use_rasa else None, scripts, workdir, phones, secret)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        drop_db(db_url)


def load(args: argparse.Namespace, app_port: int, rasa_url: str | None, scripts: list, workdir: Path,
         phones: list[str], channel_secret: str = "") -> dict:
    lock = threading.Lock()
    keypad: list[float] = []
    speech: list[float] = []
    raw: list[float] = []
    fallbacks: list[float] = []  # speech turns where Rasa did not answer within the IVR's timeout
    errors: list[str] = []
    deadline = time.time() + args.max_seconds

    turn = iter(range(10**9))

    def raw_turn(http: requests.Session, sender: str, phone: str, text_: str) -> None:
        t0 = time.perf_counter()
        body, headers = signed_turn(channel_secret, sender, text_, {"channel": "voice", "phone": phone, "language": "en"})
        resp = http.post(rasa_url + CHANNEL_PATH, data=body, headers=headers, timeout=30)
        elapsed = time.perf_counter() - t0
        with lock:
            if resp.ok:
                raw.append(elapsed)
            else:
                errors.append(f"raw rasa HTTP {resp.status_code}")

    def worker(n: int) -> None:
        http = requests.Session()
        ivr = http_transport(f"http://127.0.0.1:{app_port}", http, timeout=30)

        def transport(path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str, str]:
            # Each spoken turn also goes straight to Rasa, just before or just after (alternating),
            # so raw and IVR speech turns see the same load at the same moment.
            spoken = params.get("SpeechResult")
            if not (rasa_url and spoken):
                return ivr(path, params, headers)
            sender, phone = f"raw-{params['CallSid']}", params["From"]
            raw_first = next(turn) % 2
            if raw_first:
                raw_turn(http, sender, phone, spoken)
            t0 = time.perf_counter()
            answer = ivr(path, params, headers)
            elapsed = time.perf_counter() - t0
            with lock:
                speech.append(elapsed)  # the IVR document alone, not the raw turn next to it
                if "answer spoken questions right now" in answer[2]:
                    fallbacks.append(elapsed)
            if not raw_first:
                raw_turn(http, sender, phone, spoken)
            return answer

        rng = random.Random(n)
        time.sleep(rng.uniform(0, args.think))  # calls do not all ring at the same instant

        def think() -> float:
            return rng.uniform(0.5, 1.5) * args.think

        for k in range(args.calls_per_thread):
            if time.time() > deadline:
                return
            phone = phones[n * args.calls_per_thread + k]
            script = scripts[(n + k) % len(scripts)]
            try:
                call = ScriptedCaller(transport, TOKEN, PUBLIC, phone).call(
                    script, hold=False, hang_up_in_queue=False, think=think)
            except Exception as exc:  # counted and reported, never hidden
                with lock:
                    errors.append(f"{phone}: {exc}"[:300])
                continue
            with lock:
                for doc in call.docs:
                    if doc.kind in KEYPAD_KINDS:
                        keypad.append(doc.seconds)
                    elif doc.kind == "speech" and not rasa_url:
                        speech.append(doc.seconds)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(worker, range(args.threads)))
    elapsed = time.perf_counter() - t0
    result = {
        "threads": args.threads, "think_s": args.think, "calls": args.threads * args.calls_per_thread, "elapsed_s": round(elapsed, 1),
        "gunicorn": {"workers": args.workers, "threads": args.gthreads},
        "keypad_steps": stats(keypad), "speech_steps": stats(speech), "raw_rasa": stats(raw),
        "speech_steps_rasa_timed_out": len(fallbacks), "rasa_idle_turn_ms": getattr(args, "rasa_idle_ms", None), "load_average": os.getloadavg(),
        "errors": errors[:20], "error_count": len(errors), "logs": str(workdir),
    }
    if speech and raw:
        result["speech_p50_ratio"] = round(statistics.median(speech) / statistics.median(raw), 3)
    ks = result["keypad_steps"]
    result["targets"] = {
        "keypad_p95_under_300ms": bool(keypad) and ks["p95_ms"] < 300,
        "keypad_none_over_3s": bool(keypad) and ks["max_ms"] <= 3000,
        "speech_p50_ratio_at_most_1.10": result.get("speech_p50_ratio", 99) <= 1.10 if rasa_url else None,
        "no_errors": not errors,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--calls-per-thread", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gthreads", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--think", type=float, default=5.0,
                        help="mean seconds between a call's documents (prompt playing, caller answering), jittered "
                             "±50%%; calls start spread over one think time; 0 = saturation")
    parser.add_argument("--no-rasa", action="store_true", help="keypad steps only")
    args = parser.parse_args()
    result = run(args)
    out = ROOT / "bench" / "out" / "ivr_turns.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
