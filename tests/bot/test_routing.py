"""Channel logic and TwiML builders as pure functions: no app, no network."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from bot import routing, twiml
from bot.rasa_client import BotMessage
from bot.routing import ChannelSettings, Incoming

IST = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize("text,expected", [
    ("STOP", True), ("stop", True), ("Stop.", True), (" UNSUBSCRIBE ", True), ("stopall", True),
    ("END", True), ("quit", True), ("START", False), ("unstop", False), ("Start!", False),
    ("cancel", None), ("CANCEL", None), ("please stop", None), ("stop my order", None), ("yes", None),
    ("", None), ("1", None),
])
def test_consent_keywords_are_exact_single_words(text, expected):
    assert routing.consent_change(text) is expected


def incoming(text="", payload=None, button_text=None):
    return Incoming("+919000000002", text, "SM1", None, None, (), payload, button_text)


OFFERED = [{"title": "Yes, cancel it", "payload": "/affirm"}, {"title": "No, keep it", "payload": "/deny"}]


@pytest.mark.parametrize("msg,expected", [
    (incoming("1"), "/affirm"), (incoming("2."), "/deny"), (incoming("3"), "3"), (incoming("0"), "0"),
    (incoming("no, keep it"), "/deny"), (incoming("where is my order"), "where is my order"),
    (incoming("Yes", payload="/affirm"), "/affirm"),
    (incoming("Track", payload="order_status", button_text="Track"), "/order_status"),
    (incoming("See offers", payload="PROMO_1", button_text="See offers"), "See offers"),
])
def test_text_for_bot_maps_buttons(msg, expected):
    assert routing.text_for_bot(msg, OFFERED) == expected


def test_render_numbers_buttons():
    text = routing.render(BotMessage("Cancel OL-100231?", tuple(OFFERED)))
    assert text == "Cancel OL-100231?\n\n1. Yes, cancel it\n2. No, keep it\n\nReply with a number."
    assert routing.render(BotMessage("plain")) == "plain"


@pytest.mark.parametrize("hour,expected", [
    (11, "usually within 10 minutes"), (9, "usually within 10 minutes"),
    (7, "after 09:00 today (our team works 09:00–21:00 IST)"),
    (23, "after 09:00 tomorrow (our team works 09:00–21:00 IST)"),
    (21, "after 09:00 tomorrow (our team works 09:00–21:00 IST)"),
])
def test_expected_wait_follows_business_hours(hour, expected):
    assert routing.expected_wait(datetime(2026, 11, 28, hour, 0, tzinfo=IST), ChannelSettings()) == expected


def test_no_agent_note_is_honest_about_hours():
    cs = ChannelSettings()
    assert "as soon as one is free" in routing.no_agent_note(datetime(2026, 11, 28, 12, tzinfo=IST), cs)
    late = routing.no_agent_note(datetime(2026, 11, 28, 22, tzinfo=IST), cs)
    assert "09:00–21:00 IST" in late and late.endswith("after 09:00 tomorrow.")


def test_channel_settings_come_from_settings_with_defaults():
    cs = ChannelSettings.from_settings(SimpleNamespace(rasa_timeout=2.5))
    assert (cs.rasa_timeout, cs.agent_wait_minutes, cs.rasa_retry_timeout) == (2.5, 10, 30.0)
    assert ChannelSettings.from_settings(SimpleNamespace(agent_wait_minutes=3)).agent_wait_minutes == 3


def test_media_of_reads_twilio_fields():
    form = {"NumMedia": "3", "MediaUrl0": "https://a/1", "MediaContentType0": "image/jpeg",
            "MediaUrl1": "file:///etc/passwd", "MediaContentType1": "text/plain"}
    assert routing.media_of(form) == ({"url": "https://a/1", "content_type": "image/jpeg"},)
    assert routing.media_of({"NumMedia": "-4"}) == () and routing.media_of({"NumMedia": "x"}) == ()


def test_twiml_builders():
    root = ET.fromstring(twiml.messages([("one", None), ("", None), ("two", "https://img/x.png")]))
    assert root.tag == "Response" and [m.tag for m in root] == ["Message", "Message"]
    assert root[0].text == "one"
    assert root[1].text == "two" and root[1].find("Media").text == "https://img/x.png"
    assert list(ET.fromstring(twiml.empty())) == []
    assert ET.fromstring(twiml.message("a & <b>"))[0].text == "a & <b>"


def test_xml_helper_sets_content_type():
    resp = twiml.xml(twiml.empty())
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
