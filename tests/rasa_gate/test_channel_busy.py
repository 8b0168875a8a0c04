"""rasa_gate.channel.deliver: a turn Rasa could not lock is asked once more, never lost as an empty answer."""
from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError

from rasa_gate.channel import BUSY_RETRIES, deliver


def run(failures: int) -> tuple[bool, list[UserMessage]]:
    seen: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        seen.append(message)
        if len(seen) <= failures:
            raise LockError(f"Could not acquire lock for conversation_id '{message.sender_id}'.")

    collector = CollectingOutputChannel()
    ok = asyncio.run(deliver(on_new_message, lambda: UserMessage("hi", collector, "+919000000001")))
    return ok, seen


def test_a_turn_that_found_the_sender_locked_is_asked_again_with_a_new_message():
    ok, seen = run(failures=1)
    assert ok and len(seen) == 2
    assert seen[0].message_id != seen[1].message_id  # a fresh message, so a fresh ticket
    assert seen[0].output_channel is seen[1].output_channel


def test_still_locked_after_the_retries_is_reported_not_swallowed():
    ok, seen = run(failures=BUSY_RETRIES + 1)
    assert not ok and len(seen) == BUSY_RETRIES + 1


def test_other_failures_are_not_retried():
    seen = []

    async def broken(message: UserMessage) -> None:
        seen.append(message)
        raise ValueError("a bug in an action")

    try:
        asyncio.run(deliver(broken, lambda: UserMessage("hi", CollectingOutputChannel(), "+919000000001")))
    except ValueError:
        pass
    else:
        raise AssertionError("the error was swallowed")
    assert len(seen) == 1  # the turn may have run: never twice
