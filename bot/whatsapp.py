"""Twilio's WhatsApp webhooks: inbound messages and delivery status. The app's front door to Rasa.

Only a signed request is read; every answer to a signed request is 200 with TwiML (an apology
when something breaks), because Twilio treats anything else as a failed delivery.
"""
from __future__ import annotations

import logging
from functools import partial
from typing import Any, Optional

from flask import Blueprint, Response, request

from bot import routing, twiml
from edge import intents
from bot.rasa_client import AssistantUnavailable
from bot.routing import Incoming
from orderline.phones import InvalidPhone, normalise_phone
from bot.deps import WhatsAppDeps, deps
from edge.text import customer_text
from edge.twilio_auth import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("whatsapp", __name__)
Reply = tuple[str, Optional[str], str]  # text, media URL, author for the transcript


@bp.post("/twilio/whatsapp")
@twilio_signed
def inbound() -> Response:
    try:
        incoming = parse(request.form)
    except InvalidPhone:
        log.warning("signed WhatsApp webhook without a usable From")
        return Response("From must be a phone number", status=400, mimetype="text/plain")
    try:
        return twiml.xml(answer(deps(), incoming))
    except Exception:
        log.exception("WhatsApp message %s from %s failed", incoming.sid, incoming.phone)
        return twiml.xml(twiml.message(routing.APOLOGY))


def parse(form: Any) -> Incoming:
    """Read a Twilio Messaging webhook; raises InvalidPhone when From is not a number.

    The customer's words are redacted here, once: the transcript, the replies to notifications
    (CSAT comments, NDR answers), the escalations and the assistant all get the redacted text.
    """
    return Incoming(
        phone=normalise_phone(routing.clean_text(form.get("From"), 64)),
        text=customer_text(form.get("Body")),
        sid=routing.clean_text(form.get("MessageSid") or form.get("SmsMessageSid"), 64) or None,
        profile_name=routing.clean_text(form.get("ProfileName"), 200) or None,
        wa_id=routing.clean_text(form.get("WaId"), 32) or None,
        media=routing.media_of(form),
        button_payload=customer_text(form.get("ButtonPayload"), 1000) or None,
        button_text=customer_text(form.get("ButtonText"), 200) or None,
    )


def answer(svc: WhatsAppDeps, incoming: Incoming) -> str:
    """Record the message once, then decide who answers it; returns the TwiML reply."""
    store, phone = svc.conversations, incoming.phone
    got = store.record_inbound(phone, "whatsapp", incoming.text or incoming.button_text or "", sid=incoming.sid,
                               profile_name=incoming.profile_name, wa_id=incoming.wa_id,
                               media=[dict(m) for m in incoming.media])
    if got.duplicate:
        return twiml.empty()
    cs = svc.channel
    consent = routing.consent_change(incoming.text)
    if consent is not None:
        store.set_opt_out(phone, consent)
        return say(svc, phone, [(routing.OPTED_OUT if consent else routing.OPTED_IN, None, "system")])

    replies: list[Reply] = []
    if incoming.media:
        replies.append((routing.media_ack(incoming.media), None, "system"))
    state = store.state(phone)
    if state != "bot":
        # A person owns the conversation: the console already has the message; Rasa never hears it.
        if svc.escalations.mark_waiting_notice(phone):
            replies.append((routing.waiting_note(svc.clock.now(), cs, state), None, "system"))
        return say(svc, phone, replies)

    text = routing.text_for_bot(incoming, routing.offered_buttons(svc.redis, phone))
    if not text:
        return say(svc, phone, replies)
    # A reply to a proactive message (COD YES/NO, a CSAT score, an NDR choice) may be settled
    # here; anything else reaches the assistant with the order it is about.
    reply = svc.replies.handle(phone, text, incoming.sid)
    if reply.escalation:
        svc.escalations.open(reply.escalation)
    if reply.answer is not None:
        return say(svc, phone, replies + [(reply.answer, None, "bot")])
    text = reply.message or text
    meta = {**routing.metadata(phone, routing.language_for(svc.sessions, phone)), **reply.metadata}
    try:
        bot_messages = svc.handback.ask(phone, text, meta, cs.rasa_timeout)
    except AssistantUnavailable as exc:
        log.warning("Rasa did not answer %s inline (%s); finishing in the background", incoming.sid, exc)
        svc.jobs.enqueue("finish_turn", phone, text, meta, message_id=got.message_id,
                         timeout=int(cs.rasa_retry_timeout) + 60)
        return say(svc, phone, replies + [(routing.HOLDING, None, "system")])
    intents.after_response(partial(intents.record_parse, svc.rasa, store, got.message_id, phone, text))

    for m in bot_messages:
        replies.append((routing.render(m), m.image, "bot"))
    offered = next((m.buttons for m in reversed(bot_messages) if m.buttons), ())
    routing.remember_buttons(svc.redis, phone, offered, cs.buttons_ttl)
    # The turn itself may have handed the customer to a person (the Rasa action opened an
    # escalation); tell them once how long that usually takes.
    after = store.state(phone)
    if after != "bot" and svc.escalations.mark_waiting_notice(phone):
        replies.append((routing.waiting_note(svc.clock.now(), cs, after), None, "system"))
    return say(svc, phone, replies)


def say(svc: WhatsAppDeps, phone: str, replies: list[Reply]) -> str:
    """Store each inline reply in the transcript, then build the TwiML that delivers them."""
    for text, media_url, author in replies:
        stored = text + (f"\n[image] {media_url}" if media_url else "")
        svc.conversations.record_outbound(phone, "whatsapp", author, stored, status="sent")
    return twiml.messages((text, media_url) for text, media_url, _ in replies)
