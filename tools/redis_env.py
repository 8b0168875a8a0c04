"""Print shell exports that split REDIS_URL for Rasa's endpoints.yml (REDIS_HOST/PORT/DB/PASSWORD).

Rasa's Redis lock store takes host, port and db separately; Orderline's one setting is
REDIS_URL. (The tracker store is SQL: tools/tracker_env.py.) Usage: eval "$(python tools/redis_env.py)"
"""
from __future__ import annotations

import os
import shlex
from urllib.parse import urlparse


def redis_parts(url: str) -> dict[str, str]:
    parsed = urlparse(url or "redis://localhost:6379/0")
    db = (parsed.path or "/0").lstrip("/") or "0"
    return {"REDIS_HOST": parsed.hostname or "localhost", "REDIS_PORT": str(parsed.port or 6379),
            "REDIS_DB": db, "REDIS_PASSWORD": parsed.password or ""}


if __name__ == "__main__":
    for key, value in redis_parts(os.environ.get("REDIS_URL", "redis://localhost:6379/0")).items():
        print(f"export {key}={shlex.quote(value)}")
