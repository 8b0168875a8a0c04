"""Attack: guess the agent line's PIN by calling again and again, from one number or from many.

Driven as a caller would, through signed Twilio requests to the agent line. Wrong PINs are counted
in Redis (ivr/agent_line.py), so a new call brings no new tries; too many lock the number, and
too many on the whole line lock the line, even against the right PIN.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ivr import agent_line
from ivr.agent_line import PER_CALL, PER_LINE, PER_NUMBER
from tests.support.ivr_caller import Keys, ScriptedCaller, flask_transport, sign
from tests.support.whatsapp import PUBLIC, TOKEN, tuned

PIN = "492817"
AGENT, ATTACKER = "+919888800001", "+919777700001"
LOCKED = "Too many wrong PINs"


@pytest.fixture
def extra():
    return {}


@pytest.fixture
def settings(settings, extra):
    return tuned(settings, twilio_auth_token=TOKEN, public_base_url=PUBLIC, agent_line_pin=PIN, **extra)


def dial(client, phone: str, *pins: str):
    """One call to the agent line keying `pins` in turn (then hanging up)."""
    caller = ScriptedCaller(flask_transport(client), TOKEN, PUBLIC, phone, voice_url="/twilio/voice/agent")
    return caller.call([Keys(p + "#") for p in pins])


def wrong(n: int) -> list[str]:
    return [f"{100000 + i:06d}" for i in range(n)]


def pin_checks(services, phone: str) -> int:
    return agent_line.AgentGate.of(services.redis, PIN, frozenset()).lockout.failures(f"number:{phone}")


def test_new_calls_do_not_bring_new_tries(client, services):
    guesses = iter(wrong(PER_NUMBER.failures))
    first = dial(client, ATTACKER, *[next(guesses) for _ in range(PER_CALL.failures)])
    assert first.ended == "hangup" and first.text.count("That PIN is not right.") == PER_CALL.failures
    second = dial(client, ATTACKER, *guesses, "999999")  # the 2 tries left to this number, then one more
    assert "<Dial" not in "".join(d.body for d in second.docs)
    assert second.text.count("That PIN is not right.") == PER_NUMBER.failures - PER_CALL.failures
    assert LOCKED in second.docs[-1].text and second.ended == "hangup"
    # The lock holds across new calls: no PIN prompt at all, not even for the right PIN.
    third = dial(client, ATTACKER, PIN)
    assert len(third.docs) == 1 and LOCKED in third.docs[0].text and "<Gather" not in third.docs[0].body
    assert third.ended == "hangup"
    assert pin_checks(services, ATTACKER) == PER_NUMBER.failures + 1  # the refused one was counted, then locked
    lock_ttl = services.redis.ttl(f"{agent_line.PREFIX}:lock:number:{ATTACKER}")
    assert PER_NUMBER.lock - 60 < lock_ttl <= PER_NUMBER.lock  # it expires: an hour, not for ever


def test_one_numbers_lock_does_not_lock_out_the_agents(client):
    dial(client, ATTACKER, *wrong(3))
    dial(client, ATTACKER, *wrong(3))
    assert LOCKED in dial(client, ATTACKER, PIN).text
    call = dial(client, AGENT, PIN)
    assert call.ended == "dial" and call.queue == "support"


def test_guessing_from_many_numbers_locks_the_whole_line(client):
    """Caller ID is cheap to change: the line's own ceiling is what bounds a spread-out guess."""
    numbers = [f"+91977770{i:04d}" for i in range(PER_LINE.failures // 2)]
    for number, pins in zip(numbers, [wrong(2)] * len(numbers)):
        assert dial(client, number, *pins).text.count("That PIN is not right.") == 2
    # Every number is under its own limit, but the line has had its fill: even the right PIN waits.
    assert LOCKED in dial(client, "+919777709999", PIN).text
    call = dial(client, AGENT, PIN)
    assert call.ended == "hangup" and LOCKED in call.text and "<Gather" not in call.docs[0].body


def test_parallel_guesses_cannot_outrun_the_count(app, services):
    """Many calls from one number post their guesses at once: exactly the allowed few are judged."""
    barrier = threading.Barrier(12)

    def guess(i: int) -> str:
        params = {"CallSid": f"CA{i:032d}", "From": ATTACKER, "To": "+911140000000", "AccountSid": "AC" + "1" * 32,
                  "Digits": f"{200000 + i}", "CallStatus": "in-progress"}
        url = PUBLIC + "/twilio/voice/agent/pin"
        with app.test_client() as client:
            barrier.wait()
            return client.post("/twilio/voice/agent/pin", data=params,
                               headers={"X-Twilio-Signature": sign(TOKEN, url, params)}).get_data(as_text=True)

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(guess, range(12)))
    assert sum("That PIN is not right." in a for a in answers) == PER_NUMBER.failures
    assert sum(LOCKED in a for a in answers) == 12 - PER_NUMBER.failures


@pytest.mark.parametrize("extra", [{"agent_line_allowed_numbers": f"{AGENT}, +919888800002"}])
def test_an_unlisted_number_is_refused_before_the_pin_and_counts_nowhere(client, services):
    for _ in range(PER_LINE.failures + 5):
        call = dial(client, ATTACKER, PIN)
        assert call.ended == "hangup" and "may not use the agent line" in call.text
        assert "<Gather" not in call.docs[0].body  # never asked for a PIN
    assert pin_checks(services, ATTACKER) == 0
    call = dial(client, AGENT, PIN)  # strangers cannot use up the line's ceiling
    assert call.ended == "dial"


@pytest.mark.parametrize("extra", [{"agent_line_allowed_numbers": AGENT}])
def test_an_unlisted_number_posting_the_pin_step_itself_is_refused(client):
    """Skipping the greeting (a stale or replayed action URL) does not skip the allow-list."""
    params = {"CallSid": "CA" + "9" * 32, "From": ATTACKER, "Digits": PIN, "AccountSid": "AC" + "1" * 32}
    resp = client.post("/twilio/voice/agent/pin", data=params,
                       headers={"X-Twilio-Signature": sign(TOKEN, PUBLIC + "/twilio/voice/agent/pin", params)})
    assert resp.status_code == 200 and b"may not use the agent line" in resp.data and b"<Dial" not in resp.data


@pytest.mark.parametrize("extra", [{"agent_line_allowed_numbers": AGENT}])
def test_a_withheld_caller_id_is_not_on_any_allow_list(client):
    call = dial(client, "anonymous", PIN)
    assert call.ended == "hangup" and "may not use the agent line" in call.text
