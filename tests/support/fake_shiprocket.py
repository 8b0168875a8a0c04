"""A local fake of Shiprocket's REST API (v1/external), for tests and the live stack.

Written from Shiprocket's published reference (the OpenAPI conversion in the public repository
api-evangelist/shiprocket, openapi/): the login that hands out a bearer token, the orders
search by channel order id, cancel, address update, and the NDR action and NDR details. It
records every call. Failures can be queued per path (a 422 refusal, a 5xx), tokens expired (so
the next call gets a 401), answers delayed past the client's timeout, or a call held after it
has been recorded (a worker killed after sending and before recording the answer).
"""
from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

EMAIL, PASSWORD = "api-user@orderline.test", "api-user-password"


class FakeShiprocket:
    def __init__(self, email: str = EMAIL, password: str = PASSWORD) -> None:
        self.email, self.password = email, password
        self.tokens: set[str] = set()
        self.logins = 0
        self.calls: list[dict[str, Any]] = []
        self.orders: dict[str, dict[str, Any]] = {}  # Shiprocket id -> order
        self.ndr_history: dict[str, list[dict[str, Any]]] = {}  # awb -> history
        self.failures: dict[str, deque[tuple[int, dict[str, Any]]]] = {}
        self.delays: dict[str, deque[float]] = {}
        self.hold = threading.Event()
        self.held: dict[str, int] = {}
        self.lock = threading.Lock()
        self._ids = itertools.count(16161616)
        self.app = self._build()
        self._server: Any = None

    # -- control -----------------------------------------------------------------
    def add_order(self, channel_order_id: str, awb: Optional[str] = None) -> int:
        """A Shiprocket order for our `channel_order_id`; returns Shiprocket's id for it."""
        sr_id = next(self._ids)
        with self.lock:
            self.orders[str(sr_id)] = {"id": sr_id, "channel_order_id": channel_order_id, "status": "NEW",
                                       "status_code": 1, "shipments": [{"id": sr_id + 1, "awb": awb or ""}]}
            if awb:
                self.ndr_history.setdefault(awb, [])
        return sr_id

    def fail_next(self, path_kind: str, status: int, body: Optional[dict[str, Any]] = None, times: int = 1) -> None:
        """Answer the next `times` calls of `path_kind` (ndr_action, cancel, address, search, login, ndr) with `status`."""
        with self.lock:
            self.failures.setdefault(path_kind, deque()).extend(
                [(status, body or {"message": "Something went wrong", "status_code": status})] * times)

    def delay_next(self, path_kind: str, seconds: float) -> None:
        """Record the next call of `path_kind`, then answer only after `seconds` (a client timeout)."""
        with self.lock:
            self.delays.setdefault(path_kind, deque()).append(seconds)

    def hold_next(self, path_kind: str) -> None:
        """Record the next call of `path_kind` and keep it unanswered until `release()`."""
        with self.lock:
            self.hold.clear()
            self.held[path_kind] = self.held.get(path_kind, 0) + 1

    def release(self) -> None:
        self.hold.set()

    def expire_tokens(self) -> None:
        """Every token handed out so far now gets 401 (Shiprocket's 10 days have passed)."""
        with self.lock:
            self.tokens.clear()

    def calls_to(self, path_kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if c["kind"] == path_kind]

    def wait_for(self, path_kind: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.calls_to(path_kind)) < count:
            time.sleep(0.02)
        return self.calls_to(path_kind)

    # -- server --------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self.hold.set()
        if self._server:
            self._server.shutdown()

    def _build(self) -> Flask:
        app = Flask("fake_shiprocket")

        @app.post("/v1/external/auth/login")
        def login():
            body = request.get_json(silent=True) or {}
            failed = self._record("login", body)
            if failed:
                return failed
            if body.get("email") != self.email or body.get("password") != self.password:
                return jsonify(message="Invalid email and password combination", status_code=400), 400
            token = secrets.token_urlsafe(24)
            with self.lock:
                self.tokens.add(token)
                self.logins += 1
            return jsonify(id=101, first_name="API", last_name="User", email=self.email, company_id=25149,
                           created_at="2026-12-02T10:00:00.000000Z", token=token)

        @app.get("/v1/external/orders")
        def search_orders():
            denied = self._authorised()
            if denied:
                return denied
            failed = self._record("search", dict(request.args))
            if failed:
                return failed
            term = request.args.get("search", "")
            with self.lock:
                found = [o for o in self.orders.values()
                         if term and (o["channel_order_id"] == term or o["channel_order_id"].startswith(term + "_")
                                      or any(s["awb"] == term for s in o["shipments"]))]
            return jsonify(data=found, meta={"pagination": {"total": len(found), "count": len(found), "per_page": 15,
                                                            "current_page": 1, "total_pages": 1, "links": {}}})

        @app.post("/v1/external/orders/cancel")
        def cancel():
            denied = self._authorised()
            if denied:
                return denied
            body = request.get_json(silent=True) or {}
            failed = self._record("cancel", body)
            if failed:
                return failed
            ids = body.get("ids")
            if not isinstance(ids, list) or not ids:
                return _invalid("Required field missing", {"ids": ["The ids field is required."]})
            with self.lock:
                unknown = [i for i in ids if str(i) not in self.orders]
                if unknown:
                    return _invalid("Oops! Invalid Data.", {"ids": ["The selected ids is invalid."]})
                for i in ids:
                    self.orders[str(i)].update(status="CANCELED", status_code=5)
            return "", 204

        @app.post("/v1/external/orders/address/update")
        def address_update():
            denied = self._authorised()
            if denied:
                return denied
            body = request.get_json(silent=True) or {}
            failed = self._record("address", body)
            if failed:
                return failed
            required = ("order_id", "shipping_customer_name", "shipping_phone", "shipping_address", "shipping_city",
                        "shipping_state", "shipping_country", "shipping_pincode")
            missing = {k: [f"The {k.replace('_', ' ')} field is required."] for k in required if body.get(k) in (None, "")}
            if missing:
                return _invalid("Oops! Invalid Data.", missing)
            if str(body["order_id"]) not in self.orders:
                return _invalid("Oops! Invalid Data.", {"order_id": ["The selected order id is invalid."]})
            return "", 202

        @app.post("/v1/external/ndr/<awb>/action")
        def ndr_action(awb: str):
            denied = self._authorised()
            if denied:
                return denied
            body = request.get_json(silent=True) or {}
            failed = self._record("ndr_action", {**body, "awb": awb})
            if failed:
                return failed
            if body.get("action") not in ("re-attempt", "return") or not isinstance(body.get("comments"), str):
                return _invalid("Oops! Invalid Data.", {"action": ["The selected action is invalid."]})
            with self.lock:
                if awb not in self.ndr_history:
                    return _invalid("Oops! Invalid Data.", {"awb": ["The shipment is not in NDR."]})
                history = self.ndr_history[awb]
                history.append({"id": 50347646 + len(history), "ndr_id": 14933497, "ndr_reason": "Customer unavailable",
                                "action_by": 2, "ndr_attempt": len(history) + 1, "medium": None, "ndr_push_status": 1,
                                "comment": body["comments"], "sms_response": "No Response",
                                "ndr_raised_at": "2026-12-02 10:00:00"})
            return jsonify(status="Data Updated Sucessfully"), 202

        @app.get("/v1/external/ndr/<awb>")
        def ndr_details(awb: str):
            denied = self._authorised()
            if denied:
                return denied
            failed = self._record("ndr", {"awb": awb})
            if failed:
                return failed
            with self.lock:
                history = list(self.ndr_history.get(awb, []))
            data = [{"id": 94711332, "awb_code": awb, "status": "UNDELIVERED", "status_code": 36,
                     "reason": "Customer unavailable", "attempts": 1, "history": history}] if awb in self.ndr_history else []
            return jsonify(data=data, meta={"pagination": {"total": len(data), "count": len(data), "per_page": 15,
                                                           "current_page": 1, "total_pages": 1, "links": {}}})

        return app

    def _authorised(self) -> Any:
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer "):] if header.startswith("Bearer ") else ""
        with self.lock:
            ok = token in self.tokens
        if not ok:
            with self.lock:
                self.calls.append({"kind": "unauthorised", "path": request.path, "at": time.time()})
            return jsonify(message="Unauthenticated.", status_code=401), 401
        return None

    def _record(self, kind: str, body: dict[str, Any]) -> Any:
        """Record the call, then apply any queued delay, hold or failure for its kind."""
        with self.lock:
            self.calls.append({"kind": kind, "path": request.path, "body": body, "at": time.time()})
            delay = self.delays[kind].popleft() if self.delays.get(kind) else 0.0
            held = self.held.get(kind, 0) > 0
            if held:
                self.held[kind] -= 1
            failure = self.failures[kind].popleft() if self.failures.get(kind) else None
        if delay:
            time.sleep(delay)
        if held:
            self.hold.wait(timeout=120)
        if failure:
            status, payload = failure
            return jsonify(payload), status
        return None


def _invalid(message: str, errors: dict[str, list[str]]):
    return jsonify(message=message, errors=errors, status_code=422), 422


@contextmanager
def running_fake_shiprocket() -> Iterator[FakeShiprocket]:
    """A FakeShiprocket serving on a free local port for the duration of the block."""
    fake = FakeShiprocket()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
