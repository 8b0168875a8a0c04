"""Sign simulated Twilio webhooks exactly as Twilio does, and never in production.

Twilio signs the full URL it calls (PUBLIC_BASE_URL + path, query included) and the POSTed
form fields with the account's auth token; `edge.twilio_auth` checks the same thing, so a
request signed here runs the whole production path.
"""
from __future__ import annotations

from orderline.settings import Settings
from edge.twilio_auth import sign


class SigningRefused(Exception):
    """The simulator may not sign here (production, simulator off, or no auth token)."""


def public_url(settings: Settings, path: str) -> str:
    """The URL Twilio would call for `path` (which may carry a query string)."""
    return settings.public_base_url.rstrip("/") + path


def signature_headers(settings: Settings, path: str, params: dict[str, str]) -> dict[str, str]:
    """The X-Twilio-Signature header for POSTing `params` to PUBLIC_BASE_URL + `path`.

    Raises:
        SigningRefused: in production (always, whatever SIMULATOR_ENABLED says), when the
            simulator is off, or when there is no TWILIO_AUTH_TOKEN to sign with.
    """
    if settings.production:
        raise SigningRefused("ORDERLINE_ENV is production: the simulator never signs Twilio requests in "
                             "production, so nothing can pose as Twilio there.")
    if not settings.simulator_on:
        raise SigningRefused("the simulator is off (SIMULATOR_ENABLED=false)")
    if not settings.twilio_auth_token:
        raise SigningRefused("TWILIO_AUTH_TOKEN is empty, so there is nothing to sign with")
    return {"X-Twilio-Signature": sign(settings.twilio_auth_token, public_url(settings, path), params)}
