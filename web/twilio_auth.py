"""Twilio webhook authenticity: X-Twilio-Signature over the public URL and the form fields."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from flask import Response, request
from twilio.request_validator import RequestValidator, get_signature_algorithm

from orderline.settings import Settings
from web.services import services

log = logging.getLogger(__name__)


def public_url(settings: Settings) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path, with the raw query string kept."""
    url = settings.public_base_url.rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def signature_ok(settings: Settings) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.twilio_auth_token
    if not signature or not token:
        return False
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings", ""))
    return RequestValidator(token).validate(public_url(settings), request.form, signature, algorithm=algorithm)


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Reject (403) any request that Twilio did not sign. Nothing unsigned is ever trusted."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signature_ok(services().settings):
            log.warning("rejected unsigned or tampered Twilio request to %s", request.path)
            return Response("forbidden", status=403, mimetype="text/plain")
        return view(*args, **kwargs)

    return wrapper


def sign(token: str, url: str, params: dict[str, str]) -> str:
    """Sign a request exactly as Twilio does (tests, the simulator and benchmarks use this)."""
    return RequestValidator(token).compute_signature(url, params)
