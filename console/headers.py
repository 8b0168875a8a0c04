"""Browser protections on every console response: its pages, API, static files and errors.

The console shows customers' phone numbers, addresses and messages to signed-in agents, so:
scripts, styles and connections only from this app (the pages have no inline script or
style), never inside another site's frame (clickjacking), no Referer with a customer's phone
number in it to other sites, and no MIME sniffing of what the app serves.
"""
from __future__ import annotations

from flask import Response, request

from console import bp

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@bp.after_app_request
def protect(response: Response) -> Response:
    # App-wide so that unmatched /agent/... paths (404s outside any console view) get them too.
    if request.path == "/agent" or request.path.startswith("/agent/"):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
    return response
