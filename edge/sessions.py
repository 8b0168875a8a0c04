"""Cookie sessions only where a browser is signed in: the console and the simulator.

Machine endpoints (Twilio and Shiprocket webhooks, the order API, health checks) authenticate
every request on its own and never read a session, so they get Flask's null session: no
cookie parsing, no signature check, no Set-Cookie. For everyone else the signing serializer
is built once per key rather than on every request.
"""
from __future__ import annotations

from typing import Optional

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

MACHINE_PATHS = ("/api/", "/webhooks/", "/twilio/", "/healthz", "/readyz")


class BrowserSessions(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializer: Optional[tuple[tuple, URLSafeTimedSerializer]] = None

    def get_signing_serializer(self, app: Flask) -> Optional[URLSafeTimedSerializer]:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._serializer is None or self._serializer[0] != keys:
            serializer = super().get_signing_serializer(app)
            if serializer is None:
                return None
            self._serializer = (keys, serializer)
        return self._serializer[1]

    def open_session(self, app: Flask, request: Request) -> Optional[SecureCookieSession]:
        if request.path.startswith(MACHINE_PATHS):
            return self.make_null_session(app)
        return super().open_session(app, request)
