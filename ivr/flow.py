"""The call flow: one method per step, each taking plain request values and returning TwiML.

Only verified facts are spoken: an order is discussed once the caller ID owns it, or the
caller proved it with the order phone's last 4 digits or its pincode.
"""
from __future__ import annotations

import hmac
import logging
import re
from datetime import date, timedelta
from functools import partial
from typing import Any, Optional, Sequence

from sqlalchemy.exc import SQLAlchemyError

from edge import intents
from ivr import twiml
from ivr.config import VoiceConfig
from ivr.prompts import lang_of, reason_words, t
from ivr.session import CallSession, SessionStore
from ivr.speech import order_ref, payment_sentences, say_date, speakable, spell_out, status_sentence
from orderline import rules
from orderline.customers import remember_language
from orderline.errors import DomainError, InvalidInput, OrderNotFound, RescheduleNotAllowed
from orderline.models import Order
from orderline.phones import InvalidPhone, normalise_phone
from orderline.ports import AssistantUnavailable, Template
from orderline.present import order_dict

log = logging.getLogger(__name__)
MAX_SILENT_TURNS = 2  # reprompts before a person takes over
MAX_TRIES = 3
RESCHEDULE_CHOICES = 5
INTENTS = {"1": "status", "2": "address", "3": "reschedule", "4": "payments"}
# The assistant's intent names for keypad choices, stored on the caller's message (confidence 1.0)
# so calls and chats count alike in the operations dashboard.
RASA_INTENTS = {"status": "order_status", "address": "change_address", "reschedule": "reschedule_delivery",
                "payments": "payment_query"}
REASON_BY_INTENT = {"status": "delivery", "address": "delivery", "reschedule": "delivery", "payments": "payments"}
OPEN_STATUSES = {s.value for s in rules.OPEN_STATUSES}
URL = "/twilio/voice"


def caller_phone(raw: str) -> Optional[str]:
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        return None


