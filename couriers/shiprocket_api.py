"""Shiprocket's REST API (v1/external), outbound: the `Courier` port for courier requests.

Field names and paths are Shiprocket's published ones (apidocs.shiprocket.in; the OpenAPI
conversion in the public repository api-evangelist/shiprocket, openapi/):

- `POST /v1/external/auth/login` {email, password} -> {token}; the token lasts 10 days. It is
  cached in Redis for every process and dropped a day early, so it is renewed before it expires.
  A 401 drops it, logs in again and retries the call once.
- `POST /v1/external/ndr/{awb}/action` {action: "re-attempt" | "return", comments} -> 202.
- `POST /v1/external/orders/cancel` {ids: [Shiprocket order id]} -> 200/204.
- `POST /v1/external/orders/address/update` {order_id, shipping_*} -> 202.
- `GET /v1/external/orders?search=<channel order id>` finds Shiprocket's order id.
- `GET /v1/external/ndr/{awb}` lists the NDR's `history`, whose `comment`s show whether a
  request of ours (tagged with its id) already reached Shiprocket.

Every call has a timeout. Errors become `CourierAnswer`s: 4xx a refusal with Shiprocket's
message, 5xx / 429 / no connection a retry, a timeout after sending "unknown".
"""
from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from typing import Any, Optional

import redis
import requests

from orderline.courier_outbox import marker
from orderline.ports import CourierAnswer, CourierCall

log = logging.getLogger(__name__)
TOKEN_LIFETIME = timedelta(days=10)
# Renewed a day before Shiprocket would expire it, so no call goes out with a dying token.
TOKEN_TTL = TOKEN_LIFETIME - timedelta(days=1)
LOGIN_LOCK_SECONDS = 15
TIMEOUT = (3.05, 15.0)  # connect, read (seconds)
NDR_ACTIONS = {"reattempt": "re-attempt", "return": "return"}
RETRYABLE = {408, 409, 425, 429}


class LoginFailed(Exception):
    """Shiprocket refused the API user's email and password."""


