"""Talk to the Rasa server over its signed channel and tracker API. One client for every channel.

Rasa believes the sender and metadata (the customer's phone) of each message, so only the app
may speak for a customer: every turn is signed with RASA_CHANNEL_SECRET (the protocol is in
rasa_gate/signing.py, Rasa's side) and the HTTP API gets RASA_AUTH_TOKEN. See docs/security.md.

Several Rasa hosts: RASA_URL may list them, comma-separated. Each sender has a stable first
choice (a hash of the sender), and a host that refuses the connection is skipped for a few
seconds while the next one in the list takes its turns. Any host can take any sender: they share
the SQL tracker store and the Redis lock store, which runs one turn of a sender at a time across
all of them (docs/deploy.md). Only a connection error moves a call on; a timeout does not, since
the turn may still be running.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import zlib
from typing import Any, Callable, Optional

import requests

from orderline.ports import AssistantUnavailable, BotMessage, Parse

log = logging.getLogger(__name__)
CHANNEL_PATH = "/webhooks/orderline/webhook"
# How long a host that refused a connection goes to the back of every sender's list.
DOWN_SECONDS = 5.0


def base_urls(rasa_url: str) -> tuple[str, ...]:
    """The Rasa base URLs in RASA_URL (one, or several separated by commas), without trailing slashes."""
    urls = tuple(u.strip().rstrip("/") for u in rasa_url.split(",") if u.strip())
    if not urls:
        raise ValueError("RASA_URL names no Rasa server")
    return urls


class Hosts:
    """The Rasa hosts in the order one sender tries them: its own first, hosts seen down last."""

    def __init__(self, urls: tuple[str, ...], down_seconds: float = DOWN_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.urls = urls
        self.down_seconds = down_seconds
        self.clock = clock
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def order(self, key: str) -> list[str]:
        start = zlib.crc32(key.encode()) % len(self.urls)
        ring = list(self.urls[start:] + self.urls[:start])
        now = self.clock()
        with self._lock:
            return sorted(ring, key=lambda url: self._down_until.get(url, 0.0) > now)  # stable: up ones first

    def mark_down(self, url: str) -> None:
        with self._lock:
            self._down_until[url] = self.clock() + self.down_seconds

    def mark_up(self, url: str) -> None:
        with self._lock:
            self._down_until.pop(url, None)


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `v1`, the timestamp, the nonce and the raw body (as rasa_gate.signing checks it)."""
    mac = hmac.new(secret.encode(), f"v1\n{timestamp}\n{nonce}\n".encode(), hashlib.sha256)
    mac.update(body)
    return mac.hexdigest()


