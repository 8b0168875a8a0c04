"""A tiny local stand-in for Rasa's REST channel that counts what it hears.

Tests use it to prove who Rasa heard (and that it heard nothing during a handoff), and to
make Rasa slow. It is a real HTTP server on a free loopback port, not a patched client.
It also parses a text (`POST /model/parse`) with the intent `parse` gives it, as Rasa's NLU does.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

GREETING = {"text": "Hi! I can help with your orders.",
            "buttons": [{"title": "Track my order", "payload": "/order_status"},
                        {"title": "Talk to a person", "payload": "/human_handoff"}]}


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
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.delay = 0.0
        self.reply: Callable[[dict[str, Any]], list[dict[str, Any]]] = default_reply
        self.parse: Callable[[str], dict[str, Any]] = default_parse
        self.parse_calls: list[str] = []
        self.parse_delay = 0.0
        self.parse_status = 200
        self.lock = threading.Lock()
        self._server: Any = None
        self.app = self._build()

    def start(self) -> str:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()

    def heard(self, sender: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if sender is None or c["sender"] == sender]

    def _build(self) -> Flask:
        app = Flask("fake_rasa")

        @app.post("/webhooks/rest/webhook")
        def rest():
            body = request.get_json(force=True)
            with self.lock:
                self.calls.append(body)
            if self.delay:
                time.sleep(self.delay)
            return jsonify(self.reply(body))

        @app.post("/conversations/<sender>/tracker/events")
        def events(sender: str):
            with self.lock:
                self.events.append((sender, request.get_json(force=True)))
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

        @app.get("/")
        def root():
            return "Hello from Rasa: 3.6 (fake)"

        return app
