"""Prompts to TwiML: each menu's <Gather> posts where its answer is read, and Twilio would accept it."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr.render import KEYPADS, render
from ivr.session import Menu
from ivr.turn import Ask, Enqueue, Goodbye, Hold
from tests.support.ivr_caller import validate

PATHS = {Menu.ORDER: "/twilio/voice/order", Menu.CONFIRM: "/twilio/voice/order/confirm",
         Menu.VERIFY: "/twilio/voice/order/verify", Menu.CODE: "/twilio/voice/order/code", Menu.RESCHEDULE: "/twilio/voice/reschedule",
         Menu.RESCHEDULE_CONFIRM: "/twilio/voice/reschedule/confirm", Menu.AFTER_HOURS: "/twilio/voice/callback"}


def test_the_main_menu_takes_a_key_or_speech_in_the_callers_language():
    doc = render(Ask(Menu.MAIN, "hi", ("नमस्ते",), "1 दबाइए"), "support")
    validate(doc)
    gather = ET.fromstring(doc).find("Gather")
    assert gather.get("action") == "/twilio/voice/menu" and gather.get("input") == "dtmf speech"
    assert gather.get("language") == "hi-IN" and gather.get("numDigits") == "1"


@pytest.mark.parametrize("menu", list(KEYPADS))
def test_keypad_menus_post_to_their_own_route(menu):
    doc = render(Ask(menu, "en", ("Hello.",), "Press a key."), "support")
    validate(doc)
    root = ET.fromstring(doc)
    gather = root.find("Gather")
    assert gather.get("action") == PATHS[menu] and gather.get("input") == "dtmf"
    single = menu in (Menu.CONFIRM, Menu.RESCHEDULE, Menu.RESCHEDULE_CONFIRM, Menu.AFTER_HOURS)
    assert (gather.get("numDigits") == "1") is single and (gather.get("finishOnKey") == "#") is not single
    assert [s.text for s in gather.iter("Say")] == ["Hello. Press a key."]
    assert root.find("Redirect").text == "/twilio/voice/silence"  # silence is never a hang-up


def test_queue_goodbye_and_hold():
    queued = render(Enqueue("en", ("Connecting you.",)), "support")
    validate(queued)
    assert ET.fromstring(queued).find("Enqueue").text == "support"
    bye = render(Goodbye("hi", ("नमस्ते।",)), "support")
    validate(bye)
    assert ET.fromstring(bye).find("Hangup") is not None
    validate(render(Hold("en", "You are next in line."), "support"), wait_url=True)


def test_nothing_is_gathered_at_the_queue():
    with pytest.raises(KeyError):
        render(Ask(Menu.QUEUE, "en", (), "?"), "support")
