"""What the core and the channels need from the outside, as types: the assistant and the messenger.

Adapters implement these (the Rasa client in `bot/`, the WhatsApp sender in `messaging/`); the
wiring hands the implementations to whoever needs them, so no channel imports another.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Protocol


class AssistantUnavailable(Exception):
    """The assistant did not answer in time, or answered with an error."""


@dataclass(frozen=True)
class BotMessage:
    text: str = ""
    buttons: tuple[dict[str, str], ...] = ()
    image: Optional[str] = None
    custom: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Parse:
    """What the NLU makes of a customer's message."""

    text: str
    intent: str
    confidence: Optional[float]


class Assistant(Protocol):
    """The conversational engine (Rasa) that answers a customer's turn."""

    def send(self, sender: str, text: str, metadata: dict[str, Any],
             timeout: Optional[float] = None) -> list[BotMessage]:
        """One user turn; raises AssistantUnavailable."""

    def parse(self, text: str, timeout: float = 1.0) -> Optional[Parse]:
        """The intent the assistant finds in `text`, or None."""

    def resume(self, sender: str) -> bool:
        """Let the assistant answer this sender again after a person handed the conversation back."""

    def paused(self, sender: str) -> Optional[bool]:
        """Whether the assistant has this sender's conversation paused; None when it cannot tell."""

    def status(self) -> bool:
        """True when the assistant answers."""


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template: its content id plus its variables."""

    content_sid: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    message_id: Optional[int]
    status: str  # sent, outbox, refused, retrying, failed (queued/sending: written, not yet sent)
    sid: Optional[str] = None
    reason: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status in ("sent", "outbox")


class Messenger(Protocol):
    """Sends a WhatsApp message to a customer through the outbox (consent, window, templates, retries)."""

    def send(self, phone: str, text: str, author: str = "bot", template: Optional[Template] = None,
             ignore_opt_out: bool = False) -> SendResult:
        """Write and send one message; never raises for a refusal (see SendResult.status)."""
