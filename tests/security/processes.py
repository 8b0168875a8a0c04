"""The Procfile's processes as the attack tests start them: exactly its command lines, except that
the web server binds a port of the test's own instead of 5000."""
from __future__ import annotations

import os
import subprocess
import time

import requests

from orderline.settings import ROOT
from tests.support import procfile


def command(name: str, port: int) -> str:
    """The Procfile's command line; the web server binds a port of the test's own instead of 5000."""
    line = procfile.command(name)
    if name == "web":
        assert "--bind 0.0.0.0:5000" in line
        line = line.replace("--bind 0.0.0.0:5000", f"--bind 127.0.0.1:{port}")
    return line


def start(name: str, env: dict[str, str], port: int = 0, **popen) -> subprocess.Popen:
    return subprocess.Popen(["bash", "-c", "exec " + command(name, port)], cwd=ROOT, env=env,
                            start_new_session=True, **popen)


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
