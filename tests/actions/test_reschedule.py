"""Rescheduling: dates in customers' words, and only what the service answered."""
import asyncio
import sqlite3
from datetime import date, timedelta

import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa: make test-rasa)

from actions.dates import friendly_date, parse_date, today_ist  # noqa: E402
from actions.reschedule import ActionStartReschedule, ActionSubmitReschedule, ValidateRescheduleForm  # noqa: E402
from helpers import ARJUN, ASHA, RAVI, responses, run, slot, tracker  # noqa: E402

TODAY = date(2026, 11, 27)  # a Friday


@pytest.mark.parametrize("text,expected", [
    ("today", TODAY), ("tomorrow", TODAY + timedelta(1)), ("kal", TODAY + timedelta(1)),
    ("parson", TODAY + timedelta(2)), ("day after tomorrow", TODAY + timedelta(2)),
    ("Saturday", date(2026, 11, 28)), ("next Monday", date(2026, 11, 30)), ("25th", date(2026, 12, 25)),
    ("kal shaam", TODAY + timedelta(1)), ("परसों", TODAY + timedelta(2)), ("5 Dec", date(2026, 12, 5)),
    ("2026-12-01", date(2026, 12, 1)), ("whenever", None),
])
def test_dates_in_customers_words(text, expected):
    assert parse_date(text, TODAY) == expected


def test_date_and_slot_in_the_first_message_book_straight_away(client, domain):
    trk = tracker("please deliver kal evening", "reschedule_delivery",
                  [{"entity": "date", "value": "tomorrow"}, {"entity": "slot", "value": "evening"}],
                  slots={"delivery_date": "tomorrow", "delivery_slot": "evening"}, phone=ARJUN)
    events, messages = run(ActionStartReschedule(client), trk, domain)
    assert responses(messages) == ["utter_rescheduled"]
    tomorrow = today_ist() + timedelta(days=1)
    assert messages[0]["date"].startswith("tomorrow") and messages[0]["slot"] == "evening"
    order = asyncio.run(client.get_order("OL-100801")).order
    assert order.shipment.rescheduled_for == tomorrow.isoformat()
    assert order.shipment.rescheduled_slot == "evening"


def test_missing_date_opens_the_form(client, domain):
    trk = tracker("I want to change my delivery date", "reschedule_delivery", phone=ARJUN)
    events, messages = run(ActionStartReschedule(client), trk, domain)
    assert responses(messages) == ["utter_reschedule_start"]
    assert {"event": "active_loop", "name": "reschedule_form", "timestamp": None} in events
    assert slot(events, "delivery_date") is None


def test_form_turns_words_into_a_date_and_slot(domain):
    trk = tracker("parson subah", slots={"requested_slot": "delivery_date", "reschedule_mode": "reschedule"},
                  extracted={"delivery_date": "parson subah"}, active_loop="reschedule_form")
    events, messages = run(ValidateRescheduleForm(), trk, domain)
    assert slot(events, "delivery_date") == (today_ist() + timedelta(days=2)).isoformat()
    assert slot(events, "delivery_slot") == "morning"


def test_date_outside_the_window_is_explained_and_asked_again(client, domain):
    far = (today_ist() + timedelta(days=10)).isoformat()
    trk = tracker("evening", slots={"active_order_id": "OL-100801", "delivery_date": far,
                                    "delivery_slot": "evening", "reschedule_mode": "reschedule"}, phone=ARJUN)
    events, messages = run(ActionSubmitReschedule(client), trk, domain)
    assert responses(messages) == ["utter_reschedule_invalid_date"]
    assert messages[0]["first"].startswith("tomorrow")
    assert slot(events, "delivery_date") is None
    assert {"event": "active_loop", "name": "reschedule_form", "timestamp": None} in events


def test_not_shipped_order_cannot_be_rescheduled(client, domain):
    trk = tracker("deliver OL-100235 on saturday", "reschedule_delivery",
                  [{"entity": "order_id", "value": "OL-100235"}], slots={"order_id": "OL-100235"}, phone=ASHA)
    events, messages = run(ActionStartReschedule(client), trk, domain)
    assert responses(messages) == ["utter_reschedule_refused"]
    assert slot(events, "awaiting") == "handoff_offer"


def test_failed_delivery_books_a_courier_reattempt(client, domain):
    # NLU may tag only "tomorrow" inside "day after tomorrow": the whole sentence wins.
    trk = tracker("please deliver it day after tomorrow", "reschedule_delivery",
                  [{"entity": "date", "value": "tomorrow"}], slots={"delivery_date": "tomorrow"}, phone=RAVI)
    events, messages = run(ActionStartReschedule(client), trk, domain)
    assert responses(messages) == ["utter_reattempt_booked"]
    assert messages[0]["date"] == friendly_date(today_ist() + timedelta(days=2))


def test_a_reattempt_asked_for_in_reply_to_the_ndr_message_carries_the_proof(client, domain, order_db):
    """The courier gets the customer's words and the WhatsApp message SID with the request."""
    trk = tracker("kal bhej do please", "inform", [{"entity": "date", "value": "kal"}],
                  slots={"delivery_date": "kal", "active_order_id": "OL-100301"}, phone=RAVI,
                  metadata={"order_id": "OL-100301", "message_sid": "SMproof0001", "in_reply_to": "delivery_failed"})
    _, messages = run(ActionStartReschedule(client), trk, domain)
    assert responses(messages) == ["utter_reattempt_booked"]
    with sqlite3.connect(order_db) as db:
        row = db.execute(
            "SELECT n.action, n.requested_date, n.message_sid, n.customer_words FROM ndr_actions n "
            "JOIN orders o ON o.id = n.order_pk WHERE o.order_id = 'OL-100301' AND n.message_sid = 'SMproof0001'"
        ).fetchone()
    assert row == ("reattempt", (today_ist() + timedelta(days=1)).isoformat(), "SMproof0001", "kal bhej do please")
