"""Order status wording per channel: dates, courier, AWB, link, delays, failed attempts."""
import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa: make test-rasa)

from actions.status import ActionOrderStatus  # noqa: E402
from helpers import ARJUN, KABIR, RAVI, render, run, tracker  # noqa: E402


def _status(client, domain, order_id, phone, channel="whatsapp", style="en"):
    trk = tracker(f"status of {order_id}", "order_status", [{"entity": "order_id", "value": order_id}],
                  slots={"order_id": order_id, "reply_style": style}, phone=phone, channel=channel)
    return run(ActionOrderStatus(client), trk, domain)


def test_in_transit_on_whatsapp_has_date_courier_awb_and_link(client, domain):
    _, messages = _status(client, domain, "OL-100234", "+919812345678")
    m = messages[0]
    assert m["response"] == "utter_order_in_transit"
    assert m["arrival"].startswith("It should reach you by tomorrow, ")
    text = render(m, domain, "whatsapp", "en")
    assert "Delhivery" in text and "1234567890" in text and "https://track.example/1234567890" in text


def test_in_transit_on_voice_spells_the_id_and_has_no_link(client, domain):
    _, messages = _status(client, domain, "OL-100234", "+919812345678", channel="voice")
    m = messages[0]
    assert m["order_ref"] == "O L 1 0 0 2 3 4"
    text = render(m, domain, "voice", "en")
    assert "O L 1 0 0 2 3 4" in text and "http" not in text


def test_late_order_apologises_with_the_new_date(client, domain):
    _, messages = _status(client, domain, "OL-100501", KABIR)
    m = messages[0]
    assert m["response"] == "utter_order_delayed"
    assert m["arrival"].startswith("We promised yesterday, ") and "should now reach you by" in m["arrival"]
    assert render(m, domain, "whatsapp", "en").startswith("Sorry")


def test_failed_attempt_gives_the_reason_and_options(client, domain):
    _, messages = _status(client, domain, "OL-100301", RAVI, style="hinglish")
    m = messages[0]
    assert m["response"] == "utter_delivery_failed"
    assert m["ndr_reason"] == "customer not reachable on phone"
    assert [b["payload"] for b in m["buttons"]] == ["/reschedule_delivery", "/change_address", "/human_handoff"]
    assert "koshish" in render(m, domain, "whatsapp", "hinglish")


@pytest.mark.parametrize("channel", ["whatsapp", "voice"])
@pytest.mark.parametrize("style, today, arriving", [("en", "today", "arriving"), ("hinglish", "aaj", "pahunch jayega")])
def test_out_for_delivery_means_today_even_when_promised_tomorrow(client, domain, channel, style, today, arriving):
    _, messages = _status(client, domain, "OL-100801", ARJUN, channel=channel, style=style)
    m = messages[0]
    assert m["response"] == "utter_order_in_transit"
    text = render(m, domain, channel, style)
    assert today in text and arriving not in text and "tomorrow" not in text and " kal" not in text
