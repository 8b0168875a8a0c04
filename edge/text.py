"""Text from outside (webhook form fields, API bodies) made safe to store."""
from __future__ import annotations

import re
from typing import Optional

from orderline.redact import redact

MAX_TEXT = 4000
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Cut before redacting with room to spare, so no card number is cut in half (a half escapes the
# pattern); a redacted card is at most 73 characters long (19 digits, 3-character gaps).
REDACT_MARGIN = 128


def clean_text(raw: Optional[str], limit: int = MAX_TEXT) -> str:
    """Text safe to store anywhere: no NULs or other control characters, bounded length."""
    return CONTROL_CHARS.sub("", raw or "").strip()[:limit]


def customer_text(raw: Optional[str], limit: int = MAX_TEXT) -> str:
    """A customer's words as everything after the front door may see them: cleaned, and with card
    numbers, CVVs and one-time codes redacted (`orderline.redact`). Every door that takes a
    customer's words calls this once, before the assistant or any store sees them."""
    return redact(clean_text(raw, limit + REDACT_MARGIN))[:limit].strip()
