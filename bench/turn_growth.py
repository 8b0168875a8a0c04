"""Benchmark: a customer's history must not slow their answers (issue #13).

Starts, on free loopback ports, side by side in one run:
- `redis`: the tracker store as it was before: Redis (behind rasa_gate like the others, so it too has
  the cached check of action answers; docs/benchmarks.md has the figures of unmodified Rasa);
- `sqlite`, `postgresql`: Rasa as the Procfile runs it now: `python -m rasa_gate.serve`, the repo's
  endpoints.yml with the SQL tracker store placed by tools/tracker_env.py (a SQLite file beside the
  app's database; the app's PostgreSQL, schema `rasa`) and the Redis lock store;
- `init`: a raw Rasa 3.6 `rasa init` bot (in-memory stores, no action server), the yardstick; its
  trained model is cached in bench/out/ per Rasa version, so only the first run trains (~2 min);
plus one action server, and per Orderline Rasa the app under gunicorn, on a throwaway PostgreSQL
database seeded with one order per customer (in transit).

Measures, each bounded in count and time:
1. growth: one customer writes 'hi', 'where is my order', 'thanks' in turn through the signed
   `POST /twilio/whatsapp`, one message at a time; p50 per band of turns. Each three messages are
   one visit, in a Rasa session of its own, as for a customer who comes back after the last
   session expired. The target: p50(turns 200-240) <= 1.2 x p50(turns 10-50). The before is cut
   off after --before-seconds. Also: the same straight to Rasa (--direct-kinds), and one long
   sitting in one session (--sitting-kinds, --sitting-turns).
2. history 0: an owner's first 'where is my order', straight to Rasa, one at a time, each from a
   new customer, interleaved with the init bot's first 'hello'. Target: ratio <= 3.
3. throughput: 4 concurrent customers cycling through the three messages straight to Rasa, for
   a fixed time in two halves round-robin, against the init bot's 'hello'/'great'/'bye'.
   Target: turns/s >= 0.4 x the init bot's.

`--profile` runs the growth phase only, with every Orderline Rasa under cProfile, and prints
where a turn's time goes (bench/out/turn_growth-<kind>.prof).

Usage: .venv/bin/python bench/turn_growth.py [--turns 240] [--kinds redis,sqlite,postgresql] [--profile]
       BENCH_REDIS_URL=redis://127.0.0.1:6379/11: a Redis database of its own (flushed) for the lock
       stores, the before's trackers and the apps
Writes bench/out/turn_growth-<timestamp>.json and prints a table.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
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
from typing import Any, Callable, Optional
from urllib.parse import urlparse

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.rasa_client import CHANNEL_PATH, signed_turn  # noqa: E402
from common import ACTIONS_SERVE, RASA_SERVE, claim_redis, create_db, drop_db, free_port, pct  # noqa: E402
from edge.twilio_auth import sign  # noqa: E402
from tools.redis_env import redis_parts  # noqa: E402
from tools.tracker_env import prepare_tracker_store, tracker_parts  # noqa: E402

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
MODEL = ROOT / "models" / "orderline.tar.gz"
OUT = ROOT / "bench" / "out"
REDIS_URL = ""  # a database claimed for this run (bench/common.py: claim_redis), set in main()
TOKEN = "bench-twilio-" + uuid.uuid4().hex[:8]
API_TOKEN = "bench-api-" + uuid.uuid4().hex[:8]
# Orderline's Rasa runs behind rasa_gate (docs/security.md): the app signs each turn with the channel
# secret, the API wants the auth token, the action server its own token. One set for the whole run.
GATE = {"RASA_CHANNEL_SECRET": "bench-" + uuid.uuid4().hex, "RASA_AUTH_TOKEN": "bench-" + uuid.uuid4().hex,
        "ACTION_SERVER_TOKEN": "bench-" + uuid.uuid4().hex}
CYCLE = ("hi", "where is my order", "thanks")
INIT_CYCLE = ("hello", "great", "bye")
ORDERLINE_KINDS = ("redis", "sqlite", "postgresql")
BANDS = ((0, 30), (10, 50), (60, 90), (120, 150), (200, 240), (210, 240))


class Customers:
    """The seeded customers (one order each), handed out once each; English speakers only."""

    def __init__(self, count: int) -> None:
        self._ids = iter([g for g in range(1, count + 1) if g % 3])  # g % 3 == 0 speak Hindi
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            return f"+9180{next(self._ids):08d}"


class Stack:
    """Every process of the run, as children we own and stop (process groups we created)."""

    def __init__(self, workdir: Path, db_url: str, profile: bool, kinds: list[str]) -> None:
        self.workdir, self.db_url, self.profile = workdir, db_url, profile
        self.procs: dict[str, subprocess.Popen] = {}
        # Every URL is known before anything starts: Rasa needs the actions', the actions the app's.
        self.rasa = {k: f"http://127.0.0.1:{free_port()}" for k in ["init", *kinds]}
        self.apps = {k: f"http://127.0.0.1:{free_port()}" for k in kinds}
        self.actions_url = f"http://127.0.0.1:{free_port()}"

    def spawn(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "w")
        proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_actions(self, app_url: str) -> None:
        port = str(urlparse(self.actions_url).port)
        self.spawn("actions", [*ACTIONS_SERVE, "--port", port, "--actions", "actions"],
                   {"ORDER_SERVICE_URL": app_url, "API_TOKEN": API_TOKEN, "ACTIONS_BIND_HOST": "127.0.0.1",
                    "ACTION_SERVER_TOKEN": GATE["ACTION_SERVER_TOKEN"]})

    def start_rasa(self, kind: str, init_model: Optional[Path] = None) -> None:
        port = str(urlparse(self.rasa[kind]).port)
        if kind == "init":  # raw: its own model, in-memory tracker and lock stores, no endpoints
            cwd = self.workdir / "init"
            cwd.mkdir(exist_ok=True)
            self.spawn("rasa-init", [str(RASA), "run", "--enable-api", "--port", port, "--interface", "127.0.0.1",
                                     "--model", str(init_model)], {}, cwd=cwd)
            return
        cmd = ["--enable-api", "--port", port]  # rasa_gate.serve adds `run`, the channel, the token, the address
        env = {**endpoints_env(kind, self.db_url, self.workdir), **GATE, "RASA_BIND_HOST": "127.0.0.1",
               "ACTION_ENDPOINT_URL": self.actions_url + "/webhook"}
        endpoints = self.workdir / f"endpoints-{kind}.yml"
        endpoints.write_text(endpoints_yml(kind, self.actions_url))
        cmd += ["--model", str(MODEL), "--endpoints", str(endpoints)]
        # Every kind runs as the Procfile does (rasa_gate.serve, with the cached check of action answers).
        profile = ["-m", "cProfile", "-o", str(OUT / f"turn_growth-{kind}.prof")] if self.profile else []
        self.spawn(f"rasa-{kind}", [str(RASA_PY), *profile, *RASA_SERVE[1:], *cmd], env)

    def start_app(self, kind: str) -> None:
        url = self.apps[kind]
        port = urlparse(url).port
        env = {"DATABASE_URL": self.db_url, "REDIS_URL": REDIS_URL, "RASA_URL": self.rasa[kind],
               "ORDER_SERVICE_URL": url, "API_TOKEN": API_TOKEN, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "",
               "PUBLIC_BASE_URL": url, "SECRET_KEY": "bench-secret", "SHIPROCKET_WEBHOOK_TOKEN": "bench-sr",
               "ORDERLINE_ENV": "development", **GATE,
               # Measure the whole turn: a slow turn must not turn into a fast holding reply.
               "RASA_TIMEOUT": "120"}
        self.spawn(f"app-{kind}", [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                                   "--log-level", "warning", "app:create_app()"], env)

    def wait_ready(self) -> None:
        urls = {**{"rasa-" + k: u + ("/status" if k == "init" else f"/status?token={GATE['RASA_AUTH_TOKEN']}")
                   for k, u in self.rasa.items()},
                **{"app-" + k: u + "/healthz" for k, u in self.apps.items()}}
        checks = [(name, url) for name, url in urls.items() if name in self.procs]
        checks.append(("actions", self.actions_url + "/health"))
        deadline = time.time() + 420
        for name, url in checks:
            while True:
                if self.procs[name].poll() is not None:
                    raise RuntimeError(f"{name} exited with {self.procs[name].returncode}; see {self.workdir}/{name}.log")
                try:
                    if requests.get(url, timeout=2).ok:
                        break
                except requests.RequestException:
                    pass
                if time.time() > deadline:
                    raise RuntimeError(f"{name} not ready at {url}")
                time.sleep(0.5)

    def pid(self, kind: str) -> int:
        return self.procs[f"rasa-{kind}"].pid

    def stop(self) -> None:
        # SIGINT lets a profiled Rasa (sanic) shut down cleanly, so cProfile writes its file.
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT if self.profile else signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def endpoints_yml(kind: str, actions_url: str) -> str:
    """The repo's endpoints.yml, pointed at this run's action server; the before keeps Redis."""
    text = (ROOT / "endpoints.yml").read_text()  # its action endpoint is ${ACTION_ENDPOINT_URL}
    if kind == "redis":
        head, _, tail = text.partition("tracker_store:")
        tail = tail[tail.index("lock_store:"):]
        text = (head + "tracker_store:\n  type: redis\n  url: ${REDIS_HOST}\n  port: ${REDIS_PORT}\n  db: ${REDIS_DB}\n"
                "  key_prefix: orderline\n  record_exp: 2592000\n\n" + tail)
    return text


def endpoints_env(kind: str, db_url: str, workdir: Path) -> dict[str, str]:
    """What tools/redis_env.py and tools/tracker_env.py export for this kind (as the Procfile does)."""
    env = redis_parts(REDIS_URL)
    if kind == "postgresql":
        prepare_tracker_store(db_url)
        env.update(tracker_parts(db_url))
    else:  # the SQLite default; the before ignores the tracker URL
        env.update(tracker_parts(f"sqlite:///{workdir}/app-{kind}.db"))
    return env


def init_model(workdir: Path) -> Path:
    """The raw `rasa init` bot's model, trained once per Rasa version and cached in bench/out/."""
    version = subprocess.run([str(RASA_PY), "-c", "import rasa; print(rasa.__version__)"], capture_output=True,
                             text=True, check=True).stdout.strip()
    cached = OUT / f"rasa-init-{version}.tar.gz"
    if cached.exists():
        return cached
    project = workdir / "init-project"
    project.mkdir()
    print(f"training the raw `rasa init` bot once for Rasa {version} (cached as {cached.name}) ...", flush=True)
    with open(workdir / "rasa-init-train.log", "w") as log:
        subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(project)], cwd=workdir, stdout=log,
                       stderr=subprocess.STDOUT, check=True, timeout=900)
    trained = sorted((project / "models").glob("*.tar.gz"))[-1]
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(trained, cached)
    return cached


