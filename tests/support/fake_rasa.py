"""A tiny local stand-in for Rasa's signed `orderline` channel that counts what it hears.

Tests use it to prove who Rasa heard (and that it heard nothing during a handoff), and to
make Rasa slow. It is a real HTTP server on a free loopback port, not a patched client.
It also parses a text (`POST /model/parse`) with the intent `parse` gives it, as Rasa's NLU does,
and answers the tracker (`GET /conversations/<sender>/tracker`) with whether the sender is paused.
Like the real one, it refuses a turn the app did not sign (with rasa_gate.signing, the code
Rasa runs) and an API call without the token: tests' settings carry SECRET and TOKEN.
Like Rasa, a `pause` event mutes a sender (their messages are heard and answered with
nothing) until a `resume` event. It can be stopped and started again on the same port.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from rasa_gate.signing import verify

SECRET, TOKEN = "fake-rasa-channel-secret", "fake-rasa-auth-token"

GREETING = {"text": "Hi! I can help with your orders.",
            "buttons": [{"title": "Track my order", "payload": "/order_status"},
                        {"title": "Talk to a person", "payload": "/human_handoff"}]}


def resume_events(sender: str) -> list[tuple[str, dict[str, Any]]]:
    """The events the app's un-pause posts for `sender` (as `FakeRasa.events` records them)."""
    return [(sender, {"event": "resume"}), (sender, {"event": "action", "name": "action_listen"})]


def default_parse(text: str) -> dict[str, Any]:
    """A crude NLU: `/intent{...}` payloads, greetings, order questions, else a fallback."""
    if text.startswith("/"):
        return {"name": text[1:].split("{", 1)[0], "confidence": 1.0}
    lowered = text.lower()
    if lowered in ("hi", "hello"):
        return {"name": "greet", "confidence": 0.98}
    if "order" in lowered:
        return {"name": "order_status", "confidence": 0.91}
    return {"name": "nlu_fallback", "confidence": 0.3}


def default_reply(body: dict[str, Any]) -> list[dict[str, Any]]:
    if body.get("message", "").lower() in ("hi", "hello"):
        return [GREETING]
    return [{"text": f"You said: {body.get('message')}"}]


class FakeRasa:
    def __init__(self, secret: str = SECRET, token: str = TOKEN) -> None:
        self.secret, self.token = secret, token
        self.calls: list[dict[str, Any]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.delay = 0.0
        self.reply: Callable[[dict[str, Any]], list[dict[str, Any]]] = default_reply
        self.parse: Callable[[str], dict[str, Any]] = default_parse
        self.parse_calls: list[str] = []
        self.parse_delay = 0.0
        self.parse_status = 200
        self.paused: set[str] = set()
        self.lock = threading.Lock()
        self._server: Any = None
        self.app = self._build()

    def start(self, port: int = 0) -> str:
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    def restart(self) -> str:
        """Start again on the port it had before `stop`, as a restarted Rasa would."""
        return self.start(self._server.server_port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        """Stop listening: connections are refused, as with a Rasa that is down."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def heard(self, sender: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if sender is None or c["sender"] == sender]

    def _build(self) -> Flask:
        app = Flask("fake_rasa")

        @app.before_request
        def api_token():
            if request.path.startswith(("/conversations/", "/model/")) and request.args.get("token") != self.token:
                return jsonify({"status": "failure", "reason": "NotAuthenticated"}), 401
            return None

        @app.post("/webhooks/orderline/webhook")
        def channel():
            _, refusal = verify(self.secret, request.headers, request.get_data(), time.time())
            if refusal is not None:
                return jsonify({"error": refusal.reason}), refusal.status
            body = request.get_json(force=True)
            with self.lock:
                self.calls.append(body)
                muted = body.get("sender") in self.paused
            if self.delay:
                time.sleep(self.delay)
            return jsonify([] if muted else self.reply(body))

        @app.post("/conversations/<sender>/tracker/events")
        def events(sender: str):
            body = request.get_json(force=True)
            with self.lock:
                for event in body if isinstance(body, list) else [body]:  # one event or a list, like Rasa
                    self.events.append((sender, event))
                    if event.get("event") == "pause":
                        self.paused.add(sender)
                    elif event.get("event") == "resume":
                        self.paused.discard(sender)
            return jsonify({"sender_id": sender})

        @app.post("/model/parse")
        def model_parse():
            text = str(request.get_json(force=True).get("text") or "")
            with self.lock:
                self.parse_calls.append(text)
            if self.parse_delay:
                time.sleep(self.parse_delay)
            if self.parse_status != 200:
                return jsonify({"status": "failure"}), self.parse_status
            return jsonify({"text": text, "intent": self.parse(text), "entities": []})

        @app.get("/conversations/<sender>/tracker")
        def tracker(sender: str):
            return jsonify({"sender_id": sender, "paused": sender in self.paused})

        @app.get("/")
        def root():
            return "Hello from Rasa: 3.6 (fake)"

        return app
