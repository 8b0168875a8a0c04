"""Orderline on seven hosts (network namespaces): what customers got, what the trackers recorded,
what the notifications did when a worker died. The scenario runs once (conftest.py: `outcome`)."""
from __future__ import annotations

from collections import Counter, defaultdict

import psycopg

from bot import routing
from tests.cluster.hosts import ip
from tests.cluster.load import texts_of

NOT_ANSWERS = (routing.HOLDING, routing.APOLOGY)


def rest_bodies(outcome, phone: str) -> list[str]:
    """What reached the customer through Twilio's API (answers finished in the background)."""
    return [m["body"] for m in outcome.cluster.fake.sent_to(phone) if not m.get("content_sid")]


def expected_answers(outcome) -> dict[str, tuple[str, ...]]:
    """The assistant's answer to each text, as most customers got it inline."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for t in outcome.run.turns:
        if t.status == 200 and t.bodies and not t.held:
            seen[t.text][tuple(t.bodies)] += 1
    return {text: answers.most_common(1)[0][0] for text, answers in seen.items()}


def test_every_customer_message_got_an_answer_inline_or_a_holding_message(outcome):
    run = outcome.run
    assert run.errors == []
    assert len(run.phones) == outcome.figures["conversations"]
    sent = sorted((t.phone, t.text) for t in run.turns)
    assert sent == sorted((phone, text) for i, phone in enumerate(run.phones) for text in texts_of(i))
    failed = [(t.phone, t.text, t.status, t.bodies) for t in run.turns
              if t.status != 200 or not t.bodies or routing.APOLOGY in t.bodies or not all(t.bodies)]
    assert failed == []
    assert not any(routing.HOLDING in t.bodies and not t.held for t in run.turns)  # a holding reply stands alone


def test_the_assistant_answers_each_text_the_same_way(outcome):
    """What makes the next checks exact: one answer per text, whatever host or order it took."""
    expected = expected_answers(outcome)
    assert set(expected) == {"hi", "where is my order", "thanks"}
    for text, answer in expected.items():
        assert answer and not set(answer) & set(NOT_ANSWERS), (text, answer)
    differing = [(t.phone, t.text, t.bodies) for t in outcome.run.turns
                 if not t.held and tuple(t.bodies) != expected[t.text]]
    assert differing == []


def test_held_messages_got_exactly_one_answer_later_and_nothing_was_sent_twice(outcome):
    expected = expected_answers(outcome)
    by_phone = defaultdict(list)
    for t in outcome.run.turns:
        by_phone[t.phone].append(t)
    wrong = {}
    for phone in outcome.run.phones:
        owed = Counter(body for t in by_phone[phone] if t.held for body in expected[t.text])
        got = Counter(rest_bodies(outcome, phone))
        if got != owed:
            wrong[phone] = {"owed": dict(owed), "got": dict(got)}
    assert wrong == {}


def test_no_two_turns_of_one_sender_ever_ran_at_once(outcome):
    """From Rasa's SQL tracker store (both hosts write it): per sender, each user message's turn
    ends in action_listen before the next message's starts, in insertion order and in time."""
    phones = outcome.run.phones
    with psycopg.connect(outcome.cluster.db_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT sender_id, type_name, action_name, timestamp FROM rasa.events WHERE sender_id = ANY(%s) "
            "ORDER BY id", (phones,)).fetchall()
    events = defaultdict(list)
    for sender, kind, action, ts in rows:
        events[sender].append((kind, action, float(ts)))
    overlaps, unfinished, user_events = [], [], Counter()
    for sender, evs in events.items():
        turn_start, last_end = None, 0.0
        for kind, action, ts in evs:
            if kind == "user":
                user_events[sender] += 1
                if turn_start is not None or ts < last_end:
                    overlaps.append((sender, turn_start, last_end, ts))
                turn_start = ts
            elif kind == "action" and action == "action_listen" and turn_start is not None:
                last_end, turn_start = ts, None
        if turn_start is not None:
            unfinished.append(sender)
    assert overlaps == [] and unfinished == []
    sent = Counter(t.phone for t in outcome.run.turns)
    assert {p: user_events[p] for p in phones if user_events[p] < sent[p]} == {}  # every message reached Rasa


def test_turns_went_on_when_rasa_a_was_killed(outcome):
    cluster, run = outcome.cluster, outcome.run
    assert cluster.proc("rasa-a", "rasa").popen.poll() is not None  # really dead
    after = [t for t in run.turns if t.sent > run.kill_at + 1]
    assert after and all(t.status == 200 and t.bodies for t in after)
    web_logs = "".join((cluster.logs / f"{h}-web.log").read_text() for h in ("web-a", "web-b"))
    assert f"Rasa at http://{ip('rasa-a')}:5005 unreachable" in web_logs  # the web hosts moved its senders on
    print(f"\nturns/s: {outcome.figures['turns_per_s_two_rasa']} with two Rasa hosts, "
          f"{outcome.figures['turns_per_s_one_rasa']} with one; {outcome.figures['held']} of "
          f"{outcome.figures['turns']} turns held")
    assert outcome.figures["turns_per_s_two_rasa"] > 0 and outcome.figures["turns_per_s_one_rasa"] > 0


def test_notifications_queued_when_worker_a_died_were_sent_exactly_once(outcome):
    notes, cluster = outcome.notes, outcome.cluster
    assert cluster.proc("worker-a", "worker").popen.poll() is not None
    assert notes.accepted == notes.events
    assert notes.sent_at_kill < notes.events  # the kill came while notifications were still queued
    assert notes.sent_rows == notes.events
    sent = Counter(m["to"] for m in cluster.fake.messages if m.get("content_sid"))
    assert {to: n for to, n in sent.items() if n != 1} == {}  # none twice
    assert set(sent) == {f"whatsapp:{p}" for p in notes.phones}  # none missing, none to anyone else
