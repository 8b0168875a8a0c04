"""Channel, phone and language: from message metadata into slots.

Every message reaches Rasa with metadata ``{"channel", "phone", "language"}``; a reply to a
proactive message also carries ``order_id`` (the order it was about) and ``message_sid``.
`ActionSessionStart` copies it when a session starts (carrying earlier slots
over), and `ActionSyncConversationContext` runs on every user turn as the
custom mapping of those slots, so a changed channel (a customer who moves from
WhatsApp to a call) or a switch to Hinglish shows in the very next reply.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

import phonenumbers
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

CHANNELS = ("whatsapp", "voice")

# Words that show up in romanised Hindi but (almost) never in English chat.
HINGLISH_MARKERS = frozenset(
    """
    mera meri mere mujhe muje mujhko hai hain hua hue hui tha thi nahi nahin nhi na kya kyu kyun
    kab kaha kahan kaise kitna kitne kitni karna karo karein kijiye kar chahiye chaiye paise paisa
    abhi aaj kal parson wala wali wale hamara humara apna aap aapka aapke bhai bhaiya ji haan han
    theek thik accha acha jaldi bhej bhejo bata batao batana pata bolo kuch koi kyon lekin par
    raha rahi rahe gaya gayi gaye diya kiya kitne dena lena hoga hogi milega milegi kat kata kate
    wapas wapis samaan saman jagah ghar pe mein se ko ka ki ke bhi yeh ye woh wo nhi kyaa
    """.split()
)
# Short words shared with English, counted only next to a clear marker.
_WEAK = frozenset({"na", "par", "se", "ko", "ka", "ki", "ke", "pe", "ye", "wo", "ji", "han"})
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def detect_reply_style(text: Optional[str], previous: Optional[str] = None) -> Optional[str]:
    """'hinglish', 'en', or `previous` when the text gives no signal (e.g. '5678', 'ok').

    Cheap on purpose: a word list, not a model.
    """
    if not text or text.startswith("/"):
        return previous
    if _DEVANAGARI.search(text):
        return "hinglish"
    words = re.findall(r"[a-z]+", text.lower())
    strong = sum(1 for w in words if w in HINGLISH_MARKERS and w not in _WEAK)
    weak = sum(1 for w in words if w in _WEAK)
    # One marker word alone ("kal", "nahi") is common in Indian English too.
    if strong >= 2 or (strong == 1 and (weak >= 1 or 2 <= len(words) <= 4)):
        return "hinglish"
    if len(words) >= 3 and strong == 0:
        return "en"
    return previous


def normalise_phone(raw: Any) -> Optional[str]:
    """E.164 for an Indian or international number; None when it isn't one."""
    if not raw:
        return None
    text = str(raw).strip()
    text = text.split(":", 1)[1] if text.lower().startswith(("whatsapp:", "tel:")) else text
    try:
        number = phonenumbers.parse(text, "IN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def latest_user_metadata(tracker: Tracker) -> Dict[Text, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def request_proof(tracker: Tracker) -> Dict[Text, Optional[Text]]:
    """What the courier gets as proof of the customer's request: their words and the message SID."""
    return {"customer_words": (tracker.latest_message or {}).get("text"),
            "message_sid": latest_user_metadata(tracker).get("message_sid")}


def replied_about(tracker: Tracker, metadata: Dict[Text, Any]) -> Optional[Text]:
    """The order a reply to a proactive message is about, unless the customer named one.

    Goes into the `order_id` slot, so the usual ownership check still applies.
    """
    ref = metadata.get("order_id")
    if not ref or ref == tracker.get_slot("active_order_id"):
        return None
    entities = (tracker.latest_message or {}).get("entities") or []
    if any(e.get("entity") == "order_id" for e in entities):
        return None
    return str(ref)


def context_slots(tracker: Tracker, metadata: Dict[Text, Any]) -> List[EventType]:
    """SlotSets for channel/phone/language/reply_style (and a replied-about order) that differ from the tracker."""
    wanted: Dict[Text, Any] = {}
    channel = str(metadata.get("channel") or "").lower()
    if channel in CHANNELS:
        wanted["channel"] = channel
    phone = normalise_phone(metadata.get("phone"))
    if phone:
        wanted["phone"] = phone
    language = str(metadata.get("language") or "").lower()
    if language in ("en", "hi"):
        wanted["language"] = language

    previous_style = tracker.get_slot("reply_style")
    if previous_style is None:
        pref = wanted.get("language") or tracker.get_slot("language")
        previous_style = "hinglish" if pref == "hi" else "en"
    text = (tracker.latest_message or {}).get("text")
    wanted["reply_style"] = detect_reply_style(text, previous_style) or "en"
    about = replied_about(tracker, metadata)
    if about:
        wanted["order_id"] = about

    return [SlotSet(k, v) for k, v in wanted.items() if tracker.get_slot(k) != v]


class ActionSyncConversationContext(Action):
    """Runs on every user turn (custom slot mapping) to keep context slots fresh."""

    def name(self) -> Text:
        return "action_sync_conversation_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return context_slots(tracker, latest_user_metadata(tracker))


class ActionSessionStart(Action):
    """Starts a session with the caller's channel, phone and language already known."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        # carry_over_slots_to_new_session: keep what we knew, minus per-task state.
        transient = set(TRANSIENT_SLOTS)
        for name, value in tracker.slots.items():
            if value is not None and name not in transient and name != "session_started_metadata":
                events.append(SlotSet(name, value))
        metadata = tracker.get_slot("session_started_metadata") or {}
        carried = {e["name"]: e["value"] for e in events if isinstance(e, dict) and e.get("event") == "slot"}
        events.extend(context_slots(_SlotView(tracker, carried), metadata))
        events.append(ActionExecuted("action_listen"))
        return events


# Slots describing an unfinished step; a new session starts without them.
TRANSIENT_SLOTS = (
    "awaiting", "pending_action", "pending_order_id", "order_choices", "order_id",
    "phone_last4", "pincode", "handoff_reason", "handoff_note", "address_mode",
    "address_line1", "address_line2", "address_city", "address_pincode", "address_confirmed",
    "delivery_date", "delivery_slot", "reschedule_mode", "return_reason", "requested_slot", "question_misses",
    "code_order_ids",
)


class _SlotView:
    """Just enough of a Tracker for `context_slots` at session start."""

    def __init__(self, tracker: Tracker, slots: Dict[Text, Any]) -> None:
        self._slots = slots
        self.latest_message = {}

    def get_slot(self, name: Text) -> Any:
        return self._slots.get(name)
