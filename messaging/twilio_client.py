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
    return Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=environment_read_once(http, base))


def environment_read_once(http: TwilioHttpClient, base_url: str) -> TwilioHttpClient:
    """Take proxy and CA settings (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...) from the
    environment once, instead of on every call: requests scans every variable per request,
    about a third of a send's CPU when notifications go out by the hundred."""
    session = http.session
    if session is None:
        return http
    found = session.merge_environment_settings(base_url, {}, None, None, None)
    session.trust_env = False
    http.proxy = found["proxies"]
    session.verify = found["verify"]
    session.cert = found["cert"]
    return http
