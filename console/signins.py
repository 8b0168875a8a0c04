"""Each console sign-in, recorded in Redis, so that signing out ends it on the server.

Flask's session is a signed cookie the server does not store: without a record, a copied
cookie would keep working after sign-out until SECRET_KEY changed. A sign-in gets a random
id that the cookie carries and Redis maps to the agent for a shift; every request checks the
id, and signing out deletes it.
"""
from __future__ import annotations

import secrets
from typing import Optional

import redis

PREFIX = "console:signin:"
LIFETIME = 12 * 3600  # a shift; then the agent signs in again


def start(cache: redis.Redis, agent_id: int) -> str:
    signin = secrets.token_urlsafe(24)
    cache.set(PREFIX + signin, str(agent_id), ex=LIFETIME)
    return signin


def agent_of(cache: redis.Redis, signin: Optional[str]) -> Optional[str]:
    """The agent id a live sign-in belongs to, or None once it ended (or never was)."""
    if not signin:
        return None
    value = cache.get(PREFIX + signin)
    return value.decode() if isinstance(value, bytes) else value


def end(cache: redis.Redis, signin: Optional[str]) -> None:
    if signin:
        cache.delete(PREFIX + signin)
