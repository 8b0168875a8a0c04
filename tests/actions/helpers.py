"""Build trackers, run actions, and check every message renders from the domain."""
from __future__ import annotations

import asyncio
import re
import string
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ASHA = "+919812345678"      # owns OL-100234 (in transit), OL-100235 (packed), OL-100200 (delivered)
RAVI = "+919876500001"      # owns OL-100301 (delivery failed, pincode 560034)
MEERA = "+919876500002"     # owns OL-100401 (cancelled, refund processing)
KABIR = "+919876500003"     # owns OL-100501 (in transit, late)
NEHA = "+919876500004"      # owns OL-100601 (placed, prepaid payment pending)
PRIYA = "+919876500005"      # owns OL-100701 (confirmed, prepaid), OL-100702 (delivered 12 days ago)
ARJUN = "+919876500006"      # owns OL-100801 (out for delivery today), for rescheduling
DEV = "+919876500007"        # owns OL-100901 (in transit, late), OL-100902 (in transit),
                             # OL-100903 (delivered 2 days ago)
STRANGER = "+919000000000"  # owns nothing

_DEFAULT_SLOTS = {"channel": "whatsapp", "reply_style": "en", "verification_attempts": 0.0}


def tracker(
    text: str = "",
    intent: str = "inform",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    phone: Optional[str] = ASHA,
    channel: str = "whatsapp",
    active_loop: Optional[str] = None,
    history: Optional[List[Dict[str, Any]]] = None,
    confidence: float = 0.95,
    extracted: Optional[Dict[str, Any]] = None,
    metadata: Optional[Dict[str, Any]] = None,
) -> Tracker:
    """A tracker whose latest user message is `text`, classified as `intent`.

    `extracted` slots are also set after the message, as Rasa's slot extraction
    does, so a form validation action sees them as slots to validate. `metadata` adds to
    what the channel sends with the message (e.g. the order a proactive message was about).
    """
    all_slots = {**_DEFAULT_SLOTS, "phone": phone, "channel": channel, **(slots or {}), **(extracted or {})}
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "entities": entities or []}
    user = {"event": "user", "text": text, "parse_data": parse,
            "metadata": {"channel": channel, "phone": phone, "language": "en", **(metadata or {})}}
    events = list(history or []) + [user] + [
        {"event": "slot", "name": k, "value": v} for k, v in (extracted or {}).items()]
    return Tracker(
        sender_id="test", slots=all_slots, latest_message=parse, events=events, paused=False,
        followup_action=None, active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run(action, trk: Tracker, domain: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Runs `action` on `trk`; returns (events, messages) after checking the messages render."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, domain))
    for message in dispatcher.messages:
        for channel in ("whatsapp", "voice"):
            for style in ("en", "hinglish"):
                render(message, domain, channel, style)
    return events, dispatcher.messages


def render(message: Dict[str, Any], domain: Dict[str, Any], channel: str, style: str) -> str:
    """The text Rasa would send, picking the variation the way Rasa's NLG does."""
    name = message.get("response")
    if not name:
        return message.get("text") or ""
    variants = domain["responses"][name]
    slots = {"channel": channel, "reply_style": style}
    chosen = [v for v in variants if v.get("condition") and
              all(slots.get(c["name"]) == c["value"] for c in v["condition"])]
    variant = (chosen or [v for v in variants if not v.get("condition")])[0]
    text = variant["text"]
    fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    missing = fields - set(message)
    assert not missing, f"{name} ({channel}/{style}) needs {missing}, got {sorted(message)}"
    rendered = text.format(**{k: message[k] for k in fields})
    if channel == "voice":
        assert "http" not in rendered, f"{name}: link on voice"
        assert not re.search(r"[\U0001F300-\U0001FAFF]", rendered), f"{name}: emoji on voice"
    return rendered


def responses(messages: List[Dict[str, Any]]) -> List[str]:
    return [m.get("response") for m in messages]


def slot(events: List[Dict[str, Any]], name: str, default: Any = "<unset>") -> Any:
    """The last value `events` set for slot `name`."""
    value = default
    for e in events:
        if e.get("event") == "slot" and e.get("name") == name:
            value = e.get("value")
    return value


def paused(events: List[Dict[str, Any]]) -> bool:
    return any(e.get("event") == "pause" for e in events)


def open_escalations(client) -> List[Dict[str, Any]]:
    """The order API's open escalations, as the agent console lists them."""
    import requests

    resp = requests.get(client.base_url + "/escalations", params={"status": "open"},
                        headers={"Authorization": f"Bearer {client.token}"}, timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.json()["escalations"]
