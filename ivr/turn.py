"""The values one IVR turn passes around: what happened, what is known, what to do, what to say.

`ivr.step` turns (session, event, facts) into a `Turn`; `ivr.runner` gathers the facts, performs
the effects and requests, and `ivr.render` makes the prompt TwiML. Everything here is plain data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, Optional, Union

from ivr.session import CallSession, Menu
from ivr.twiml import Line
from orderline.escalations import OpenEscalation

OrderFacts = dict[str, Any]  # `orderline.present.order_dict`: the shape chat and the API read too


# -- events: what the caller did, or what the world answered to a request ----------------------
@dataclass(frozen=True)
class Arrived:
    """The call came in."""


@dataclass(frozen=True)
class Gathered:
    """Keys or speech posted to the action of the `at` menu's <Gather>."""

    at: Menu
    digits: str = ""
    speech: str = ""


@dataclass(frozen=True)
class Silence:
    """A <Gather> ended with no input (its <Redirect>)."""


@dataclass(frozen=True)
class LeftQueue:
    """Twilio's <Enqueue> action: bridged, hangup, leave, redirected, queue-full, error, system-error."""

    result: str


@dataclass(frozen=True)
class AssistantAnswered:
    speech: str
    texts: tuple[str, ...]  # the assistant's messages, as it wrote them
    state_before: str  # who owned the conversation before and after the turn (bot, waiting_for_agent, ...)
    state_after: str


@dataclass(frozen=True)
class AssistantDown:
    """The assistant did not answer in time, or answered with an error."""


@dataclass(frozen=True)
class AddressChangeSent:
    order_id: str
    status: str  # messaging's SendResult.status: sent, outbox, retrying, refused, failed


@dataclass(frozen=True)
class CodeSent:
    order_id: str
    status: str  # messaging's SendResult.status (queued: written to the outbox, a job delivers it)


@dataclass(frozen=True)
class Rescheduled:
    day: Optional[date]  # the date the order service confirmed


@dataclass(frozen=True)
class RescheduleRefused:
    reason: str  # orderline.rules' reason, in English


@dataclass(frozen=True)
class RescheduleDayGone:
    """The chosen day is no longer allowed (the window moved on)."""


@dataclass(frozen=True)
class RescheduleFailed:
    """Any other domain error: already logged by the runner."""


Event = Union[Arrived, Gathered, Silence, LeftQueue, AssistantAnswered, AssistantDown, AddressChangeSent, CodeSent,
              Rescheduled, RescheduleRefused, RescheduleDayGone, RescheduleFailed]


# -- facts: what the step may read, gathered by the runner before it ---------------------------
@dataclass(frozen=True)
class Wants:
    """The facts a step will read for an event (see `ivr.step.wants`), so nothing else is fetched."""

    caller_orders: bool = False
    order: Optional[str] = None  # the reference of the order the step will talk about
    proof_by_caller_id: bool = False  # does the caller ID own that order?
    proof_digits: Optional[str] = None  # do these digits prove that order? (one candidate, counted)
    code: Optional[str] = None  # is this the order's one-time code? (a try, counted)


@dataclass(frozen=True)
class Facts:
    today: date
    in_hours: bool  # the team is there to answer
    caller_orders: tuple[OrderFacts, ...] = ()  # the caller ID's orders, newest first
    order: Optional[OrderFacts] = None  # the order `Wants.order` named; None when there is none
    owner_proved: bool = False  # the proof `Wants` asked for succeeded
    proof_refused: bool = False  # too many wrong proofs for that order or from this caller: nothing compared
    code_matched: bool = False  # the one-time code `Wants.code` was the order's live code
    code_tries_left: int = 0  # after a wrong code; 0: no live code any more


# -- effects: done by the runner, in order, before the caller hears the prompt -----------------
@dataclass(frozen=True)
class RecordInput:
    """The caller's keys or speech, into their transcript (inbound, channel voice)."""

    phone: str
    text: str
    intent: Optional[str] = None  # the assistant's intent name for a keypad choice


@dataclass(frozen=True)
class RecordNote:
    phone: str
    text: str


@dataclass(frozen=True)
class RememberLanguage:
    phone: str
    language: str


@dataclass(frozen=True)
class Escalate:
    """Open an escalation (or add to the active one) so the console shows who is waiting."""

    phone: Optional[str]  # None: no usable caller ID, so there is nobody to escalate
    call_sid: str
    reason: str
    order_id: Optional[str]
    intent: Optional[str]
    note: str
    callback: bool

    def command(self) -> OpenEscalation:
        return OpenEscalation(self.phone or "", reason=self.reason, channel="voice", order_id=self.order_id,
                              call_sid=self.call_sid, note=self.note, intent=self.intent,
                              callback_requested=self.callback)


Effect = Union[RecordInput, RecordNote, RememberLanguage, Escalate]


# -- requests: done by the runner, whose answer is the next event for the step ----------------
def voice_sender(call_sid: str) -> str:
    """The assistant's conversation id for a phone call: one per call, never the caller ID.

    The caller ID is the WhatsApp conversation's id, and it can be spoofed: a call under it would
    read and write that conversation (its verified orders, its ownership tries). A conversation
    per call starts empty, and a call that ends in a hand-off leaves no paused tracker behind.
    The phone still travels in the metadata, so the actions know the customer.
    """
    return f"voice:{call_sid}"


@dataclass(frozen=True)
class AskAssistant:
    """Record the caller's speech in their transcript, and send it to the assistant."""

    phone: Optional[str]
    sender: str  # the assistant's conversation id: `voice_sender(call_sid)`
    speech: str
    language: str


@dataclass(frozen=True)
class SendAddressChange:
    """WhatsApp the order's phone asking for the new address."""

    phone: str
    order_id: str
    text: str


@dataclass(frozen=True)
class SendCode:
    """Send the order's one-time code to its own WhatsApp number (through the outbox)."""

    order_id: str


@dataclass(frozen=True)
class Reschedule:
    order_id: str
    day: str  # ISO date


Request = Union[AskAssistant, SendAddressChange, SendCode, Reschedule]


# -- prompts: what the caller hears next, rendered by ivr.render -------------------------------
@dataclass(frozen=True)
class Ask:
    """Say `lines` then `prompt`, and gather the answer to menu `menu`."""

    menu: Menu
    lang: str
    lines: tuple[Line, ...]
    prompt: str


@dataclass(frozen=True)
class Enqueue:
    """Say `lines`, then wait for a person."""

    lang: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Goodbye:
    lang: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Hold:
    """One loop of the queue's wait: where the caller is in line."""

    lang: str
    text: str


Prompt = Union[Ask, Enqueue, Goodbye, Hold]


class Turn(NamedTuple):
    """A step's result: the new session, and either a prompt for the caller or a request to fulfil first."""

    session: CallSession
    prompt: Optional[Prompt]
    effects: tuple[Effect, ...] = ()
    request: Optional[Request] = None

    def after(self, effects: tuple[Effect, ...]) -> "Turn":
        """This turn, with `effects` done before its own."""
        return self._replace(effects=(*effects, *self.effects))
