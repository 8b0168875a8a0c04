"""Hand-back to the assistant: un-pause it now, or mark the phone and retry with backoff until it accepts.

The assistant is the fake Rasa server (tests/support/fake_rasa.py) behind the real Rasa client;
it is stopped and started again on the same port, as a restarted Rasa would be.
"""
import pytest

from bot.rasa_client import RasaClient
from orderline.handback import MAX_RETRY, HandBack, mark_key, retry_delay
from tests.support.fake_rasa import SECRET, TOKEN, resume_events
from orderline.escalations import OpenEscalation
from tests.support.agents import add_agent

PHONE = "+919000000001"


@pytest.fixture
def scheduled():
    return []


@pytest.fixture
def handback(services, fake_rasa, scheduled):
    services.redis.flushdb()
    return HandBack(services.escalations, RasaClient(fake_rasa.base_url, timeout=2, channel_secret=SECRET, auth_token=TOKEN), services.redis,
                    lambda *call: scheduled.append(call))


@pytest.fixture
def escalation(services):
    """An escalation a person claimed, with the assistant's conversation paused (as the handoff action does)."""
    agent_id = add_agent(services.sessions)
    esc, _ = services.escalations.open(OpenEscalation(PHONE, reason="delivery"))
    services.escalations.claim(esc.id, agent_id)
    return esc.id, agent_id


def marked(services):
    value = services.redis.get(mark_key(PHONE))
    return value.decode() if value else None


def test_hand_back_un_pauses_the_assistant(services, handback, escalation, fake_rasa, scheduled):
    fake_rasa.paused.add(PHONE)
    esc, resumed = handback.resolve(*escalation, "handed_back")
    assert resumed and esc.status == "resolved" and services.conversations.state(PHONE) == "bot"
    assert fake_rasa.events == resume_events(PHONE) and fake_rasa.paused == set()
    assert marked(services) is None and scheduled == []


def test_refused_un_pause_is_retried_with_backoff_until_the_assistant_accepts(services, handback, escalation,
                                                                               fake_rasa, scheduled):
    fake_rasa.paused.add(PHONE)
    fake_rasa.stop()
    esc, resumed = handback.resolve(*escalation, "handed_back")
    assert not resumed
    assert esc.status == "resolved" and services.conversations.state(PHONE) == "bot"  # the app lets go anyway
    token = marked(services)
    assert token and scheduled == [(PHONE, token, 1, 5.0)]

    assert handback.retry(PHONE, token, 1) == "retrying"  # still down
    assert handback.retry(PHONE, token, 2) == "retrying"
    assert scheduled[1:] == [(PHONE, token, 2, 10.0), (PHONE, token, 3, 20.0)]

    fake_rasa.restart()
    assert handback.retry(PHONE, token, 3) == "resumed"
    assert fake_rasa.paused == set() and fake_rasa.events == resume_events(PHONE)
    assert marked(services) is None and len(scheduled) == 3
    assert handback.retry(PHONE, token, 4) == "done"  # a stray retry changes nothing
    assert fake_rasa.events == resume_events(PHONE)


def test_backoff_doubles_up_to_five_minutes():
    assert [retry_delay(n) for n in (1, 2, 3, 4, 5, 6, 7, 30)] == [5, 10, 20, 40, 80, 160, MAX_RETRY, MAX_RETRY]


def test_a_later_failure_takes_over_the_retries(services, handback, fake_rasa, scheduled):
    fake_rasa.stop()
    assert not handback.resume(PHONE) and not handback.resume(PHONE)
    (_, first, _, _), (_, second, _, _) = scheduled
    assert first != second and marked(services) == second
    assert handback.retry(PHONE, first, 1) == "done" and len(scheduled) == 2  # one chain of retries, not two
    assert handback.retry(PHONE, second, 1) == "retrying"


def test_retries_stop_when_a_person_has_the_conversation_again(services, handback, fake_rasa, scheduled):
    fake_rasa.stop()
    assert not handback.resume(PHONE)
    services.escalations.open(OpenEscalation(PHONE, reason="general"))  # their hand-back will un-pause it
    fake_rasa.restart()
    assert handback.retry(PHONE, scheduled[0][1], 1) == "done"
    assert fake_rasa.events == [] and marked(services) is None


def test_before_a_turn_a_marked_conversation_is_un_paused(services, handback, fake_rasa):
    assert handback.before_turn(PHONE) and fake_rasa.events == []  # nothing to do: no call to the assistant
    fake_rasa.paused.add(PHONE)
    fake_rasa.stop()
    assert not handback.resume(PHONE)
    assert not handback.before_turn(PHONE)  # still down: the message would not be answered
    fake_rasa.restart()
    assert handback.before_turn(PHONE)
    assert fake_rasa.paused == set() and marked(services) is None


def test_a_paused_assistant_is_recovered_only_while_the_bot_owns_the_conversation(services, handback, fake_rasa):
    assert not handback.recover(PHONE)  # not paused: nothing to do
    fake_rasa.paused.add(PHONE)
    esc, _ = services.escalations.open(OpenEscalation(PHONE, reason="general"))
    assert not handback.recover(PHONE) and fake_rasa.events == []  # a person owns it: stays paused
    services.escalations.resolve(esc.id, None, "handed_back")  # the app let go; Rasa never heard
    assert handback.recover(PHONE)
    assert fake_rasa.paused == set() and fake_rasa.events == resume_events(PHONE)
