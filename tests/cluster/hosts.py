"""Orderline on seven hosts, each a Linux network namespace made by tests/cluster/netns.sh.

Every process is the Procfile's own command line, run with `ip netns exec` on its host and
configured only through the environment (the point of the test: adding a host is configuration):

    lb        198.18.0.10  HAProxy (Debian's), port 80, to web-a and web-b
    web-a/b   .11 / .12    gunicorn (WEB_BIND)
    rasa-a/b  .21 / .22    Rasa (RASA_BIND_HOST, RASA_MODEL downloaded over HTTP with its #sha256)
                           and its action server (ACTIONS_BIND_HOST), which reaches the API via lb
    worker-a/b .31 / .32   RQ workers; worker-b also runs the cron

The machine itself is 198.18.0.1 on the bridge: PostgreSQL (a socat forward to its loopback
server, which listens there only), a Redis server of the test's own, the fake Twilio and the
model download. All processes are ours, started here with their ids kept, and stopped by id.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import psycopg
import requests

from bench.common import create_db, drop_db
from orderline.settings import ROOT
from tests.support import procfile
from tests.support.fake_twilio import FakeTwilio
from tools.tracker_env import prepare_tracker_store

NET = "198.18.0"
MACHINE = f"{NET}.1"
ADDRESSES = {"lb": 10, "web-a": 11, "web-b": 12, "rasa-a": 21, "rasa-b": 22, "worker-a": 31, "worker-b": 32}
NAMESPACE_PREFIX = "olc-"  # as netns.sh names them
REDIS_PORT, MODEL_PORT = 6379, 8099
MODEL = ROOT / "models" / "orderline.tar.gz"
SID, TOKEN = "AC" + "5" * 32, "cluster-twilio-" + uuid.uuid4().hex[:8]
SR_TOKEN = "cluster-sr-" + uuid.uuid4().hex[:8]
PUBLIC_BASE_URL = "https://orderline.test"
OFD_TEMPLATE = "HXclusterofd"
LB_URL = f"http://{NET}.{ADDRESSES['lb']}"
HAPROXY_CFG = """global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 90s
  timeout server 90s
  option forwardfor
frontend web
  bind {lb}:80
  default_backend app
backend app
  balance roundrobin
  option httpchk GET /healthz
  server web-a {web_a}:5000 check inter 1s
  server web-b {web_b}:5000 check inter 1s