# --- one turn on each path ---------------------------------------------------------------

def front_door(app_url: str, http: requests.Session, phone: str, text: str) -> None:
    sid = "SM" + uuid.uuid4().hex
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Bench", "MessageType": "text", "SmsSid": sid,
            "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": text, "To": "whatsapp:+14155238886",
            "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid, "AccountSid": "AC" + "0" * 32,
            "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}
    headers = {"X-Twilio-Signature": sign(TOKEN, app_url + "/twilio/whatsapp", form)}
    resp = http.post(app_url + "/twilio/whatsapp", data=form, headers=headers, timeout=180)
    messages = [m.text or "" for m in ET.fromstring(resp.content)] if resp.status_code == 200 else []
    if not messages or any("one moment" in m or "went wrong" in m for m in messages):
        raise RuntimeError(f"front door: HTTP {resp.status_code} {resp.text[:200]}")


def rasa_direct(rasa_url: str, http: requests.Session, phone: str, text: str, metadata: bool = True) -> None:
    if metadata:  # Orderline's Rasa: a turn signed as the WhatsApp front door signs it, with its metadata
        data, headers = signed_turn(GATE["RASA_CHANNEL_SECRET"], phone, text,
                                    {"channel": "whatsapp", "phone": phone, "language": "en"})
        resp = http.post(rasa_url + CHANNEL_PATH, data=data, headers=headers, timeout=180)
    else:  # the raw init bot's open rest channel
        resp = http.post(rasa_url + "/webhooks/rest/webhook", json={"sender": phone, "message": text}, timeout=180)
    if resp.status_code != 200 or not resp.json():
        raise RuntimeError(f"rasa: HTTP {resp.status_code} {resp.text[:200]}")


