"""The twilio REST client, optionally pointed at another base URL through its http_client hook."""
from __future__ import annotations

import re
from typing import Any, Optional

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from orderline.settings import Settings

TWILIO_HOST_RE = re.compile(r"^https://[a-z0-9.-]*twilio\.com")


class RedirectingHttpClient(TwilioHttpClient):
    """Sends every Twilio API call to `base_url` instead (a local fake in tests and the simulator)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout, max_retries=0)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        return super().request(method, TWILIO_HOST_RE.sub(self.base_url, url), *args, **kwargs)


def make_client(settings: Settings, timeout: float = 10.0) -> Optional[Client]:
    """A REST client, or None when no Twilio account is configured (local outbox mode)."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return None
    base = settings.twilio_api_base_url.rstrip("/")
    http = RedirectingHttpClient(base, timeout) if base != "https://api.twilio.com" else TwilioHttpClient(timeout=timeout)
    return Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http)
