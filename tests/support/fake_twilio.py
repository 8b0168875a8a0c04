"""A local fake of Twilio's REST API (Messages), for tests, benchmarks and the simulator.

It speaks Twilio's real shapes: form-encoded POSTs with HTTP Basic auth (account SID and
auth token), JSON answers, and Twilio's error body `{code, message, more_info, status}`.
Failures can be queued to exercise retries. Run standalone:
`python -m tests.support.fake_twilio --port 8099 --sid AC... --token ...`.
"""
from __future__ import annotations

import argparse
import itertools
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from flask import Flask, jsonify, request
from werkzeug.serving import make_server


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, Any]] = []
        self.failures: deque[tuple[int, int, str]] = deque()
        self.delay = 0.0
        self.lock = threading.Lock()
        self._seq = itertools.count(1)
        self.app = self._build()
        self._server: Any = None

    # -- control -----------------------------------------------------------------
    def fail_next(self, http_status: int, code: int, message: str = "injected failure", times: int = 1) -> None:
        with self.lock:
            self.failures.extend([(http_status, code, message)] * times)

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.failures.clear()
            self.delay = 0.0

    def sent_to(self, phone: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if m["to"] == f"whatsapp:{phone}"]

    def wait_for(self, phone: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.sent_to(phone)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return self.sent_to(phone)

    # -- server --------------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on `host` (loopback; the cluster test's bridge address) and a free or given port."""
        self._server = make_server(host, port, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self._server.server_port}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()

    def _build(self) -> Flask:
        app = Flask("fake_twilio")

        @app.post("/2010-04-01/Accounts/<sid>/Messages.json")
        def create_message(sid: str):
            auth = request.authorization
            if sid != self.account_sid or not auth or (auth.username, auth.password) != (self.account_sid, self.auth_token):
                return _error(401, 20003, "Authenticate")
            with self.lock:
                failure: Optional[tuple[int, int, str]] = self.failures.popleft() if self.failures else None
            if failure:
                return _error(*failure)
            form = request.form
            if not form.get("To") or not (form.get("From") or form.get("MessagingServiceSid")):
                return _error(400, 21604, "A 'To' and 'From' phone number is required.")
            if not (form.get("Body") or form.get("ContentSid") or form.get("MediaUrl")):
                return _error(400, 21602, "Message body is required.")
            msg = {"sid": "SM" + uuid.uuid4().hex, "account_sid": sid, "to": form["To"], "from": form.get("From"),
                   "body": form.get("Body"), "content_sid": form.get("ContentSid"),
                   "content_variables": form.get("ContentVariables"), "status_callback": form.get("StatusCallback"),
                   "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
                   "num_media": "0", "num_segments": "1", "error_code": None, "error_message": None,
                   "seq": next(self._seq), "received_at": time.time()}
            with self.lock:
                self.messages.append(msg)
            if self.delay:  # like Twilio: the message exists once received, however slow the answer
                time.sleep(self.delay)
            return jsonify({k: v for k, v in msg.items() if k not in ("seq", "received_at", "content_variables")}), 201

        @app.get("/2010-04-01/Accounts/<sid>/Messages.json")
        def list_messages_api(sid: str):
            auth = request.authorization
            if sid != self.account_sid or not auth or (auth.username, auth.password) != (self.account_sid, self.auth_token):
                return _error(401, 20003, "Authenticate")
            to = request.args.get("To")
            with self.lock:
                found = [m for m in reversed(self.messages) if not to or m["to"] == to]
            public = [{k: v for k, v in m.items() if k not in ("seq", "received_at", "content_variables")} for m in found]
            uri = f"/2010-04-01/Accounts/{sid}/Messages.json"
            return jsonify(messages=public, start=0, end=max(0, len(public) - 1), page=0, page_size=len(public) or 50,
                           uri=uri, first_page_uri=uri, next_page_uri=None, previous_page_uri=None)

        @app.get("/_fake/messages")
        def list_messages():
            with self.lock:
                return jsonify(messages=list(self.messages))

        @app.post("/_fake/fail")
        def queue_failure():
            body = request.get_json(force=True)
            self.fail_next(int(body.get("status", 500)), int(body.get("code", 20500)), body.get("message", "injected"),
                           int(body.get("times", 1)))
            return jsonify(ok=True)

        @app.post("/_fake/reset")
        def reset():
            self.reset()
            return jsonify(ok=True)

        return app


@contextmanager
def running_fake_twilio(account_sid: str, auth_token: str) -> Iterator[FakeTwilio]:
    """A FakeTwilio serving on a free local port for the duration of the block."""
    fake = FakeTwilio(account_sid, auth_token)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def _error(http_status: int, code: int, message: str):
    return jsonify(code=code, message=message, more_info=f"https://www.twilio.com/docs/errors/{code}",
                   status=http_status), http_status


def main() -> None:
    parser = argparse.ArgumentParser(description="Local fake of Twilio's Messages API")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--sid", default="AC" + "0" * 32)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    fake = FakeTwilio(args.sid, args.token)
    fake.start(args.port)
    print(f"fake Twilio on {fake.base_url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
