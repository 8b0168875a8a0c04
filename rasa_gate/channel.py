"""Rasa's `orderline` input channel: customer messages from the Orderline app only.

Rasa's own `rest` channel believes whatever sender and metadata (the customer's phone) a caller
sends. This channel accepts a message only when the app signed it (`signing`), recently, and
never twice: the nonce is claimed in Redis with SET NX, so a replay is refused by every Rasa
process that shares the Redis database. Registered by module path (`rasa_gate.serve` passes
`--connector rasa_gate.channel.SignedInput`); settings come from credentials.yml.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.lock_store import LockError
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_gate.signing import MAX_SKEW_SECONDS, NONCE_KEY_PREFIX, Refusal, verify

log = logging.getLogger(__name__)
# Times a turn is asked again when Rasa could not get the sender's lock in time (see `deliver`).
BUSY_RETRIES = 1


async def deliver(on_new_message: Callable[[UserMessage], Awaitable[Any]],
                  message: Callable[[], UserMessage]) -> bool:
    """Hand a message to Rasa; False if the sender's lock could not be had, even once more.

    Rasa's lock store gives each waiting turn a ticket that lapses TICKET_LOCK_LIFETIME after it
    was issued, waiting included. Behind a lock left by a Rasa host that died mid-turn, a turn
    can wait until its own ticket lapses, and Rasa then raises LockError before the turn runs
    (nothing was recorded). Asking again issues a fresh ticket, which the dead one no longer blocks.
    """
    for attempt in range(BUSY_RETRIES + 1):
        try:
            await on_new_message(message())
            return True
        except LockError as exc:
            log.warning("orderline channel: %s (attempt %d of %d)", exc, attempt + 1, BUSY_RETRIES + 1)
    return False


class NonceStore:
    """Remembers each nonce long enough to outlive its timestamp's freshness."""

    def __init__(self, client: aioredis.Redis, ttl_seconds: int) -> None:
        self.client = client
        self.ttl = ttl_seconds

    async def claim(self, nonce: str) -> bool:
        """True the first time a nonce is seen, False on a replay."""
        return bool(await self.client.set(NONCE_KEY_PREFIX + nonce, "1", nx=True, ex=self.ttl))


class SignedInput(InputChannel):
    """POST /webhooks/orderline/webhook with a body the app signed: {sender, message, metadata}."""

    def __init__(self, secret: str, nonces: NonceStore, max_skew: int = MAX_SKEW_SECONDS) -> None:
        self.secret = secret
        self.nonces = nonces
        self.max_skew = max_skew

    @classmethod
    def name(cls) -> Text:
        return "orderline"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "SignedInput":
        creds = credentials or {}
        secret = str(creds.get("secret") or "")
        if not secret:
            # Fail closed: an empty secret would make every signature trivially forgeable.
            raise RasaException("The orderline channel needs a secret (RASA_CHANNEL_SECRET in credentials.yml).")
        max_skew = int(creds.get("max_skew_seconds") or MAX_SKEW_SECONDS)
        client = aioredis.Redis(host=str(creds.get("redis_host") or "localhost"), port=int(creds.get("redis_port") or 6379),
                                db=int(creds.get("redis_db") or 0), password=str(creds.get("redis_password") or "") or None,
                                socket_timeout=2, socket_connect_timeout=2)
        return cls(secret, NonceStore(client, ttl_seconds=2 * max_skew), max_skew)

    async def admit(self, request: Request) -> Optional[Refusal]:
        """None when the request is signed, fresh and new; else why not."""
        nonce, refusal = verify(self.secret, request.headers, request.body or b"", time.time(), self.max_skew)
        if refusal is not None:
            return refusal
        try:
            first = await self.nonces.claim(nonce)  # type: ignore[arg-type]
        except (RedisError, OSError) as exc:
            log.error("orderline channel: replay store unavailable: %s", exc)
            return Refusal(503, "replay store unavailable")
        return None if first else Refusal(403, "replayed")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("orderline_signed_channel", __name__)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refusal = await self.admit(request)
            if refusal is not None:
                log.warning("orderline channel refused a message: %s", refusal.reason)
                return response.json({"error": refusal.reason}, status=refusal.status)
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "body is not a JSON object"}, status=400)
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
            if not (isinstance(sender, str) and sender and isinstance(text, str) and isinstance(metadata, (dict, type(None)))):
                return response.json({"error": "sender and message are required; metadata is an object"}, status=400)
            collector = CollectingOutputChannel()
            try:
                if not await deliver(on_new_message, lambda: UserMessage(text, collector, sender,
                                                                         input_channel=self.name(), metadata=metadata)):
                    # Not an empty answer: the app then holds the turn or says the assistant is down.
                    return response.json({"error": "sender busy"}, status=503)
            except asyncio.CancelledError:
                log.error("orderline channel: the turn for %s timed out", sender)
            except Exception:  # noqa: BLE001 - like Rasa's rest channel: answer with what was said so far
                log.exception("orderline channel: the turn for %s failed", sender)
            return response.json(collector.messages)

        return bp
