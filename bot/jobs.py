"""Background work of the WhatsApp channel.

`finish_turn` completes a Rasa turn that did not answer inline; `check_waiting_escalations`
runs every minute (queued by wiring/cron.py). `wiring.worker` runs both.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Optional

from bot import routing
from edge import intents
from bot.routing import ChannelSettings
from bot.rasa_client import AssistantUnavailable
from bot.deps import WhatsAppDeps
from orderline.escalations import OpenEscalation

log = logging.getLogger(__name__)


def finish_turn(svc: WhatsAppDeps, phone: str, text: str, metadata: dict[str, Any],
                message_id: Optional[int] = None) -> str:
    """Retry a slow or failed Rasa turn with a longer timeout and send the answer.

    If Rasa still cannot answer, a person takes over: an escalation is opened and the
    customer is told honestly. `message_id` is the customer's stored message, which gets the
    assistant's intent. Returns what happened, for the job's result.
    """
    cs = svc.channel
    if svc.conversations.state(phone) != "bot":
        log.info("not finishing the turn for %s: a person owns the conversation now", phone)
        return "skipped"
    try:
        bot_messages = svc.handback.ask(phone, text, metadata, cs.rasa_retry_timeout)
    except AssistantUnavailable as exc:
        log.warning("Rasa still unavailable for %s (%s); handing off to a person", phone, exc)
        return hand_off(svc, cs, phone, str(exc))
    if message_id is not None:
        intents.after_response(lambda: intents.record_parse(svc.rasa, svc.conversations, message_id, phone, text))
    # The customer wrote to us; these are replies, so consent for proactive messages does not apply.
    for m in bot_messages:
        body = routing.render(m) + (f"\n{m.image}" if m.image else "")
        if body:
            svc.sender.send(phone, body, author="bot", ignore_opt_out=True)
    offered = next((m.buttons for m in reversed(bot_messages) if m.buttons), ())
    routing.remember_buttons(svc.redis, phone, offered, cs.buttons_ttl)
    state = svc.conversations.state(phone)
    if state != "bot" and svc.escalations.mark_waiting_notice(phone):
        svc.sender.send(phone, routing.waiting_note(svc.clock.now(), cs, state), author="system", ignore_opt_out=True)
    return "answered"


def hand_off(svc: WhatsAppDeps, cs: ChannelSettings, phone: str, error: str) -> str:
    escalation, _ = svc.escalations.open(OpenEscalation(
        phone, reason="general", note=f"The assistant could not answer the customer's last message ({error[:200]})."))
    now = svc.clock.now()
    svc.escalations.mark_waiting_notice(phone, now)
    svc.sender.send(phone, f"{routing.ASSISTANT_DOWN}, {routing.expected_wait(now, cs)}.", author="system",
                    ignore_opt_out=True)
    return f"escalated:{escalation.id}"


def check_waiting_escalations(svc: WhatsAppDeps) -> int:
    """Tell customers nobody has picked up within AGENT_WAIT_MINUTES when a person will answer.

    Once per escalation; the escalation stays open. Returns how many customers were told.
    """
    cs = svc.channel
    now = svc.clock.now()
    told = 0
    for escalation_id, phone in svc.escalations.overdue("whatsapp", timedelta(minutes=cs.agent_wait_minutes), now):
        if not svc.escalations.mark_no_agent_notice(escalation_id, now):
            continue
        result = svc.sender.send(phone, routing.no_agent_note(now, cs), author="system", ignore_opt_out=True)
        log.info("no-agent notice for escalation %s: %s", escalation_id, result.status)
        told += 1
    return told

