"""One rule for expected dates (actions.dates.expected_date), on a fixed clock, in English and Hinglish:
out for delivery means today, and a date already gone is never phrased as a promise."""
from datetime import date

import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa)

from actions.dates import expected_date  # noqa: E402
from actions.formatting import Ctx  # noqa: E402
from actions.payments import tell_refund  # noqa: E402
from actions.api.orders import Order  # noqa: E402
from helpers import render  # noqa: E402

TODAY = date(2026, 12, 2)          # a Wednesday
YESTERDAY, TOMORROW = "2026-12-01", "2026-12-03"


@pytest.mark.parametrize("style", ["en", "hinglish"])
def test_out_for_delivery_is_today_whatever_the_promise(style):
    said = expected_date("delivery", "out_for_delivery", TOMORROW, style, TODAY, promised=TOMORROW)
    assert "Thu 3 Dec" not in said.sentence and not said.overdue
    assert ("today" if style == "en" else "aaj") in said.sentence


@pytest.mark.parametrize("style, words", [("en", "should reach you by tomorrow, Thu 3 Dec"),
                                          ("hinglish", "kal, Thu 3 Dec tak pahunch jayega")])
def test_a_date_ahead_is_a_promise(style, words):
    said = expected_date("delivery", "in_transit", TOMORROW, style, TODAY, promised=TOMORROW)
    assert words in said.sentence and not said.overdue


@pytest.mark.parametrize("style, late", [("en", "running late"), ("hinglish", "late ho gaya")])
def test_a_delivery_past_its_date_is_late_not_arriving(style, late):
    said = expected_date("delivery", "in_transit", YESTERDAY, style, TODAY, promised=YESTERDAY)
    assert said.overdue and late in said.sentence and "Tue 1 Dec" in said.sentence
    assert "reach you by" not in said.sentence and "pahunch jayega" not in said.sentence


def test_a_late_delivery_with_a_new_date_says_both():
    said = expected_date("delivery", "in_transit", TOMORROW, "en", TODAY, promised=YESTERDAY)
    assert said.sentence == "We promised yesterday, Tue 1 Dec; it should now reach you by tomorrow, Thu 3 Dec."
    assert said.overdue


def test_no_date_at_all_promises_nothing():
    said = expected_date("delivery", "in_transit", None, "en", TODAY)
    assert "by" not in said.sentence and not said.overdue


def test_refund_past_its_date_says_should_have_and_offers_a_check():
    said = expected_date("refund", "processed", YESTERDAY, "en", TODAY)
    assert said.sentence == ("It should have reached your account by yesterday, Tue 1 Dec. If you don't see it, "
                             "banks can take up to 5 working days after that; want me to get someone to check?")
    assert said.overdue
    hinglish = expected_date("refund", "processed", YESTERDAY, "hinglish", TODAY)
    assert hinglish.overdue and "aa jana chahiye tha" in hinglish.sentence and "Tue 1 Dec" in hinglish.sentence


def test_refund_ahead_or_today_is_a_promise_and_completed_has_no_date():
    assert expected_date("refund", "processed", "2026-12-02", "en", TODAY).sentence == \
        "It should reach your account by today, Wed 2 Dec."
    done = expected_date("refund", "completed", YESTERDAY, "en", TODAY)
    assert not done.overdue and "should" not in done.sentence
    assert not expected_date("refund", "failed", YESTERDAY, "en", TODAY).overdue


def _refunded_order(expected_by: str) -> Order:
    return Order.from_json({"order_id": "OL-1", "status": "cancelled", "amount": 499,
                            "customer": {"phone": "+919800000000"},
                            "payment": {"method": "prepaid", "status": "refunded", "reference": "pay_1",
                                        "refund": {"amount": 499, "status": "processed", "reference": "rf_1",
                                                   "expected_by": expected_by}}})


@pytest.mark.parametrize("channel", ["whatsapp", "voice"])
@pytest.mark.parametrize("style", ["en", "hinglish"])
def test_refund_reply_past_its_date_reads_right_and_a_yes_gets_a_person(domain, channel, style):
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = tell_refund(_refunded_order(YESTERDAY), Ctx(channel, style, TODAY), dispatcher)
    text = render(dispatcher.messages[0], domain, channel, style)
    assert "Tue 1 Dec" in text and "should reach your account" not in text and "Expected in your account" not in text
    assert ("should have reached" in text) if style == "en" else ("aa jana chahiye tha" in text)
    assert {e["name"]: e["value"] for e in events if e.get("event") == "slot"}["awaiting"] == "handoff_offer"


def test_refund_reply_ahead_of_its_date_asks_nothing(domain):
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    assert tell_refund(_refunded_order(TOMORROW), Ctx("whatsapp", "en", TODAY), dispatcher) == []
    text = render(dispatcher.messages[0], domain, "whatsapp", "en")
    assert "should reach your account by tomorrow, Thu 3 Dec" in text