def timed(go: Callable[[], None]) -> float:
    started = time.perf_counter()
    go()
    return time.perf_counter() - started


# --- the three measurements ----------------------------------------------------------------

def new_session(rasa_url: str, http: requests.Session, phone: str) -> None:
    """Start the customer's next Rasa session, as Rasa does when they come back after it expired.

    An expired session starts with `action_session_start` before the customer's next message is
    handled; `session_start` triggers the same action through the default rule. Not timed.
    """
    resp = http.post(f"{rasa_url}/conversations/{phone}/trigger_intent", json={"name": "session_start"},
                     params={"token": GATE["RASA_AUTH_TOKEN"]}, timeout=180)
    resp.raise_for_status()


def growth(stack: Stack, kind: str, customers: Customers, turns: int, seconds: float,
           sessions: bool, direct: bool = False) -> dict[str, Any]:
    """One customer, one message at a time, through the WhatsApp front door (`direct`: to Rasa).

    `sessions`: each 'hi', 'where is my order', 'thanks' is a conversation of its own, in its own
    Rasa session (a returning customer); otherwise every message is in one long sitting.
    """
    http, phone = requests.Session(), customers.next()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    for i in range(turns):
        if time.perf_counter() > deadline:
            break
        if sessions and i and i % len(CYCLE) == 0:
            new_session(stack.rasa[kind], http, phone)
        if direct:
            latencies.append(timed(lambda: rasa_direct(stack.rasa[kind], http, phone, CYCLE[i % 3])))
        else:
            latencies.append(timed(lambda: front_door(stack.apps[kind], http, phone, CYCLE[i % 3])))
    bands = {f"{a}-{b}": round(statistics.median(latencies[a:b]) * 1000, 1)
             for a, b in BANDS if len(latencies) >= b}
    result: dict[str, Any] = {"turns": len(latencies), "p50_ms_by_band": bands,
                              "ms_by_turn": [round(v * 1000, 1) for v in latencies]}
    if "10-50" in bands and "200-240" in bands:
        result["ratio_200_240_vs_10_50"] = round(bands["200-240"] / bands["10-50"], 3)
    if len(latencies) >= 90:  # also for a run cut off early: its last 40 turns against turns 10-50
        last = statistics.median(latencies[-40:]) * 1000
        result["last_40_p50_ms"] = round(last, 1)
        result["ratio_last_40_vs_10_50"] = round(last / bands["10-50"], 3)
    return result


