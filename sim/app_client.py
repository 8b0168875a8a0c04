"""Real HTTP requests from the simulator to this same app, as Twilio and Shiprocket make them.

The app is reached at its local address, ORDER_SERVICE_URL (http://localhost:5000 under
`make run`), never through PUBLIC_BASE_URL, which may be a tunnel. Twilio requests are still
signed for PUBLIC_BASE_URL + path, because that is the URL the app checks signatures against.
The request needs a second free worker thread (gunicorn runs 2 x 16), so it always has a timeout.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

import requests

from orderline.settings import Settings
from sim.signer import public_url, signature_headers


class AppUnreachable(Exception):
    """The app did not answer the simulator's request."""


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class AppClient:
    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.settings = settings
        self.base = settings.order_service_url.rstrip("/")
        self.timeout = timeout

    def twilio(self, path: str, params: dict[str, str], timeout: Optional[float] = None) -> Reply:
        """POST form `params` to `path` (query allowed), signed like Twilio; raises SigningRefused."""
        headers = signature_headers(self.settings, path, params)
        return self._post(path, timeout, data=params, headers=headers)

    def twilio_url(self, url: str, params: dict[str, str], timeout: Optional[float] = None) -> Reply:
        """Follow an absolute URL from TwiML; only URLs of this app (under PUBLIC_BASE_URL) are followed."""
        base = public_url(self.settings, "")
        if not url.startswith(base + "/"):
            raise AppUnreachable(f"TwiML points at {url!r}, which is not under PUBLIC_BASE_URL ({base})")
        split = urlsplit(url)
        return self.twilio(split.path + (f"?{split.query}" if split.query else ""), params, timeout)

    def shiprocket(self, payload: dict[str, Any], timeout: Optional[float] = None) -> Reply:
        """POST a tracking event to the Shiprocket webhook with the real token."""
        headers = {"x-api-key": self.settings.shiprocket_webhook_token}
        return self._post("/webhooks/shiprocket", timeout, json=payload, headers=headers)

    def _post(self, path: str, timeout: Optional[float], **kwargs: Any) -> Reply:
        try:
            resp = requests.post(self.base + path, timeout=timeout or self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise AppUnreachable(f"the app did not answer at {self.base}{path.split('?')[0]} "
                                 f"(ORDER_SERVICE_URL): {exc.__class__.__name__}") from exc
        return Reply(resp.status_code, resp.headers.get("Content-Type", ""), resp.text)
