"""The call flow as a pure function: `step(session, event, facts) -> Turn`. No I/O.

Only verified facts are spoken: an order is discussed once the caller ID owns it, or the
caller proved it with the order phone's last 4 digits or its pincode (`Facts.owner_proved`).
Until then an order number that names no order is treated exactly like someone else's order.
A change (address, reschedule) also needs the caller ID to be the order's phone *and* attested
by the carrier (`CallSession.attested`); otherwise the order's one-time code, sent to its
WhatsApp number, keyed in here (`Menu.CODE`).
Where the flow needs the world to act first (the assistant, a WhatsApp message, a reschedule),
the turn carries a request instead of a prompt, and its answer is the next event.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Callable, Optional, Sequence

from ivr.prompts import lang_of, reason_words, t
from ivr.questions import QUESTIONS, question
from ivr.session import CallSession, Menu
from ivr.speech import order_ref, payment_sentences, say_date, speakable, status_sentence
from ivr.turn import (
    AddressChangeSent, Arrived, Ask, AskAssistant, AssistantAnswered, AssistantDown, CodeSent, Effect, Enqueue, Escalate,
    Event, Facts, Gathered, Goodbye, Hold, LeftQueue, OrderFacts, RecordInput, RecordNote, RememberLanguage, Reschedule,
    RescheduleDayGone, Rescheduled, RescheduleFailed, RescheduleRefused, SendAddressChange, SendCode, Silence, Turn,
    Wants, voice_sender)
from ivr.twiml import Line
from orderline import escalations, rules

MAX_SILENT_TURNS = 2  # reprompts before a person takes over
MAX_TRIES = 3
RESCHEDULE_CHOICES = 5
INTENTS = {"1": "status", "2": "address", "3": "reschedule", "4": "payments"}
# The assistant's intent names for keypad choices, stored on the caller's message (confidence 1.0)
# so calls and chats count alike in the operations dashboard.
RASA_INTENTS = {"status": "order_status", "address": "change_address", "reschedule": "reschedule_delivery",
                "payments": "payment_query"}
OPEN_STATUSES = {s.value for s in rules.OPEN_STATUSES}


class MissingFact(LookupError):
    """The step needed a fact the runner did not gather (e.g. the order vanished mid-call)."""


def step(session: CallSession, event: Event, facts: Facts) -> Turn:
    """The caller's next prompt (or the next request), the new session, and the effects to perform."""
    if isinstance(event, Gathered):
        return GATHERED[event.at](session, event, facts)
    return EVENTS[type(event)](session, event, facts)  # type: ignore[arg-type]


def wants(session: CallSession, event: Event) -> Wants:
    """The facts `step` will read for `event`, so the runner fetches those and nothing more."""
    if isinstance(event, Arrived):
        return Wants(caller_orders=True)
    if isinstance(event, RescheduleDayGone):
        return Wants(order=session.order_id)
    if not isinstance(event, Gathered):
        return Wants()
    if event.at is Menu.MAIN and event.digits[:1] in INTENTS and session.order_id:
        return Wants(order=session.order_id)
    if event.at is Menu.CONFIRM and event.digits[:1] == "1" and session.pending_order:
        return Wants(order=session.pending_order, proof_by_caller_id=True)
    if event.at is Menu.VERIFY and _digits(event.digits) and session.pending_order:
        return Wants(order=session.pending_order, proof_digits=_digits(event.digits))
    if event.at is Menu.CODE and _digits(event.digits) and session.order_id:
        return Wants(order=session.order_id, code=_digits(event.digits))
    return Wants()


# -- entry -------------------------------------------------------------------------------------
def _arrived(s: CallSession, _: Arrived, f: Facts) -> Turn:
    lines: list[Line] = []
    if f.caller_orders:
        customer = f.caller_orders[0]["customer"]
        current = next((o for o in f.caller_orders if o["status"] in OPEN_STATUSES), None)
        s = replace(s, customer_name=customer["name"], language=lang_of(customer["language"]),
                    order_id=(current or f.caller_orders[0])["order_id"])
        lines.append(t(s.language, "welcome_known", name=customer["name"].split()[0]))
        if current is not None:
            lines.append(status_sentence(current, f.today, s.language, with_options=False))
    else:
        lines += [("en", t("en", "welcome_unknown")), ("hi", t("hi", "welcome_unknown"))]
    effects = (RecordNote(s.phone, f"Incoming call ({s.call_sid})"),) if s.phone else ()
    return _question(s, 0, lines, f).after(effects)


