"""Twilio webhook authenticity: X-Twilio-Signature over the public URL and the form fields."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from flask import Flask, Response, current_app, request
from twilio.request_validator import RequestValidator, get_signature_algorithm

log = logging.getLogger(__name__)


CONFIG_KEY = "ORDERLINE_TWILIO"  # (auth token, public base URL) in app.config


def configure(app: Flask, auth_token: str, public_base_url: str) -> None:
    """Tell the app how Twilio signs: with this token, over URLs under this public base."""
    app.config[CONFIG_KEY] = (auth_token, public_base_url)


def public_url(base_url: str) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path, with the raw query string kept."""
    url = base_url.rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def signature_ok(token: str, base_url: str) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not token:
        return False
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings", ""))
    return RequestValidator(token).validate(public_url(base_url), request.form, signature, algorithm=algorithm)


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Reject (403) any request that Twilio did not sign. Nothing unsigned is ever trusted."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signature_ok(*current_app.config.get(CONFIG_KEY, ("", ""))):
            log.warning("rejected unsigned or tampered Twilio request to %s", request.path)
            return Response("forbidden", status=403, mimetype="text/plain")
        return view(*args, **kwargs)

    return wrapper


def sign(token: str, url: str, params: dict[str, str]) -> str:
    """Sign a request exactly as Twilio does (tests, the simulator and benchmarks use this)."""
    return RequestValidator(token).compute_signature(url, params)
