"""The signed-message protocol between the app and Rasa's `orderline` channel (stdlib only).

The app signs the exact request body (sender, message text and metadata) with a timestamp and a
nonce under the shared RASA_CHANNEL_SECRET; the channel recomputes the HMAC, refuses stale
timestamps, and (in `channel`) refuses a nonce it has seen. The app implements the same function
in `bot/rasa_client.py`; tests/security/test_signing.py checks that the two agree.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Mapping, Optional

TIMESTAMP_HEADER = "X-Orderline-Timestamp"
NONCE_HEADER = "X-Orderline-Nonce"
SIGNATURE_HEADER = "X-Orderline-Signature"
# How far a message's timestamp may be from the channel's clock. The nonce memory lasts twice this,
# so a captured message is refused as a replay while fresh and as stale afterwards.
MAX_SKEW_SECONDS = 300
# Where the channel claims each nonce in Redis (SET NX, expiring after 2 x MAX_SKEW_SECONDS).
NONCE_KEY_PREFIX = "orderline:channel-nonce:"
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
TIMESTAMP = re.compile(r"[0-9]{1,12}")
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `v1`, the timestamp, the nonce and the raw body."""
    mac = hmac.new(secret.encode(), f"v1\n{timestamp}\n{nonce}\n".encode(), hashlib.sha256)
    mac.update(body)
    return mac.hexdigest()


@dataclass(frozen=True)
class Refusal:
    """Why a message is refused, and the HTTP status that says so."""

    status: int
    reason: str


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float,
           max_skew: int = MAX_SKEW_SECONDS) -> tuple[Optional[str], Optional[Refusal]]:
    """Check a message's signature and freshness; returns (nonce, None) or (None, refusal).

    The signature is checked before the clock so that nothing unsigned can probe the skew.
    """
    timestamp = headers.get(TIMESTAMP_HEADER) or ""
    nonce = headers.get(NONCE_HEADER) or ""
    given = (headers.get(SIGNATURE_HEADER) or "").lower()
    if not (secret and TIMESTAMP.fullmatch(timestamp) and NONCE.fullmatch(nonce) and HEX_DIGEST.fullmatch(given)):
        return None, Refusal(401, "unsigned")
    if not hmac.compare_digest(signature(secret, timestamp, nonce, body), given):
        return None, Refusal(401, "bad signature")
    if abs(now - int(timestamp)) > max_skew:
        return None, Refusal(401, "stale timestamp")
    return nonce, None
