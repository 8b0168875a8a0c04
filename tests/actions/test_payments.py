"""Payments and refunds from the order's records; deducted-but-unconfirmed goes to people."""
import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa: make test-rasa)

from actions.payments import ActionPaymentStatus, ActionRefundStatus  # noqa: E402
from helpers import ASHA, MEERA, NEHA, STRANGER, paused, render, responses, run, tracker  # noqa: E402


def test_refund_status_with_amount_status_and_date(client, domain):
    _, messages = run(ActionRefundStatus(client), tracker("where is my refund", "refund_status", phone=MEERA),
                      domain)
    m = messages[0]
    assert m["response"] == "utter_refund_status"
    assert m["amount"] == "₹1,499" and m["refund_status"] == "being processed" and m["reference"] == "rfnd_100401"
    assert "₹1,499" in render(m, domain, "whatsapp", "en")


def test_refund_status_on_voice_says_rupees(client, domain):
    _, messages = run(ActionRefundStatus(client), tracker("refund kab aayega", "refund_status", phone=MEERA,
                                                          channel="voice", slots={"reply_style": "hinglish"}),
                      domain)
    assert messages[0]["amount"] == "1499 rupees"


def test_cod_amount_to_pay(client, domain):
    trk = tracker("how much to pay for OL-100234", "payment_query", [{"entity": "order_id", "value": "OL-100234"}],
                  slots={"order_id": "OL-100234"}, phone=ASHA)
    _, messages = run(ActionPaymentStatus(client), trk, domain)
    assert responses(messages) == ["utter_cod_due"]
    assert messages[0]["amount"] == "₹998"


def test_money_deducted_order_not_confirmed_goes_to_payments(client, domain):
    trk = tracker("paise kat gaye but order confirm nahi hua", "payment_query", phone=NEHA,
                  slots={"reply_style": "hinglish"})
    events, messages = run(ActionPaymentStatus(client), trk, domain)
    assert responses(messages)[0] == "utter_payment_deducted_unconfirmed"
    assert messages[0]["payment_status"] == "pending"
    assert responses(messages)[-1] in ("utter_handoff_payments", "utter_handoff_failed")
    assert paused(events)


def test_money_deducted_without_any_order_goes_to_payments(client, domain):
    trk = tracker("money got deducted from my account but no order", "payment_query", phone=STRANGER)
    events, messages = run(ActionPaymentStatus(client), trk, domain)
    assert responses(messages)[0] == "utter_payment_deducted_no_order"
    assert paused(events)