class CallFlow:
    def __init__(self, services: Any, config: VoiceConfig) -> None:
        self.svc = services
        self.cfg = config
        self.store = SessionStore(services.redis)

    # -- entry -------------------------------------------------------------------
    def incoming(self, call_sid: str, caller: str) -> str:
        session = CallSession(call_sid=call_sid, phone=caller_phone(caller))
        orders = self.svc.orders.for_phone(session.phone) if session.phone else []
        lines: list[twiml.Line] = []
        if orders:
            customer = orders[0].customer
            session.customer_name = customer.name
            session.language = lang_of(customer.language)
            current = next((o for o in orders if o.status in OPEN_STATUSES), None)
            session.order_id = (current or orders[0]).order_id
            lines.append(t(session.language, "welcome_known", name=customer.name.split()[0]))
            if current is not None:
                lines.append(status_sentence(self._dict(current), self.today, session.language, with_options=False))
        else:
            lines += [("en", t("en", "welcome_unknown")), ("hi", t("hi", "welcome_unknown"))]
        self._system_note(session, "Incoming call")
        return self._reply(session, twiml.menu(session.language, lines, t(session.language, "menu")))

    def menu_input(self, call_sid: str, caller: str, digits: str, speech: str) -> str:
        session = self._load(call_sid)
        if session is None:
            return self.incoming(call_sid, caller)
        if speech and not digits:
            return self._assistant(session, speech)
        key = digits[:1]
        if key in INTENTS:
            self._heard(session, f"[pressed {key}: {INTENTS[key]}]", intent=RASA_INTENTS[INTENTS[key]])
            session.intent = INTENTS[key]
            if session.order_id:
                return self._perform(session)
            return self._ask(session, "order")
        if key == "8":
            self._heard(session, "[pressed 8: another order]", intent="order_status")
            session.order_id, session.intent = None, "status"
            return self._ask(session, "order")
        if key == "9":
            self._heard(session, "[pressed 9: switch language]")
            return self._switch_language(session)
        if key == "0":
            self._heard(session, "[pressed 0: a person]", intent="human_handoff")
            return self._handoff(session, REASON_BY_INTENT.get(session.intent or "", "general"), [])
        if digits:
            self._heard(session, f"[pressed {digits}]")
        return self._unmatched(session)

    # -- order by keypad -----------------------------------------------------------
    def order_input(self, call_sid: str, digits: str) -> str:
        session = self._require(call_sid)
        digits = re.sub(r"\D", "", digits or "")
        if not digits:
            return self._unmatched(session)
        self._heard(session, f"[entered order number {digits}]")
        session.pending_order = digits
        return self._ask(session, "confirm")

    def confirm_input(self, call_sid: str, digits: str) -> str:
        session = self._require(call_sid)
        if digits[:1] == "2":
            self._heard(session, "[pressed 2: enter again]")
            return self._ask(session, "order")
        if digits[:1] != "1" or not session.pending_order:
            return self._unmatched(session)
        self._heard(session, "[pressed 1: confirmed]")
        try:
            order = self.svc.orders.get(session.pending_order)
        except OrderNotFound:
            session.order_tries += 1
            line = t(session.language, "order_not_found", digits=spell_out(session.pending_order))
            session.pending_order = None
            if session.order_tries >= MAX_TRIES:
                return self._handoff(session, "general", [line], note="order number not found 3 times")
            return self._ask(session, "order", [line])
        session.pending_order = order.order_id
        if session.phone and order.customer.phone == session.phone:
            return self._verified(session, order)
        return self._ask(session, "verify")

    def verify_input(self, call_sid: str, digits: str) -> str:
        session = self._require(call_sid)
        digits = re.sub(r"\D", "", digits or "")
        if not digits or not session.pending_order:
            return self._unmatched(session)
        self._heard(session, "[entered verification digits]")  # the digits themselves stay out of the record
        order = self.svc.orders.get(session.pending_order)
        if _proves(order, digits):
            return self._verified(session, order)
        session.verify_tries += 1
        if session.verify_tries >= MAX_TRIES:
            session.outcome = "verification_failed"
            unverified, session.pending_order = session.pending_order, None
            return self._handoff(session, REASON_BY_INTENT.get(session.intent or "", "general"),
                                 [t(session.language, "verify_failed")],
                                 note=f"could not verify order {unverified} (3 tries); nothing was disclosed")
        return self._ask(session, "verify", [t(session.language, "verify_wrong")])

    def _verified(self, session: CallSession, order: Order) -> str:
        session.order_id, session.pending_order, session.verify_tries = order.order_id, None, 0
        session.note(f"order {order.order_id} verified")
        return self._perform(session)

    # -- what the caller came for ---------------------------------------------------
    def _perform(self, session: CallSession) -> str:
        assert session.order_id
        order = self._dict(self.svc.orders.get(session.order_id))
        lang = session.language
        session.outcome = "self_served" if session.outcome == "in_progress" else session.outcome
        if session.intent == "payments":
            return self._menu_again(session, [payment_sentences(order, self.today, lang)])
        if session.intent == "address":
            return self._address_change(session, order)
        if session.intent == "reschedule":
            return self._offer_days(session, order)
        return self._menu_again(session, [status_sentence(order, self.today, lang)])

    def _address_change(self, session: CallSession, order: dict[str, Any]) -> str:
        lang, ref = session.language, order_ref(order["order_id"])
        if not order["allowed"]["change_address"]:
            reason = rules.address_change_refusal(order["status"]) or ""
            return self._menu_again(session, [t(lang, "address_refused", ref=ref, reason=reason_words(lang, reason)),
                                              t(lang, "offer_person")])
        template = (Template(self.cfg.address_template_sid, {"1": order["order_id"]})
                    if self.cfg.address_template_sid else None)
        result = self.svc.sender.send(order["customer"]["phone"], t(lang, "address_whatsapp", order_id=order["order_id"]),
                                      author="ivr", template=template)
        session.note(f"address-change WhatsApp for {order['order_id']}: {result.status}")
        if result.status in ("sent", "outbox"):
            return self._menu_again(session, [t(lang, "address_sent", ref=ref)])
        if result.status == "retrying":
            return self._menu_again(session, [t(lang, "address_queued", ref=ref)])
        return self._menu_again(session, [t(lang, "address_not_sent"), t(lang, "offer_person")])

    def _offer_days(self, session: CallSession, order: dict[str, Any], lines: Sequence[str] = ()) -> str:
        lang, ref = session.language, order_ref(order["order_id"])
        if not order["allowed"]["reschedule"]:
            reason = rules.reschedule_refusal(order["status"]) or "the order has no shipment yet"
            return self._menu_again(session, [t(lang, "reschedule_refused", ref=ref, reason=reason_words(lang, reason)),
                                              t(lang, "offer_person")])
        first, last = rules.reschedule_window(self.today)
        days = [first + timedelta(days=i) for i in range(min(RESCHEDULE_CHOICES, (last - first).days + 1))]
        session.reschedule_days = [d.isoformat() for d in days]
        return self._ask(session, "reschedule", lines)

    def reschedule_input(self, call_sid: str, digits: str) -> str:
        session = self._require(call_sid)
        key = digits[:1]
        if not key.isdigit() or not 1 <= int(key) <= len(session.reschedule_days):
            return self._unmatched(session)
        session.reschedule_day = session.reschedule_days[int(key) - 1]
        self._heard(session, f"[pressed {key}: {session.reschedule_day}]")
        return self._ask(session, "reschedule_confirm")

    def reschedule_confirm_input(self, call_sid: str, digits: str) -> str:
        session = self._require(call_sid)
        lang = session.language
        if digits[:1] == "2":
            self._heard(session, "[pressed 2: choose again]")
            return self._ask(session, "reschedule")
        if digits[:1] != "1" or not (session.order_id and session.reschedule_day):
            return self._unmatched(session)
        self._heard(session, "[pressed 1: confirm]")
        ref = order_ref(session.order_id)
        try:
            changed = self.svc.orders.reschedule(session.order_id, session.reschedule_day, actor="ivr")
        except RescheduleNotAllowed as exc:
            return self._menu_again(session, [t(lang, "reschedule_refused", ref=ref, reason=reason_words(lang, exc.reason)),
                                              t(lang, "offer_person")])
        except InvalidInput:
            order = self._dict(self.svc.orders.get(session.order_id))
            return self._offer_days(session, order, [t(lang, "reschedule_no_day")])
        except DomainError:
            log.exception("reschedule of %s failed", session.order_id)
            return self._menu_again(session, [t(lang, "apology"), t(lang, "offer_person")])
        confirmed = changed.shipment.rescheduled_for if changed.shipment else None
        session.note(f"rescheduled {session.order_id} to {confirmed}")
        return self._menu_again(session, [t(lang, "reschedule_done", ref=ref, day=say_date(confirmed, self.today, lang))])

    # -- speech ------------------------------------------------------------------------
    def _assistant(self, session: CallSession, speech: str) -> str:
        message_id = self._heard(session, speech)
        lang = session.language
        sender = session.phone or f"voice-{session.call_sid}"
        before = self._conversation_state(session)
        try:
            replies = self.svc.rasa.send(sender=sender, text=speech, timeout=8.0,
                                         metadata={"channel": "voice", "phone": session.phone or "", "language": lang})
        except AssistantUnavailable as exc:
            log.warning("assistant unavailable on call %s: %s", session.call_sid, exc)
            session.move("menu")
            return self._reply(session, twiml.menu(lang, [t(lang, "rasa_down")], t(lang, "menu")))
        if message_id:
            intents.after_response(partial(intents.record_parse, self.svc.rasa, self.svc.conversations,
                                           message_id, sender, speech))
        text = " ".join(filter(None, (speakable(m.text) for m in replies)))
        if before == "bot" and self._conversation_state(session) != "bot":
            # The assistant handed the conversation to a person: the caller waits in the queue.
            return self._handoff(session, REASON_BY_INTENT.get(session.intent or "", "general"),
                                 [text] if text else [], note=f"assistant handed off after: {speech[:200]}")
        return self._menu_again(session, [text or t(lang, "no_answer")])

    def _conversation_state(self, session: CallSession) -> str:
        if not session.phone:
            return "bot"
        try:
            return self.svc.conversations.state(session.phone)
        except SQLAlchemyError:
            return "bot"

    # -- language ----------------------------------------------------------------------
    def _switch_language(self, session: CallSession) -> str:
        session.language = "hi" if session.language == "en" else "en"
        if session.phone:
            try:
                remember_language(self.svc.sessions, session.phone, session.language)
            except SQLAlchemyError:
                log.exception("could not store language for %s", session.phone)
        session.move("menu")
        lang = session.language
        return self._reply(session, twiml.menu(lang, [t(lang, "language_set")], t(lang, "menu")))

    # -- no input, no match ------------------------------------------------------------
    def silence(self, call_sid: str) -> str:
        session = self._require(call_sid)
        self._heard(session, "[no input]")
        if session.menu == "after_hours":
            return self._enqueue(session, session.intent, [])
        return self._retry(session, [])

    def _unmatched(self, session: CallSession) -> str:
        return self._retry(session, [t(session.language, "not_understood")])

    def _retry(self, session: CallSession, lines: list[twiml.Line]) -> str:
        session.attempts += 1
        if session.attempts > MAX_SILENT_TURNS:
            return self._handoff(session, REASON_BY_INTENT.get(session.intent or "", "general"), lines,
                                 note=f"no usable input at '{session.menu}' after {MAX_SILENT_TURNS} reprompts")
        return self._render(session, session.attempts, lines)

    # -- a person ----------------------------------------------------------------------
    def _handoff(self, session: CallSession, reason: str, lines: list[twiml.Line], note: str = "") -> str:
        if note:
            session.note(note)
        if not self.in_hours():
            session.move("after_hours")
            return self._reply(session, twiml.keypad(session.language, lines, t(session.language, "after_hours"),
                                                     f"{URL}/callback", num_digits=1))
        return self._enqueue(session, reason, lines)

    def _enqueue(self, session: CallSession, reason: Optional[str], lines: list[twiml.Line]) -> str:
        self._escalate(session, reason or "general", callback=False)
        session.outcome = "queued"
        session.move("queue")
        lang = session.language
        return self._reply(session, twiml.queue(lang, [*lines, t(lang, "handoff")], self.cfg.queue))

    def callback_input(self, call_sid: str, digits: str) -> str:
        session = self._require(call_sid)
        if digits[:1] != "1":
            return self._enqueue(session, REASON_BY_INTENT.get(session.intent or "", "general"), [])
        self._heard(session, "[pressed 1: call me back]")
        session.note("caller asked for a call back")
        self._escalate(session, REASON_BY_INTENT.get(session.intent or "", "general"), callback=True)
        session.outcome = "callback"
        session.move("done")
        return self._reply(session, twiml.goodbye(session.language, [t(session.language, "callback_booked")]))

    def _escalate(self, session: CallSession, reason: str, callback: bool) -> None:
        if not session.phone:
            log.warning("call %s has no usable caller ID; queued without an escalation", session.call_sid)
            return
        note = f"Voice call {session.call_sid}. " + " | ".join(session.log)
        data = {"reason": reason if reason in ("delivery", "payments", "complaint", "general") else "general",
                "channel": "voice", "phone": session.phone, "order_id": session.order_id,
                "call_sid": session.call_sid, "note": note[-2000:], "intent": session.intent,
                "callback_requested": callback}
        try:
            esc, _ = self.svc.escalations.open(data)
            session.escalation_id = esc["id"]
        except (DomainError, SQLAlchemyError):
            log.exception("could not open an escalation for call %s", session.call_sid)

    def in_hours(self) -> bool:
        hour = self.svc.clock.now().hour
        return self.cfg.open_hour <= hour < self.cfg.close_hour

    # -- queue callbacks ---------------------------------------------------------------
    def hold(self, call_sid: str, position: str) -> str:
        lang = "en"
        try:
            session = self.store.load(call_sid)
            lang = session.language if session else "en"
        except Exception:  # the hold loop must keep playing even without Redis
            log.warning("no session for held call %s", call_sid)
        if position.isdigit() and int(position) > 1:
            text = t(lang, "hold", position=int(position))
        elif position == "1":
            text = t(lang, "hold_next")
        else:
            text = t(lang, "hold_unknown")
        return twiml.hold(lang, text)

    def dequeued(self, call_sid: str, result: str) -> str:
        session = self._load(call_sid)
        lang = session.language if session else "en"
        if session is not None:
            session.outcome = {"bridged": "talked_to_agent", "hangup": "abandoned_in_queue"}.get(result, session.outcome)
            session.note(f"left the queue: {result}")
            self.store.save(session)
        if result in ("bridged", "leave", "redirected"):
            return twiml.goodbye(lang, [t(lang, "goodbye")])
        if result == "hangup":
            return twiml.goodbye(lang, [])
        if session is not None:
            self._escalate(session, REASON_BY_INTENT.get(session.intent or "", "general"), callback=True)
            self.store.save(session)
        return twiml.goodbye(lang, [t(lang, "queue_failed")])

    def status(self, call_sid: str, caller: str, call_status: str, duration: str) -> None:
        """Twilio's status callback: close the session, note duration and outcome."""
        try:
            session = self.store.close(call_sid)
        except Exception:
            log.warning("could not close session for call %s", call_sid)
            session = None
        phone = (session.phone if session else None) or caller_phone(caller)
        outcome = session.outcome if session else "unknown"
        seconds = int(duration) if duration.isdigit() else 0
        text = f"Call {call_sid} ended: {call_status or 'unknown'}, {seconds} s, outcome {outcome}."
        if not phone:
            log.info(text)
            return
        self.svc.conversations.record_outbound(phone, "voice", "system", text, status=call_status or "completed",
                                               direction="note")
        if session is not None and session.escalation_id:
            esc = self.svc.escalations.get(session.escalation_id)
            if esc["status"] in ("open", "claimed") and esc["call_sid"] == call_sid:
                # open() on an active escalation appends the note instead of opening another.
                self.svc.escalations.open({"reason": esc["reason"], "channel": "voice", "phone": phone, "note": text})

    # -- rendering ---------------------------------------------------------------------
    def _ask(self, session: CallSession, menu: str, lines: Sequence[twiml.Line] = ()) -> str:
        session.move(menu)
        return self._render(session, 0, list(lines))

    def _menu_again(self, session: CallSession, lines: list[twiml.Line]) -> str:
        session.move("menu")
        lang = session.language
        return self._reply(session, twiml.menu(lang, [*lines, t(lang, "anything_else")], t(lang, "menu_short")))

    def _render(self, session: CallSession, level: int, lines: list[twiml.Line]) -> str:
        """The prompt for the caller's menu position; shorter on each reprompt."""
        lang, menu, short = session.language, session.menu, level > 0
        if menu == "order":
            doc = twiml.keypad(lang, lines, t(lang, "enter_order_short" if short else "enter_order"), f"{URL}/order")
        elif menu == "confirm":
            ref = spell_out(session.pending_order or "")
            doc = twiml.keypad(lang, lines, t(lang, "confirm_order_short" if short else "confirm_order", ref=ref),
                               f"{URL}/order/confirm", num_digits=1)
        elif menu == "verify":
            doc = twiml.keypad(lang, lines, t(lang, "verify_short" if short else "verify"), f"{URL}/order/verify")
        elif menu == "reschedule":
            options = [t(lang, "reschedule_option", day=say_date(d, self.today, lang), digit=i)
                       for i, d in enumerate(session.reschedule_days, start=1)]
            intro = t(lang, "reschedule_short") if short else t(lang, "reschedule_intro", ref=order_ref(session.order_id or ""))
            doc = twiml.keypad(lang, [*lines, intro], " ".join(options), f"{URL}/reschedule", num_digits=1)
        elif menu == "reschedule_confirm":
            day = say_date(session.reschedule_day, self.today, lang)
            doc = twiml.keypad(lang, lines, t(lang, "reschedule_confirm_short" if short else "reschedule_confirm", day=day),
                               f"{URL}/reschedule/confirm", num_digits=1)
        elif menu == "after_hours":
            doc = twiml.keypad(lang, lines, t(lang, "after_hours"), f"{URL}/callback", num_digits=1)
        else:
            session.menu = "menu"
            key = ("menu", "menu_short", "menu_shortest")[min(level, 2)]
            doc = twiml.menu(lang, lines, t(lang, key))
        return self._reply(session, doc)

    def _reply(self, session: CallSession, doc: str) -> str:
        """Save the session, put what we say into the customer's history, and answer."""
        self.store.save(session)
        spoken = twiml.spoken_text(doc)
        if session.phone and spoken:
            try:
                self.svc.conversations.record_outbound(session.phone, "voice", "ivr", spoken, status="spoken")
            except SQLAlchemyError:
                log.exception("could not record the IVR prompt for call %s", session.call_sid)
        return doc

    def _heard(self, session: CallSession, text: str, intent: Optional[str] = None) -> Optional[int]:
        """Note the caller's input and store it in their transcript; returns the message id."""
        session.note(f"caller: {text}")
        if not session.phone:
            return None
        try:
            return self.svc.conversations.record_inbound(session.phone, "voice", text, intent=intent,
                                                         confidence=1.0 if intent else None).message_id
        except SQLAlchemyError:
            log.exception("could not record caller input for call %s", session.call_sid)
            return None

    def _system_note(self, session: CallSession, text: str) -> None:
        if not session.phone:
            return
        try:
            self.svc.conversations.record_outbound(session.phone, "voice", "system", f"{text} ({session.call_sid})",
                                                   status="received", direction="note")
        except SQLAlchemyError:
            log.exception("could not record call start for %s", session.call_sid)

    # -- helpers ------------------------------------------------------------------------
    def _load(self, call_sid: str) -> Optional[CallSession]:
        return self.store.load(call_sid)

    def _require(self, call_sid: str) -> CallSession:
        session = self.store.load(call_sid)
        if session is None:
            raise LookupError(f"no session for call {call_sid}")  # expired: the safe answer takes over
        return session

    def _dict(self, order: Order) -> dict[str, Any]:
        return order_dict(order, self.svc.clock)

    @property
    def today(self) -> date:
        return self.svc.clock.today()


def _proves(order: Order, digits: str) -> bool:
    """The last 4 digits of the order's phone, or its pincode."""
    phone_tail = re.sub(r"\D", "", order.customer.phone)[-4:]
    pincode = order.address.pincode if order.address else ""
    candidates = [c for c in (phone_tail if len(digits) == 4 else "", pincode if len(digits) == 6 else "") if c]
    return any(hmac.compare_digest(digits, c) for c in candidates)


def agent_pin_ok(config: VoiceConfig, digits: str) -> bool:
    return bool(config.agent_pin) and hmac.compare_digest(digits.encode(), config.agent_pin.encode())