def history_zero(stack: Stack, kinds: list[str], customers: Customers, n: int) -> dict[str, list[float]]:
    """First turns from new senders, one at a time, round-robin over the kinds (same noise)."""
    http = requests.Session()
    out: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(n):
        for kind in kinds:
            if kind == "init":
                phone = "init-" + uuid.uuid4().hex[:12]
                out[kind].append(timed(lambda: rasa_direct(stack.rasa["init"], http, phone, "hello", metadata=False)))
            else:
                phone = customers.next()
                out[kind].append(timed(lambda: rasa_direct(stack.rasa[kind], http, phone, "where is my order")))
    return out


def throughput(stack: Stack, kind: str, customers: Customers, concurrency: int, seconds: float) -> dict[str, Any]:
    """`concurrency` customers, each cycling through its messages as fast as answers come."""
    deadline = time.perf_counter() + seconds
    counts, errors = [0] * concurrency, [0] * concurrency
    cpu0 = cpu_of(stack.pid(kind))

    def customer(idx: int) -> None:
        http = requests.Session()
        phone = "init-" + uuid.uuid4().hex[:12] if kind == "init" else customers.next()
        cycle = INIT_CYCLE if kind == "init" else CYCLE
        for i in itertools.count():
            if time.perf_counter() >= deadline or i >= 100_000:
                return
            try:
                rasa_direct(stack.rasa[kind], http, phone, cycle[i % 3], metadata=kind != "init")
                counts[idx] += 1
            except (RuntimeError, requests.RequestException):
                errors[idx] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(customer, range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"turns": sum(counts), "errors": sum(errors), "elapsed_s": elapsed, "rasa_cpu_s": cpu_of(stack.pid(kind)) - cpu0}


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarise_ms(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(pct(values, 95) * 1000, 1)}