def _main(s: CallSession, e: Gathered, f: Facts) -> Turn:
    if e.speech and not e.digits:
        s = s.noted(f"caller: {e.speech}")
        return Turn(s, None, request=AskAssistant(s.phone, voice_sender(s.call_sid), e.speech, s.language))
    key = e.digits[:1]
    if key in INTENTS:
        s, heard = _heard(s, f"[pressed {key}: {INTENTS[key]}]", RASA_INTENTS[INTENTS[key]])
        s = replace(s, intent=INTENTS[key])
        return (_perform(s, f) if s.order_id else _ask(s, Menu.ORDER, f)).after(heard)
    if key == "8":
        s, heard = _heard(s, "[pressed 8: another order]", "order_status")
        return _ask(replace(s, order_id=None, intent="status"), Menu.ORDER, f).after(heard)
    if key == "9":
        s, heard = _heard(s, "[pressed 9: switch language]")
        return _switch_language(s, f).after(heard)
    if key == "0":
        s, heard = _heard(s, "[pressed 0: a person]", "human_handoff")
        return _handoff(s, _reason(s), [], f).after(heard)
    if not e.digits:
        return _unmatched(s, f)
    s, heard = _heard(s, f"[pressed {e.digits}]")
    return _unmatched(s, f).after(heard)


def _switch_language(s: CallSession, f: Facts) -> Turn:
    s = replace(s, language="hi" if s.language == "en" else "en").moved(Menu.MAIN)
    effects = (RememberLanguage(s.phone, s.language),) if s.phone else ()
    return _question(s, 0, [t(s.language, "language_set")], f).after(effects)


# -- order by keypad ---------------------------------------------------------------------------
def _order(s: CallSession, e: Gathered, f: Facts) -> Turn:
    digits = _digits(e.digits)
    if not digits:
        return _unmatched(s, f)
    s, heard = _heard(s, f"[entered order number {digits}]")
    return _ask(replace(s, pending_order=digits), Menu.CONFIRM, f).after(heard)


def _confirm(s: CallSession, e: Gathered, f: Facts) -> Turn:
    if e.digits[:1] == "2":
        s, heard = _heard(s, "[pressed 2: enter again]")
        return _ask(s, Menu.ORDER, f).after(heard)
    if e.digits[:1] != "1" or not s.pending_order:
        return _unmatched(s, f)
    s, heard = _heard(s, "[pressed 1: confirmed]")
    if f.order is not None and f.owner_proved:  # the caller ID is the order's phone
        return _verified(replace(s, pending_order=f.order["order_id"]), f).after(heard)
    # Someone else's order and no order at all sound the same: both ask for proof.
    return _ask(s, Menu.VERIFY, f).after(heard)


def _verify(s: CallSession, e: Gathered, f: Facts) -> Turn:
    if not _digits(e.digits) or not s.pending_order:
        return _unmatched(s, f)
    s, heard = _heard(s, "[entered verification digits]")  # the digits themselves stay out of the record
    if f.owner_proved and f.order is not None:
        return _verified(s, f).after(heard)
    if f.proof_refused:
        refused = s.pending_order
        s = replace(s, outcome="verification_failed", pending_order=None)
        return _handoff(s, _reason(s), [t(s.language, "verify_refused")], f,
                        note=f"order {refused}: ownership checks refused (locked after too many wrong answers)"
                        ).after(heard)
    s = replace(s, verify_tries=s.verify_tries + 1)
    if s.verify_tries >= MAX_TRIES:
        unverified = s.pending_order
        s = replace(s, outcome="verification_failed", pending_order=None)
        return _handoff(s, _reason(s), [t(s.language, "verify_failed")], f,
                        note=f"could not verify order {unverified} (3 tries); nothing was disclosed").after(heard)
    return _ask(s, Menu.VERIFY, f, [t(s.language, "verify_wrong")]).after(heard)


def _verified(s: CallSession, f: Facts) -> Turn:
    assert f.order is not None
    s = replace(s, order_id=f.order["order_id"], pending_order=None, verify_tries=0)
    return _perform(s.noted(f"order {s.order_id} verified"), f)


# -- what the caller came for ------------------------------------------------------------------
def _perform(s: CallSession, f: Facts) -> Turn:
    order = f.order
    if order is None or order["order_id"] != s.order_id:
        raise MissingFact(f"no facts for order {s.order_id}")
    s = replace(s, outcome="self_served" if s.outcome == "in_progress" else s.outcome)
    if s.intent == "payments":
        return _menu_again(s, [payment_sentences(order, f.today, s.language)])
    if s.intent == "address":
        return _address_change(s, order)
    if s.intent == "reschedule":
        return _offer_days(s, order, f)
    return _menu_again(s, [status_sentence(order, f.today, s.language)])