def signed_turn(secret: str, sender: str, text: str, metadata: dict[str, Any],
                now: Optional[float] = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one signed turn for Rasa's `orderline` channel."""
    body = json.dumps({"sender": sender, "message": text, "metadata": metadata}).encode()
    timestamp, nonce = str(int(time.time() if now is None else now)), secrets.token_urlsafe(18)
    return body, {"Content-Type": "application/json", "X-Orderline-Timestamp": timestamp,
                  "X-Orderline-Nonce": nonce, "X-Orderline-Signature": sign(secret, timestamp, nonce, body)}


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 5.0, session: Optional[requests.Session] = None, *,
                 channel_secret: str = "", auth_token: str = "") -> None:
        self.hosts = Hosts(base_urls(base_url))
        self.base_url = self.hosts.urls[0]
        self.timeout = timeout
        self.http = session or requests.Session()
        self.channel_secret = channel_secret
        # Rasa's --auth-token is checked on the `token` query parameter.
        self.auth = {"token": auth_token} if auth_token else {}

    def send(self, sender: str, text: str, metadata: dict[str, Any], timeout: Optional[float] = None) -> list[BotMessage]:
        """One signed user turn through the `orderline` channel; returns the bot's messages in order."""
        body, headers = signed_turn(self.channel_secret, sender, text, metadata)
        try:
            resp = self.call(sender, "POST", CHANNEL_PATH, data=body, headers=headers, timeout=timeout or self.timeout)
        except requests.RequestException as exc:
            raise AssistantUnavailable(str(exc)) from exc
        if resp.status_code != 200:
            raise AssistantUnavailable(f"Rasa answered HTTP {resp.status_code}")
        try:
            payload = resp.json()
        except ValueError as exc:
            raise AssistantUnavailable("Rasa answered with invalid JSON") from exc
        return [to_message(m) for m in payload if isinstance(m, dict)]

    def parse(self, text: str, timeout: float = 1.0) -> Optional[Parse]:
        """The intent Rasa's NLU finds in `text` (`POST /model/parse`); None on any failure.

        The channel answers with the bot's messages only, so the parse is asked for after the
        turn. Not from the tracker: Rasa loads a tracker with every session the sender ever had, so
        that read grew with the customer's history; this one costs the same every time.
        """
        try:
            resp = self.call(text, "POST", "/model/parse", json={"text": text}, params=self.auth, timeout=timeout)
        except requests.RequestException as exc:
            log.info("Rasa parse unavailable: %s", exc)
            return None
        if resp.status_code != 200:
            log.info("Rasa parse answered HTTP %s", resp.status_code)
            return None
        try:
            parsed = resp.json() or {}
            intent = parsed.get("intent") or {}
            name, confidence = intent.get("name"), intent.get("confidence")
        except (ValueError, AttributeError):
            return None
        if not isinstance(name, str) or not name:
            return None
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
            confidence = None
        return Parse(text=str(parsed.get("text") or ""), intent=name[:40],
                     confidence=None if confidence is None else min(max(float(confidence), 0.0), 1.0))

    def resume(self, sender: str) -> bool:
        """Un-pause the conversation in Rasa's tracker after a human hands it back.

        A paused tracker stopped right after the handoff action, before Rasa's `action_listen`;
        without one, the next message meets a state no story or rule has, and the assistant
        falls back (and hands off again). So the listen goes in with the resume.
        """
        return self._event(sender, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    def paused(self, sender: str, timeout: float = 1.0) -> Optional[bool]:
        """Whether Rasa's tracker for `sender` is paused (it then answers nothing); None on any failure."""
        try:
            resp = self.call(sender, "GET", f"/conversations/{sender}/tracker",
                             params={"include_events": "NONE", **self.auth}, timeout=timeout)
            paused = resp.json().get("paused") if resp.status_code == 200 else None
        except (requests.RequestException, ValueError, AttributeError) as exc:
            log.info("Rasa tracker for %s unavailable: %s", sender, exc)
            return None
        return paused if isinstance(paused, bool) else None

    def pause(self, sender: str) -> bool:
        return self._event(sender, [{"event": "pause"}])

    def _event(self, sender: str, events: list[dict[str, Any]]) -> bool:
        try:
            resp = self.call(sender, "POST", f"/conversations/{sender}/tracker/events",
                             json=events, params={"include_events": "NONE", **self.auth}, timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("Rasa %s for %s failed: %s", events[0]["event"], sender, exc)
            return False
        return resp.ok

    def status(self) -> bool:
        """Whether some Rasa host answers (any one can take every sender's turns)."""
        for url in self.hosts.urls:
            try:
                if self.http.get(f"{url}/", timeout=1.5).ok:
                    return True
            except requests.RequestException:
                continue
        return False

    def call(self, key: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        """`method path` on the first Rasa host in `key`'s order that takes the connection.

        Raises:
            requests.RequestException: the last host's error, or any error but a connection error.
        """
        order = self.hosts.order(key)
        for i, url in enumerate(order):
            try:
                resp = self.http.request(method, url + path, **kwargs)
            except requests.ConnectionError as exc:
                self.hosts.mark_down(url)
                if i == len(order) - 1:
                    raise
                log.warning("Rasa at %s unreachable (%s); trying %s", url, exc, order[i + 1])
                continue
            self.hosts.mark_up(url)
            return resp
        raise AssertionError("unreachable: base_urls() never returns an empty tuple")


def to_message(raw: dict[str, Any]) -> BotMessage:
    buttons = tuple({"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                    for b in raw.get("buttons") or [] if isinstance(b, dict))
    return BotMessage(text=str(raw.get("text") or ""), buttons=buttons, image=raw.get("image"),
                      custom=raw.get("custom") if isinstance(raw.get("custom"), dict) else {})
