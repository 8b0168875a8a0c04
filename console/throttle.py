"""Sign-in throttling: a fixed window per client address and per agent name, counted in Redis.

It runs before the password check. That check is scrypt (about 32 MiB and tens of
milliseconds each), so a refused attempt must cost neither, or guessing doubles as a way to
exhaust memory. Every attempt counts, not only failures: counting up front means a burst of
parallel guesses cannot all get past the limit before the first of them has failed.

One SET NX EX plus INCR per key does it, so this is not Flask-Limiter: the limit needs the
agent name from the posted form, not just the route and address, and no new dependency.
"""
from __future__ import annotations

from dataclasses import dataclass

import redis

from orderline import lockout


@dataclass(frozen=True)
class Window:
    attempts: int
    seconds: int


# Sessions last a shift, so agents rarely sign in; an office behind one address still fits.
PER_ADDRESS = Window(attempts=30, seconds=15 * 60)
# Guessing one agent's password from many addresses: ten tries per quarter hour in all.
PER_NAME = Window(attempts=10, seconds=15 * 60)
# An agent's changes to orders, assignments and sends from the console: generous for a person at
# a keyboard, small enough that a stolen session or a runaway script cannot cancel a catalogue.
PER_AGENT_ACTIONS = Window(attempts=30, seconds=60)
PREFIX = "console:throttle:"


def spend(cache: redis.Redis, key: str, window: Window) -> int:
    """Count one attempt against `key`: 0 if it may go ahead, else the seconds until the window ends."""
    n, ttl = lockout.count(cache, key, window.seconds)
    return 0 if n <= window.attempts else max(ttl, 1)


def sign_in_wait(cache: redis.Redis, address: str, name: str) -> int:
    """Seconds this sign-in attempt must wait (0: check the password now).

    Raises:
        redis.RedisError: Redis is unreachable (the caller refuses the attempt).
    """
    wait = spend(cache, f"{PREFIX}address:{address}", PER_ADDRESS)
    if wait:
        return wait
    return spend(cache, f"{PREFIX}name:{name.strip().lower()}", PER_NAME)


def action_wait(cache: redis.Redis, agent_id: int) -> int:
    """Seconds this agent must wait before another order action (0: go ahead).

    Raises:
        redis.RedisError: Redis is unreachable (the caller refuses the action).
    """
    return spend(cache, f"{PREFIX}actions:{agent_id}", PER_AGENT_ACTIONS)