def needs_code(s: CallSession, order: OrderFacts) -> bool:
    """A change needs the one-time code unless the caller ID is the order's phone and attested."""
    own = bool(s.phone) and order["customer"]["phone"] == s.phone
    return order["order_id"] not in s.code_orders and not (own and s.attested)


def _code_sent(s: CallSession, e: CodeSent, f: Facts) -> Turn:
    lang, ref = s.language, order_ref(e.order_id)
    s = s.noted(f"one-time code for {e.order_id}: {e.status}")
    if e.status in ("sent", "outbox", "queued", "sending", "retrying"):
        key = "code_sent" if e.status in ("sent", "outbox") else "code_queued"
        return _ask(s, Menu.CODE, f, [t(lang, key, ref=ref)])
    return _menu_again(s, [t(lang, "code_not_sent"), t(lang, "offer_person")])


def _code(s: CallSession, e: Gathered, f: Facts) -> Turn:
    if not _digits(e.digits) or not s.order_id:
        return _unmatched(s, f)
    s, heard = _heard(s, "[entered the one-time code]")  # the code itself stays out of the record
    if f.code_matched:
        s = replace(s, code_orders=(*s.code_orders, s.order_id)).noted(f"one-time code for {s.order_id} confirmed")
        return _perform(s, f).after(heard)
    if f.code_tries_left > 0:
        return _ask(s, Menu.CODE, f, [t(s.language, "code_wrong")]).after(heard)
    s = s.noted(f"one-time code for {s.order_id} failed; no change made")
    return _menu_again(s, [t(s.language, "code_failed"), t(s.language, "offer_person")]).after(heard)


def _address_change(s: CallSession, order: OrderFacts) -> Turn:
    lang, ref = s.language, order_ref(order["order_id"])
    if not order["allowed"]["change_address"]:
        reason = rules.address_change_refusal(order["status"]) or ""
        return _menu_again(s, [t(lang, "address_refused", ref=ref, reason=reason_words(lang, reason)),
                               t(lang, "offer_person")])
    if needs_code(s, order):
        return Turn(s, None, request=SendCode(order["order_id"]))
    text = t(lang, "address_whatsapp", order_id=order["order_id"])
    return Turn(s, None, request=SendAddressChange(order["customer"]["phone"], order["order_id"], text))


def _address_change_sent(s: CallSession, e: AddressChangeSent, _: Facts) -> Turn:
    lang, ref = s.language, order_ref(e.order_id)
    s = s.noted(f"address-change WhatsApp for {e.order_id}: {e.status}")
    if e.status in ("sent", "outbox"):
        return _menu_again(s, [t(lang, "address_sent", ref=ref)])
    if e.status == "retrying":
        return _menu_again(s, [t(lang, "address_queued", ref=ref)])
    return _menu_again(s, [t(lang, "address_not_sent"), t(lang, "offer_person")])


def _offer_days(s: CallSession, order: OrderFacts, f: Facts, lines: Sequence[Line] = ()) -> Turn:
    lang, ref = s.language, order_ref(order["order_id"])
    if not order["allowed"]["reschedule"]:
        reason = rules.reschedule_refusal(order["status"]) or "the order has no shipment yet"
        return _menu_again(s, [t(lang, "reschedule_refused", ref=ref, reason=reason_words(lang, reason)),
                               t(lang, "offer_person")])
    if needs_code(s, order):
        return Turn(s, None, request=SendCode(order["order_id"]))
    first, last = rules.reschedule_window(f.today)
    days = [first + timedelta(days=i) for i in range(min(RESCHEDULE_CHOICES, (last - first).days + 1))]
    return _ask(replace(s, reschedule_days=tuple(d.isoformat() for d in days)), Menu.RESCHEDULE, f, lines)


def _reschedule(s: CallSession, e: Gathered, f: Facts) -> Turn:
    key = e.digits[:1]
    if not key.isdigit() or not 1 <= int(key) <= len(s.reschedule_days):
        return _unmatched(s, f)
    s = replace(s, reschedule_day=s.reschedule_days[int(key) - 1])
    s, heard = _heard(s, f"[pressed {key}: {s.reschedule_day}]")
    return _ask(s, Menu.RESCHEDULE_CONFIRM, f).after(heard)


