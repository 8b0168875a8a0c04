"""What an agent can do to a conversation. Each action returns an Outcome; views only render it.

The rule "one agent cannot act on another's claimed conversation unless they take it over"
is enforced by EscalationService.claim/resolve (atomically, in the DB); a reply claims the
escalation first, so it is refused the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from sqlalchemy import select

from console.agents import AgentUser
from orderline.errors import ClaimConflict, EscalationNotFound, RuleViolation
from orderline.escalations import ACTIVE, EscalationRecord
from edge.jsonapi import plain
from orderline.models import Conversation, Escalation
from orderline.phones import normalise_phone
from orderline.ports import Template
from console.deps import ConsoleDeps

MAX_TEXT = 1600  # Twilio's limit for one WhatsApp body
MAX_TEMPLATE_TEXT = 1000  # a template variable's limit, with room for the template's own words

HANDED_BACK_TEXT = ("You're back with our assistant. Ask me anything about your order, "
                    "or type 'agent' whenever you want a person again.")
RESOLVED_TEXT = ("Our team has marked your request as resolved. If you need anything else, "
                 "just reply here and our assistant will help.")


@dataclass(frozen=True)
class Outcome:
    ok: bool
    result: str  # claimed, taken_over, conflict, not_found, not_allowed, invalid, sent, outbox, refused, ...
    message: str
    escalation: Optional[EscalationRecord] = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "result": self.result, "message": self.message, "escalation": plain(self.escalation),
                **self.details}


def claim(svc: ConsoleDeps, agent: AgentUser, esc_id: int, takeover: bool = False) -> Outcome:
    try:
        before = svc.escalations.get(esc_id)
        esc = svc.escalations.claim(esc_id, agent.id, takeover=takeover)
    except EscalationNotFound:
        return Outcome(False, "not_found", f"There is no escalation {esc_id}.")
    except ClaimConflict as exc:
        return Outcome(False, "conflict", f"{exc.reason.capitalize()}. Take it over to act on it.",
                       svc.escalations.get(esc_id), {"holder": before.agent})
    except RuleViolation as exc:
        return Outcome(False, "not_allowed", exc.reason.capitalize() + ".", svc.escalations.get(esc_id))
    if before.status == "claimed" and before.agent not in (None, agent.name):
        return Outcome(True, "taken_over", f"You took this conversation over from {before.agent}.", esc)
    return Outcome(True, "claimed", "You have claimed this conversation.", esc)


def reply(svc: ConsoleDeps, agent: AgentUser, phone: str, text: str) -> Outcome:
    """Send the agent's text over WhatsApp; the sender decides (consent, 24-hour window).

    Outside the window the text goes in the approved agent-reply template when one is
    configured (TWILIO_TEMPLATE_AGENT_REPLY); without one the sender refuses it.
    """
    text = (text or "").strip()
    if not text:
        return Outcome(False, "invalid", "Write a reply first.")
    if len(text) > MAX_TEXT:
        return Outcome(False, "invalid", f"A WhatsApp reply can have at most {MAX_TEXT} characters.")
    esc = active_escalation(svc, phone)
    if esc is None:
        return Outcome(False, "not_allowed", "The bot has this conversation; there is no open escalation to reply on.")
    template = reply_template(svc, esc, text)
    as_template = template is not None and not svc.conversations.window_open(phone)
    if as_template and len(template.variables["3"]) > MAX_TEMPLATE_TEXT:  # type: ignore[union-attr]
        return Outcome(False, "invalid", f"The 24-hour window is closed, so the reply goes in the approved template, "
                                         f"which takes at most {MAX_TEMPLATE_TEXT} characters.")
    claimed = claim(svc, agent, esc.id)
    if not claimed.ok:
        return claimed
    result = svc.sender.send(phone, text, author=agent.author, template=template)
    if result.status in ("sent", "outbox", "retrying"):
        svc.escalations.mark_first_reply(esc.id)
    messages = {
        "sent": ("Sent over WhatsApp in the approved template (the 24-hour window is closed)." if as_template
                 else "Sent over WhatsApp."),
        "outbox": "Not sent: Twilio is not configured, so the reply went to the local outbox.",
        "refused": f"Not sent: {result.reason}.",
        "retrying": f"Twilio did not take it yet ({result.reason}); it will be retried automatically.",
        "failed": f"Not sent: Twilio refused it ({result.reason}).",
    }
    return Outcome(result.ok, result.status, messages.get(result.status, f"Send status: {result.status}."),
                   svc.escalations.get(esc.id), {"message_id": result.message_id, "sid": result.sid,
                                                    "template": as_template,
                                                    "reason": result.reason})


def reply_template(svc: ConsoleDeps, esc: dict[str, Any], text: str) -> Optional[Template]:
    """The agent-reply template for `text` (used only outside the window), or None when none is configured.

    Variables: 1 the customer's first name, 2 the escalation's order id, 3 the reply on one
    line (WhatsApp refuses line breaks in a template variable).
    """
    if not svc.reply_template:
        return None
    first = (esc.get("customer_name") or "").split()
    return Template(svc.reply_template, {"1": first[0] if first else "there", "2": esc.get("order_id") or "",
                                         "3": " ".join(text.split())})


def note(svc: ConsoleDeps, agent: AgentUser, phone: str, text: str) -> Outcome:
    """An internal note in the transcript; the customer never sees it."""
    text = (text or "").strip()
    if not text:
        return Outcome(False, "invalid", "Write the note first.")
    if len(text) > 4000:
        return Outcome(False, "invalid", "A note can have at most 4000 characters.")
    esc = active_escalation(svc, phone)
    if esc and esc.status == "claimed" and esc.agent not in (None, agent.name):
        return Outcome(False, "conflict", f"Claimed by {esc.agent}. Take it over to act on it.", esc,
                       {"holder": esc.agent})
    message_id = svc.conversations.record_outbound(phone, "console", agent.author, text, status="note",
                                                   direction="note")
    return Outcome(True, "noted", "Note added (only agents see it).", esc, {"message_id": message_id})


def resolve(svc: ConsoleDeps, agent: AgentUser, esc_id: int, resolution: str = "resolved") -> Outcome:
    """Close the escalation; the bot owns the conversation again, in the app and in Rasa."""
    try:
        before = svc.escalations.get(esc_id)
        if before.status == "resolved":
            return Outcome(False, "not_allowed", "This escalation is already resolved.", before)
        esc, rasa_resumed = svc.handback.resolve(esc_id, agent.id, resolution)
    except EscalationNotFound:
        return Outcome(False, "not_found", f"There is no escalation {esc_id}.")
    except ClaimConflict as exc:
        return Outcome(False, "conflict", f"{exc.reason.capitalize()}.", svc.escalations.get(esc_id),
                       {"holder": before.agent})
    phone = esc.phone
    told = svc.sender.send(phone, HANDED_BACK_TEXT if resolution == "handed_back" else RESOLVED_TEXT,
                           author="system")
    done = "Handed back to the bot." if resolution == "handed_back" else "Resolved; the bot has the conversation again."
    told_text = {"sent": "The customer was told.",
                 "outbox": "The notice to the customer went to the local outbox."}.get(
        told.status, f"The customer was not told: {told.reason or told.status}.")
    rasa_text = "" if rasa_resumed else (" Rasa could not be reached to un-pause; it is retried in the background, "
                                         "and before the customer's next message.")
    return Outcome(True, resolution, f"{done} {told_text}{rasa_text}", esc,
                   {"rasa_resumed": rasa_resumed, "customer_notice": told.status})


def active_escalation(svc: ConsoleDeps, phone: str) -> Optional[EscalationRecord]:
    """The open or claimed escalation of this phone, if any (one session: nesting two deadlocks SQLite)."""
    return _find_escalation(svc, phone, active_only=True)


def latest_escalation(svc: ConsoleDeps, phone: str) -> Optional[EscalationRecord]:
    """The active escalation for this phone, else its most recent one (for context)."""
    return _find_escalation(svc, phone, active_only=True) or _find_escalation(svc, phone, active_only=False)


def _find_escalation(svc: ConsoleDeps, phone: str, active_only: bool) -> Optional[EscalationRecord]:
    stmt = (select(Escalation.id).join(Conversation, Escalation.conversation_id == Conversation.id)
            .where(Conversation.phone == normalise_phone(phone)).order_by(Escalation.id.desc()).limit(1))
    if active_only:
        stmt = stmt.where(Escalation.status.in_(ACTIVE))
    with svc.sessions() as session:
        esc_id = session.scalar(stmt)
    return svc.escalations.get(esc_id) if esc_id else None
