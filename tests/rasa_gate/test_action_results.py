"""The cached check of action answers accepts and refuses exactly what Rasa's own check does."""
from __future__ import annotations

from typing import Any, Optional

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

RASAS_OWN = RemoteAction._validate_action_result  # taken before rasa_gate replaces it

from rasa_gate import action_results  # noqa: E402

ANSWERS = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "order_id", "value": "OL-100201", "timestamp": None}],
     "responses": [{"response": "utter_greet"}, {"text": "hi", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]},
    {"events": [{"event": "action", "name": "action_listen", "policy": None, "confidence": None}]},
    {"events": [{"event": "session_started"}, {"event": "followup", "name": "action_x"}]},
    # Refused by Rasa: each breaks the schema in a different place.
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "value": 1}]},
    {"events": [{"name": "missing the event key"}]},
    {"responses": ["not an object"]},
    {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [1, 2]},
]


def outcome(check, answer: dict[str, Any]) -> tuple[bool, Optional[str], Optional[tuple]]:
    try:
        return check(RemoteAction("action_test", None), answer), None, None
    except ValidationError as error:
        return False, error.message, tuple(error.absolute_path)


@pytest.fixture(scope="module")
def installed():
    assert action_results.install()
    assert action_results.install()  # a second call keeps the first
    return RemoteAction._validate_action_result


def test_the_refused_examples_are_refused_by_rasa():
    refused = [a for a in ANSWERS if outcome(RASAS_OWN, a)[0] is False]
    assert len(refused) == 6


@pytest.mark.parametrize("answer", ANSWERS, ids=[str(i) for i in range(len(ANSWERS))])
def test_same_verdict_and_message_as_rasa(installed, answer):
    assert installed is not RASAS_OWN
    assert outcome(installed, answer) == outcome(RASAS_OWN, answer)


def test_a_refusal_names_rasas_docs(installed):
    ok, message, _ = outcome(installed, {"events": [{"event": "no_such_event"}]})
    assert not ok and "Failed to validate Action server response from API" in message