def _reschedule_confirm(s: CallSession, e: Gathered, f: Facts) -> Turn:
    if e.digits[:1] == "2":
        s, heard = _heard(s, "[pressed 2: choose again]")
        return _ask(s, Menu.RESCHEDULE, f).after(heard)
    if e.digits[:1] != "1" or not (s.order_id and s.reschedule_day):
        return _unmatched(s, f)
    s, heard = _heard(s, "[pressed 1: confirm]")
    return Turn(s, None, heard, request=Reschedule(s.order_id, s.reschedule_day))


def _rescheduled(s: CallSession, e: Rescheduled, f: Facts) -> Turn:
    s = s.noted(f"rescheduled {s.order_id} to {e.day}")
    day = say_date(e.day, f.today, s.language)
    return _menu_again(s, [t(s.language, "reschedule_done", ref=order_ref(s.order_id or ""), day=day)])


def _reschedule_refused(s: CallSession, e: RescheduleRefused, _: Facts) -> Turn:
    lang, ref = s.language, order_ref(s.order_id or "")
    return _menu_again(s, [t(lang, "reschedule_refused", ref=ref, reason=reason_words(lang, e.reason)),
                           t(lang, "offer_person")])


def _reschedule_day_gone(s: CallSession, _: RescheduleDayGone, f: Facts) -> Turn:
    if f.order is None:
        raise MissingFact(f"order {s.order_id} vanished during a reschedule")
    return _offer_days(s, f.order, f, [t(s.language, "reschedule_no_day")])


def _reschedule_failed(s: CallSession, _: RescheduleFailed, __: Facts) -> Turn:
    return _menu_again(s, [t(s.language, "apology"), t(s.language, "offer_person")])


# -- speech ------------------------------------------------------------------------------------
def _assistant_answered(s: CallSession, e: AssistantAnswered, f: Facts) -> Turn:
    text = " ".join(filter(None, (speakable(m) for m in e.texts)))
    if e.state_before == "bot" and e.state_after != "bot":
        # The assistant handed the conversation to a person: the caller waits in the queue.
        return _handoff(s, _reason(s), [text] if text else [], f, note=f"assistant handed off after: {e.speech[:200]}")
    return _menu_again(s, [text or t(s.language, "no_answer")])


def _assistant_down(s: CallSession, _: AssistantDown, f: Facts) -> Turn:
    return _ask(s, Menu.MAIN, f, [t(s.language, "rasa_down")])


# -- no input, no match ------------------------------------------------------------------------
def _silence(s: CallSession, _: Silence, f: Facts) -> Turn:
    s, heard = _heard(s, "[no input]")
    if s.menu is Menu.AFTER_HOURS:
        # The intent itself goes in as the reason: only "payments" survives as one (kept as it was).
        return _enqueue(s, s.intent, []).after(heard)
    return _retry(s, [], f).after(heard)


def _unmatched(s: CallSession, f: Facts) -> Turn:
    return _retry(s, [t(s.language, "not_understood")], f)


def _retry(s: CallSession, lines: list[Line], f: Facts) -> Turn:
    s = replace(s, attempts=s.attempts + 1)
    if s.attempts > MAX_SILENT_TURNS:
        return _handoff(s, _reason(s), lines, f,
                        note=f"no usable input at '{s.menu.value}' after {MAX_SILENT_TURNS} reprompts")
    return _question(s, s.attempts, lines, f)


# -- a person ----------------------------------------------------------------------------------
def _handoff(s: CallSession, reason: str, lines: list[Line], f: Facts, note: str = "") -> Turn:
    if note:
        s = s.noted(note)
    if not f.in_hours:
        return _ask(s, Menu.AFTER_HOURS, f, lines)
    return _enqueue(s, reason, lines)


def _enqueue(s: CallSession, reason: Optional[str], lines: list[Line]) -> Turn:
    escalate = _escalation(s, reason or "general", callback=False)
    s = replace(s, outcome="queued").moved(Menu.QUEUE)
    return Turn(s, Enqueue(s.language, (*lines, t(s.language, "handoff"))), (escalate,))


def _callback(s: CallSession, e: Gathered, _: Facts) -> Turn:
    if e.digits[:1] != "1":
        return _enqueue(s, _reason(s), [])
    s, heard = _heard(s, "[pressed 1: call me back]")
    s = s.noted("caller asked for a call back")
    escalate = _escalation(s, _reason(s), callback=True)
    s = replace(s, outcome="callback").moved(Menu.DONE)
    return Turn(s, Goodbye(s.language, (t(s.language, "callback_booked"),)), (*heard, escalate))


