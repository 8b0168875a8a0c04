"""Rasa's SQL tracker store, as the live Rasa uses it: a turn adds rows, a load reads one session.

Issue #13: the Redis tracker store re-wrote a customer's whole history on every save, so each
turn cost more than the last. These tests read the store's own `events` table (the SQLite file
tools/tracker_env.py puts beside the app's database) while the real Rasa answers.
"""
from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing

import pytest
import requests


@pytest.fixture
def live(live_stack):
    return live_stack


def new_sender() -> str:
    return "+9197" + str(uuid.uuid4().int)[:8]


def stored_events(stack, sender: str) -> list[tuple[int, str, str]]:
    """(id, type, data) of every row Rasa stored for `sender`, in order."""
    path = stack.tracker_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT id, type_name, data FROM events WHERE sender_id = ? ORDER BY id",
                          (sender,)).fetchall()


def start_new_session(stack, sender: str) -> None:
    """What Rasa does when a customer comes back after the session expired (action_session_start)."""
    resp = requests.post(f"{stack.rasa_url}/conversations/{sender}/trigger_intent",
                         json={"name": "session_start"}, params=stack.rasa_params, timeout=30)
    assert resp.ok, resp.text


def test_a_turn_adds_its_own_events_and_leaves_earlier_rows_as_they_were(live):
    sender = new_sender()
    for text in ("hi", "where is my order", "thanks"):
        assert live.rasa_turn(sender, text)
    before = stored_events(live, sender)
    assert [t for _, t, _ in before].count("user") == 3

    assert live.rasa_turn(sender, "hi")
    after = stored_events(live, sender)

    assert after[:len(before)] == before  # same ids, same data: nothing rewritten, nothing deleted
    added = after[len(before):]
    assert [t for _, t, _ in added].count("user") == 1  # only this turn's message, once
    assert added[0][1] == "user" and '"text": "hi"' in added[0][2]
    assert "bot" in [t for _, t, _ in added]


def test_a_load_reads_only_the_current_session(live):
    sender = new_sender()
    assert live.rasa_turn(sender, "hi")
    first_session = stored_events(live, sender)
    start_new_session(live, sender)
    assert live.rasa_turn(sender, "thanks")

    # The earlier session is still stored, untouched ...
    assert stored_events(live, sender)[:len(first_session)] == first_session
    story = requests.get(f"{live.rasa_url}/conversations/{sender}/story",
                         params={"all_sessions": "true", **live.rasa_params}, timeout=30)
    assert "intent: greet" in story.text and "intent: thank" in story.text, story.text
    # ... but what Rasa loads for the conversation (retrieve) starts at the new session.
    story = requests.get(f"{live.rasa_url}/conversations/{sender}/story", params=live.rasa_params, timeout=30)
    assert "intent: thank" in story.text and "intent: greet" not in story.text, story.text