# (label, file[|file], function): cumulative time of each, divided by the turns measured. The parts
# of a turn (MessageProcessor.handle_message) are listed, not the turn: cProfile undercounts a
# coroutine's own cumulative time, so compare parts across kinds, not against a total.
PROFILE_FUNCTIONS = (
    ("load the tracker", "rasa/core/processor.py", "fetch_tracker_and_update_session"),
    ("save the tracker", "rasa/core/processor.py", "save_tracker"),
    ("NLU (the turn's and the app's parse)", "rasa/core/processor.py", "parse_message"),
    ("predict the next action", "rasa/core/processor.py", "predict_next_with_tracker_if_should"),
    ("custom actions (call, events)", "rasa/core/actions/action.py", "run"),
    ("  check the answer (jsonschema)", "rasa/core/actions/action.py|rasa_boot/action_results.py",
     "_validate_action_result"),
    ("    of which check_schema", "jsonschema/validators.py", "check_schema"),
    ("the app's tracker read (GET /tracker)", "rasa/server.py", "retrieve_tracker"),
    ("the app's parse (POST /model/parse)", "rasa/server.py", "parse"),
    ("a new session (trigger_intent)", "rasa/server.py", "trigger_intent"),
)

PSTATS = """
import json, pstats, sys
stats = pstats.Stats(sys.argv[1]).stats
wanted = json.loads(sys.argv[2])
out = {}
for label, path, func in wanted:
    cum = sum(v[3] for (f, _, name), v in stats.items() if f.endswith(tuple(path.split("|"))) and name == func)
    out[label] = cum
print(json.dumps(out))
"""


