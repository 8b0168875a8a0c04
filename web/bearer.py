"""The bearer-token check the order API and the readiness details share."""
from __future__ import annotations

import hmac

from flask import request


def bearer_ok(expected: str) -> bool:
    """True when the request carries `Authorization: Bearer <expected>` (compared in constant time)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and bool(token) and \
        hmac.compare_digest(token.strip().encode(), expected.encode())