"""


def ip(host: str) -> str:
    return f"{NET}.{ADDRESSES[host]}"


def rasa_urls() -> str:
    return ",".join(f"http://{ip(h)}:5005" for h in ("rasa-a", "rasa-b"))


def namespaces_ready() -> bool:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    return all(NAMESPACE_PREFIX + h in names for h in ADDRESSES)


@dataclass
class Proc:
    host: str
    role: str
    popen: subprocess.Popen

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)  # the group we started: gunicorn's or Rasa's children too


@dataclass
class Cluster:
    logs: Path
    procs: list[Proc] = field(default_factory=list)
    local: list[subprocess.Popen] = field(default_factory=list)  # on the machine: socat, redis, model server
    fake: Optional[FakeTwilio] = None
    db_url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def host_db_url(self) -> str:
        """The database as the hosts reach it (through the bridge)."""
        return self.db_url.replace("127.0.0.1", MACHINE, 1)

    def start_local(self, cmd: list[str], name: str) -> None:
        log = open(self.logs / f"machine-{name}.log", "w")
        self.local.append(subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def run_on(self, host: str, role: str, command: str, **env: str) -> Proc:
        """`command` (a Procfile line or any shell command) on `host`, as bash runs the Procfile's."""
        log = open(self.logs / f"{host}-{role}.log", "w")
        popen = subprocess.Popen(["ip", "netns", "exec", NAMESPACE_PREFIX + host, "bash", "-c", command],
                                 cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        proc = Proc(host, role, popen)
        self.procs.append(proc)
        return proc

    def proc(self, host: str, role: str) -> Proc:
        return next(p for p in self.procs if p.host == host and p.role == role)

    def stop(self) -> None:
        for p in self.procs:
            p.kill(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for p in self.procs:
            try:
                p.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
        for popen in self.local:
            if popen.poll() is None:
                os.killpg(popen.pid, signal.SIGTERM)
        for popen in self.local:
            try:
                popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
        if self.fake is not None:
            self.fake.stop()
        if self.db_url:
            drop_db(self.db_url)


def start_cluster(logs: Path, customers: int) -> Cluster:
    """Everything up and answering, or RuntimeError (the caller stops what did start)."""
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}; run `make train` first")
    if not namespaces_ready():
        raise RuntimeError("the hosts' namespaces are missing: run this through `make test-cluster` (netns.sh)")
    haproxy = shutil.which("haproxy")
    if not haproxy:
        raise RuntimeError("haproxy is missing: `make test-cluster` installs Debian's")
    cluster = Cluster(logs)
    # Orders and customers for the notifications (one OUT FOR DELIVERY event each), set-based.
    cluster.db_url = create_db(customers, customers, status_expr="'in_transit'", shipment_filter="true")
    digest = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    cluster.start_local(["socat", f"TCP-LISTEN:5432,bind={MACHINE},reuseaddr,fork", "TCP:127.0.0.1:5432"], "postgres")
    cluster.start_local(["redis-server", "--bind", MACHINE, "--port", str(REDIS_PORT), "--save", "",
                         "--appendonly", "no", "--protected-mode", "no"], "redis")
    cluster.start_local([str(ROOT / ".venv/bin/python"), "-m", "http.server", str(MODEL_PORT), "--bind", MACHINE,
                         "--directory", str(MODEL.parent)], "models")
    cluster.fake = FakeTwilio(SID, TOKEN)
    cluster.fake.start(host=MACHINE)
    cluster.env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
        "PYTHONDONTWRITEBYTECODE": "1", "ORDERLINE_ENV": "production", "ORDERLINE_MULTI_HOST": "true",
        "DATABASE_URL": cluster.host_db_url, "REDIS_URL": f"redis://{MACHINE}:{REDIS_PORT}/0",
        "RASA_URL": rasa_urls(), "RASA_MODEL": f"http://{MACHINE}:{MODEL_PORT}/{MODEL.name}#sha256={digest}",
        "ORDER_SERVICE_URL": LB_URL, "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TRUSTED_PROXIES": "1",
        "API_TOKEN": "cluster-api-" + uuid.uuid4().hex, "SECRET_KEY": uuid.uuid4().hex,
        "SHIPROCKET_WEBHOOK_TOKEN": SR_TOKEN, "RASA_CHANNEL_SECRET": uuid.uuid4().hex,
        "RASA_AUTH_TOKEN": uuid.uuid4().hex, "ACTION_SERVER_TOKEN": uuid.uuid4().hex,
        "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        "TWILIO_API_BASE_URL": cluster.fake.base_url, "TWILIO_TEMPLATE_OUT_FOR_DELIVERY": OFD_TEMPLATE,
        "NOTIFICATION_LEASE_SECONDS": "5",
    }
    try:
        wait_tcp(f"{MACHINE}", REDIS_PORT, 20)
        # What a deploy's migration step does once: the tracker store's schema (two Rasa starting
        # at once would both try to create it).
        prepare_tracker_store(cluster.db_url)
        (logs / "haproxy.cfg").write_text(HAPROXY_CFG.format(lb=ip("lb"), web_a=ip("web-a"), web_b=ip("web-b")))
        cluster.run_on("lb", "haproxy", f"{haproxy} -db -f {logs / 'haproxy.cfg'}")
        for host in ("web-a", "web-b"):
            cluster.run_on(host, "web", procfile.command("web"), WEB_BIND=f"{ip(host)}:5000")
        for host in ("rasa-a", "rasa-b"):
            cluster.run_on(host, "actions", procfile.command("actions"), ACTIONS_BIND_HOST=ip(host))
        for host in ("rasa-a", "rasa-b"):
            rasa_env = {"RASA_BIND_HOST": ip(host), "ACTION_ENDPOINT_URL": f"http://{ip(host)}:5055/webhook"}
            proc = cluster.run_on(host, "rasa", procfile.command("rasa"), **rasa_env)
            if host == "rasa-a":  # the first Rasa creates the events table; then the second may start
                wait_for(lambda: events_table_exists(cluster.db_url), 300, "rasa-a's tracker table", proc)
        for host in ("worker-a", "worker-b"):
            cluster.run_on(host, "worker", procfile.command("worker"))
        cluster.run_on("worker-b", "cron", procfile.command("cron"))
        wait_for(lambda: ok(f"{LB_URL}/healthz"), 120, "the app through lb", cluster.proc("web-a", "web"))
        for host in ("rasa-a", "rasa-b"):
            wait_for(lambda h=host: ok(f"http://{ip(h)}:5055/health"), 120, f"{host}'s action server",
                     cluster.proc(host, "actions"))
        for host in ("rasa-a", "rasa-b"):
            wait_for(lambda h=host: ok(f"http://{ip(h)}:5005/status?token={cluster.env['RASA_AUTH_TOKEN']}"), 420,
                     f"{host}'s Rasa", cluster.proc(host, "rasa"))
    except BaseException:
        cluster.stop()
        raise
    return cluster


def ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=3).ok
    except requests.RequestException:
        return False


def wait_for(check, timeout: float, what: str, proc: Optional[Proc] = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"{what}: {proc.host}'s {proc.role} exited with {proc.popen.returncode}")
        if check():
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s")


def wait_tcp(host: str, port: int, timeout: float) -> None:
    import socket

    def up() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False

    wait_for(up, timeout, f"{host}:{port}")


def events_table_exists(db_url: str) -> bool:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute("SELECT to_regclass('rasa.events') IS NOT NULL").fetchone()[0]