def profile_summary(kind: str, turns: int) -> dict[str, float]:
    """Milliseconds per measured turn in each of PROFILE_FUNCTIONS (the warm-up turns included)."""
    prof = OUT / f"turn_growth-{kind}.prof"
    if not prof.exists():
        return {}
    raw = subprocess.run([str(RASA_PY), "-c", PSTATS, str(prof), json.dumps(PROFILE_FUNCTIONS)],
                         capture_output=True, text=True, check=True).stdout
    return {label: round(1000 * seconds / max(turns, 1), 1) for label, seconds in json.loads(raw).items()}


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    global REDIS_URL
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", default=",".join(ORDERLINE_KINDS), help="Orderline Rasas to run")
    parser.add_argument("--turns", type=int, default=240, help="growth: messages from one customer")
    parser.add_argument("--growth-seconds", type=float, default=150, help="growth: bound per kind")
    parser.add_argument("--before-seconds", type=float, default=120, help="growth: bound for the Redis before")
    parser.add_argument("--sitting-turns", type=int, default=90, help="growth in one session: messages")
    parser.add_argument("--sitting-kinds", default="sqlite", help="kinds to measure in one sitting too")
    parser.add_argument("--direct-kinds", default="sqlite", help="kinds to measure straight to Rasa too")
    parser.add_argument("--zero", type=int, default=40, help="history 0: first turns per kind")
    parser.add_argument("--tput-seconds", type=float, default=20, help="throughput: seconds per kind (two halves)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="growth only, every Orderline Rasa under cProfile")
    args = parser.parse_args()
    REDIS_URL = claim_redis("turn_growth")
    kinds = [k for k in args.kinds.split(",") if k]
    assert set(kinds) <= set(ORDERLINE_KINDS), f"--kinds: choose from {ORDERLINE_KINDS}"
    if not MODEL.exists():
        sys.exit(f"no trained model at {MODEL}; run `make train` first")

    import redis

    workdir = Path(tempfile.mkdtemp(prefix="orderline-bench-growth-"))
    OUT.mkdir(parents=True, exist_ok=True)
    model = None if args.profile else init_model(workdir)
    customers_n = 3 * (len(kinds) * (2 + args.zero + 4 * args.concurrency) + 10)
    db_url = create_db(orders=customers_n, customers=customers_n, status_expr="'in_transit'", shipment_filter="true")
    stack = Stack(workdir, db_url, args.profile, kinds)
    customers = Customers(customers_n)
    result: dict[str, Any] = {"benchmark": "turn_growth", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "cpus": os.cpu_count(), "loadavg_start": loadavg(), "kinds": kinds}
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
        print(f"starting {len(kinds) + (0 if args.profile else 1)} Rasa servers, actions and apps "
              f"(logs in {workdir}) ...", flush=True)
        # One action server for all; it reaches the order API of the first app (one shared database).
        stack.start_actions(stack.apps[kinds[0]])
        for kind in kinds:  # every kind has customers of its own, so they share the Redis database
            stack.start_rasa(kind)
        if model:
            stack.start_rasa("init", model)
        for kind in kinds:
            stack.start_app(kind)
        stack.wait_ready()
        # Warm each path once (first-call costs: TensorFlow graphs, connection pools).
        for kind in kinds:
            for text in CYCLE:
                rasa_direct(stack.rasa[kind], requests.Session(), customers.next(), text)
        if model:
            rasa_direct(stack.rasa["init"], requests.Session(), "init-warm", "hello", metadata=False)
        result["loadavg_ready"] = loadavg()

        result["growth"], result["sitting"], result["direct"] = {}, {}, {}
        # The after first, the before last: its cut-off bounds the run.
        for kind in sorted(kinds, key=lambda k: k == "redis"):
            bound = args.before_seconds if kind == "redis" else args.growth_seconds
            print(f"growth: {kind}, a returning customer (up to {args.turns} turns or {bound:.0f} s) ...", flush=True)
            result["growth"][kind] = growth(stack, kind, customers, args.turns, bound, sessions=True)
        result["loadavg_after_growth"] = loadavg()
        for kind in [k for k in args.sitting_kinds.split(",") if k in kinds and not args.profile]:
            print(f"growth: {kind}, one sitting (up to {args.sitting_turns} turns or {args.before_seconds:.0f} s) ...",
                  flush=True)
            result["sitting"][kind] = growth(stack, kind, customers, args.sitting_turns, args.before_seconds,
                                             sessions=False)
        for kind in [k for k in args.direct_kinds.split(",") if k in kinds and not args.profile]:
            print(f"growth: {kind}, a returning customer straight to Rasa ...", flush=True)
            result["direct"][kind] = growth(stack, kind, customers, args.turns, args.growth_seconds,
                                            sessions=True, direct=True)

        if not args.profile:
            print(f"history 0: {args.zero} first turns per kind, round-robin ...", flush=True)
            zero = history_zero(stack, ["init", *kinds], customers, args.zero)
            result["history_zero"] = {k: summarise_ms(v) for k, v in zero.items()}
            print(f"throughput: {args.concurrency} concurrent customers, {args.tput_seconds:.0f} s per kind ...",
                  flush=True)
            runs: dict[str, list[dict[str, Any]]] = {k: [] for k in ["init", *kinds]}
            for _half in range(2):
                for kind in runs:
                    runs[kind].append(throughput(stack, kind, customers, args.concurrency, args.tput_seconds / 2))
            result["throughput"] = {}
            for kind, halves in runs.items():
                turns, elapsed = sum(h["turns"] for h in halves), sum(h["elapsed_s"] for h in halves)
                result["throughput"][kind] = {
                    "turns": turns, "errors": sum(h["errors"] for h in halves),
                    "turns_per_s": round(turns / elapsed, 1),
                    "rasa_cpu_ms_per_turn": round(1000 * sum(h["rasa_cpu_s"] for h in halves) / max(turns, 1), 1)}
        result["loadavg_end"] = loadavg()
    finally:
        stack.stop()
        drop_db(db_url)

    if args.profile:
        result["profile_ms_per_turn"] = {k: profile_summary(k, result["growth"][k]["turns"]) for k in kinds}
    report(result, kinds)
    out = OUT / f"turn_growth{'-profile' if args.profile else ''}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out.relative_to(ROOT)}")


