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


@dataclass(frozen=True)
class CourierCall:
    """One courier request as the courier adapter needs it (see `orderline.courier_outbox`)."""

    request_id: int
    kind: str  # reattempt, return, cancel, address
    order_id: str  # our channel order id, e.g. OL-100234
    awb: Optional[str]
    external_order_id: Optional[str]  # the courier platform's id for the order, once known
    payload: dict[str, Any] = field(default_factory=dict)
    customer_name: str = ""
    customer_phone: str = ""


@dataclass(frozen=True)
class CourierAnswer:
    """What became of one attempt to send a courier request.

    outcome: accepted; refused (a definite no, `reason` says why); retry (it certainly did not
    take effect: a 5xx, no connection); unknown (it may have reached the courier: a timeout
    after sending); not_found (the courier has no such order: nothing to change there).
    """

    outcome: str
    reason: Optional[str] = None
    external_order_id: Optional[str] = None


class Courier(Protocol):
    """A courier platform that takes requests about shipments (implemented in `couriers/`)."""

    name: str

    def send(self, call: CourierCall) -> CourierAnswer:
        """Send the request once; never raises for an HTTP or network failure."""

    def confirm(self, call: CourierCall) -> Optional[bool]:
        """Whether the courier already holds this very request (True/False), or None if it cannot tell."""
