"""gunicorn's access log is written by a listener thread, not by the request threads."""
import io
import logging
import os
import signal
import socket
import subprocess
import threading
import time

import requests

from orderline.settings import ROOT
from tests.support import procfile
from wiring import access_log


class ThreadRecorder(logging.StreamHandler):
    """A stream handler that also notes which thread wrote each line."""

    def __init__(self, stream):
        super().__init__(stream)
        self.threads = []

    def emit(self, record):
        self.threads.append(threading.current_thread().name)
        super().emit(record)


def test_lines_are_written_by_the_listener_with_their_arguments():
    logger = logging.getLogger("test.access." + str(time.monotonic_ns()))
    logger.propagate = False
    logger.setLevel(logging.INFO)
    out = io.StringIO()
    handler = ThreadRecorder(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    listener = access_log.defer(logger)
    assert listener is not None and handler not in logger.handlers

    def request(i):
        logger.info('%(h)s "GET /orders/%(n)s" %(s)s', {"h": "127.0.0.1", "n": str(i), "s": "200"})

    threads = [threading.Thread(target=request, args=(i,), name=f"request-{i}") for i in range(20)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    listener.stop()  # drains the queue
    lines = out.getvalue().splitlines()
    assert sorted(lines) == sorted(f'127.0.0.1 "GET /orders/{i}" 200' for i in range(20))
    assert handler.threads and not any(name.startswith("request-") for name in handler.threads)


def test_file_handlers_stay_for_gunicorn_to_reopen(tmp_path):
    logger = logging.getLogger("test.access.file")
    handler = logging.FileHandler(tmp_path / "access.log")
    logger.addHandler(handler)
    try:
        assert access_log.defer(logger) is None
        assert logger.handlers == [handler]
    finally:
        logger.removeHandler(handler)
        handler.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_writes_every_access_line_through_the_listener(settings, tmp_path):
    """The Procfile's gunicorn options (its own port), gunicorn.conf.py as gunicorn loads it."""
    port = free_port()
    line = procfile.command("web").replace("--bind 0.0.0.0:5000", f"--bind 127.0.0.1:{port}")
    log = (tmp_path / "out.log").open("w")
    env = {**os.environ, **procfile.settings_env(settings), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(["bash", "-c", "exec " + line], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz?warm", timeout=2).ok:
                    break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        with requests.Session() as http:
            for i in range(30):
                assert http.get(f"http://127.0.0.1:{port}/healthz?n={i}", timeout=5).ok
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # graceful: each worker exits and stops its listener
        proc.wait(30)
        log.close()
    text = (tmp_path / "out.log").read_text()
    assert sorted(i for i in range(30) if f"GET /healthz?n={i} " in text) == list(range(30))
