"""Metadata -> slots, Hinglish detection, and the order-id spellings customers use."""
import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa: make test-rasa)

from rasa_sdk import Tracker  # noqa: E402

from actions.context import ActionSessionStart, ActionSyncConversationContext, detect_reply_style, normalise_phone  # noqa: E402,E501
from actions.formatting import normalise_order_id, spell_out  # noqa: E402
from helpers import run, slot, tracker  # noqa: E402


@pytest.mark.parametrize("text,expected", [
    ("OL-100234", "OL-100234"), ("100234", "OL-100234"), ("ol100234", "OL-100234"),
    ("order no 100234", "OL-100234"), ("#100234", "OL-100234"), ("hello", None),
])
def test_order_id_spellings(text, expected):
    assert normalise_order_id(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("#2041", "#2041"), ("where is # 2041", "#2041"), ("olb-7001", "OLB-7001"), ("WC-1187 kab aayega", "WC-1187"),
    ("order 2041", "2041"), ("EK998877", "EK998877"), ("#SH1032", "#SH1032"), ("the 2nd one", None), ("12", None),
])
def test_store_numbers_and_other_references_are_kept_as_written(text, expected):
    """Any reference with digits, with a prefix or #, goes to the order service as written (it resolves it)."""
    assert normalise_order_id(text) == expected


def test_ids_are_read_digit_by_digit():
    assert spell_out("OL-100234") == "O L 1 0 0 2 3 4"


@pytest.mark.parametrize("text,previous,expected", [
    ("mera order kab aayega", "en", "hinglish"),
    ("paise kat gaye hai", "en", "hinglish"),
    ("refund kab milega?", "en", "hinglish"),
    ("where is my order please", "hinglish", "en"),
    ("5678", "hinglish", "hinglish"),
    ("ok", "en", "en"),
    ("kal", "en", "en"),
    ("nahi chahiye", "en", "hinglish"),
    ("मेरा ऑर्डर कहाँ है", "en", "hinglish"),
])
def test_hinglish_detection(text, previous, expected):
    assert detect_reply_style(text, previous) == expected


@pytest.mark.parametrize("raw,expected", [
    ("+919812345678", "+919812345678"), ("whatsapp:+919812345678", "+919812345678"),
    ("9812345678", "+919812345678"), ("not a phone", None),
])
def test_phone_normalisation(raw, expected):
    assert normalise_phone(raw) == expected


def test_every_turn_copies_metadata_and_detects_style(domain):
    trk = tracker("mera order kab aayega", "order_status", phone="+919812345678", channel="voice",
                  slots={"channel": "whatsapp", "phone": None, "reply_style": "en"})
    events, _ = run(ActionSyncConversationContext(), trk, domain)
    assert slot(events, "channel") == "voice"
    assert slot(events, "phone") == "+919812345678"
    assert slot(events, "language") == "en"
    assert slot(events, "reply_style") == "hinglish"


def test_a_reply_to_a_proactive_message_is_about_that_order(domain):
    about = {"order_id": "OL-100301", "message_sid": "SM1", "in_reply_to": "delivery_failed"}
    trk = tracker("where is it now", "order_status", phone="+919876500001", metadata=about)
    events, _ = run(ActionSyncConversationContext(), trk, domain)
    assert slot(events, "order_id") == "OL-100301"


def test_the_order_a_customer_names_beats_the_replied_about_one(domain):
    about = {"order_id": "OL-100301"}
    named = tracker("what about OL-100234", "order_status", [{"entity": "order_id", "value": "OL-100234"}],
                    metadata=about)
    events, _ = run(ActionSyncConversationContext(), named, domain)
    assert slot(events, "order_id") == "<unset>"
    settled = tracker("ok", "affirm", slots={"active_order_id": "OL-100301"}, metadata=about)
    events, _ = run(ActionSyncConversationContext(), settled, domain)
    assert slot(events, "order_id") == "<unset>"


def test_session_start_uses_session_metadata_and_carries_slots_over(domain):
    trk = Tracker(
        sender_id="s1",
        slots={"session_started_metadata": {"channel": "voice", "phone": "+91 98765 00001", "language": "hi"},
               "verified_order_ids": ["OL-100301"], "awaiting": "ownership", "channel": "whatsapp"},
        latest_message={}, events=[], paused=False, followup_action=None, active_loop={},
        latest_action_name=None)
    events, _ = run(ActionSessionStart(), trk, domain)
    assert events[0]["event"] == "session_started"
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")
    assert slot(events, "channel") == "voice"
    assert slot(events, "phone") == "+919876500001"
    assert slot(events, "language") == "hi"
    assert slot(events, "reply_style") == "hinglish"
    assert slot(events, "verified_order_ids") == ["OL-100301"]
    assert slot(events, "awaiting") == "<unset>"  # an unfinished question does not survive a new session
