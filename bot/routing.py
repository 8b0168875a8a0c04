"""WhatsApp channel logic that is not HTTP: consent words, buttons, who hears a message, notices.

The web view (bot/whatsapp.py) and the background jobs (bot/jobs.py) share these functions,
so an answer reads the same whether it goes out inline as TwiML or later through the sender.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Iterable, Optional

import redis
from sqlalchemy import select

from edge.text import MAX_TEXT, clean_text  # noqa: F401  (the channel's field cleaner)
from orderline.hours import TeamHours
from orderline.ports import BotMessage
from orderline.models import Conversation, Customer

log = logging.getLogger(__name__)

# WhatsApp practice: exact single keywords only. "cancel" is deliberately absent: customers
# say it about orders ("cancel" is the cancel_order intent), not about messages.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
# Template quick-reply payloads that name an intent of the assistant (domain/) go to Rasa as
# `/intent`; any other payload is sent as the button's visible text, which the NLU understands.
BUTTON_INTENTS = frozenset({"order_status", "change_address", "reschedule_delivery", "payment_query",
                            "refund_status", "cancel_order", "return_request", "human_handoff", "complaint",
                            "affirm", "deny"})

HOLDING = "Thanks — checking that for you, one moment…"
APOLOGY = "Sorry, something went wrong on our side. Please send your message again in a minute."
OPTED_OUT = ("You've unsubscribed from Orderline WhatsApp updates. We'll still reply when you message us. "
             "Send START to subscribe again.")
OPTED_IN = "You're subscribed to Orderline WhatsApp updates again. Send STOP at any time to unsubscribe."
ASSISTANT_DOWN = ("Sorry, our assistant can't answer right now, so we've passed your message to our support team. "
                  "A person will reply here")
AGENT_ON_IT = "A member of our support team has your conversation and will reply here."


@dataclass(frozen=True)
class ChannelSettings:
    """Tunables of the WhatsApp channel: the timeouts and wait come from Settings (RASA_TIMEOUT,
    RASA_RETRY_TIMEOUT, AGENT_WAIT_MINUTES); the team's hours are the core's; the button TTL is fixed here.
    """

    rasa_timeout: float = 5.0  # seconds to wait inline before answering with HOLDING
    rasa_retry_timeout: float = 30.0  # the background retry of a slow or failed turn
    agent_wait_minutes: int = 10  # AGENT_WAIT_MINUTES: when to tell a waiting customer more
    hours: TeamHours = TeamHours()  # when agents work (the core's rule, shared with the phone line)
    buttons_ttl: int = 24 * 3600  # the 24-hour window; a numbered reply after that is just text

    @classmethod
    def from_settings(cls, settings: Any) -> "ChannelSettings":
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls) if hasattr(settings, f.name)})


@dataclass(frozen=True)
class Incoming:
    """The parts of a Twilio Messaging webhook that the channel uses."""

    phone: str
    text: str
    sid: Optional[str]
    profile_name: Optional[str]
    wa_id: Optional[str]
    media: tuple[dict[str, str], ...]
    button_payload: Optional[str]
    button_text: Optional[str]


def media_of(form: Any) -> tuple[dict[str, str], ...]:
    """MediaUrlN/MediaContentTypeN pairs; Twilio sends at most 10."""
    try:
        count = min(max(int(form.get("NumMedia") or 0), 0), 10)
    except ValueError:
        count = 0
    items = []
    for i in range(count):
        url = clean_text(form.get(f"MediaUrl{i}"), 1000)
        if url.startswith(("https://", "http://")):
            items.append({"url": url, "content_type": clean_text(form.get(f"MediaContentType{i}"), 100)})
    return tuple(items)


def consent_change(text: str) -> Optional[bool]:
    """True for an opt-out keyword, False for opt-in, None for ordinary text."""
    word = text.strip().strip(".!").upper()
    if word in OPT_OUT_WORDS:
        return True
    if word in OPT_IN_WORDS:
        return False
    return None


# -- buttons -----------------------------------------------------------------------
def buttons_key(phone: str) -> str:
    return f"wa:buttons:{phone}"


def remember_buttons(cache: Optional[redis.Redis], phone: str, buttons: Iterable[dict[str, str]], ttl: int) -> None:
    """Keep the last offered buttons so a reply "2" means the second one; no buttons clears them."""
    if cache is None:
        return
    offered = [{"title": b.get("title", ""), "payload": b.get("payload", "")} for b in buttons]
    try:
        if offered:
            cache.set(buttons_key(phone), json.dumps(offered), ex=ttl)
        else:
            cache.delete(buttons_key(phone))
    except redis.RedisError:
        log.warning("could not store offered buttons for %s", phone)


def offered_buttons(cache: Optional[redis.Redis], phone: str) -> list[dict[str, str]]:
    if cache is None:
        return []
    try:
        raw = cache.get(buttons_key(phone))
    except redis.RedisError:
        return []
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def text_for_bot(incoming: Incoming, offered: list[dict[str, str]]) -> str:
    """What Rasa hears: a button's payload when the customer picked one, else their text.

    A payload starting with "/" is a Rasa intent payload (e.g. `/affirm`) and goes as is; a
    template button's payload naming an intent becomes `/intent`.
    A numbered reply or a button's title picks one of the buttons we offered last.
    """
    payload = incoming.button_payload
    if payload:
        if payload.startswith("/"):
            return payload
        if payload in BUTTON_INTENTS:
            return "/" + payload
        return incoming.button_text or payload
    text = incoming.text
    choice = text.strip().rstrip(".)")
    if choice.isdigit() and 1 <= int(choice) <= len(offered):
        return offered[int(choice) - 1].get("payload") or text
    for button in offered:
        if button.get("title") and button["title"].strip().lower() == text.strip().lower():
            return button.get("payload") or text
    if not text and incoming.button_text:
        return incoming.button_text
    return text


def render(message: BotMessage) -> str:
    """One bot message as WhatsApp text; TwiML has no buttons, so they become a numbered list."""
    lines = [message.text] if message.text else []
    if message.buttons:
        lines.append("\n".join(f"{i}. {b['title']}" for i, b in enumerate(message.buttons, 1)))
        lines.append("Reply with a number.")
    return "\n\n".join(lines)


def media_ack(media: Iterable[dict[str, str]]) -> str:
    items = list(media)
    photos = all(m.get("content_type", "").startswith("image/") for m in items)
    what = ("photo" if photos else "file") + ("s" if len(items) > 1 else "")
    return f"Thanks, we've attached your {what} to your conversation; an agent will look at it."


# -- who answers -------------------------------------------------------------------
def language_for(sessions: Any, phone: str) -> str:
    """The customer's stored language, else the conversation's, else English."""
    with sessions() as session:
        customer = session.scalar(select(Customer.language).where(Customer.phone == phone))
        if customer:
            return customer
        conv = session.scalar(select(Conversation.language).where(Conversation.phone == phone))
    return conv or "en"


def metadata(phone: str, language: str) -> dict[str, str]:
    return {"channel": "whatsapp", "phone": phone, "language": language}


def expected_wait(now: datetime, cs: ChannelSettings) -> str:
    """An honest promise for when a person will answer, given the team's hours."""
    hours = cs.hours
    if hours.is_open(now):
        return f"usually within {cs.agent_wait_minutes} minutes"
    day = "today" if hours.next_opening(now).date() == now.date() else "tomorrow"
    return f"after {hours.opens:%H:%M} {day} (our team works {hours.opens:%H:%M}–{hours.closes:%H:%M} IST)"


def waiting_note(now: datetime, cs: ChannelSettings, state: str) -> str:
    if state == "agent":
        return AGENT_ON_IT
    return (f"Thanks, we have your message. A member of our support team will reply here, "
            f"{expected_wait(now, cs)}.")


def no_agent_note(now: datetime, cs: ChannelSettings) -> str:
    hours = cs.hours
    if hours.is_open(now):
        return ("Sorry for the wait: all our agents are busy right now. Your request is still in the queue "
                "and a person will reply here as soon as one is free.")
    return (f"Our support team works {hours.opens:%H:%M}–{hours.closes:%H:%M} IST. Your request is saved "
            f"and a person will reply here {expected_wait(now, cs).split(' (')[0]}.")
