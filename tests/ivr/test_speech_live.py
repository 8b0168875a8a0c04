"""A spoken question through the real assistant (Rasa + action server), over HTTP."""
from __future__ import annotations

import re

from orderline.demo import demo_phone
from tests.support.ivr_caller import Keys, ScriptedCaller, Speech, http_transport


def test_spoken_question_is_answered_by_the_assistant_in_speakable_words(live_stack):
    stack = live_stack
    caller = ScriptedCaller(http_transport(stack.app_url), stack.settings.twilio_auth_token,
                            stack.settings.public_base_url, demo_phone(2))
    call = caller.call([Speech("where is my order"), Keys("1")])
    reply = call.docs[1]
    assert reply.kind == "speech" and reply.params["SpeechResult"] == "where is my order"
    spoken = reply.text
    assert "can't answer spoken questions" not in spoken  # Rasa really answered
    assert "O L 1 0 0 2 4 1" in spoken  # Priya's order, id read digit by digit
    assert not re.search(r"https?://|www\.|[\U0001F300-\U0001FAFF]|OL-\d", spoken)
    assert "Is there anything else?" in spoken
    # The spoken question and the answer are in her history, on the voice channel.
    history = stack.services.conversations.transcript(demo_phone(2))
    assert any(m["channel"] == "voice" and m["direction"] == "in" and m["text"] == "where is my order" for m in history)
