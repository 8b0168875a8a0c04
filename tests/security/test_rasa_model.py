"""RASA_MODEL from outside: a download is checked against its #sha256, only http(s) URLs and existing
paths are taken, and a multi-host Rasa refuses a SQLite tracker store. Real local HTTP server."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orderline.settings import ROOT
from rasa_gate import serve
from rasa_gate.model import ModelUnavailable, model_path

MODEL = b"\x1f\x8b not really a model, but bytes with a digest " * 100
GOOD = hashlib.sha256(MODEL).hexdigest()


@pytest.fixture
def model_server():
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            if self.path != "/orderline.tar.gz":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(MODEL)))
            self.end_headers()
            self.wfile.write(MODEL)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def test_a_url_with_its_digest_is_downloaded_once_and_checked(model_server, tmp_path):
    base, hits = model_server
    path = model_path(f"{base}/orderline.tar.gz#sha256={GOOD}", cache=tmp_path)
    assert open(path, "rb").read() == MODEL
    assert model_path(f"{base}/orderline.tar.gz#sha256={GOOD.upper()}", cache=tmp_path) == path
    assert hits == ["/orderline.tar.gz"]  # the second start used the cached file


def test_a_download_that_does_not_match_its_digest_is_refused_and_not_kept(model_server, tmp_path):
    base, _ = model_server
    with pytest.raises(ModelUnavailable, match="RASA_MODEL's download has sha256"):
        model_path(f"{base}/orderline.tar.gz#sha256={'0' * 64}", cache=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_url_without_a_digest_is_fetched_on_every_start(model_server, tmp_path):
    base, hits = model_server
    first = model_path(f"{base}/orderline.tar.gz", cache=tmp_path)
    assert model_path(f"{base}/orderline.tar.gz", cache=tmp_path) == first and len(hits) == 2


@pytest.mark.parametrize("spec,message", [
    ("file:///etc/passwd", "path or an http"),
    ("ftp://models.example/orderline.tar.gz", "path or an http"),
    ("http://127.0.0.1:9/orderline.tar.gz#md5=abc", "#sha256="),
    ("/nowhere/orderline.tar.gz", "does not exist"),
])
def test_what_is_not_a_model_is_refused_naming_rasa_model(spec, message, tmp_path):
    with pytest.raises(ModelUnavailable, match=message) as refused:
        model_path(spec, cache=tmp_path)
    assert "RASA_MODEL" in str(refused.value)


def test_an_unreachable_or_missing_url_is_refused(model_server, tmp_path):
    base, _ = model_server
    with pytest.raises(ModelUnavailable, match="could not be downloaded"):
        model_path(f"{base}/missing.tar.gz", cache=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_serve_gives_rasa_the_model_unless_told_and_refuses_sqlite_trackers_with_many_hosts():
    env = {"RASA_AUTH_TOKEN": "tok", "RASA_CHANNEL_SECRET": "sec"}
    argv = serve.rasa_argv(["--enable-api"], env, "/srv/models/a.tar.gz")
    assert argv[argv.index("--model") + 1] == "/srv/models/a.tar.gz"
    assert serve.rasa_argv(["--model", "mine"], env, "other").count("--model") == 1
    assert serve.rasa_argv([], {**env, "ORDERLINE_MULTI_HOST": "true", "RASA_TRACKER_URL": "postgresql://db/x"})
    with pytest.raises(SystemExit, match="^RASA_TRACKER_URL is SQLite"):
        serve.rasa_argv([], {**env, "ORDERLINE_MULTI_HOST": "true", "RASA_TRACKER_URL": "sqlite:////tmp/t.db"})


def test_rasa_env_refuses_a_multi_host_sqlite_in_one_line():
    env = {"ORDERLINE_MULTI_HOST": "true", "DATABASE_URL": "sqlite:///instance/x.db", "ORDERLINE_ENV": "development",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "tools/rasa_env.py", "rasa"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("orderline: DATABASE_URL is SQLite")
