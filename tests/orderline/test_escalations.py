"""Notices to a customer waiting for a person: each is claimed by exactly one caller."""
import threading
from datetime import timedelta

import pytest

from orderline.clock import Clock
from orderline.escalations import EscalationService, priority_for, reason_for
from tests.support.values import NOW
from orderline.escalations import OpenEscalation
from tests.support.agents import add_agent

PHONE = "+919000000001"
OTHER = "+919000000003"
WAIT = timedelta(minutes=10)


@pytest.fixture
def escalations(services):
    services.redis.flushdb()
    return services.escalations


@pytest.fixture
def agent_id(services):
    return add_agent(services.sessions)


def open_on(escalations, phone, channel="whatsapp"):
    esc, created = escalations.open(OpenEscalation(phone, reason="delivery", channel=channel))
    assert created
    return esc


def race(n, call):
    """Call `call()` from `n` threads at once; their results."""
    barrier = threading.Barrier(n)
    results = []

    def run():
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(n)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert len(results) == n
    return results


def test_waiting_notice_once_per_escalation(escalations, agent_id):
    esc = open_on(escalations, PHONE)
    assert escalations.mark_waiting_notice(PHONE) is True
    assert escalations.mark_waiting_notice(PHONE) is False
    escalations.claim(esc.id, agent_id)
    assert escalations.mark_waiting_notice(PHONE) is False  # still the same escalation
    escalations.resolve(esc.id, agent_id)
    open_on(escalations, PHONE)
    assert escalations.mark_waiting_notice(PHONE) is True  # a new escalation gets its own note


def test_only_one_concurrent_caller_sends_the_waiting_notice(escalations):
    open_on(escalations, PHONE)
    assert sorted(race(6, lambda: escalations.mark_waiting_notice(PHONE))) == [False] * 5 + [True]


def test_waiting_notice_needs_a_conversation(escalations):
    assert escalations.mark_waiting_notice("+919000000099") is False


def test_no_agent_notice_once_and_only_while_open(escalations, agent_id):
    first, claimed = open_on(escalations, PHONE), open_on(escalations, OTHER)
    escalations.claim(claimed.id, agent_id)
    assert escalations.mark_no_agent_notice(claimed.id) is False
    assert escalations.mark_no_agent_notice(first.id) is True
    assert escalations.mark_no_agent_notice(first.id) is False
    assert escalations.mark_no_agent_notice(10_000) is False


def test_only_one_concurrent_caller_sends_the_no_agent_notice(escalations):
    esc = open_on(escalations, PHONE)
    assert sorted(race(6, lambda: escalations.mark_no_agent_notice(esc.id))) == [False] * 5 + [True]


def test_overdue_lists_unclaimed_untold_escalations_on_the_channel_oldest_first(services, escalations, agent_id):
    earlier = EscalationService(services.sessions, services.conversations, Clock.fixed(NOW - timedelta(minutes=5)))
    newer, older = open_on(escalations, PHONE), open_on(earlier, OTHER)
    open_on(escalations, "+919000000004", channel="voice")
    claimed = open_on(escalations, "+919000000005")
    escalations.claim(claimed.id, agent_id)

    assert escalations.overdue("whatsapp", WAIT, now=NOW + timedelta(minutes=9)) == [(older.id, OTHER)]
    assert escalations.overdue("whatsapp", WAIT, now=NOW + timedelta(minutes=11)) == [
        (older.id, OTHER), (newer.id, PHONE)]
    escalations.mark_no_agent_notice(older.id)
    assert escalations.overdue("whatsapp", WAIT, now=NOW + timedelta(minutes=11)) == [(newer.id, PHONE)]
    assert escalations.overdue("whatsapp", WAIT) == []  # by the service's own clock: nobody waited 10 minutes


@pytest.mark.parametrize("intent,reason,priority", [
    ("complaint", "complaint", 1), ("payment_query", "payments", 1), ("refund_status", "payments", 1),
    ("order_status", "delivery", 2), ("change_address", "delivery", 2), ("reschedule_delivery", "delivery", 2),
    ("cancel_order", "delivery", 2), ("return_request", "delivery", 2), ("human_handoff", "general", 3),
    (None, "general", 3)])
def test_the_queue_and_priority_follow_from_what_the_customer_asked(escalations, intent, reason, priority):
    assert (reason_for(intent), priority_for(reason)) == (reason, priority)
    esc, created = escalations.open(OpenEscalation(PHONE, intent=intent, channel="whatsapp"))
    assert created and (esc.reason, esc.priority, esc.intent) == (reason, priority, intent)


def test_a_given_reason_or_priority_wins_over_the_intent(escalations):
    esc, _ = escalations.open(OpenEscalation(PHONE, reason="general", intent="complaint"))
    assert (esc.reason, esc.priority) == ("general", 3)
    esc, _ = escalations.open(OpenEscalation(OTHER, reason="payments", intent="complaint", priority=2))
    assert (esc.reason, esc.priority) == ("payments", 2)
