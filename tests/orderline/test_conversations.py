import json
import threading

import pytest
import redis as redis_lib

from orderline.conversations import ConversationStore, events_channel
from orderline.errors import ClaimConflict, InvalidInput
from orderline.models import Agent
from tests.support.redis_db import claim_db
from orderline.escalations import OpenEscalation

PHONE = "+919000000001"


@pytest.fixture
def store(services):
    services.redis.flushdb()
    return services.conversations


@pytest.fixture
def agents(services):
    with services.sessions() as s:
        a, b = Agent(name="asha", password_hash="x"), Agent(name="bilal", password_hash="x")
        s.add_all([a, b]); s.commit()
        return a.id, b.id


def test_inbound_is_stored_once_per_sid_and_redacted(store):
    first = store.record_inbound("whatsapp:+919000000001", "whatsapp", "otp is 482913, order 100201?", sid="SM1",
                                 profile_name="Asha", wa_id="919000000001")
    again = store.record_inbound(PHONE, "whatsapp", "otp is 482913, order 100201?", sid="SM1")
    assert not first.duplicate and again.duplicate
    transcript = store.transcript(PHONE)
    assert len(transcript) == 1 and "482913" not in transcript[0]["text"] and "100201" in transcript[0]["text"]


def test_concurrent_duplicates_store_one_message(store):
    barrier = threading.Barrier(6)
    results = []

    def deliver():
        barrier.wait()
        results.append(store.record_inbound(PHONE, "whatsapp", "hi", sid="SMrace"))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(r.duplicate for r in results) == [False] + [True] * 5
    assert len(store.transcript(PHONE)) == 1


def test_window_tracks_last_inbound(store, services):
    assert not store.window_open(PHONE)
    store.record_inbound(PHONE, "whatsapp", "hello", sid="SM2")
    assert store.window_open(PHONE)


def test_escalation_moves_ownership_and_hand_back_returns_it(services, store, agents):
    esc_svc = services.escalations
    assert store.state(PHONE) == "bot"
    esc, created = esc_svc.open(OpenEscalation(PHONE, reason="complaint", intent="complaint", confidence=0.91,
                                                channel="whatsapp", order_id="OL-100201"))
    assert created and esc.priority == 1 and esc.status == "open"
    assert store.state(PHONE) == "waiting_for_agent"
    same, created_again = esc_svc.open(OpenEscalation(PHONE, reason="general"))
    assert not created_again and same.id == esc.id
    esc_svc.claim(esc.id, agents[0])
    assert store.state(PHONE) == "agent"
    with pytest.raises(ClaimConflict):
        esc_svc.claim(esc.id, agents[1])
    taken = esc_svc.claim(esc.id, agents[1], takeover=True)
    assert taken.agent == "bilal"
    done = esc_svc.resolve(esc.id, agents[1], "handed_back")
    assert done.status == "resolved" and store.state(PHONE) == "bot"


def test_state_survives_redis_cache_loss(services, store):
    services.escalations.open(OpenEscalation(PHONE, reason="delivery"))
    services.redis.flushdb()
    assert store.state(PHONE) == "waiting_for_agent"  # the DB is the truth


def test_state_without_redis_reads_the_db(services, store):
    services.escalations.open(OpenEscalation(PHONE, reason="delivery"))
    broken = ConversationStore(services.sessions, redis_lib.Redis(port=1, socket_connect_timeout=0.2), services.clock)
    assert broken.state(PHONE) == "waiting_for_agent"


def test_queue_order_and_validation(services, store):
    services.escalations.open(OpenEscalation("+919000000003", reason="general"))
    services.escalations.open(OpenEscalation("+919000000004", reason="payments"))
    assert [e.reason for e in services.escalations.list("open")] == ["payments", "general"]
    with pytest.raises(InvalidInput) as err:
        services.escalations.open(OpenEscalation("nope", reason="angry", confidence=7))
    assert set(err.value.fields) == {"reason", "phone", "confidence"}


# -- live events ---------------------------------------------------------------------
def received(pubsub, polls=20):
    """The events a subscriber got within about `polls` tenths of a second."""
    events = []
    for _ in range(polls):
        msg = pubsub.get_message(timeout=0.1)
        if msg:
            events.append(json.loads(msg["data"]))
    return events


def test_events_channel_names_the_redis_database():
    assert events_channel(redis_lib.Redis.from_url("redis://127.0.0.1:6379/3")) == "orderline:3:events"
    assert events_channel(redis_lib.Redis.from_url("redis://127.0.0.1:6379")) == "orderline:0:events"
    assert events_channel(redis_lib.Redis(db=7)) == "orderline:7:events"


def test_events_reach_only_subscribers_of_the_same_database(services, store, redis_db):
    """Pub/sub is server-wide; another deployment on another database must not hear our events."""
    # A second database claimed like the run's own, on the same server, so no other run is using it.
    with claim_db(redis_db.server, label="another deployment") as elsewhere:
        other = redis_lib.Redis.from_url(elsewhere.url)
        assert events_channel(other) != events_channel(services.redis)
        ours, theirs = services.redis.pubsub(ignore_subscribe_messages=True), other.pubsub(ignore_subscribe_messages=True)
        ours.subscribe(events_channel(services.redis))
        theirs.subscribe(events_channel(other))
        try:
            store.record_inbound(PHONE, "whatsapp", "hello", sid="SMevents")
            assert {"type": "message", "phone": PHONE, "direction": "in", "channel": "whatsapp"} in received(ours)
            assert not [e for e in received(theirs) if e.get("phone") == PHONE]
        finally:
            ours.close(), theirs.close(), other.close()
