"""Text from outside (webhook form fields) made safe to store."""
from __future__ import annotations

import re
from typing import Optional

MAX_TEXT = 4000
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(raw: Optional[str], limit: int = MAX_TEXT) -> str:
    """Text safe to store anywhere: no NULs or other control characters, bounded length."""
    return CONTROL_CHARS.sub("", raw or "").strip()[:limit]
