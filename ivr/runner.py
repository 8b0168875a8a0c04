"""Runs IVR turns: gathers the facts a step wants, performs its effects and requests, answers TwiML.

All the IVR's I/O is here, through `Collaborators`. Failures are handled where they happen:
- a write the caller cannot hear (transcript line, language, escalation) is logged with the
  call and the call goes on; every path still ends with a person if the caller wants one;
- the assistant being down, a refused or failed reschedule, an unsent WhatsApp message become
  events the step explains to the caller, with 0 for a person;
- anything else (Redis, the order lookup, a bug) propagates to `ivr.views`, whose safe answer
  apologises and queues the caller.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from functools import partial
from typing import Callable, Optional

import redis
from sqlalchemy.exc import SQLAlchemyError

from edge import intents
from edge.text import customer_text
from ivr import twiml
from ivr.agent_line import AgentGate
from ivr.config import VoiceConfig
from ivr.render import render
from ivr.session import CallSession, Menu, SessionStore
from ivr.step import call_ended, left_queue, on_hold, step, wants
from ivr.turn import (
    AddressChangeSent, Arrived, AskAssistant, AssistantAnswered, AssistantDown, CodeSent, Effect, Escalate, Event,
    Facts, Gathered, LeftQueue, Prompt, RecordInput, RecordNote, RememberLanguage, Request, Reschedule,
    RescheduleDayGone, Rescheduled, RescheduleFailed, RescheduleRefused, SendAddressChange, SendCode, Silence)
from orderline.clock import Clock
from orderline.conversations import ConversationStore
from orderline.errors import DomainError, InvalidInput, OrderNotFound, RescheduleNotAllowed
from orderline.escalations import EscalationService, OpenEscalation
from orderline.handback import HandBack
from orderline.models import Order
from orderline.orders import OrderService
from orderline.ownership import OneTimeCodes, OwnershipGuard
from orderline.phones import InvalidPhone, normalise_phone
from orderline.ports import Assistant, AssistantUnavailable, Messenger, Template
from orderline.present import order_dict

log = logging.getLogger(__name__)
ASSISTANT_TIMEOUT = 8.0  # seconds; a caller hears silence meanwhile
MAX_REQUESTS = 3  # per turn; a flow that keeps asking is a bug
# Twilio's StirVerstat for a caller ID the carrier fully vouches for (STIR/SHAKEN attestation A).
# Only then does the caller ID count as identity for changes; anything else (B, C, failed, absent)
# reads order status only, and a change needs the one-time code.
ATTESTED = "TN-Validation-Passed-A"
# Writes whose failure the caller cannot hear: logged, and the call goes on.
TOLERATED = (SQLAlchemyError, DomainError)


@dataclass(frozen=True)
class Collaborators:
    """What the IVR uses, built by the wiring (`wiring/app.py`) and installed with the blueprint."""

    orders: OrderService
    conversations: ConversationStore
    escalations: EscalationService
    rasa: Assistant
    handback: HandBack  # asks the assistant, un-pausing first after a hand-back
    sender: Messenger
    calls: SessionStore
    clock: Clock
    config: VoiceConfig
    remember_language: Callable[[str, str], object]  # (phone, language)
    agent_gate: AgentGate  # the agent line's allow-list and PIN, with wrong PINs counted in Redis
    ownership: OwnershipGuard  # one proof at a time, failures counted per order and per caller
    codes: OneTimeCodes  # one-time codes for changes, sent to the order's WhatsApp number


def caller_phone(raw: str) -> Optional[str]:
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        return None


class CallRunner:
    def __init__(self, collaborators: Collaborators) -> None:
        self.c = collaborators

    # -- Twilio's requests -------------------------------------------------------------------
    def incoming(self, call_sid: str, caller: str, verstat: str = "") -> str:
        """A new call; `verstat` is Twilio's StirVerstat for the caller ID (empty when absent)."""
        session = CallSession(call_sid=call_sid, phone=caller_phone(caller), attested=verstat == ATTESTED)
        return self._play(session, Arrived())

    def gathered(self, call_sid: str, at: Menu, digits: str, speech: str = "", caller: str = "") -> str:
        """The caller's keys or speech: redacted here, once, before the session log, the transcript,
        an escalation's note or the assistant sees them (a card number keyed or read out)."""
        session = self.c.calls.load(call_sid)
        if session is None and at is Menu.MAIN:
            return self.incoming(call_sid, caller)  # expired or never started: greet afresh
        heard = Gathered(at, customer_text(digits, 100), customer_text(speech))
        return self._play(self._required(session, call_sid), heard)

    def silence(self, call_sid: str) -> str:
        return self._play(self._required(self.c.calls.load(call_sid), call_sid), Silence())

    def dequeued(self, call_sid: str, result: str) -> str:
        session = self.c.calls.load(call_sid)
        if session is None:
            return render(left_queue("en", result), self.c.config.queue)
        return self._play(session, LeftQueue(result), record_prompt=False)

    def hold(self, call_sid: str, position: str) -> str:
        lang = "en"
        try:
            session = self.c.calls.load(call_sid)
            lang = session.language if session else "en"
        except Exception:  # the hold loop must keep playing whatever fails, even Redis
            log.warning("no session for held call %s", call_sid, exc_info=True)
        return render(on_hold(lang, position), self.c.config.queue)

    def status(self, call_sid: str, caller: str, call_status: str, duration: str) -> None:
        """Twilio's status callback: close the session, note duration and outcome."""
        try:
            session = self.c.calls.close(call_sid)
        except (redis.RedisError, ValueError):
            log.warning("could not close session for call %s", call_sid, exc_info=True)
            session = None
        phone = (session.phone if session else None) or caller_phone(caller)
        text = call_ended(call_sid, call_status, duration, session.outcome if session else "unknown")
        if not phone:
            log.info(text)
            return
        self.c.conversations.record_outbound(phone, "voice", "system", text, status=call_status or "completed",
                                             direction="note")
        if session is not None and session.escalation_id:
            esc = self.c.escalations.get(session.escalation_id)
            if esc.active and esc.call_sid == call_sid:
                # open() on an active escalation appends the note instead of opening another.
                self.c.escalations.open(OpenEscalation(phone, reason=esc.reason, channel="voice", note=text))

    # -- one turn ----------------------------------------------------------------------------
    def _play(self, session: CallSession, event: Event, record_prompt: bool = True) -> str:
        """Step until the flow has a prompt: effects first, then any request, whose answer is stepped on."""
        turn = step(session, event, self._facts(session, event))
        for _ in range(MAX_REQUESTS):
            if turn.request is None:
                break
            session = self._perform_all(turn.session, turn.effects)
            event = self._fulfil(session, turn.request)
            turn = step(session, event, self._facts(session, event))
        if turn.request is not None or turn.prompt is None:
            raise RuntimeError(f"call {session.call_sid}: no prompt after {MAX_REQUESTS} requests")
        return self._answer(self._perform_all(turn.session, turn.effects), turn.prompt, record_prompt)

    def _answer(self, session: CallSession, prompt: Prompt, record_prompt: bool) -> str:
        """Save the session, put what we say into the customer's history, and answer."""
        self.c.calls.save(session)
        doc = render(prompt, self.c.config.queue)
        spoken = twiml.spoken_text(doc)
        if record_prompt and session.phone and spoken:
            try:
                self.c.conversations.record_outbound(session.phone, "voice", "ivr", spoken, status="spoken")
            except TOLERATED:
                log.exception("call %s: the prompt is missing from the transcript", session.call_sid)
        return doc

    # -- facts -------------------------------------------------------------------------------
    def _facts(self, session: CallSession, event: Event) -> Facts:
        want = wants(session, event)
        now = self.c.clock.now()
        caller_orders = ()
        if want.caller_orders and session.phone:
            caller_orders = tuple(order_dict(o, self.c.clock) for o in self.c.orders.for_phone(session.phone))
        order = self._find(want.order) if want.order else None
        proved = refused = code_matched = False
        tries_left = 0
        if want.proof_by_caller_id:
            proved = order is not None and bool(session.phone) and order.customer.phone == session.phone
        elif want.proof_digits and want.order:
            verdict = self.c.ownership.verify(want.order, want.proof_digits, session.phone or "withheld")
            proved, refused = verdict.matched, verdict.refused
        if want.code and order is not None:
            check = self.c.codes.check(order.order_id, want.code)
            code_matched, tries_left = check.matched, check.tries_left
        return Facts(today=now.date(), in_hours=self.c.config.hours.is_open(now), caller_orders=caller_orders,
                     order=order_dict(order, self.c.clock) if order is not None else None, owner_proved=proved,
                     proof_refused=refused, code_matched=code_matched, code_tries_left=tries_left)

    def _find(self, ref: str) -> Optional[Order]:
        try:
            return self.c.orders.get(ref)
        except OrderNotFound:
            return None

    # -- effects -----------------------------------------------------------------------------
    def _perform_all(self, session: CallSession, effects: tuple[Effect, ...]) -> CallSession:
        for effect in effects:
            try:
                session = self._perform(session, effect)
            except TOLERATED:
                log.exception("call %s: %s failed; the call goes on without it", session.call_sid,
                              type(effect).__name__)
        return session

    def _perform(self, session: CallSession, effect: Effect) -> CallSession:
        """Do `effect`; returns the session with what it learned (the escalation's id)."""
        if isinstance(effect, RecordInput):
            self.c.conversations.record_inbound(effect.phone, "voice", effect.text, intent=effect.intent,
                                                confidence=1.0 if effect.intent else None)
        elif isinstance(effect, RecordNote):
            self.c.conversations.record_outbound(effect.phone, "voice", "system", effect.text, status="received",
                                                 direction="note")
        elif isinstance(effect, RememberLanguage):
            self.c.remember_language(effect.phone, effect.language)
        elif isinstance(effect, Escalate):
            if effect.phone is None:
                log.warning("call %s has no usable caller ID; queued without an escalation", session.call_sid)
                return session
            esc, _ = self.c.escalations.open(effect.command())
            return replace(session, escalation_id=esc.id)
        else:
            raise TypeError(f"not an effect: {effect!r}")
        return session

    # -- requests ----------------------------------------------------------------------------
    def _fulfil(self, session: CallSession, request: Request) -> Event:
        if isinstance(request, AskAssistant):
            return self._ask_assistant(session, request)
        if isinstance(request, SendAddressChange):
            template = (Template(self.c.config.address_template_sid, {"1": request.order_id})
                        if self.c.config.address_template_sid else None)
            result = self.c.sender.send(request.phone, request.text, author="ivr", template=template)
            return AddressChangeSent(request.order_id, result.status)
        if isinstance(request, SendCode):
            return CodeSent(request.order_id, self.c.codes.send(request.order_id, "phone").status)
        if isinstance(request, Reschedule):
            return self._reschedule(request)
        raise TypeError(f"not a request: {request!r}")

    def _ask_assistant(self, session: CallSession, request: AskAssistant) -> Event:
        message_id = None
        if request.phone:
            try:
                message_id = self.c.conversations.record_inbound(request.phone, "voice", request.speech).message_id
            except TOLERATED:
                log.exception("call %s: the caller's speech is missing from the transcript", session.call_sid)
        before = self._conversation_state(request.phone)
        try:
            replies = self.c.handback.ask(request.phone or "", request.speech, timeout=ASSISTANT_TIMEOUT,
                                          metadata={"channel": "voice", "phone": request.phone or "",
                                                    "language": request.language,
                                                    "caller_attested": session.attested},
                                          sender=request.sender)
        except AssistantUnavailable as exc:
            log.warning("assistant unavailable on call %s: %s", session.call_sid, exc)
            return AssistantDown()
        if message_id:
            intents.after_response(partial(intents.record_parse, self.c.rasa, self.c.conversations,
                                           message_id, request.sender, request.speech))
        return AssistantAnswered(request.speech, tuple(m.text for m in replies), before,
                                 self._conversation_state(request.phone))

    def _conversation_state(self, phone: Optional[str]) -> str:
        """Who owns the caller's conversation; "bot" when unknown (no caller ID, or no database)."""
        if not phone:
            return "bot"
        try:
            return self.c.conversations.state(phone)
        except SQLAlchemyError:
            log.warning("conversation state of %s unavailable; taken as the assistant's", phone, exc_info=True)
            return "bot"

    def _reschedule(self, request: Reschedule) -> Event:
        try:
            changed = self.c.orders.reschedule(request.order_id, request.day, actor="ivr")
        except RescheduleNotAllowed as exc:
            return RescheduleRefused(exc.reason)
        except InvalidInput:
            return RescheduleDayGone()
        except DomainError:
            log.exception("reschedule of %s failed", request.order_id)
            return RescheduleFailed()
        return Rescheduled(changed.shipment.rescheduled_for if changed.shipment else None)

    @staticmethod
    def _required(session: Optional[CallSession], call_sid: str) -> CallSession:
        if session is None:
            raise LookupError(f"no session for call {call_sid}")  # expired: the safe answer takes over
        return session
