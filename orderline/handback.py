"""Giving a conversation back to the assistant, and making sure the assistant really listens again.

When a person takes over, the assistant's engine pauses the customer's conversation and ignores
it from then on. Handing back closes the escalation (the app routes to the bot at once) and
un-pauses the engine. If the engine does not accept the un-pause (it is down or restarting), the
phone is marked in Redis and a background job retries with backoff until it does; the front
door also un-pauses a marked conversation before the customer's next message reaches the engine.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any, Callable, Optional

import redis

from orderline.escalations import EscalationService
from orderline.ports import Assistant, AssistantUnavailable, BotMessage

log = logging.getLogger(__name__)
MARK_TTL = 7 * 24 * 3600  # seconds; a forgotten mark cannot keep a retry going for ever
FIRST_RETRY, MAX_RETRY = 5, 300  # seconds between retries: doubling from 5 s, at most 5 minutes


# (phone, token, attempt, delay in seconds): run `HandBack.retry(phone, token, attempt)` after the delay.
RetryLater = Callable[[str, str, int, float], None]


def mark_key(phone: str) -> str:
    return f"handback:resume:{phone}"


def retry_delay(attempt: int) -> float:
    """Seconds before retry number `attempt` (1, 2, ...)."""
    return float(min(FIRST_RETRY * 2 ** (attempt - 1), MAX_RETRY))


class HandBack:
    """Hand-back to the assistant, for the console (and any other place a person lets go)."""

    def __init__(self, escalations: EscalationService, assistant: Assistant, marks: Optional[redis.Redis],
                 retry_later: RetryLater) -> None:
        self.escalations = escalations
        self.assistant = assistant
        self.marks = marks
        self.retry_later = retry_later

    def resolve(self, esc_id: int, agent_id: Optional[int], resolution: str) -> tuple[dict[str, Any], bool]:
        """Close the escalation, give the conversation to the bot and un-pause the assistant.

        Returns the escalation and whether the assistant accepted the un-pause now (if not, it
        is retried in the background). Raises what `EscalationService.resolve` raises.
        """
        esc = self.escalations.resolve(esc_id, agent_id, resolution)
        return esc, self.resume(esc.phone)

    def resume(self, phone: str) -> bool:
        """Un-pause the assistant for `phone` now, or mark it and start a retry."""
        if self.assistant.resume(phone):
            self._unmark(phone)
            return True
        log.warning("the assistant did not accept the resume for %s; retrying in the background", phone)
        # A new token: the retries of any earlier failure for this phone stop, these take over.
        token = uuid.uuid4().hex
        if self._mark(phone, token):
            self._schedule(phone, token, 1)
        return False

    def retry(self, phone: str, token: str, attempt: int) -> str:
        """The retry job: "done" when no longer needed, "resumed", or "retrying" (scheduled again)."""
        if self._mark_of(phone) != token:
            return "done"  # un-paused meanwhile, or a later hand-back's retries took over
        if self.escalations.store.state(phone) != "bot":
            # A person has the conversation again; their hand-back will un-pause it.
            self._unmark(phone)
            return "done"
        if self.assistant.resume(phone):
            self._unmark(phone)
            log.info("the assistant accepted the resume for %s on retry %d", phone, attempt)
            return "resumed"
        self._schedule(phone, token, attempt + 1)
        return "retrying"

    def ask(self, phone: str, text: str, metadata: dict[str, Any], timeout: float,
            sender: Optional[str] = None) -> list[BotMessage]:
        """One turn with the assistant, un-pausing first a conversation that a hand-back left paused.

        A paused tracker hears the message and answers nothing; if that happens while the bot owns
        the conversation, it is un-paused and asked again. Every channel asks through here.
        `sender`: the assistant's conversation id when it is not `phone` (a phone call has one of
        its own). Hand-backs pause and resume only the phone's conversation, so such a turn is
        sent as it is. Raises AssistantUnavailable.
        """
        if sender is not None and sender != phone:
            return self.assistant.send(sender, text, metadata, timeout=timeout)
        if not self.before_turn(phone):
            raise AssistantUnavailable("the assistant did not accept the un-pause after a hand-back")
        messages = self.assistant.send(phone, text, metadata, timeout=timeout)
        if not messages and self.recover(phone):
            messages = self.assistant.send(phone, text, metadata, timeout=timeout)
        return messages

    def before_turn(self, phone: str) -> bool:
        """Before the customer's message reaches the assistant: un-pause it if a hand-back could not.

        False when the conversation is still paused (the engine refused again), so the caller
        should not expect an answer now.
        """
        if self._mark_of(phone) is None:
            return True
        if self.assistant.resume(phone):
            self._unmark(phone)
            return True
        return False

    def recover(self, phone: str) -> bool:
        """The assistant answered nothing: un-pause it if its conversation is paused while no person
        owns it (a hand-back whose un-pause was lost). True when it did, so the caller asks again.
        """
        if self.escalations.store.state(phone) != "bot" or not self.assistant.paused(phone):
            return False
        log.warning("the assistant had %s paused while the bot owns it; un-pausing", phone)
        if self.assistant.resume(phone):
            self._unmark(phone)
            return True
        return False

    # -- the mark in Redis (the engine keeps its conversations in Redis too) ----------
    def _mark(self, phone: str, token: str) -> bool:
        if self.marks is None:
            return False
        try:
            self.marks.set(mark_key(phone), token, ex=MARK_TTL)
            return True
        except redis.RedisError:
            log.warning("could not mark %s for a resume retry; the next message will un-pause it", phone)
            return False

    def _mark_of(self, phone: str) -> Optional[str]:
        if self.marks is None:
            return None
        try:
            value = self.marks.get(mark_key(phone))
        except redis.RedisError:
            return None
        return value.decode() if isinstance(value, bytes) else value

    def _unmark(self, phone: str) -> None:
        if self.marks is None:
            return
        try:
            self.marks.delete(mark_key(phone))
        except redis.RedisError:
            log.warning("could not clear the resume mark of %s", phone)

    def _schedule(self, phone: str, token: str, attempt: int) -> None:
        try:
            self.retry_later(phone, token, attempt, retry_delay(attempt))
        except redis.RedisError:
            log.warning("could not schedule resume retry %d for %s", attempt, phone)
