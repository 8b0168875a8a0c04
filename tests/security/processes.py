"""The Procfile's processes as the attack tests start them: exactly its command lines, with the web
server bound (WEB_BIND) to a port of the test's own instead of 5000."""
from __future__ import annotations

import os
import subprocess
import time

import requests

from orderline.settings import ROOT
from tests.support import procfile


def command(name: str, port: int) -> str:
    """The Procfile's command line (the web server's address is WEB_BIND: `start` sets it)."""
    line = procfile.command(name)
    assert "--bind" not in line  # WEB_BIND decides (gunicorn.conf.py)
    return line


def start(name: str, env: dict[str, str], port: int = 0, **popen) -> subprocess.Popen:
    return subprocess.Popen(["bash", "-c", "exec " + command(name, port)], cwd=ROOT,
                            env={**env, "WEB_BIND": f"127.0.0.1:{port}"}, start_new_session=True, **popen)


def wait_until_serving(proc: subprocess.Popen, base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, "the server exited"
        try:
            if requests.get(base + "/healthz", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 2)  # SIGINT: gunicorn quits without waiting out open streams
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait(10)