def report(result: dict[str, Any], kinds: list[str]) -> None:
    """Print the table and set each target's verdict in `result`."""
    bands = [f"{a}-{b}" for a, b in BANDS]
    print(f"\ngrowth through POST /twilio/whatsapp, p50 ms by band of turns (load {result['loadavg_after_growth']})")
    print(f"{'kind':<20} {'turns':>5} " + " ".join(f"{b:>8}" for b in bands) + "   200-240 / 10-50 (last 40 / 10-50)")
    labels = {"growth": "returning", "sitting": "one sitting", "direct": "ret. to Rasa"}
    for scenario, name in labels.items():
        for kind, g in result.get(scenario, {}).items():
            label = f"{kind} {name}"
            print(f"{label:<20} {g['turns']:>5} " + " ".join(f"{g['p50_ms_by_band'].get(b, '-'):>8}" for b in bands)
                  + f"   {g.get('ratio_200_240_vs_10_50', '-')} ({g.get('ratio_last_40_vs_10_50', '-')})")
    targets: dict[str, Any] = {}
    for kind in kinds:
        ratio = result["growth"][kind].get("ratio_200_240_vs_10_50")
        targets[f"growth_{kind}"] = {"ratio": ratio, "target": 1.2, "met": ratio is not None and ratio <= 1.2}
    if "history_zero" in result:
        zero, tput = result["history_zero"], result["throughput"]
        print(f"\n{'kind':<11} {'first turn p50':>15} {'p95':>7} {'x init':>7}   {'turns/s':>8} {'x init':>7} "
              f"{'Rasa CPU ms/turn':>17}")
        for kind in ["init", *kinds]:
            z, t = zero[kind], tput[kind]
            zx = round(z["p50_ms"] / zero["init"]["p50_ms"], 2)
            tx = round(t["turns_per_s"] / tput["init"]["turns_per_s"], 2)
            print(f"{kind:<11} {z['p50_ms']:>15} {z['p95_ms']:>7} {zx:>7}   {t['turns_per_s']:>8} {tx:>7} "
                  f"{t['rasa_cpu_ms_per_turn']:>17}")
            if kind != "init":
                targets[f"history_zero_{kind}"] = {"ratio": zx, "target": 3.0, "met": zx <= 3.0}
                targets[f"throughput_{kind}"] = {"ratio": tx, "target": 0.4, "met": tx >= 0.4}
    if "profile_ms_per_turn" in result:
        profiles = result["profile_ms_per_turn"]
        print("\nprofile (cProfile, Rasa's process): ms per turn, over the whole growth run")
        print(f"{'':<42}" + "".join(f"{k:>12}" for k in profiles))
        for label, *_ in PROFILE_FUNCTIONS:
            print(f"{label:<42}" + "".join(f"{profiles[k].get(label, 0):>12}" for k in profiles))
    result["targets"] = targets
    print("\ntargets: " + "; ".join(f"{k} {v['ratio']} ({'met' if v['met'] else 'NOT met'})" for k, v in targets.items()))
    print(f"load average: start {result['loadavg_start']}, end {result['loadavg_end']}")


if __name__ == "__main__":
    main()