def _escalation(s: CallSession, reason: str, callback: bool) -> Escalate:
    note = f"Voice call {s.call_sid}. " + " | ".join(s.log)
    return Escalate(phone=s.phone, call_sid=s.call_sid, reason=reason if reason in escalations.REASONS else "general",
                    order_id=s.order_id, intent=s.intent, note=note[-2000:], callback=callback)


def _left_queue(s: CallSession, e: LeftQueue, _: Facts) -> Turn:
    """After the queue: the prompt is not put in the transcript, and no call back for a hang-up."""
    outcome = {"bridged": "talked_to_agent", "hangup": "abandoned_in_queue"}.get(e.result, s.outcome)
    s = replace(s, outcome=outcome).noted(f"left the queue: {e.result}")
    prompt = left_queue(s.language, e.result)
    if e.result in ("bridged", "leave", "redirected", "hangup"):
        return Turn(s, prompt)
    return Turn(s, prompt, (_escalation(s, _reason(s), callback=True),))


def left_queue(lang: str, result: str) -> Goodbye:
    """What a caller hears on leaving the queue (also when their session is gone)."""
    if result in ("bridged", "leave", "redirected"):
        return Goodbye(lang, (t(lang, "goodbye"),))
    if result == "hangup":
        return Goodbye(lang, ())
    return Goodbye(lang, (t(lang, "queue_failed"),))


def on_hold(lang: str, position: str) -> Hold:
    """Where the caller is in line, from Twilio's QueuePosition."""
    if position.isdigit() and int(position) > 1:
        return Hold(lang, t(lang, "hold", position=int(position)))
    if position == "1":
        return Hold(lang, t(lang, "hold_next"))
    return Hold(lang, t(lang, "hold_unknown"))


def call_ended(call_sid: str, call_status: str, duration: str, outcome: str) -> str:
    """The note the status callback leaves in the caller's history and escalation."""
    seconds = int(duration) if duration.isdigit() else 0
    return f"Call {call_sid} ended: {call_status or 'unknown'}, {seconds} s, outcome {outcome}."


# -- asking -------------------------------------------------------------------------------------
def _ask(s: CallSession, menu: Menu, f: Facts, lines: Sequence[Line] = ()) -> Turn:
    return _question(s.moved(menu), 0, list(lines), f)


def _menu_again(s: CallSession, lines: list[Line]) -> Turn:
    s = s.moved(Menu.MAIN)
    return Turn(s, Ask(Menu.MAIN, s.language, (*lines, t(s.language, "anything_else")), t(s.language, "menu_short")))


def _question(s: CallSession, level: int, lines: list[Line], f: Facts) -> Turn:
    """The question at the caller's menu position; shorter on each reprompt (`level` > 0)."""
    if s.menu not in QUESTIONS:  # nothing to answer there (queue, done): back to the main menu
        s = replace(s, menu=Menu.MAIN)
    return Turn(s, question(s, level, tuple(lines), f.today))


# What keys posted to each menu's <Gather> action mean. QUEUE and DONE gather nothing.
GATHERED: dict[Menu, Callable[[CallSession, Gathered, Facts], Turn]] = {
    Menu.MAIN: _main,
    Menu.ORDER: _order,
    Menu.CONFIRM: _confirm,
    Menu.VERIFY: _verify,
    Menu.CODE: _code,
    Menu.RESCHEDULE: _reschedule,
    Menu.RESCHEDULE_CONFIRM: _reschedule_confirm,
    Menu.AFTER_HOURS: _callback,
}

EVENTS: dict[type, Callable[..., Turn]] = {
    Arrived: _arrived,
    Silence: _silence,
    LeftQueue: _left_queue,
    AssistantAnswered: _assistant_answered,
    AssistantDown: _assistant_down,
    AddressChangeSent: _address_change_sent,
    CodeSent: _code_sent,
    Rescheduled: _rescheduled,
    RescheduleRefused: _reschedule_refused,
    RescheduleDayGone: _reschedule_day_gone,
    RescheduleFailed: _reschedule_failed,
}


# -- helpers -----------------------------------------------------------------------------------
def _heard(s: CallSession, text: str, intent: Optional[str] = None) -> tuple[CallSession, tuple[Effect, ...]]:
    """Note the caller's input in the turn log, and put it in their transcript if we know who they are."""
    s = s.noted(f"caller: {text}")
    return s, ((RecordInput(s.phone, text, intent),) if s.phone else ())


def _reason(s: CallSession) -> str:
    return escalations.reason_for(RASA_INTENTS.get(s.intent or ""))


def _digits(raw: str) -> str:
    return re.sub(r"\D", "", raw or "")
