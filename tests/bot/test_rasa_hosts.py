"""Several Rasa hosts in RASA_URL: a stable host per sender, the next one when a host is down,
and no second try after a timeout (the turn may still be running). Real local HTTP servers."""
from __future__ import annotations

import pytest

from bot.rasa_client import Hosts, RasaClient, base_urls
from orderline.ports import AssistantUnavailable
from orderline.settings import Settings
from rasa_gate import serve
from tests.support.fake_rasa import SECRET, TOKEN, FakeRasa
from tests.support.whatsapp import closed_port

SENDERS = [f"+9190000{i:05d}" for i in range(40)]


@pytest.fixture
def two_rasas():
    pair = [FakeRasa(), FakeRasa()]
    for fake in pair:
        fake.start()
    yield pair
    for fake in pair:
        fake.stop()


def client_for(urls: list[str], timeout: float = 2.0) -> RasaClient:
    return RasaClient(", ".join(urls) + ",", timeout=timeout, channel_secret=SECRET, auth_token=TOKEN)


def test_rasa_url_lists_hosts_and_refuses_none():
    assert base_urls("http://a:5005/, http://b:5005") == ("http://a:5005", "http://b:5005")
    assert base_urls("http://lb:5005") == ("http://lb:5005",)
    with pytest.raises(ValueError, match="RASA_URL"):
        base_urls(" , ")


def test_each_sender_sticks_to_one_host_and_the_senders_spread(two_rasas):
    client = client_for([f.base_url for f in two_rasas])
    for _ in range(2):
        for sender in SENDERS:
            assert client.send(sender, "hi", {})
    by_host = [{c["sender"] for c in fake.heard()} for fake in two_rasas]
    assert not by_host[0] & by_host[1]  # no sender was heard by both
    assert by_host[0] | by_host[1] == set(SENDERS)
    assert min(len(h) for h in by_host) >= 8  # 40 senders over 2 hosts: neither is idle


def test_a_host_that_is_down_hands_its_senders_to_the_next(two_rasas):
    first, second = two_rasas
    client = client_for([first.base_url, second.base_url])
    mine = [s for s in SENDERS if client.hosts.order(s)[0] == first.base_url]
    first.stop()
    for sender in mine:
        assert client.send(sender, "hi", {})[0].text.startswith("Hi!")
    assert {c["sender"] for c in second.heard()} == set(mine)
    # Down hosts go last for a while, so later turns don't pay the refused connection first.
    assert client.hosts.order(mine[0])[0] == second.base_url


def test_every_host_down_is_assistant_unavailable():
    client = client_for([f"http://127.0.0.1:{closed_port()}", f"http://127.0.0.1:{closed_port()}"])
    with pytest.raises(AssistantUnavailable):
        client.send("+919000000001", "hi", {})
    assert client.status() is False


def test_a_slow_host_is_not_asked_again_elsewhere(two_rasas):
    """A timeout means the turn may be running: sending it to the other host would run it twice."""
    client = client_for([f.base_url for f in two_rasas], timeout=0.3)
    sender = SENDERS[0]
    slow = next(f for f in two_rasas if f.base_url == client.hosts.order(sender)[0])
    other = next(f for f in two_rasas if f is not slow)
    slow.delay = 1.0
    with pytest.raises(AssistantUnavailable):
        client.send(sender, "hi", {})
    assert len(slow.heard(sender)) == 1 and other.heard(sender) == []


def test_tracker_calls_and_readiness_fail_over_too(two_rasas):
    first, second = two_rasas
    client = client_for([first.base_url, second.base_url])
    sender = next(s for s in SENDERS if client.hosts.order(s)[0] == first.base_url)
    first.stop()
    assert client.pause(sender) is True and client.paused(sender) is True
    assert client.parse("hi").intent == "greet"
    assert client.status() is True
    assert [e for e in second.events if e[0] == sender] == [(sender, {"event": "pause"})]


def test_a_host_down_comes_back_first_for_its_senders_after_the_pause():
    now = [100.0]
    hosts = Hosts(("http://a", "http://b"), down_seconds=5, clock=lambda: now[0])
    sender = next(s for s in SENDERS if hosts.order(s)[0] == "http://a")
    hosts.mark_down("http://a")
    assert hosts.order(sender) == ["http://b", "http://a"]
    now[0] += 5.1
    assert hosts.order(sender) == ["http://a", "http://b"]


def test_a_dead_hosts_lock_on_a_sender_lapses_while_the_background_retry_still_waits():
    """A Rasa host killed mid-turn keeps the sender's lock in Redis until its lifetime ends; the
    other host's turn for that sender waits for it. It must lapse, and leave time for the turn
    itself, within the background retry's wait, or the customer is handed to a person."""
    env: dict[str, str] = {}
    serve.lock_lifetime_default(env)
    assert int(env["TICKET_LOCK_LIFETIME"]) + 5 <= Settings().rasa_retry_timeout
    mine = {"TICKET_LOCK_LIFETIME": "45"}
    serve.lock_lifetime_default(mine)
    assert mine == {"TICKET_LOCK_LIFETIME": "45"}  # an operator's choice stands
