"""Speakable text and the TwiML builders, without a call."""
from __future__ import annotations

from datetime import date

from ivr import twiml
from ivr.speech import payment_sentences, say_date, speakable, status_sentence
from tests.support.ivr_caller import validate

TODAY = date(2026, 11, 28)  # a Saturday


def test_speakable_drops_links_emoji_markdown_and_spells_ids():
    text = speakable("Your order *OL-100234* is on its way 🚚✨! Track it: https://track.example/x?awb=1\n"
                     "AWB 7700007919, ₹1,299 to pay 🙏")
    assert "http" not in text and "🚚" not in text and "*" not in text
    assert "O L 1 0 0 2 3 4" in text and "7 7 0 0 0 0 7 9 1 9" in text and "1299 rupees" in text


def test_dates_are_spoken_in_full_with_near_words():
    assert say_date("2026-11-29", TODAY, "en") == "tomorrow, Sunday 29 November"
    assert say_date(date(2026, 12, 1), TODAY, "en") == "Tuesday 1 December"
    assert say_date("2026-11-29", TODAY, "hi") == "कल, रविवार 29 नवंबर"


def order(**kw):
    base = {"order_id": "OL-100201", "status": "in_transit", "amount": 1299.0,
            "payment": {"method": "cod", "status": "pending", "refund": None},
            "shipment": {"courier": "Delhivery", "expected_date": "2026-11-29", "promised_date": "2026-11-29",
                         "rescheduled_for": None, "is_delayed": False, "ndr_reason": None, "delivered_at": None}}
    base.update(kw)
    return base


def test_status_sentence_says_state_date_and_courier():
    assert status_sentence(order(), TODAY, "en") == \
        "Order O L 1 0 0 2 0 1 is on its way with Delhivery, arriving tomorrow, Sunday 29 November."


def test_payments_cod_due():
    assert "1299 rupees is to be paid on delivery" in payment_sentences(order(), TODAY, "en")


def test_builders_make_valid_twiml_in_both_languages():
    for lang in ("en", "hi"):
        validate(twiml.menu(lang, ["Hello"], "Press 1"))
        validate(twiml.keypad(lang, ["Hello"], "Enter", "/twilio/voice/order"))
        validate(twiml.queue(lang, ["Wait"], "support"))
        validate(twiml.hold(lang, "You are next"), wait_url=True)
    validate(twiml.agent_bridge(["Connecting"], "support", "/twilio/voice/agent/next"))


def test_long_replies_are_split_under_the_say_limit():
    doc = twiml.menu("en", ["word. " * 2000], "Press 1")
    validate(doc)
    assert twiml.fits(doc)
