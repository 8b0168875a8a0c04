"""The scripted caller itself must catch what Twilio rejects, and walk TwiML as Twilio does."""
from __future__ import annotations

import pytest

from tests.support.ivr_caller import HangUp, Keys, Silence, Speech, TwimlRejected, validate, walk

DOC = "https://voice.example.test/twilio/voice/menu"


def doc(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


@pytest.mark.parametrize("twiml, problem", [
    ('<Reply><Say>hi</Say></Reply>', "root is <Reply>"),
    (doc("<Speak>hi</Speak>"), "unknown element <Speak>"),
    (doc('<Say colour="red">hi</Say>'), "unknown attributes ['colour']"),
    (doc('<Gather input="speech" speechModel="phone_call" speechTimeout="auto"/>'), "13335"),
    (doc('<Gather input="speech" speechTimeout="soon"/>'), "speechTimeout"),
    (doc('<Gather input="voice"/>'), "input"),
    (doc('<Gather><Enqueue>support</Enqueue></Gather>'), "cannot be nested"),
    (doc('<Say voice="Polly.Raveena" language="hi-IN">नमस्ते</Say>'), "cannot speak hi-IN"),
    (doc("<Say>" + "a" * 5000 + "</Say>"), "4096"),
    (doc("<Say>hi</Say>" * 6000), "64 kB"),
    (doc("<Enqueue/>"), "queue name"),
    (doc('<Redirect method="PUT">/x</Redirect>'), "GET or POST"),
    ("not xml", "not XML"),
])
def test_validate_rejects_what_twilio_rejects(twiml, problem):
    with pytest.raises(TwimlRejected, match=problem.replace("[", r"\[").replace("]", r"\]")):
        validate(twiml)


def test_validate_accepts_a_model_with_a_numeric_timeout():
    validate(doc('<Gather input="speech" speechModel="phone_call" speechTimeout="3" language="en-IN"/>'))


def test_wait_url_documents_allow_only_wait_verbs():
    with pytest.raises(TwimlRejected, match="waitUrl"):
        validate(doc("<Enqueue>support</Enqueue>"), wait_url=True)


def test_walk_resolves_relative_action_and_strips_finish_key():
    nxt = walk(doc('<Gather action="order/confirm" finishOnKey="#"><Say>Enter it</Say></Gather>'),
               "https://voice.example.test/twilio/voice/order", iter([Keys("100241#")]))
    assert nxt.url == "https://voice.example.test/twilio/voice/order/confirm"
    assert nxt.params == {"Digits": "100241", "FinishedOnKey": "#"} and nxt.kind == "keypad"
    assert [s.text for s in nxt.said] == ["Enter it"]


def test_walk_defaults_action_to_the_document_url_and_respects_num_digits():
    nxt = walk(doc('<Gather numDigits="1"/>'), DOC, iter([Keys("12")]))
    assert nxt.url == DOC and nxt.params == {"Digits": "1"}


def test_silence_falls_through_to_the_next_verb():
    nxt = walk(doc('<Gather action="/a"/><Say>Still there?</Say><Redirect>/twilio/voice/silence</Redirect>'),
               DOC, iter([Silence()]))
    assert nxt.kind == "redirect" and nxt.url == "https://voice.example.test/twilio/voice/silence"
    assert [s.text for s in nxt.said] == ["Still there?"]


def test_silence_posts_to_the_action_with_action_on_empty_result():
    nxt = walk(doc('<Gather action="/a" actionOnEmptyResult="true"/><Hangup/>'), DOC, iter([Silence()]))
    assert nxt.kind == "empty" and nxt.url == "https://voice.example.test/a" and nxt.params == {}


def test_speech_to_a_keypad_only_gather_is_not_heard():
    nxt = walk(doc('<Gather input="dtmf" action="/a"/><Hangup/>'), DOC, iter([Speech("hello")]))
    assert nxt.ended == "hangup"


def test_speech_result_and_hang_up():
    nxt = walk(doc('<Gather input="dtmf speech" action="/a"/>'), DOC, iter([Speech("where is my order", 0.8)]))
    assert nxt.params == {"SpeechResult": "where is my order", "Confidence": "0.80"} and nxt.kind == "speech"
    assert walk(doc('<Gather action="/a"/>'), DOC, iter([HangUp()])).ended == "caller_hung_up"
    assert walk(doc("<Say>bye</Say>"), DOC, iter(())).ended == "end"