class ShiprocketApi:
    """One Shiprocket API user. Thread- and process-safe: the only shared state is in Redis."""

    name = "Shiprocket"

    def __init__(self, base_url: str, email: str, password: str, cache: redis.Redis,
                 timeout: tuple[float, float] = TIMEOUT, http: Optional[requests.Session] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.email = email
        self.password = password
        self.cache = cache
        self.timeout = timeout
        self.http = http or requests.Session()
        digest = hashlib.sha256(f"{self.base_url}\0{email}".encode()).hexdigest()[:16]
        self.token_key = f"orderline:shiprocket:token:{digest}"
        self.lock_key = self.token_key + ":login"

    # -- the Courier port ----------------------------------------------------------
    def send(self, call: CourierCall) -> CourierAnswer:
        try:
            if call.kind in NDR_ACTIONS:
                return self._ndr_action(call)
            sr_id = call.external_order_id or self.find_order_id(call.order_id)
            if sr_id is None:
                return CourierAnswer("not_found", f"Shiprocket has no order {call.order_id}")
            if call.kind == "cancel":
                answer = self._post("/v1/external/orders/cancel", {"ids": [int(sr_id)]})
            elif call.kind == "address":
                answer = self._post("/v1/external/orders/address/update", address_body(int(sr_id), call))
            else:
                raise ValueError(call.kind)
            return CourierAnswer(answer.outcome, answer.reason, external_order_id=str(sr_id))
        except LoginFailed as exc:
            return CourierAnswer("retry", f"Shiprocket login refused: {exc}")
        except _Unanswered as exc:
            return CourierAnswer(exc.outcome, exc.reason)

    def confirm(self, call: CourierCall) -> Optional[bool]:
        """Whether the NDR's history already holds a comment tagged with this request's id."""
        if not call.awb:
            return None
        try:
            resp = self._request("GET", f"/v1/external/ndr/{call.awb}")
        except (LoginFailed, _Unanswered):
            return None
        if resp.status_code != 200:
            return None
        tag = marker(call.request_id)
        for ndr in _json(resp).get("data") or []:
            for entry in (ndr.get("history") or []) if isinstance(ndr, dict) else []:
                # Our tag closes the comment; customer text inside it has its brackets removed.
                if isinstance(entry, dict) and str(entry.get("comment") or "").rstrip().endswith(tag):
                    return True
        return False

    def find_order_id(self, channel_order_id: str) -> Optional[str]:
        """Shiprocket's order id for our order id (its `channel_order_id`, maybe with a suffix)."""
        resp = self._request("GET", "/v1/external/orders", params={"search": channel_order_id})
        if resp.status_code != 200:
            raise _Unanswered("retry" if _retryable(resp.status_code) else "refused", _reason(resp))
        for order in _json(resp).get("data") or []:
            ours = str(order.get("channel_order_id") or "") if isinstance(order, dict) else ""
            if ours == channel_order_id or ours.startswith(channel_order_id + "_"):
                return str(order["id"])
        return None

    # -- calls ---------------------------------------------------------------------
    def _ndr_action(self, call: CourierCall) -> CourierAnswer:
        if not call.awb:
            return CourierAnswer("not_found", "the shipment has no AWB yet")
        body = {"action": NDR_ACTIONS[call.kind], "comments": ndr_comments(call)}
        return self._post(f"/v1/external/ndr/{call.awb}/action", body)

    def _post(self, path: str, body: dict[str, Any]) -> CourierAnswer:
        resp = self._request("POST", path, json=body)
        if 200 <= resp.status_code < 300:
            return CourierAnswer("accepted", _json(resp).get("status") or _json(resp).get("message"))
        if _retryable(resp.status_code):
            return CourierAnswer("retry", _reason(resp))
        return CourierAnswer("refused", _reason(resp))

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One call with the cached token; on a 401, one fresh login and one retry."""
        token = self.token()
        resp = self._send(method, path, token, **kwargs)
        if resp.status_code == 401:
            self._forget(token)
            resp = self._send(method, path, self.token(), **kwargs)
        return resp

    def _send(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        try:
            return self.http.request(method, self.base_url + path, timeout=self.timeout,
                                     headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                                     **kwargs)
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
            raise _Unanswered("retry", f"no connection to Shiprocket: {type(exc).__name__}") from exc
        except requests.ConnectionError as exc:
            if _never_connected(exc):
                raise _Unanswered("retry", f"no connection to Shiprocket: {type(exc).__name__}") from exc
            raise _Unanswered("unknown", f"Shiprocket did not answer: {type(exc).__name__}") from exc
        except requests.Timeout as exc:
            raise _Unanswered("unknown", "Shiprocket did not answer in time") from exc

    # -- the token -----------------------------------------------------------------
    def token(self) -> str:
        """The cached token, or a fresh one (one process logs in; the others wait for it briefly)."""
        cached = self._cached()
        if cached:
            return cached
        try:
            got_lock, shared = bool(self.cache.set(self.lock_key, 1, nx=True, ex=LOGIN_LOCK_SECONDS)), True
        except redis.RedisError:
            got_lock, shared = False, False
        if shared and not got_lock:
            deadline = time.monotonic() + self.timeout[0] + self.timeout[1]
            while time.monotonic() < deadline:
                time.sleep(0.1)
                cached = self._cached()
                if cached:
                    return cached
        try:
            token = self.login()
            self._try(lambda: self.cache.set(self.token_key, token, ex=int(TOKEN_TTL.total_seconds())))
            return token
        finally:
            if got_lock:
                self._try(lambda: self.cache.delete(self.lock_key))

    def login(self) -> str:
        try:
            resp = self.http.post(self.base_url + "/v1/external/auth/login", timeout=self.timeout,
                                  json={"email": self.email, "password": self.password})
        except requests.RequestException as exc:
            raise _Unanswered("retry", f"Shiprocket login did not answer: {type(exc).__name__}") from exc
        if _retryable(resp.status_code):
            raise _Unanswered("retry", f"Shiprocket login: {_reason(resp)}")
        token = _json(resp).get("token")
        if resp.status_code != 200 or not isinstance(token, str) or not token:
            raise LoginFailed(_reason(resp))
        return token

    def _cached(self) -> Optional[str]:
        raw = self._try(lambda: self.cache.get(self.token_key))
        return raw.decode() if isinstance(raw, bytes) else raw

    def _forget(self, token: str) -> None:
        """Drop the cached token if it is still the one that got the 401 (another process may have renewed it)."""
        if self._cached() == token:
            self._try(lambda: self.cache.delete(self.token_key))

    @staticmethod
    def _try(op: Any) -> Any:
        try:
            return op()
        except redis.RedisError:  # without Redis every call logs in: slower, still correct
            log.warning("Redis unavailable for the Shiprocket token cache")
            return None


class _Unanswered(Exception):
    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


def ndr_comments(call: CourierCall) -> str:
    """The NDR comment: the new date, the customer's words, the message SID, and our request's tag."""
    p = {k: _plain(v) for k, v in call.payload.items()}
    parts = []
    if call.kind == "reattempt":
        parts.append(f"Re-attempt on {p['date']}" if p.get("date") else "Re-attempt")
        if p.get("details"):
            parts.append(f"Correction: {p['details']}")
    else:
        parts.append("Customer declined the parcel: return to origin")
    if p.get("customer_words"):
        parts.append(f"Customer said: \"{str(p['customer_words'])[:300]}\"")
    if p.get("message_sid"):
        parts.append(f"{str(p.get('channel') or 'whatsapp').capitalize()} message {p['message_sid']}")
    tag = marker(call.request_id)
    return ". ".join(parts)[:1000 - len(tag) - 2] + ". " + tag


def _plain(value: Any) -> Any:
    """Customer text without square brackets, so no one can write a tag that looks like ours."""
    return value.replace("[", "(").replace("]", ")") if isinstance(value, str) else value


def address_body(sr_order_id: int, call: CourierCall) -> dict[str, Any]:
    """Shiprocket's address update body (its required fields: name, phone, address, city, state, country, pincode)."""
    a = call.payload.get("address") or {}
    line2 = ", ".join(x for x in (a.get("line2"), a.get("landmark")) if x)
    phone = "".join(ch for ch in call.customer_phone if ch.isdigit())[-10:]
    return {"order_id": sr_order_id, "shipping_customer_name": call.customer_name or "Customer",
            "shipping_phone": int(phone) if phone else None, "shipping_address": a.get("line1", ""),
            "shipping_address_2": line2, "shipping_city": a.get("city", ""), "shipping_state": a.get("state", ""),
            "shipping_country": "India", "shipping_pincode": int(a["pincode"]) if a.get("pincode") else None}


def _retryable(status: int) -> bool:
    return status >= 500 or status in RETRYABLE


def _json(resp: requests.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"data": body} if isinstance(body, list) else {}


def _reason(resp: requests.Response) -> str:
    """Shiprocket's message and field errors, e.g. 'Oops! Invalid Data. (order_id: The selected order id is invalid.)'."""
    body = _json(resp)
    text = str(body.get("message") or resp.reason or "")
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        details = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items())
        text = f"{text} ({details})"
    return f"HTTP {resp.status_code}: {text}"[:500]


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (so nothing was sent): refused, no route, DNS."""
    text = repr(exc.args[0] if exc.args else exc)
    return any(k in text for k in ("NewConnectionError", "NameResolutionError", "Connection refused",
                                   "ConnectTimeoutError"))

