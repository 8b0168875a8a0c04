"""The shared walker, answered one turn at a time as the browser does."""
from __future__ import annotations

import pytest

from sim.twiml_walker import (
    Keys, Silence, Speech, call_params, dequeue_params, hold_params, status_params, walk)

DOC = "https://voice.example.test/twilio/voice"
MENU = ('<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-IN">Welcome.</Say>'
        '<Gather action="/twilio/voice/menu" input="dtmf speech" numDigits="1"><Say language="en-IN">Press 1.</Say>'
        '</Gather><Say>Still there?</Say><Gather action="/twilio/voice/menu" numDigits="1"><Say>Press 1 now.</Say>'
        '</Gather><Redirect>/twilio/voice/silence</Redirect></Response>')


def test_it_stops_at_a_gather_when_no_answer_is_given_yet():
    nxt = walk(MENU, DOC, iter(()), wait_for_input=True)
    assert nxt.waiting == 1 and nxt.url is None and nxt.ended is None and nxt.consumed == 0
    assert [s.text for s in nxt.said] == ["Welcome.", "Press 1."]
    assert nxt.gathers[-1]["input"] == "dtmf speech"


def test_resuming_uses_the_answer_without_repeating_the_prompt():
    nxt = walk(MENU, DOC, iter([Keys("1")]), wait_for_input=True, resume_at=1)
    assert nxt.said == [] and nxt.params == {"Digits": "1"}
    assert nxt.url == "https://voice.example.test/twilio/voice/menu"
    spoken = walk(MENU, DOC, iter([Speech("where is my order")]), wait_for_input=True, resume_at=1)
    assert spoken.kind == "speech" and spoken.params["SpeechResult"] == "where is my order"


def test_silence_falls_through_to_the_next_gather_and_waits_there():
    nxt = walk(MENU, DOC, iter([Silence()]), wait_for_input=True, resume_at=1)
    assert nxt.waiting == 3 and [s.text for s in nxt.said] == ["Still there?", "Press 1 now."]
    last = walk(MENU, DOC, iter([Silence()]), wait_for_input=True, resume_at=3)
    assert last.kind == "redirect" and last.url.endswith("/twilio/voice/silence")


def test_without_waiting_running_out_of_answers_is_a_hang_up():
    assert walk(MENU, DOC, iter(())).ended == "caller_hung_up"


@pytest.mark.parametrize("index", [0, 2, 9, -1])
def test_it_resumes_only_at_a_gather(index):
    with pytest.raises(ValueError, match="not a <Gather>"):
        walk(MENU, DOC, iter([Keys("1")]), resume_at=index)


def test_what_twilio_sends():
    base = call_params("CA1", "+919000000001", "+911140000000", "AC1", "ringing")
    assert base["CallStatus"] == "ringing" and base["From"] == base["Caller"] == "+919000000001"
    assert hold_params(base, position=3)["QueuePosition"] == "3" and "QueueResult" not in hold_params(base)
    assert dequeue_params(base)["QueueResult"] == "hangup"
    done = status_params(base, 0)
    assert done["CallStatus"] == "completed" and done["CallDuration"] == "1"
